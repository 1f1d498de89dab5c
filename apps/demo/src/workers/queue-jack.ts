// Jack waits for the rose (get), then tells the queue he is done with it (taskDone).
import { workerData } from 'node:worker_threads';
import { Queue } from '@conc/queue';

const roses = Queue.attach<{ flower: string; from: string }>(workerData.roses);
const said = Queue.attach<string>(workerData.said);

const gift = roses.getSync({ timeout: 20_000 });
said.putSync(`Jack: get() -> a ${gift.flower} from ${gift.from}; taskDone()`);
roses.taskDone();
