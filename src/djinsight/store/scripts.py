"""The Lua scripts in ``store/lua/``: their text, their registration, their arguments.

Each ``<name>.lua`` opens with its contract: one line per ``KEYS[i]`` and
``ARGV[i]``, the names it takes from ``keys.py``, and what it returns. The
``*_call`` functions below pack exactly those arguments.

Field names and the prune threshold are defined once, in ``keys.py``, and
``source`` binds them into each script as Lua locals; only per-call values
travel as ARGV. Sending the names with every call instead cost the record
script, the beacon's hot path, 1-12% more Redis CPU per view (interleaved A/B).

Each file's first line is a Redis 7 shebang with the script's flags, which
decide what a full Redis (maxmemory) does with it: ``record.lua`` (no flags) is
refused before it writes anything, ``trim.lua`` (``allow-oom``) runs so that a
flush can free memory, ``read.lua`` (``no-writes``) runs since it writes nothing.
Older servers refuse that line; they get it blank (``reads_flags`` asks once
per client), and the scripts behave the same there (see trim.lua's header).
"""

from __future__ import annotations

import functools
import re
from datetime import timedelta
from importlib import resources
from typing import TYPE_CHECKING

import redis
from redis.exceptions import NoScriptError, ResponseError

from djinsight.conf import settings
from djinsight.store import keys as layout
from djinsight.store.keys import Keys, day_key, keys_for

if TYPE_CHECKING:
    from collections.abc import Sequence
    from datetime import date

    from redis.commands.core import Script

    from djinsight.store.buffer import Seed, View
    from djinsight.store.keys import ObjectName

NAMES = ("record", "trim", "read")

# The keys.py names a script may use; source() binds those it mentions.
BOUND = (
    "STATS_FIRST",
    "STATS_LAST",
    "STATS_DAY",
    "STATS_PRUNE_ABOVE",
    "PENDING_UNIQUE",
    "PENDING_DAY",
    "ENTRY_OBJECT",
    "ENTRY_VISITOR",
    "ENTRY_UNIQUE",
    "ENTRY_PENDING",
    "ENTRY_DAY",
    "ENTRY_TIME",
    "ENTRY_PATH",
    "ENTRY_REFERRER",
    "ENTRY_USER_AGENT",
    "ENTRY_IP",
    "RECORD_DELETED",
    "DAY_VISITORS_TTL",
)


def lua_file(name: str) -> str:
    """``lua/<name>.lua`` as it ships: the contract header, then the script."""
    return resources.files(__package__).joinpath(f"lua/{name}.lua").read_text(encoding="utf-8")


@functools.cache
def source(name: str, flags: bool = True) -> str:
    """The text Redis runs: ``lua/<name>.lua`` with the keys.py names it uses bound;
    without ``flags`` (servers older than Redis 7) its ``#!lua`` line is left blank."""
    return bind(lua_file(name), flags)


def bind(text: str, flags: bool = True) -> str:
    """A script's text as Redis runs it (see ``source``)."""
    shebang, rest = _split_shebang(text)
    if shebang and not flags:
        shebang = "\n"
    used = [n for n in BOUND if re.search(rf"\b{n}\b", text)]
    if not used:
        return shebang + rest
    values = ", ".join(_lua_literal(getattr(layout, n)) for n in used)
    # On the header's first line, so that Redis's error line numbers are the file's.
    return f"{shebang}local {', '.join(used)} = {values} {rest}"


def _split_shebang(text: str) -> tuple[str, str]:
    """The ``#!lua`` line with its newline ('' if none), and the rest: Redis reads the
    script's flags only from its very first line."""
    if not text.startswith("#!"):
        return "", text
    first, _, rest = text.partition("\n")
    return first + "\n", rest


def _lua_literal(value: str | int) -> str:
    if isinstance(value, int):
        return str(value)
    if not re.fullmatch(r"[\w|:.-]*", value):
        raise ValueError(f"keys.py field name {value!r} needs quoting; use [A-Za-z0-9_|:.-]")
    return f"'{value}'"


class Scripts:
    """The scripts registered with one client (SHAs computed); ``client.scripts_for`` caches it.

    Registered at their first use, which asks the server once whether it reads
    script flags (``reads_flags``), unless ``flags`` says so.
    """

    record: Script
    trim: Script
    read: Script

    def __init__(self, client, flags: bool | None = None) -> None:
        self.client = client
        if flags is not None:
            self._register(flags)

    def __getattr__(self, name: str) -> Script:  # called only until registered
        if name not in NAMES:
            raise AttributeError(name)
        self._register(reads_flags(self.client))
        return getattr(self, name)

    def _register(self, flags: bool) -> None:
        for name in NAMES:
            setattr(self, name, self.client.register_script(source(name, flags)))


FLAGS_PROBE = "#!lua flags=no-writes\nreturn 1"


def reads_flags(client) -> bool:
    """Whether the server reads a script's flags from its ``#!lua`` line (Redis 7 and
    later); older ones refuse the line. One EVAL, sent like the record script's."""
    try:
        return send_once(client, "EVAL", FLAGS_PROBE, 0) == 1
    except ResponseError as exc:
        if "Error compiling script" in str(exc):
            return False
        raise


def _connection(pool):
    try:
        return pool.get_connection()
    except TypeError:  # redis-py < 5.3 wants a command name
        return pool.get_connection("EVALSHA")


class Unreachable(redis.ConnectionError):
    """Redis could not be reached on a new connection either: a command failed twice,
    the second time on a new connection, or connecting timed out. (From
    ``send_once``: before the command was sent, so it never ran.)"""


class NotSent(Exception):
    """An attempt failed before its command was written whole: Redis cannot have run it."""

    def __init__(self, error: Exception) -> None:
        super().__init__(str(error))
        self.error = error


def run_pooled(client, script, keys: list, args: list):
    """One EVALSHA on a pooled connection, without redis-py's per-command layers.

    This is the beacon's hot path: redis-py's retry and metrics layers cost
    about four times a bare round trip in client CPU. On NOSCRIPT (Redis
    restarted or flushed its scripts: nothing ran) the script is loaded and run.
    """
    try:
        return send_once(client, "EVALSHA", script.sha, len(keys), *keys, *args)
    except NoScriptError:
        script.sha = client.script_load(script.script)
        return send_once(client, "EVALSHA", script.sha, len(keys), *keys, *args)


def send_once(client, *command):
    """Run ``command`` on a pooled connection; Redis runs it at most once.

    The pool replaces a pooled connection the server closed before handing it
    out (it checks each one), and health-checks idle ones. The command is sent
    again, once, on a new connection only when the attempt failed before it was
    written whole (connecting, or writing to a connection that died meanwhile):
    Redis never runs a command it did not receive whole. Once written, a failure
    (a lost reply) is raised as is and never repeated, since Redis may have run
    it: a view would count twice. A timeout is not repeated either: it already
    took DJINSIGHT_REDIS_TIMEOUT. ``Unreachable`` when it could not be sent.
    """
    try:
        return _pooled(client, command)
    except NotSent as first:
        if isinstance(first.error, redis.TimeoutError):
            raise Unreachable(str(first.error)) from first.error
    try:
        return _pooled(client, command)
    except NotSent as second:
        raise Unreachable(str(second.error)) from second.error


def _pooled(client, command: tuple):
    """Send ``command`` once and read its reply; NotSent if it never left whole."""
    pool = client.connection_pool
    try:
        conn = _connection(pool)  # connects, or replaces a dead pooled connection, here
    except (redis.ConnectionError, redis.TimeoutError, OSError) as exc:
        raise NotSent(exc) from exc
    try:
        try:
            # On failure it disconnects, so a half-written command never completes.
            conn.send_packed_command(conn.pack_command(*command))
        except (redis.ConnectionError, redis.TimeoutError, OSError) as exc:
            raise NotSent(exc) from exc
        return conn.read_response()
    except ResponseError:  # an error reply (a full Redis, NOSCRIPT): the connection is fine
        raise
    except BaseException:
        conn.disconnect()
        raise
    finally:
        pool.release(conn)


def record_call(view: View) -> tuple[list, list]:
    """KEYS and ARGV of record.lua for one view."""
    name = view.name
    keys = keys_for(name)
    day = day_key(view.day)
    script_keys = [
        keys.counter(name),
        keys.unique_counter(name),
        keys.session(view.visitor, name),
        keys.stats(name),
        keys.stream,
        keys.pending,
        keys.objects,
        keys.deleted(name),
        keys.day_visitors(name, day),
        keys.day_claimed(name, day),
    ]
    args = [
        str(name),
        view.visitor,
        view.timestamp_ms,
        day,
        settings.REDIS_EXPIRATION,
        view.path,
        view.referrer,
        view.user_agent,
        view.ip or "",
        day_key(view.day - timedelta(days=layout.STATS_DAYS)),
        settings.UNIQUE_EXACT_LIMIT,
    ]
    return script_keys, args


def trim_call(
    shard: int,
    watermark: str,
    seeds: Sequence[Seed],
    after: str,
    decrements: dict[str, int],
    window: Sequence[str],
) -> tuple[list, list]:
    """KEYS and ARGV of trim.lua (see ``buffer.trim``)."""
    keys = Keys(shard)
    script_keys = [keys.stream, keys.pending, keys.trimmed]
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
            keys.deleted(seed.name),
        ]
        args += [seed.name, seed.total, seed.unique, len(seed.days)]
        for day, views in seed.days.items():
            args += [day, views]
    return script_keys, args


def read_call(names: list[ObjectName], days: list[date]) -> tuple[list, list]:
    """KEYS and ARGV of read.lua for objects that share a Cluster slot."""
    script_keys = []
    for name in names:
        keys = keys_for(name)
        script_keys += [
            keys.pending,
            keys.counter(name),
            keys.unique_counter(name),
            keys.stats(name),
        ]
    return script_keys, [len(days), *map(day_key, days), *map(str, names)]
