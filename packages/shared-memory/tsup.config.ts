import { concConfig } from '../../tsup.base.js';

// `shims` gives the CommonJS build an `import.meta.url`, from which the addon is found.
export default concConfig({ index: 'src/index.ts' }, { shims: true });
