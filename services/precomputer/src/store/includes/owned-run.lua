-- The record of a run (KEYS[1]) while it is running under `owner` and no one
-- else holds its lease (KEYS[2]); nil otherwise.
local function ownedRun(owner)
  local raw = redis.call('GET', KEYS[1])
  if not raw then return nil end
  local rec = cjson.decode(raw)
  if rec.status ~= 'running' or rec.owner ~= owner then return nil end
  local holder = redis.call('GET', KEYS[2])
  if holder and holder ~= owner then return nil end
  return rec
end
