import { concConfig } from '../../tsup.base.js';

// `server` is the program Manager.start() forks; shims give the CommonJS build an import.meta.url to find it.
export default concConfig({ index: 'src/index.ts', server: 'src/server/main.ts' }, { shims: true });
