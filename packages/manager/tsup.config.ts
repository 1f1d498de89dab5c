import { concConfig } from '../../tsup.base';

export default concConfig({ index: 'src/index.ts' });
