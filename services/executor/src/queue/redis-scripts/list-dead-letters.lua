-- The dead-letter set is one zset scored by a dead-letter sequence number, so
-- a page token (the last number returned) stays valid while tasks are added
-- or removed between pages.
-- ARGV: B, NOW, after, limit. Returns {JSON array of HGETALL field lists, more (1/0)}.
--- @include "lib"
local LIMIT = tonumber(ARGV[4])
local ids = redis.call('ZRANGEBYSCORE', B .. 'dead', '(' .. ARGV[3], '+inf', 'LIMIT', 0, LIMIT + 1)
local out = {}
for i = 1, math.min(#ids, LIMIT) do out[i] = redis.call('HGETALL', tkey(ids[i])) end
return { #out == 0 and '[]' or cjson.encode(out), #ids > LIMIT and 1 or 0 }
