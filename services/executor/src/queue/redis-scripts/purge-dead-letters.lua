-- Deletes dead tasks for good.
-- ARGV: B, NOW, limit, mode ('all'/'ids'), ids... Returns how many were deleted.
--- @include "lib"
--- @include "select-dead"
local ids = selectDead(ARGV[4], tonumber(ARGV[3]), 5)
deleteDead(ids)
return #ids
