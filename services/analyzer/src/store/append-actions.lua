-- KEYS[1]: the key prefix (includes/helpers.lua).
-- ARGV: per-user cap, user cap, then (user id, time, action) triples. Each
-- user's log is a list of "time|action"; users are a sorted set by last
-- activity, and the least recently active go beyond the user cap.
--- @include "helpers"
local perUser, users = tonumber(ARGV[1]), tonumber(ARGV[2])
local touched = {}
for i = 3, #ARGV, 3 do
  local u, t = ARGV[i], ARGV[i + 1]
  redis.call('RPUSH', P .. 'act:' .. u, t .. '|' .. ARGV[i + 2])
  -- GT still adds new members; it only keeps an existing score from going back.
  redis.call('ZADD', P .. 'actusers', 'GT', t, u)
  touched[u] = true
end
for u in pairs(touched) do redis.call('LTRIM', P .. 'act:' .. u, -perUser, -1) end
local over = redis.call('ZCARD', P .. 'actusers') - users
if over > 0 then
  local gone = redis.call('ZPOPMIN', P .. 'actusers', over)
  for i = 1, #gone, 2 do redis.call('DEL', P .. 'act:' .. gone[i]) end
end
return 1
