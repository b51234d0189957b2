#!lua flags=no-writes
-- read.lua: live figures of many objects in one call, seeded or not.
-- Packed by scripts.read_call. Read-only (flags=no-writes): it runs while Redis is full.
--
-- KEYS[1+] = per object, four keys: pending:<shard>, counter:<name>,
--   unique_counter:<name>, stats:<name>
-- ARGV[1] = n: how many days follow
-- ARGV[2+] = n days (YYYYMMDD), then the object names, in the order of KEYS
-- Names from store/keys.py, bound by scripts.source:
--   STATS_FIRST STATS_LAST STATS_DAY PENDING_UNIQUE PENDING_DAY
-- Returns one row per object: {seeded (1 or 0), views, unique views, first view ms
--   or '', last view ms or '', then the views of each of the n days}.

local out = {}
local ndays = tonumber(ARGV[1])
local function values(key, fields)
  local got = redis.call('HMGET', key, unpack(fields))
  for i = 1, #fields do got[i] = got[i] or '0' end
  return got
end
local stat_fields = {STATS_FIRST, STATS_LAST}
for i = 1, ndays do table.insert(stat_fields, STATS_DAY .. ARGV[1 + i]) end
local k = 1
for a = ndays + 2, #ARGV do
  local name = ARGV[a]
  local total = redis.call('GET', KEYS[k + 1])
  local stats = redis.call('HMGET', KEYS[k + 3], unpack(stat_fields))
  local row = {0, 0, 0, stats[1] or '', stats[2] or ''}
  local days
  if total then
    row[1], row[2] = 1, total
    row[3] = redis.call('GET', KEYS[k + 2]) or '0'
    days = {}
    for i = 1, ndays do days[i] = stats[2 + i] or '0' end
  else
    local fields = {name, name .. PENDING_UNIQUE}
    for i = 1, ndays do table.insert(fields, name .. PENDING_DAY .. ARGV[1 + i]) end
    local pending = values(KEYS[k], fields)
    row[2], row[3] = pending[1], pending[2]
    days = {}
    for i = 1, ndays do days[i] = pending[2 + i] end
  end
  for i = 1, ndays do table.insert(row, days[i]) end
  table.insert(out, row)
  k = k + 4
end
return out
