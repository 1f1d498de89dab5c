/**
 * The queue's Lua scripts: every change of state is one script, so puts,
 * takes, acknowledgements and redeliveries from any number of machines never
 * interleave. One set per order (see `order.ts`).
 *
 * State, under the queue's keys (`keys.ts`):
 * - `items` the ids waiting, in order; `body` id → encoded item; `pri` id → priority member;
 * - `lease` a sorted set of the ids handed out, scored by when their lease ends;
 * - `count` id → deliveries so far; `dead` the dead-letter list of ids;
 * - `meta`: `seq` (last id), `unfinished` (put and not acknowledged), `state` (nil, `shutdown`, `immediate`);
 * - wake lists (see `@conc/lock/redis`'s waits): `wake:get` (a token per item waiting, at most as
 *   many as items), `wake:put` (room was made), `wake:join` (a token while nothing is unfinished),
 *   `wake:shut` (a token for ever once shut down, passed on by every waiter it wakes).
 */
import { NOW_MS, Script } from '@conc/lock/internal';
import { FIFO, LIFO, PRIORITY, type RedisOrder } from './order.js';

/** Key names, in the order every script receives them. */
export const KEY_NAMES = [
  'items',
  'body',
  'count',
  'lease',
  'meta',
  'dead',
  'wake:get',
  'wake:put',
  'wake:join',
  'wake:shut',
  'pri',
] as const;

const PRELUDE = `
local K_ITEMS, K_BODY, K_COUNT, K_LEASE, K_META, K_DEAD = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6]
local K_GET, K_PUT, K_JOIN, K_SHUT, K_PRI = KEYS[7], KEYS[8], KEYS[9], KEYS[10], KEYS[11]
local function ensureShut() if redis.call('LLEN', K_SHUT) == 0 then redis.call('RPUSH', K_SHUT, '1') end end
local function tokens(key, n, keep)
  if n > 0 then
    local ones = {}
    for i = 1, math.min(n, 64) do ones[i] = '1' end
    redis.call('RPUSH', key, unpack(ones))
  end
  if keep <= 0 then redis.call('DEL', key) else redis.call('LTRIM', key, -keep, -1) end
end
local function finished(n)
  local left = redis.call('HINCRBY', K_META, 'unfinished', -n)
  if left <= 0 then
    redis.call('HSET', K_META, 'unfinished', 0)
    if redis.call('LLEN', K_JOIN) == 0 then redis.call('RPUSH', K_JOIN, '1') end
  end
end
local function forget(id)
  redis.call('HDEL', K_BODY, id)
  redis.call('HDEL', K_COUNT, id)
  redis.call('HDEL', K_PRI, id)
end
`;

/** What needs the order's functions. */
const LEASES = `
-- Leases that ran out: back to the queue where it is taken next, or past maxDeliveries
-- to the dead letters (counted done). Replies how many went back.
local function reclaim(now, maxDeliveries)
  local back = 0
  for _, id in ipairs(redis.call('ZRANGEBYSCORE', K_LEASE, '-inf', now, 'LIMIT', 0, 1000)) do
    redis.call('ZREM', K_LEASE, id)
    if maxDeliveries > 0 and tonumber(redis.call('HGET', K_COUNT, id) or '0') >= maxDeliveries then
      redis.call('RPUSH', K_DEAD, id)
      finished(1)
    else
      FRONT(id)
      back = back + 1
    end
  end
  return back
end
local function nextLeaseEnd(now)
  local first = redis.call('ZRANGE', K_LEASE, 0, 0, 'WITHSCORES')
  if first[2] then return tonumber(first[2]) - now end
  return -1
end
`;

/** put: ARGV maxsize, n, item 1..n (then priority 1..n). Replies {status, put}: 0 all put, 1 full, 2 shut down. */
const PUT = `
local maxsize, n = tonumber(ARGV[1]), tonumber(ARGV[2])
KEY_AT = 2 + n
if redis.call('HEXISTS', K_META, 'state') == 1 then return {2, 0} end
local len = LEN()
local room = n
if maxsize > 0 then room = math.max(0, math.min(n, maxsize - len)) end
if room > 0 then
  local seq = redis.call('HINCRBY', K_META, 'seq', room) - room
  for i = 1, room do
    local id = tostring(seq + i)
    redis.call('HSET', K_BODY, id, ARGV[2 + i])
    PUSH(id, i)
  end
  if redis.call('HINCRBY', K_META, 'unfinished', room) == room then redis.call('DEL', K_JOIN) end
  tokens(K_GET, room, len + room)
end
if room < n then return {1, room} end
return {0, room}
`;

/**
 * take: ARGV max, lease ms (0: no lease, the item is gone once taken), maxDeliveries (0: no limit).
 * Leases that ran out first go back to the queue (or, past maxDeliveries, to the dead letters).
 * Replies {1, id, deliveries, body, ...}; {0, ms until the next lease ends or -1}; {-1} shut down.
 */
const TAKE = `${NOW_MS}
local max, leaseMs, maxDeliveries = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local state = redis.call('HGET', K_META, 'state')
if state == 'immediate' then ensureShut(); return {-1} end
local back = reclaim(now, maxDeliveries)
local out = {1}
local got = 0
while got < max do
  local id = POP()
  if not id then break end
  local d = redis.call('HINCRBY', K_COUNT, id, 1)
  out[#out + 1] = id
  out[#out + 1] = d
  out[#out + 1] = redis.call('HGET', K_BODY, id)
  if leaseMs > 0 then redis.call('ZADD', K_LEASE, now + leaseMs, id) else forget(id) end
  got = got + 1
end
local len = LEN()
if got == 0 then
  if state == 'shutdown' then ensureShut(); return {-1} end
  if back > 0 then tokens(K_GET, back, len) end
  return {0, nextLeaseEnd(now)}
end
tokens(K_GET, 0, len)
tokens(K_PUT, got, 64)
return out
`;

/** untake: puts ids handed to a waiter that left meanwhile back in front, as if never taken. ARGV ids. */
const UNTAKE = `
for i = #ARGV, 1, -1 do
  local id = ARGV[i]
  if redis.call('ZREM', K_LEASE, id) == 1 then
    redis.call('HINCRBY', K_COUNT, id, -1)
    FRONT(id)
  end
end
tokens(K_GET, #ARGV, LEN())
return 1
`;

/**
 * done: ARGV id (or '' for none), its delivery. Acknowledges the item when this delivery
 * still holds its lease. Replies unfinished left; -1 nothing unfinished; -2 the lease was lost.
 */
const DONE = `
local id, delivery = ARGV[1], ARGV[2]
if id ~= '' then
  if redis.call('ZSCORE', K_LEASE, id) and redis.call('HGET', K_COUNT, id) == delivery then
    redis.call('ZREM', K_LEASE, id)
    forget(id)
  else
    return -2
  end
end
local left = tonumber(redis.call('HGET', K_META, 'unfinished') or '0')
if left <= 0 then return -1 end
finished(1)
return left - 1
`;

/** renew: ARGV lease ms, then id, delivery pairs. Replies the ids whose lease was lost. */
const RENEW = `${NOW_MS}
local lost = {}
for i = 2, #ARGV, 2 do
  local id = ARGV[i]
  if redis.call('ZSCORE', K_LEASE, id) and redis.call('HGET', K_COUNT, id) == ARGV[i + 1] then
    redis.call('ZADD', K_LEASE, 'XX', now + tonumber(ARGV[1]), id)
  else
    lost[#lost + 1] = id
  end
end
return lost
`;

/**
 * join: ARGV maxDeliveries. 1 when nothing is unfinished (and the join token stays for the other
 * joiners); else {0, ms until the next lease ends or -1}: a lease that runs out may dead-letter
 * the last item with no consumer around to notice.
 */
const JOINED = `${NOW_MS}
local back = reclaim(now, tonumber(ARGV[1]))
if back > 0 then tokens(K_GET, back, LEN()) end
if tonumber(redis.call('HGET', K_META, 'unfinished') or '0') > 0 then return {0, nextLeaseEnd(now)} end
if redis.call('LLEN', K_JOIN) == 0 then redis.call('RPUSH', K_JOIN, '1') end
return 1
`;

/** shutdown: ARGV immediate (1/0). Immediate drops the waiting items, counting each done. */
const SHUTDOWN = `
local immediate = ARGV[1] == '1'
local state = redis.call('HGET', K_META, 'state')
if immediate then
  local ids = ALL()
  for _, id in ipairs(ids) do forget(id) end
  redis.call('DEL', K_ITEMS, K_GET)
  if #ids > 0 then finished(#ids) end
  redis.call('HSET', K_META, 'state', 'immediate')
elseif not state then
  redis.call('HSET', K_META, 'state', 'shutdown')
end
ensureShut()
return 1
`;

/** size: {items waiting, unfinished, dead letters}. */
const SIZE = `
return {LEN(), tonumber(redis.call('HGET', K_META, 'unfinished') or '0'), redis.call('LLEN', K_DEAD)}
`;

/** dead: ARGV start, stop. Replies {id, deliveries, body, ...} of the dead letters. */
const DEAD = `
local out = {}
for _, id in ipairs(redis.call('LRANGE', K_DEAD, tonumber(ARGV[1]), tonumber(ARGV[2]))) do
  out[#out + 1] = id
  out[#out + 1] = tonumber(redis.call('HGET', K_COUNT, id) or '0')
  out[#out + 1] = redis.call('HGET', K_BODY, id)
end
return out
`;

/** requeue: ARGV max. Moves up to max dead letters back to the queue with no deliveries counted. Replies how many. */
const REQUEUE = `
local max = tonumber(ARGV[1])
local n = 0
while n < max do
  local id = redis.call('LPOP', K_DEAD)
  if not id then break end
  redis.call('HDEL', K_COUNT, id)
  FRONT(id)
  n = n + 1
end
if n > 0 then
  if redis.call('HINCRBY', K_META, 'unfinished', n) == n then redis.call('DEL', K_JOIN) end
  tokens(K_GET, n, LEN())
end
return n
`;

/** The scripts of one order. */
export interface QueueScripts {
  readonly put: Script;
  readonly take: Script;
  readonly untake: Script;
  readonly done: Script;
  readonly renew: Script;
  readonly joined: Script;
  readonly shutdown: Script;
  readonly size: Script;
  readonly dead: Script;
  readonly requeue: Script;
}

function build(order: RedisOrder): QueueScripts {
  const make = (body: string) => new Script(`local KEY_AT = 0\n${PRELUDE}${order.lua}${LEASES}${body}`);
  return {
    put: make(PUT),
    take: make(TAKE),
    untake: make(UNTAKE),
    done: make(DONE),
    renew: make(RENEW),
    joined: make(JOINED),
    shutdown: make(SHUTDOWN),
    size: make(SIZE),
    dead: make(DEAD),
    requeue: make(REQUEUE),
  };
}

/** Scripts by order name, built once. */
export const SCRIPTS: Readonly<Record<RedisOrder['name'], QueueScripts>> = {
  fifo: build(FIFO),
  lifo: build(LIFO),
  priority: build(PRIORITY),
};
