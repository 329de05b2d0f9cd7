-- One step of the sweeper over one index (sweepRedis): scans a chunk of the
-- index and removes the members whose entries no longer exist (Redis
-- expired them), atomically, so a concurrent Put that recreates an entry
-- never loses its membership. The scan runs here rather than in the caller,
-- so members never travel to the caller and back: a sweep reads every member
-- of every index each time it runs.
-- KEYS[1]: the index. ARGV: kind ('s' set, 'z' zset), cursor, count, the
-- tenant's entry key prefix (`{p}{tenant}`), the tenant's length: a member
-- `tenant/type/subject` is the entry `{p}{tenant}/type/subject`.
-- Returns {next cursor, members removed}.
local index, zset = KEYS[1], ARGV[1] == 'z'
local prefix, from = ARGV[4], tonumber(ARGV[5]) + 1
local reply = redis.call(zset and 'ZSCAN' or 'SSCAN', index, ARGV[2], 'COUNT', ARGV[3])
local members = reply[2]
local gone = {}
for i = 1, #members, zset and 2 or 1 do
  local member = members[i]
  if redis.call('EXISTS', prefix .. string.sub(member, from)) == 0 then gone[#gone + 1] = member end
end
local removed = 0
-- In slices: unpack() of thousands of values overflows Lua's C stack.
for i = 1, #gone, 500 do
  removed = removed + redis.call(zset and 'ZREM' or 'SREM', index, unpack(gone, i, math.min(i + 499, #gone)))
end
return { reply[1], removed }
