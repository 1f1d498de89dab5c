// Ken puts a rose in the queue, then waits with join() until Jack has marked it done.
import { workerData } from 'node:worker_threads';
import { Queue } from '@conc/queue';

const roses = Queue.attach<{ flower: string; from: string }>(workerData.roses);
const said = Queue.attach<string>(workerData.said);

said.putSync('Ken: put(a rose for Jack), then join()');
roses.putSync({ flower: 'rose', from: 'Ken' });
roses.joinSync();
said.putSync('Ken: join() returned: Jack has the rose');
