import { defineProject } from 'vitest/config';

export default defineProject({
  test: {
    name: 'shared-memory',
    include: ['test/**/*.test.ts'],
    setupFiles: ['@conc/testkit/setup'],
    testTimeout: 20_000,
    hookTimeout: 20_000,
  },
});
