-- Removes members of an index whose entries no longer exist, atomically per
-- chunk, so a concurrent Put that recreates an entry never loses its index.
-- KEYS[1] the index, KEYS[i>1] entry keys; ARGV[1] 's' or 'z', ARGV[i>1] members.
-- Returns how many members were removed.
local cmd = ARGV[1] == 'z' and 'zrem' or 'srem'
local n = 0
for i = 2, #KEYS do
  if redis.call('exists', KEYS[i]) == 0 then n = n + redis.call(cmd, KEYS[1], ARGV[i]) end
end
return n
