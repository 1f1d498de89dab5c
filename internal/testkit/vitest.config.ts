import { defineProject } from 'vitest/config';

export default defineProject({
  test: {
    name: 'testkit',
    include: ['test/**/*.test.ts'],
    setupFiles: ['./src/setup.ts'],
    testTimeout: 20_000,
    hookTimeout: 20_000,
  },
});
