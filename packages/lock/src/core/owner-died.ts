import type { OwnerDiedHandler, OwnerDiedInfo } from './options.js';

/**
 * Tells the new holder that the previous one died holding the primitive: through
 * its handler when it gave one, otherwise through a process warning, which Node
 * prints to stderr and `process.on('warning')` receives. It is never silent.
 */
export function reportOwnerDied(info: OwnerDiedInfo, handler: OwnerDiedHandler | undefined): void {
  if (handler !== undefined) {
    handler(info);
    return;
  }
  const holder = info.pid === undefined ? 'thread' : 'process';
  const id = info.pid ?? info.threadId;
  const who = id >= 0 ? `${holder} ${id}` : `a ${holder}`;
  process.emitWarning(
    `${who} died holding a ${info.primitive}; this ${holder} took it over. The state it protects may be ` +
      'half-updated. Pass { onOwnerDied } to acquire() or to the constructor to handle this.',
    { type: 'OwnerDiedWarning', code: 'ERR_CONC_OWNER_DIED' },
  );
}
