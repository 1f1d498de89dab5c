export { type ChildExit, type SpawnChildOptions, spawnChild, spawnProcess, TrackedChild } from './child.js';
export { fixture } from './fixture.js';
export { collectLeaks, type LeakBaseline, takeBaseline } from './leaks.js';
export { activeResourceCounts, liveResourceReport } from './report.js';
export { tempDir } from './temp.js';
export { type EventuallyOptions, eventually, sleep, WatchdogTimeoutError, within } from './time.js';
export { startWorker, TrackedWorker } from './worker.js';
export * from './contracts/codec.js';
export * from './contracts/queue.js';
