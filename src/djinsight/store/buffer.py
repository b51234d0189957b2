"""Redis side of the pipeline: the record, trim and read scripts.

Each view is one EVALSHA of RECORD: it sets the unique-visitor mark, bumps the
live counters and appends the view to its shard's stream. The flush applies
stream entries to the database and only then runs TRIM, which is idempotent
(guarded by the shard's "trimmed" watermark), so a retried or crashed flush
never trims twice. See docs/architecture.md.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from datetime import timezone as dt_timezone
from typing import cast

from redis.exceptions import NoScriptError

from djinsight.conf import settings
from djinsight.store.client import get_redis
from djinsight.store.keys import Keys, ObjectName, keys_for, shard_of

STATS_DAYS = 40  # day fields kept per object: covers "this month" and "this week"

RECORD = """
local unique = 0
if redis.call('SET', KEYS[3], '1', 'NX', 'EX', ARGV[5]) then unique = 1 end
local p = 0
local new_day = false
if redis.call('EXISTS', KEYS[1]) == 1 then
  redis.call('INCR', KEYS[1])
  if unique == 1 then redis.call('INCR', KEYS[2]) end
  new_day = redis.call('HINCRBY', KEYS[4], 'd:' .. ARGV[4], 1) == 1
else
  -- live counters not seeded from the database yet: count in the pending hash
  p = 1
  redis.call('HINCRBY', KEYS[6], ARGV[1], 1)
  if unique == 1 then redis.call('HINCRBY', KEYS[6], ARGV[1] .. '|u', 1) end
  redis.call('HINCRBY', KEYS[6], ARGV[1] .. '|d:' .. ARGV[4], 1)
end
-- first/last view: one read, at most one write (ts may be backdated, so keep min/max)
local ts = tonumber(ARGV[3])
local fl = redis.call('HMGET', KEYS[4], 'f', 'l')
local earlier = not fl[1] or tonumber(fl[1]) > ts
local later = not fl[2] or tonumber(fl[2]) < ts
if earlier and later then redis.call('HSET', KEYS[4], 'f', ARGV[3], 'l', ARGV[3])
elseif earlier then redis.call('HSET', KEYS[4], 'f', ARGV[3])
elseif later then redis.call('HSET', KEYS[4], 'l', ARGV[3]) end
-- the hash only grows by a day field, so only a new one can take it past 40 days
if new_day and redis.call('HLEN', KEYS[4]) > 48 then
  for _, k in ipairs(redis.call('HKEYS', KEYS[4])) do
    if string.sub(k, 1, 2) == 'd:' and string.sub(k, 3) < ARGV[10] then
      redis.call('HDEL', KEYS[4], k)
    end
  end
end
redis.call('XADD', KEYS[5], '*', 'o', ARGV[1], 'v', ARGV[2], 'u', unique, 'p', p,
  'd', ARGV[4], 't', ARGV[3], 'path', ARGV[6], 'ref', ARGV[7], 'ua', ARGV[8], 'ip', ARGV[9])
-- objects by last view: the score only moves when 'l' does
if later then redis.call('ZADD', KEYS[7], ts, ARGV[1]) end
return unique
"""

TRIM = """
local w = ARGV[1]
local function parse(id)
  local ms, seq = string.match(id, '^(%d+)-(%d+)$')
  return tonumber(ms), tonumber(seq)
end
local function newer(a, b)
  local ams, aseq = parse(a)
  local bms, bseq = parse(b)
  return ams > bms or (ams == bms and aseq > bseq)
end
local function decrement(fld, n)
  if redis.call('HINCRBY', KEYS[2], fld, -n) <= 0 then redis.call('HDEL', KEYS[2], fld) end
end
local done = redis.call('GET', KEYS[3])
if done and not newer(w, done) then return 0 end
local ndec = tonumber(ARGV[3])
if redis.call('HLEN', KEYS[2]) > 0 then
  local from = ARGV[2]
  if from ~= '' and ((not done and from == '0-0') or done == from) then
    -- the caller counted the pending views of exactly the entries being trimmed
    for i = 1, ndec do decrement(ARGV[2 + 2 * i], tonumber(ARGV[3 + 2 * i])) end
  else
    -- recovery: entries a crashed flush applied; count them here
    local start = '-'
    if done then start = '(' .. done end
    for _, entry in ipairs(redis.call('XRANGE', KEYS[1], start, w)) do
      local e = {}
      local kv = entry[2]
      for i = 1, #kv, 2 do e[kv[i]] = kv[i + 1] end
      if e['p'] == '1' then
        decrement(e['o'], 1)
        decrement(e['o'] .. '|d:' .. e['d'], 1)
        if e['u'] == '1' then decrement(e['o'] .. '|u', 1) end
      end
    end
  end
end
local ms, seq = parse(w)
redis.call('XTRIM', KEYS[1], 'MINID', ms .. '-' .. (seq + 1))
redis.call('SET', KEYS[3], w)
-- seed live counters of objects that have none, from the database figures at w;
-- the day window is sent once, each seed's days only where the database has views
local a = 4 + 2 * ndec
local window = {}
if a <= #ARGV then
  for i = 1, tonumber(ARGV[a]) do window[i] = ARGV[a + i] end
  a = a + 1 + #window
end
local k = 4
while a <= #ARGV do
  local name = ARGV[a]
  local ndays = tonumber(ARGV[a + 3])
  if redis.call('EXISTS', KEYS[k]) == 0 then
    local pend = tonumber(redis.call('HGET', KEYS[2], name) or '0')
    local upend = tonumber(redis.call('HGET', KEYS[2], name .. '|u') or '0')
    redis.call('SET', KEYS[k], tonumber(ARGV[a + 1]) + pend)
    redis.call('SET', KEYS[k + 1], tonumber(ARGV[a + 2]) + upend)
    local stored = {}
    for i = 1, ndays do stored[ARGV[a + 2 + 2 * i]] = tonumber(ARGV[a + 3 + 2 * i]) end
    for _, day in ipairs(window) do
      local n = (stored[day] or 0)
        + tonumber(redis.call('HGET', KEYS[2], name .. '|d:' .. day) or '0')
      if n > 0 then redis.call('HSET', KEYS[k + 2], 'd:' .. day, n) end
    end
  end
  a = a + 4 + 2 * ndays
  k = k + 3
end
return 1
"""

READ = """
local out = {}
local ndays = tonumber(ARGV[1])
local function values(key, fields)
  local got = redis.call('HMGET', key, unpack(fields))
  for i = 1, #fields do got[i] = got[i] or '0' end
  return got
end
local stat_fields = {'f', 'l'}
for i = 1, ndays do table.insert(stat_fields, 'd:' .. ARGV[1 + i]) end
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
    local fields = {name, name .. '|u'}
    for i = 1, ndays do table.insert(fields, name .. '|d:' .. ARGV[1 + i]) end
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
"""


def ms_to_datetime(ms: int) -> datetime:
    """A stream timestamp (milliseconds since the epoch) as an aware UTC datetime."""
    return datetime.fromtimestamp(ms / 1000, tz=dt_timezone.utc)


def day_key(day: date) -> str:
    return day.strftime("%Y%m%d")


def parse_day(text: str) -> date:
    return date(int(text[:4]), int(text[4:6]), int(text[6:8]))


class Scripts:
    """Registered scripts, bound to the current client."""

    def __init__(self, client) -> None:
        self.record = client.register_script(RECORD)
        self.trim = client.register_script(TRIM)
        self.read = client.register_script(READ)


_scripts: dict[int, Scripts] = {}


def scripts(client=None) -> Scripts:
    client = client or get_redis()
    found = _scripts.get(id(client))
    if found is None:
        found = _scripts[id(client)] = Scripts(client)
    return found


@dataclass
class View:
    name: ObjectName
    visitor: str
    timestamp_ms: int
    day: date
    path: str = ""
    referrer: str = ""
    user_agent: str = ""
    ip: str = ""


def record_view(view: View, client=None) -> bool:
    """Record one view in one round trip; True if the visitor is new for this object."""
    keys = keys_for(view.name)
    prune = day_key(view.day - timedelta(days=STATS_DAYS))
    script_keys = [
        keys.counter(view.name),
        keys.unique_counter(view.name),
        keys.session(view.visitor, view.name),
        keys.stats(view.name),
        keys.stream,
        keys.pending,
        keys.objects,
    ]
    args = [
        str(view.name),
        view.visitor,
        view.timestamp_ms,
        day_key(view.day),
        settings.REDIS_EXPIRATION,
        view.path,
        view.referrer,
        view.user_agent,
        view.ip or "",
        prune,
    ]
    if client is not None:  # a pipeline, or a caller's own client
        return bool(scripts(client).record(keys=script_keys, args=args, client=client))
    client = get_redis()
    return bool(_evalsha(client, scripts(client).record, script_keys, args))


def _evalsha(client, script, keys: list, args: list):
    """One EVALSHA on a pooled connection, without redis-py's per-command layers.

    This is the beacon's hot path: redis-py's retry and metrics layers cost
    about four times a bare round trip in client CPU. Stale pooled connections are
    still replaced by the pool, idle ones health-checked; a failure is raised
    as is and never retried, since a lost reply may hide a recorded view.
    """
    pool = client.connection_pool
    try:
        conn = pool.get_connection()
    except TypeError:  # redis-py < 5.3 wants a command name
        conn = pool.get_connection("EVALSHA")

    def run():
        conn.send_packed_command(conn.pack_command("EVALSHA", script.sha, len(keys), *keys, *args))
        return conn.read_response()

    try:
        try:
            return run()
        except NoScriptError:  # Redis restarted or flushed its scripts: nothing ran; load, run
            script.sha = client.script_load(script.script)
            return run()
    except BaseException:
        conn.disconnect()
        raise
    finally:
        pool.release(conn)


@dataclass
class Seed:
    """Database figures of an object at a flush watermark, to seed its live counters."""

    name: str
    total: int
    unique: int
    days: dict[str, int] = field(default_factory=dict)  # YYYYMMDD -> views, days with views only


def trim(
    shard: int,
    watermark: str,
    seeds: Sequence[Seed] = (),
    after: str = "",
    decrements: dict[str, int] | None = None,
    window: Sequence[str] = (),
    client=None,
) -> bool:
    """Drop applied entries up to ``watermark`` and seed live counters; idempotent.

    ``after`` and ``decrements``: the watermark the applied batch started from
    and its pending counts, which spare the script re-reading the entries when
    nothing else was trimmed in between. ``window``: the days (YYYYMMDD) the
    seeds' figures cover.
    """
    keys = Keys(shard)
    script_keys = [keys.stream, keys.pending, keys.trimmed]
    decrements = decrements or {}
    args: list = [watermark, after if decrements else "", len(decrements)]
    for field_name, count in decrements.items():
        args += [field_name, count]
    if seeds:
        args += [len(window), *window]
    for seed in seeds:
        script_keys += [
            keys.counter(seed.name),
            keys.unique_counter(seed.name),
            keys.stats(seed.name),
        ]
        args += [seed.name, seed.total, seed.unique, len(seed.days)]
        for day, views in seed.days.items():
            args += [day, views]
    return bool(scripts(client).trim(keys=script_keys, args=args, client=client))


@dataclass
class LiveRow:
    seeded: bool
    total: int
    unique: int
    first_ms: int | None
    last_ms: int | None
    days: dict[date, int]


def read_live(names: list[ObjectName], days: list[date], client=None) -> dict[ObjectName, LiveRow]:
    """Live Redis figures for many objects in one round trip.

    One script call covers every object; on Redis Cluster it is one call per
    shard (all of a shard's keys share a slot), sent as one pipeline.
    """
    client = client or get_redis()
    names = list(dict.fromkeys(names))
    if not names:
        return {}
    groups: dict[int, list[ObjectName]] = defaultdict(list)
    for name in names:
        groups[shard_of(name) if settings.REDIS_CLUSTER else 0].append(name)
    day_args = [day_key(d) for d in days]
    read = scripts(client).read
    outputs = []
    if len(groups) == 1:
        outputs.append(read(keys=_read_keys(names), args=[len(days), *day_args, *map(str, names)]))
    else:
        pipe = client.pipeline(transaction=False)
        for group in groups.values():
            read(keys=_read_keys(group), args=[len(days), *day_args, *map(str, group)], client=pipe)
        outputs = pipe.execute()
    result: dict[ObjectName, LiveRow] = {}
    for group, rows in zip(groups.values(), outputs, strict=True):
        for name, row in zip(group, rows, strict=True):
            result[name] = _live_row(row, days)
    return result


def _read_keys(names: list[ObjectName]) -> list[str]:
    script_keys = []
    for name in names:
        keys = keys_for(name)
        script_keys += [
            keys.pending,
            keys.counter(name),
            keys.unique_counter(name),
            keys.stats(name),
        ]
    return script_keys


def _live_row(row: list, days: list[date]) -> LiveRow:
    def as_int(value) -> int | None:
        return int(value) if value not in (b"", "", None) else None

    return LiveRow(
        seeded=int(row[0]) == 1,
        total=int(row[1]),
        unique=int(row[2]),
        first_ms=as_int(row[3]),
        last_ms=as_int(row[4]),
        days={d: int(v) for d, v in zip(days, row[5:], strict=True)},
    )


def read_entries(shard: int, after: str, count: int) -> list[tuple[str, dict]]:
    """Stream entries of ``shard`` strictly after ``after``, oldest first."""
    start = "-" if after == "0-0" else "(" + after
    entries = get_redis(decode_responses=True).xrange(
        Keys(shard).stream, min=start, max="+", count=count
    )
    return cast("list[tuple[str, dict]]", entries)  # decode_responses: ids and fields are str
