"""The Lua scripts: their contract headers, their shipping in the wheel, their SHA cache."""

import os
import re
import subprocess
import sys
import time
import zipfile

import pytest
import redis
from django.test import override_settings
from django.utils import timezone

from djinsight.store import buffer, scripts
from djinsight.store.client import get_redis, redis_url, reset_clients, scripts_for
from djinsight.store.keys import ObjectName, keys_for, shard_of
from tests.conftest import ROOT

LUA_DIR = ROOT / "src" / "djinsight" / "store" / "lua"
NAME = re.compile(r"\b[A-Z][A-Z0-9_]+\b")


def header_problems(text: str) -> list[str]:
    """What a script's contract header gets wrong about the KEYS, ARGV and names it uses.

    The header is the leading ``--`` lines: ``-- KEYS[i] = …`` / ``-- ARGV[i] = …``
    for i = 1..n in order, then at most one ``[n+1+]`` line for the variable rest;
    the keys.py names under ``-- Names from store/keys.py``; a ``-- Returns`` line.
    """
    lines = text.splitlines()
    if lines and lines[0].startswith("#!lua"):  # the script's flags, not its contract
        lines = lines[1:]
    start = next(i for i, line in enumerate(lines) if not line.startswith("--"))
    header = lines[:start]
    code = "\n".join(re.sub(r"--.*", "", line) for line in lines[start:])
    code = re.sub(r"'[^']*'|\"[^\"]*\"", "''", code)  # names in strings are Redis commands
    problems = []
    for table in ("KEYS", "ARGV"):
        documented = [
            m.groups()
            for line in header
            if (m := re.match(rf"-- {table}\[(\d+)(\+?)\] = \S", line))
        ]
        fixed = [int(n) for n, rest in documented if not rest]
        rest = [int(n) for n, rest in documented if rest]
        if fixed != list(range(1, len(fixed) + 1)):
            problems.append(f"{table}: documented {fixed}, not 1..n in order")
        if rest and rest != [len(fixed) + 1]:
            problems.append(f"{table}: the rest documented at {rest}, not at [{len(fixed) + 1}+]")
        literal = {int(n) for n in re.findall(rf"\b{table}\[(\d+)\]", code)}
        variable = re.search(rf"\b{table}\[(?!\d+\])|#{table}\b|unpack\({table}\b", code)
        problems += [
            f"{table}[{n}] used, not documented"
            for n in sorted(literal)
            if n > len(fixed) and not rest
        ]
        problems += [f"{table}[{n}] documented, never used" for n in fixed if n not in literal]
        if variable and not rest:
            problems.append(f"{table} indexed by a variable, no {table}[{len(fixed) + 1}+] line")
        if rest and not variable:
            problems.append(f"{table}[{rest[0]}+] documented, but {table} has no variable index")
    names_at = [
        i for i, line in enumerate(header) if line.startswith("-- Names from store/keys.py")
    ]
    bound_block = []
    for line in header[names_at[0] + 1 :] if names_at else []:
        if not line.startswith("--   "):
            break
        bound_block.append(line)
    documented_names = set(NAME.findall(" ".join(bound_block)))
    used_names = set(NAME.findall(code)) - {"KEYS", "ARGV"}
    problems += [
        f"{n} is not a name scripts.BOUND binds" for n in sorted(used_names - set(scripts.BOUND))
    ]
    problems += [f"{n} used, not documented" for n in sorted(used_names - documented_names)]
    problems += [f"{n} documented, never used" for n in sorted(documented_names - used_names)]
    if not any(line.startswith("-- Returns") for line in header):
        problems.append("no '-- Returns' line")
    return problems


def test_every_shipped_script_is_known_to_the_loader():
    assert sorted(p.stem for p in LUA_DIR.glob("*.lua")) == sorted(scripts.NAMES)


@pytest.mark.parametrize("name", scripts.NAMES)
def test_script_header_documents_every_key_argv_and_name_it_uses(name):
    assert header_problems(scripts.lua_file(name)) == []


def _in_header(text: str, old: str, new: str) -> str:
    return re.sub(r"(?m)^--   .*$", lambda m: m.group(0).replace(old, new), text)


def _drop_line(text: str, startswith: str) -> str:
    lines = text.splitlines(keepends=True)
    (index,) = [i for i, line in enumerate(lines) if line.startswith(startswith)]
    return "".join(lines[:index] + lines[index + 1 :])


@pytest.mark.parametrize(
    ("name", "doctor", "problem"),
    [
        ("record", lambda t: _drop_line(t, "-- ARGV[11] ="), "ARGV[11] used, not documented"),
        (
            "record",
            lambda t: t.replace("-- ARGV[11] =", "-- ARGV[12] = spare\n-- ARGV[11] =", 1),
            "ARGV: documented",
        ),
        (
            "record",
            lambda t: t.replace("-- ARGV[11] =", "-- ARGV[11] = x\n-- ARGV[12] =", 1),
            "ARGV[12] documented, never used",
        ),
        ("read", lambda t: _drop_line(t, "-- KEYS[1+] ="), "KEYS indexed by a variable"),
        ("trim", lambda t: t.replace("ARGV[3])", "ARGV[4])"), "ARGV[3] documented, never used"),
        (
            "trim",
            lambda t: _in_header(t, " PENDING_DAY", ""),
            "PENDING_DAY used, not documented",
        ),
        ("read", lambda t: t.replace("STATS_FIRST,", "STATS_FRIST,"), "STATS_FRIST is not"),
        ("record", lambda t: _drop_line(t, "-- Returns"), "no '-- Returns' line"),
    ],
    ids=[
        "undocumented",
        "out-of-order",
        "unused",
        "variable",
        "unused-3",
        "name",
        "typo",
        "returns",
    ],
)
def test_header_check_catches_a_wrong_header(name, doctor, problem):
    doctored = doctor(scripts.lua_file(name))
    assert doctored != scripts.lua_file(name)
    assert any(p.startswith(problem) for p in header_problems(doctored)), header_problems(doctored)


@pytest.mark.parametrize("name", scripts.NAMES)
def test_every_script_compiles_on_redis_with_its_names_bound(name, redis_client):
    sha = redis_client.script_load(scripts.source(name))
    assert sha == getattr(scripts_for(redis_client), name).sha


def test_redis_error_lines_are_the_lua_file_lines(redis_client):
    """The bound names share the header's first line, so an error points into the file."""
    lines = scripts.lua_file("trim").splitlines()
    (xtrim,) = [n for n, line in enumerate(lines, 1) if "'XTRIM'" in line]
    with pytest.raises(redis.ResponseError, match=rf"user_script:{xtrim}: "):
        buffer.trim(0, "not-a-stream-id")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    out = tmp_path_factory.mktemp("wheel")
    # hatchling (the build backend, in the test extra): the matrix's venvs have no pip
    command = [sys.executable, "-m", "hatchling", "build", "--target", "wheel", "--directory"]
    subprocess.run([*command, str(out)], check=True, capture_output=True, timeout=600, cwd=ROOT)
    (path,) = out.glob("djinsight-*.whl")
    return path


def test_wheel_ships_the_lua_scripts_and_the_installed_package_loads_them(wheel, tmp_path):
    with zipfile.ZipFile(wheel) as built:
        shipped = {n: built.read(n) for n in built.namelist() if n.endswith(".lua")}
    assert shipped == {
        f"djinsight/store/lua/{p.name}": p.read_bytes() for p in LUA_DIR.glob("*.lua")
    }
    assert len(shipped) == len(scripts.NAMES)
    # djinsight imported from the wheel alone (zipimport): importlib.resources finds the files
    code = (
        "import djinsight; from djinsight.store import scripts; print(djinsight.__file__); "
        "print(all(scripts.source(n) == s for n, s in zip(scripts.NAMES, "
        f"{[scripts.source(n) for n in scripts.NAMES]!r})))"
    )
    run = subprocess.run(
        [sys.executable, "-c", code],
        env={**os.environ, "PYTHONPATH": str(wheel)},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.split() == [str(wheel / "djinsight" / "__init__.py"), "True"]


def test_scripts_are_cached_with_their_client_and_cleared_with_it():
    client = get_redis()
    cached = scripts_for(client)
    assert scripts_for() is cached
    assert scripts_for(client.pipeline(transaction=False)) is cached
    assert cached.record.registered_client is client
    reset_clients()
    fresh = scripts_for()
    assert fresh is not cached
    assert fresh.record.registered_client is get_redis()
    assert get_redis() is not client


def test_a_callers_own_client_gets_its_own_scripts(redis_client):
    own = redis.Redis.from_url(redis_url())
    try:
        found = scripts_for(own)
        assert found.record.registered_client is own
        assert found is not scripts_for(redis_client)
    finally:
        own.close()


def test_scripts_flushed_by_redis_are_reloaded_on_every_path(own_redis):
    url, _restart = own_redis
    with override_settings(DJINSIGHT_REDIS_URL=url):
        reset_clients()
        server = redis.Redis.from_url(url)
        name = ObjectName("testapp.article", "1")
        today = timezone.localdate()
        now_ms = int(time.time() * 1000)

        def view(visitor: str) -> buffer.View:
            return buffer.View(name, visitor, now_ms, today)

        server.script_flush()
        assert buffer.record_view(view("a")) is True  # the pooled fast path
        server.script_flush()
        pipe = get_redis().pipeline(transaction=False)
        buffer.record_view(view("b"), client=pipe)
        buffer.record_view(view("b"), client=pipe)
        assert pipe.execute() == [1, 0]
        server.script_flush()
        live = buffer.read_live([name], [today])[name]
        assert (live.seeded, live.total, live.unique, live.days) == (False, 3, 2, {today: 3})
        server.script_flush()
        stream = keys_for(name).stream
        ((last, _fields),) = server.xrevrange(stream, count=1)
        assert buffer.trim(shard_of(name), last.decode()) is True
        assert server.xlen(stream) == 0
        assert buffer.read_live([name], [today])[name].total == 0  # pending taken back


FLAGS = {"record": "#!lua", "trim": "#!lua flags=allow-oom", "read": "#!lua flags=no-writes"}


@pytest.mark.parametrize("name", scripts.NAMES)
def test_each_script_declares_its_redis_flags_on_the_first_line(name):
    """Redis reads flags from the first line only: the bound names must come after it."""
    assert scripts.lua_file(name).splitlines()[0] == FLAGS[name]
    assert scripts.source(name).splitlines()[0] == FLAGS[name]
    assert scripts.source(name).splitlines()[1].startswith("local ")


@pytest.mark.parametrize("name", scripts.NAMES)
def test_servers_older_than_redis_7_get_each_script_with_a_blank_flags_line(name, redis_client):
    legacy = scripts.source(name, flags=False)
    assert legacy.splitlines()[0] == ""
    assert legacy.splitlines()[1:] == scripts.source(name).splitlines()[1:]
    redis_client.script_load(legacy)  # compiles, on Redis 7 too


def test_the_server_is_asked_once_whether_it_reads_flags(redis_client):
    assert scripts.reads_flags(redis_client) is True
    found = scripts_for(redis_client)
    assert found.trim.script == scripts.source("trim", flags=True)
    legacy = scripts.Scripts(redis_client, flags=False)
    assert legacy.trim.script == scripts.source("trim", flags=False)
