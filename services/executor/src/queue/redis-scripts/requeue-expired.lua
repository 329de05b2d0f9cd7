-- Returns tasks whose lease expired, without claiming.
-- ARGV: B, NOW, maxAttempts, limit, deadLetterCapacity, deadLetterRetentionMs.
-- Returns {how many came back or died, droppedByCapacity, droppedByRetention}.
--- @include "lib"
local n = reap(tonumber(ARGV[3]), tonumber(ARGV[4]))
trimDead(tonumber(ARGV[5]), tonumber(ARGV[6]), tonumber(ARGV[4]))
return { n, DROPPED_CAPACITY, DROPPED_RETENTION }
