import { luaLib } from "./lib.js";

/**
 * The dead-letter set is one zset scored by a dead-letter sequence number, so
 * a page token (the last number returned) stays valid while tasks are added
 * or removed between pages.
 */

/** ARGV: B, NOW, after, limit. Returns {JSON array of HGETALL field lists, more (1/0)}. */
export const listDeadLua = `${luaLib}
local LIMIT = tonumber(ARGV[4])
local ids = redis.call('ZRANGEBYSCORE', B .. 'dead', '(' .. ARGV[3], '+inf', 'LIMIT', 0, LIMIT + 1)
local out = {}
for i = 1, math.min(#ids, LIMIT) do out[i] = redis.call('HGETALL', tkey(ids[i])) end
return { #out == 0 and '[]' or cjson.encode(out), #ids > LIMIT and 1 or 0 }
`;

/** Selects dead ids: the first LIMIT of the set ('all'), or those of ARGV[6..] still dead ('ids'). */
const selectDead = `
local function selectDead(mode, limit, first)
  if mode == 'all' then return redis.call('ZRANGE', B .. 'dead', 0, limit - 1) end
  local ids = {}
  for i = first, #ARGV do
    if redis.call('ZSCORE', B .. 'dead', ARGV[i]) then ids[#ids + 1] = ARGV[i] end
  end
  return ids
end
`;

/**
 * Moves dead tasks back to ready with fresh attempts, at the back of their
 * priority. The chunk fits under capacity whole, or nothing moves.
 * ARGV: B, NOW, capacity, limit, mode ('all'/'ids'), ids...
 * Returns {'ok', moved} or {'full', size, needed}.
 */
export const requeueDeadLua = `${luaLib}${selectDead}
local ids = selectDead(ARGV[5], tonumber(ARGV[4]), 6)
if #ids == 0 then return { 'ok', 0 } end
local size = queueSize()
if size + #ids > tonumber(ARGV[3]) then return { 'full', size, #ids } end
for _, id in ipairs(ids) do
  local t = tkey(id)
  local f = redis.call('HMGET', t, 'type', 'key')
  local seq = redis.call('INCR', B .. 'seq')
  redis.call('HSET', t, 'state', 'queued', 'attempts', 0, 'updated', NOWS, 'seq', fmt(seq))
  redis.call('HDEL', t, 'notbefore', 'deadseq')
  redis.call('HINCRBY', B .. 'counts', 'dead:' .. f[1], -1)
  toReady(id, f[1])
  takeKey(id, f[2])
end
zremAll(B .. 'dead', ids)
return { 'ok', #ids }
`;

/** ARGV: B, NOW, limit, mode ('all'/'ids'), ids... Returns how many were deleted. */
export const purgeDeadLua = `${luaLib}${selectDead}
local ids = selectDead(ARGV[4], tonumber(ARGV[3]), 5)
deleteDead(ids)
return #ids
`;
