import { MessageChannel } from 'node:worker_threads';
import { SIGNAL_WORDS, ThreadConnection } from './connection.js';

/**
 * A pipe between worker threads: a MessageChannel and a small signal buffer.
 * With `duplex` false the first end only receives and the second only sends,
 * as in Python.
 */
export function threadPipe<T>(duplex: boolean): [ThreadConnection<T>, ThreadConnection<T>] {
  const { port1, port2 } = new MessageChannel();
  const signals = new SharedArrayBuffer(SIGNAL_WORDS * Int32Array.BYTES_PER_ELEMENT);
  return [
    new ThreadConnection<T>(port1, signals, 0, true, duplex),
    new ThreadConnection<T>(port2, signals, 1, duplex, true),
  ];
}
