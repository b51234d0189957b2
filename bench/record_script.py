#!/usr/bin/env python
"""Redis-side cost of the record script: the current lua/record.lua against the one it replaced.

    .venv/bin/python bench/record_script.py [--views 100000] [--rounds 3] [--against REV]

Starts its own redis-server on a free loopback port (no persistence), sends
the same pipelined workload through each script, alternating A B / B A, and
reads the server's own time per call (``INFO commandstats``, EVALSHA
usec_per_call), which does not depend on the client or on the network. Two
workloads: steady state (every object's live counters seeded) and cold (none
seeded, so views go to the pending hash), plus a flood: one object, a new
visitor every view, as a client inventing visitors sends (past
DJINSIGHT_UNIQUE_EXACT_LIMIT the day's HyperLogLog decides). It also checks that both scripts leave
the same keys and values behind for a sequence with repeat visitors, backdated
timestamps, a seeded object and day fields old enough to prune.

``--against REV`` compares with lua/record.lua at git revision REV instead
(``--against main``: the cost of a change), and skips that check.
"""

from __future__ import annotations

import argparse
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

import redis

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "src")]

from tests.servers import free_port, redis_server_command  # noqa: E402

from djinsight.store.scripts import bind, source  # noqa: E402 - after the path is set

RECORD = source("record")  # store/lua/record.lua with its keys.py names bound, as Redis runs it

# The record script as of commit 917bbec, before it was made cheaper.
BASELINE = """
local unique = 0
if redis.call('SET', KEYS[3], '1', 'NX', 'EX', tonumber(ARGV[5])) then unique = 1 end
local p = 0
if redis.call('EXISTS', KEYS[1]) == 1 then
  redis.call('INCR', KEYS[1])
  if unique == 1 then redis.call('INCR', KEYS[2]) end
  redis.call('HINCRBY', KEYS[4], 'd:' .. ARGV[4], 1)
else
  -- live counters not seeded from the database yet: count in the pending hash
  p = 1
  redis.call('HINCRBY', KEYS[6], ARGV[1], 1)
  if unique == 1 then redis.call('HINCRBY', KEYS[6], ARGV[1] .. '|u', 1) end
  redis.call('HINCRBY', KEYS[6], ARGV[1] .. '|d:' .. ARGV[4], 1)
end
local ts = tonumber(ARGV[3])
local f = redis.call('HGET', KEYS[4], 'f')
if not f or tonumber(f) > ts then redis.call('HSET', KEYS[4], 'f', ARGV[3]) end
local l = redis.call('HGET', KEYS[4], 'l')
if not l or tonumber(l) < ts then redis.call('HSET', KEYS[4], 'l', ARGV[3]) end
if redis.call('HLEN', KEYS[4]) > 48 then
  for _, k in ipairs(redis.call('HKEYS', KEYS[4])) do
    if string.sub(k, 1, 2) == 'd:' and string.sub(k, 3) < ARGV[10] then
      redis.call('HDEL', KEYS[4], k)
    end
  end
end
redis.call('XADD', KEYS[5], '*', 'o', ARGV[1], 'v', ARGV[2], 'u', unique, 'p', p,
  'd', ARGV[4], 't', ARGV[3], 'path', ARGV[6], 'ref', ARGV[7], 'ua', ARGV[8], 'ip', ARGV[9])
redis.call('ZADD', KEYS[7], ts, ARGV[1])
return unique
"""

AGENT = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0 Safari/537.36"
)
SHARDS = 4


EXACT_LIMIT = 1000  # DJINSIGHT_UNIQUE_EXACT_LIMIT's default


def keys(name: str, visitor: str, day: str) -> list[str]:
    """The key layout of keys.Keys without a cluster hash tag (prefix 'b:')."""
    shard = hash(name) % SHARDS
    return [
        f"b:counter:{name}",
        f"b:unique_counter:{name}",
        f"b:session:{visitor}:page:{name}",
        f"b:stats:{name}",
        f"b:buffer:{shard}",
        f"b:pending:{shard}",
        f"b:objects:{shard}",
        f"b:deleted:{name}",
        f"b:hll:{name}:{day}",
        f"b:hll_claimed:{name}:{day}",
    ]


def call(name: str, visitor: str, ts: int, day: str, prune: str = "20000101") -> tuple[list, list]:
    args = [
        name,
        visitor,
        ts,
        day,
        604800,
        "/items/1/",
        "https://www.google.com/",
        AGENT,
        "11.2.3.0",
        prune,
        EXACT_LIMIT,
    ]
    return keys(name, visitor, day), args


def workload(views: int, objects: int, seed: int = 1) -> list[tuple[list, list]]:
    """Views over ``objects`` objects, 20% repeating a recent (visitor, object) pair.

    Timestamps increase.
    """
    rng = random.Random(seed)
    now = int(time.time() * 1000)
    recent: list[tuple[str, str]] = []
    calls = []
    for i in range(views):
        if recent and rng.random() < 0.2:
            visitor, name = recent[rng.randrange(len(recent))]
        else:
            visitor, name = f"c{i:019x}", f"benchapp.item:{rng.randrange(objects) + 1}"
            recent.append((visitor, name))
            del recent[:-1000]
        calls.append(call(name, visitor, now + i, "20250601"))
    return calls


def flood(views: int) -> list[tuple[list, list]]:
    """Views of one object, each by a new visitor."""
    now = int(time.time() * 1000)
    return [call("benchapp.item:1", f"f{i:019x}", now + i, "20250601") for i in range(views)]


def run(client: redis.Redis, script: str, calls: list, seeded: int) -> tuple[float, float]:
    """Server microseconds and Redis commands per call of ``script``, on an empty server."""
    client.flushall()  # our own throwaway server
    for n in range(1, seeded + 1):
        client.set(f"b:counter:benchapp.item:{n}", 0)
        client.set(f"b:unique_counter:benchapp.item:{n}", 0)
    sha = client.script_load(script)
    client.config_resetstat()
    pipe = client.pipeline(transaction=False)
    for i, (script_keys, args) in enumerate(calls, 1):
        pipe.evalsha(sha, len(script_keys), *script_keys, *args)
        if i % 2000 == 0:
            pipe.execute()
    pipe.execute()
    stats = client.info("commandstats")
    evalsha = stats.pop("cmdstat_evalsha")
    inner = sum(v["calls"] for k, v in stats.items() if k not in ("cmdstat_config", "cmdstat_info"))
    return float(evalsha["usec_per_call"]), inner / evalsha["calls"]


def state(client: redis.Redis) -> dict:
    out = {}
    for key in sorted(client.keys("b:*")):  # our own throwaway server, a few dozen keys
        kind = client.type(key).decode()
        if kind == "string":
            out[key] = client.get(key)
        elif kind == "hash":
            out[key] = client.hgetall(key)
        elif kind == "stream":
            out[key] = [fields for _id, fields in client.xrange(key)]
        else:
            out[key] = client.zrange(key, 0, -1, withscores=True)
    return out


def same_state(client: redis.Redis) -> tuple[bool, dict]:
    """Both scripts over one tricky sequence; returns (equal, differing keys)."""
    now = int(time.time() * 1000)
    old = [f"d:202501{d:02d}" for d in range(1, 31)] + [f"d:202502{d:02d}" for d in range(1, 21)]
    sequence = [
        call("a.b:1", "v1", now, "20250601"),  # first view: unseeded
        call("a.b:1", "v1", now - 5000, "20250601"),  # repeat visitor, backdated
        call("a.b:1", "v2", now - 9000, "20250531"),  # backdated before the first view
        call("a.b:2", "v1", now + 10, "20250601"),  # seeded object (counter set below)
        call("a.b:2", "v3", now + 20, "20250601"),
        call("a.b:2", "v3", now + 20, "20250601"),  # same millisecond
        call(
            "a.b:2", "v4", now + 30, "20250602", prune="20250401"
        ),  # new day: prune the old fields
        call("a.b:2", "v5", now + 40, "20250602", prune="20250401"),
    ]
    results = []
    for script in (BASELINE, RECORD):
        client.flushall()
        client.set("b:counter:a.b:2", 100)
        client.set("b:unique_counter:a.b:2", 50)
        client.hset("b:stats:a.b:2", mapping={field: 1 for field in old})
        sha = client.script_load(script)
        returned = [client.evalsha(sha, len(k), *k, *a) for k, a in sequence]
        results.append((returned, state(client)))
    (r1, s1), (r2, s2) = results
    diff = {k: (s1.get(k), s2.get(k)) for k in set(s1) | set(s2) if s1.get(k) != s2.get(k)}
    # One intended difference: the baseline let a backdated view lower an object's score in the
    # objects index below its last view; now the score is always the stats hash's 'l'.
    for key in [k for k in diff if k.startswith(b"b:objects:")]:
        if all(score == float(s2[b"b:stats:" + name][b"l"]) for name, score in s2[key]) and [
            n for n, _ in s1[key]
        ] == [n for n, _ in s2[key]]:
            del diff[key]
    # Another: the day's visitors, kept since (a HyperLogLog per object and day).
    for key in [k for k in diff if k.startswith(b"b:hll:") and diff[k][0] is None]:
        del diff[key]
    return r1 == r2 and not diff, diff


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--views", type=int, default=100_000)
    parser.add_argument("--objects", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--against", metavar="REV", help="baseline: lua/record.lua at this git revision"
    )
    ns = parser.parse_args()
    baseline = BASELINE
    if ns.against:
        baseline = bind(
            subprocess.run(
                ["git", "show", f"{ns.against}:src/djinsight/store/lua/record.lua"],
                cwd=ROOT,
                check=True,
                capture_output=True,
                text=True,
            ).stdout
        )
    port = free_port()
    server = subprocess.Popen(redis_server_command(port), stdout=subprocess.DEVNULL)
    try:
        client = redis.Redis(host="127.0.0.1", port=port)
        for _ in range(100):
            try:
                client.ping()
                break
            except redis.ConnectionError:
                time.sleep(0.05)
        if ns.against:
            print(f"baseline: lua/record.lua at {ns.against} (state check skipped)")
        else:
            equal, diff = same_state(client)
            print(
                "same keys and values after the check sequence "
                f"(objects index scores = last view): {equal}"
            )
            for key, (before, after) in sorted(diff.items()):
                print(f"  {key}: baseline {before!r}\n  {' ' * len(key)}  current  {after!r}")
        calls = workload(ns.views, ns.objects)
        workloads = [
            ("steady state (seeded)", calls, ns.objects),
            ("cold (unseeded)", calls, 0),
            ("flood (one object)", flood(ns.views), 0),
        ]
        for label, views, seeded in workloads:
            times: dict[str, list[float]] = {"baseline": [], "current": []}
            commands = {}
            for r in range(ns.rounds):
                order = [("baseline", baseline), ("current", RECORD)]
                for name, script in order if r % 2 == 0 else order[::-1]:
                    usec, commands[name] = run(client, script, views, seeded)
                    times[name].append(usec)
            base, cur = statistics.median(times["baseline"]), statistics.median(times["current"])
            print(
                f"{label:22} baseline {base:6.2f} us/call, {commands['baseline']:.2f} commands;  "
                f"current {cur:6.2f} us/call, {commands['current']:.2f} commands;  "
                f"time ratio {cur / base:.2f}  (rounds: {times})"
            )
    finally:
        server.terminate()
        server.wait(10)
    return 0


if __name__ == "__main__":
    sys.exit(main())
