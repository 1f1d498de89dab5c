import { concConfig } from '../../tsup.base.js';

export default concConfig({ index: 'src/index.ts', redis: 'src/redis/index.ts' });
