-- KEYS[1]: the key prefix (includes/helpers.lua). ARGV: cutoff.
-- Drops users idle since before it, and older entries at the head of the
-- others' logs. Returns how many entries were removed.
--- @include "helpers"
local cutoff = tonumber(ARGV[1])
local removed = 0
local idle = redis.call('ZRANGEBYSCORE', P .. 'actusers', '-inf', '(' .. ARGV[1])
for _, u in ipairs(idle) do
  removed = removed + redis.call('LLEN', P .. 'act:' .. u)
  redis.call('DEL', P .. 'act:' .. u)
  redis.call('ZREM', P .. 'actusers', u)
end
local active = redis.call('ZRANGE', P .. 'actusers', 0, -1)
for _, u in ipairs(active) do
  local list = P .. 'act:' .. u
  local entries = redis.call('LRANGE', list, 0, -1)
  local keep = {}
  for _, e in ipairs(entries) do
    local t = tonumber(string.match(e, '^([^|]+)|'))
    if t >= cutoff then keep[#keep + 1] = e end
  end
  if #keep < #entries then
    removed = removed + #entries - #keep
    redis.call('DEL', list)
    if #keep == 0 then redis.call('ZREM', P .. 'actusers', u) end
    -- In chunks: unpack of a long list would overflow Lua's stack.
    for j = 1, #keep, 500 do redis.call('RPUSH', list, unpack(keep, j, math.min(j + 499, #keep))) end
  end
end
return removed
