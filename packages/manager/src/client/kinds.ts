/**
 * Which proxy class each type id gets, and the `share()` kind that revives
 * them. One function, called by the package entry and by the server program:
 * the server's bundle would drop modules kept only for their side effects.
 */
import { ArrayProxy, DictProxy, ListProxy, NamespaceProxy, ValueProxy } from './collections.js';
import { BarrierProxy, ConditionProxy, EventProxy, LockProxy, SemaphoreProxy } from './locks.js';
import { defineProxy, registerProxyKind } from './proxy.js';
import { QueueProxy } from './queue.js';
import { RegisteredProxy } from './registered.js';

export function registerProxies(): void {
  defineProxy(['dict'], DictProxy);
  defineProxy(['list'], ListProxy);
  defineProxy(['value'], ValueProxy);
  defineProxy(['array'], ArrayProxy);
  defineProxy(['namespace'], NamespaceProxy);
  defineProxy(['queue', 'joinableQueue'], QueueProxy);
  defineProxy(['lock', 'rlock'], LockProxy);
  defineProxy(['semaphore', 'boundedSemaphore'], SemaphoreProxy);
  defineProxy(['condition'], ConditionProxy);
  defineProxy(['event'], EventProxy);
  defineProxy(['barrier'], BarrierProxy);
  defineProxy(['*'], RegisteredProxy);
  registerProxyKind();
}
