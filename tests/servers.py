"""Throwaway redis-server processes for tests and benchmarks: loopback only, no disk by default."""

from __future__ import annotations

import socket


def free_port() -> int:
    """A loopback TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def redis_server_command(port: int, *options: str) -> list[str]:
    """``redis-server`` on ``port``: no snapshots, no AOF, quiet; ``options`` add or override."""
    base = ["--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    return ["redis-server", *base, "--loglevel", "warning", *options]
