import { share } from '@conc/serialize';
import { queueContract } from '@conc/testkit';
import { afterAll, beforeAll } from 'vitest';
import { Manager, type QueueProxy } from '../src/index.js';
import { AUTHKEY, startPeer } from './helpers.js';

let m: Manager;

beforeAll(async () => {
  m = await Manager.start({ authkey: AUTHKEY });
});

afterAll(async () => {
  await m?.shutdown();
});

queueContract<QueueProxy>('manager', {
  kinds: ['fifo'],
  itemsPerProducer: 300,
  modelRuns: 50,
  create: (_kind, { maxsize }) => m.joinableQueue({ maxsize }),
  async startPeer(queue, task) {
    const child = startPeer('queue-peer.mjs', { token: share(queue), task });
    await child.nextMessage(10_000);
    return {
      next: (ms = 10_000) => child.nextMessage(ms),
      stop: async () => {
        await child.kill('SIGKILL');
      },
    };
  },
});
