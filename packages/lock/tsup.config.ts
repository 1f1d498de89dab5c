import { concConfig } from '../../tsup.base.js';

export default concConfig({
  index: 'src/index.ts',
  internal: 'src/internal.ts',
  process: 'src/process.ts',
  redis: 'src/redis/index.ts',
});
