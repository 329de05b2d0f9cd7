-- Moves dead tasks back to ready with fresh attempts, at the back of their
-- priority. The chunk fits under capacity whole, or nothing moves.
-- ARGV: B, NOW, capacity, limit, mode ('all'/'ids'), ids...
-- Returns {'ok', moved} or {'full', size, needed}.
--- @include "lib"
--- @include "select-dead"
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
