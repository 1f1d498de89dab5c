import { share } from '@conc/serialize';
import { fixture, queueContract, startWorker } from '@conc/testkit';
import { LifoQueue, PriorityQueue, Queue, SimpleQueue } from '../src/index.js';

type AnyQueue = Queue | LifoQueue | PriorityQueue | SimpleQueue;

queueContract<AnyQueue>('thread', {
  kinds: ['fifo', 'lifo', 'priority', 'simple'],
  syncPeers: true,
  create(kind, { maxsize }) {
    switch (kind) {
      case 'fifo':
        return new Queue({ maxsize });
      case 'lifo':
        return new LifoQueue({ maxsize });
      case 'priority':
        return new PriorityQueue({ maxsize });
      case 'simple':
        return new SimpleQueue();
    }
  },
  async startPeer(queue, task) {
    const worker = startWorker(fixture(import.meta.url, 'queue-peer.mjs'), {
      workerData: { token: share(queue), task },
    });
    await worker.nextMessage(10_000);
    return {
      next: (ms = 10_000) => worker.nextMessage(ms),
      stop: async () => {
        await worker.terminate();
      },
    };
  },
});
