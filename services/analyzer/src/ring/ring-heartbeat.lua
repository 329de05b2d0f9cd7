--[[
  Renews (or ends) one analyzer replica's membership of the tenant ring and
  answers the live members. Expiries are on the server's clock, so replicas
  whose clocks disagree still agree on who is live.

  KEYS[1]  the ring: a sorted set of member address -> expiry (ms)
  ARGV[1]  this member's address
  ARGV[2]  time to live of a membership, ms
  ARGV[3]  "renew" or "leave"
  ARGV[4]  the most members answered
]]
local t = redis.call("TIME")
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ttl = tonumber(ARGV[2])
if ARGV[3] == "leave" then
  redis.call("ZREM", KEYS[1], ARGV[1])
else
  redis.call("ZADD", KEYS[1], now + ttl, ARGV[1])
end
redis.call("ZREMRANGEBYSCORE", KEYS[1], "-inf", now)
-- The ring outlives its last member only by a membership's life.
if redis.call("ZCARD", KEYS[1]) > 0 then redis.call("PEXPIRE", KEYS[1], ttl * 2) end
return redis.call("ZRANGE", KEYS[1], 0, tonumber(ARGV[4]) - 1)
