/**
 * One client connection as the server sees it: what it holds references to,
 * what it is waiting for, and what must happen when it ends (its locks pass
 * on as abandoned, its waiters leave, its references are dropped). A client
 * killed with SIGKILL ends its session as soon as the kernel closes its socket.
 */
import type { RpcPeer } from '@conc/pipe';

export class Session {
  readonly id: number;
  readonly peer: RpcPeer;
  /** Object id → how many proxies in this client refer to it. */
  readonly refs = new Map<number, number>();
  /** Run once when the session ends: waiters leave, holds pass on. */
  readonly onEnd = new Set<() => void>();
  /** Calls the client may withdraw, by the wait id it sent. */
  readonly waits = new Map<number, () => void>();
  #ended = false;

  constructor(id: number, peer: RpcPeer) {
    this.id = id;
    this.peer = peer;
  }

  get ended(): boolean {
    return this.#ended;
  }

  /** Runs every end hook once (each may remove others: iterate over a copy). */
  end(): void {
    if (this.#ended) return;
    this.#ended = true;
    for (const fn of [...this.onEnd]) fn();
    this.onEnd.clear();
    this.waits.clear();
  }
}
