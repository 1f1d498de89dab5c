// `install` script: use a prebuilt binary if one fits, else build the addon (node-gyp-build
// decides). Never fails the install: without the addon, the package throws
// SharedMemoryUnavailableError, naming the cause, at first use.
const { spawnSync } = require('node:child_process');
const { existsSync } = require('node:fs');
const { dirname, join } = require('node:path');

const env = { ...process.env };
// Build against the headers of the Node running this (official builds and distro packages
// ship them) rather than downloading headers, which fails on a machine without internet.
const prefix = join(dirname(process.execPath), '..');
if (!env.npm_config_nodedir && existsSync(join(prefix, 'include', 'node', 'node.h'))) {
  env.npm_config_nodedir = prefix;
}
const result = spawnSync(process.execPath, [require.resolve('node-gyp-build/bin.js')], {
  stdio: 'inherit',
  env,
});
if (result.status !== 0) {
  console.warn(
    '@conc/shared-memory: the native addon did not build (see above); SharedMemory will throw ' +
      'SharedMemoryUnavailableError when used. A Manager (@conc/manager) shares queues and locks without it.',
  );
}
