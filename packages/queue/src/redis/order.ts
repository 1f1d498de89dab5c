/**
 * The three orders as small Lua pieces (CPython's `_put/_get` hooks, as the
 * thread tier's `order.ts`): the scripts in `scripts.ts` are the same for
 * every order except these few lines.
 *
 * Items live as ids in `items` (a list, or a sorted set for priorities); the
 * encoded item is in the `body` hash under its id. A priority member is the
 * priority's order-preserving bytes followed by the id, zero-padded to 16
 * digits, so equal priorities come out in put order.
 */

/** Lua for one order: `PUSH(id, i)` puts the i-th item of a put, `POP()` takes the next id or nil, `FRONT(id)` puts a redelivered id where it is taken next, `LEN()`, `ALL()` lists every id. */
export interface RedisOrder {
  readonly name: 'fifo' | 'lifo' | 'priority';
  readonly lua: string;
}

const list = (pop: 'LPOP' | 'RPOP', front: 'LPUSH' | 'RPUSH'): string => `
local function PUSH(id, i) redis.call('RPUSH', K_ITEMS, id) end
local function POP() local id = redis.call('${pop}', K_ITEMS); if id then return id end; return nil end
local function FRONT(id) redis.call('${front}', K_ITEMS, id) end
local function LEN() return redis.call('LLEN', K_ITEMS) end
local function ALL() return redis.call('LRANGE', K_ITEMS, 0, -1) end
`;

/** First in, first out. */
export const FIFO: RedisOrder = { name: 'fifo', lua: list('LPOP', 'LPUSH') };
/** Last in, first out (a redelivered item is on top). */
export const LIFO: RedisOrder = { name: 'lifo', lua: list('RPOP', 'RPUSH') };
/** Lowest priority first; the put passes each item's priority bytes after the items. */
export const PRIORITY: RedisOrder = {
  name: 'priority',
  lua: `
local function PUSH(id, i)
  local member = ARGV[KEY_AT + i] .. string.format('%016d', tonumber(id))
  redis.call('ZADD', K_ITEMS, 0, member)
  redis.call('HSET', K_PRI, id, member)
end
local function POP()
  local m = redis.call('ZPOPMIN', K_ITEMS)
  if m[1] then return tostring(tonumber(string.sub(m[1], -16))) end
  return nil
end
local function FRONT(id) redis.call('ZADD', K_ITEMS, 0, redis.call('HGET', K_PRI, id)) end
local function LEN() return redis.call('ZCARD', K_ITEMS) end
local function ALL()
  local out = {}
  for i, m in ipairs(redis.call('ZRANGE', K_ITEMS, 0, -1)) do out[i] = tostring(tonumber(string.sub(m, -16))) end
  return out
end
`,
};
