"""Crash a persistent redis-server under load and see which answered views it kept.

Shared by tests/store/test_durability.py and bench/durability.py (docs/architecture.md,
"Durability"). Two crashes:

- ``kill``: SIGKILL the server. The kernel keeps what the process wrote, so this is a
  process crash (OOM killer, a bug, ``kill -9``), whatever the fsync policy.
- ``power``: SIGKILL, then cut each AOF file back to its size at its last fsync, as
  if the machine lost power and the kernel had written nothing else back (the worst
  case). redis-server runs with tests/fsync_log.c preloaded, which logs the fsyncs.

Load comes from client processes (``python -m tests.redis_crash``) that answer beacons
with djinsight's WSGI fast path (``tracking.fastpath.answer``: the endpoint's checks
and its one EVALSHA). A view is answered when that returned ``204``. Each view's path
names it (``/<tag>/<seq>``), so the raw logs tell exactly which answered views were kept.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import logging
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import redis

from tests.servers import free_port, redis_server_command

ROOT = Path(__file__).resolve().parent.parent
SHIM = Path(__file__).with_name("fsync_log.c")

# redis-server options per persistence setting; "none" is redis_server_command's default.
PERSISTENCE: dict[str, tuple[str, ...]] = {
    "none": (),
    "rdb": ("--save", "5 1"),  # a snapshot every 5 s while views arrive
    "no": ("--appendonly", "yes", "--appendfsync", "no"),
    "everysec": ("--appendonly", "yes", "--appendfsync", "everysec"),
    "always": ("--appendonly", "yes", "--appendfsync", "always"),
}


def fsync_log_library() -> Path:
    """tests/fsync_log.c built once per version of its source, in a private temp directory."""
    source = SHIM.read_bytes()
    cache = Path(tempfile.gettempdir()) / f"djinsight-{os.getuid()}"
    cache.mkdir(mode=0o700, exist_ok=True)
    built = cache / f"fsync-log-{hashlib.sha256(source).hexdigest()[:12]}.so"
    if built.exists():
        return built
    compiler = shutil.which("cc") or shutil.which("gcc")
    if compiler is None:
        raise RuntimeError("the power-loss simulation needs a C compiler (apt-get install gcc)")
    partial = built.with_suffix(f".{os.getpid()}.tmp")
    subprocess.run(  # noqa: S603 - our own compiler call
        [compiler, "-shared", "-fPIC", "-O2", "-o", str(partial), str(SHIM), "-ldl"], check=True
    )
    partial.replace(built)  # atomic: parallel test runs may build it at once
    return built


class CrashableRedis:
    """A redis-server keeping its files in ``directory``, which can be killed and restarted."""

    def __init__(self, directory: Path, *options: str) -> None:
        self.directory = directory
        self.options = options
        self.port = free_port()
        self.fsync_log = directory / "fsync.log"
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, timeout: float = 30) -> None:
        env = dict(os.environ, LD_PRELOAD=str(fsync_log_library()), FSYNC_LOG=str(self.fsync_log))
        command = redis_server_command(self.port, "--dir", str(self.directory), *self.options)
        self.proc = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL)  # noqa: S603
        client = redis.Redis(port=self.port)
        deadline = time.monotonic() + timeout
        while True:
            try:
                client.ping()  # BusyLoadingError (a ConnectionError) while it loads the AOF
                break
            except redis.ConnectionError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"redis-server {' '.join(command)} did not start") from None
                time.sleep(0.05)
        client.close()

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def lose_power(self) -> int:
        """After kill(): cut each AOF file back to its last fsync; the bytes dropped."""
        synced: dict[str, int] = {}
        if self.fsync_log.exists():
            for line in self.fsync_log.read_text().splitlines():
                size, _, path = line.partition(" ")
                synced[os.path.realpath(path)] = int(size)
        dropped = 0
        for aof in self.directory.rglob("*.aof"):
            if ".base." in aof.name:  # written whole, fsynced under a temp name, renamed
                continue
            keep = synced.get(os.path.realpath(aof), 0)
            size = aof.stat().st_size
            if size > keep:
                os.truncate(aof, keep)
                dropped += size - keep
        return dropped

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)


@dataclass
class Answered:
    """What the clients were answered: views by path, with the time of each 204."""

    at: dict[str, float] = field(default_factory=dict)  # path -> time.time() of its 204
    refused: int = 0
    by_ref: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    def add(self, other: Answered) -> None:
        self.at.update(other.at)
        self.refused += other.refused
        for ref, n in other.by_ref.items():
            self.by_ref[ref] += n


def answer_beacon(ref: str, path: str, n: int, answered: Answered) -> bool:
    """One beacon through the WSGI fast path, from visitor ``n``; True if answered 204."""
    from djinsight.conf import settings
    from djinsight.tracking.fastpath import answer

    body = json.dumps({"ref": ref, "url": path}).encode()
    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": "/djinsight/record/",
        "HTTP_HOST": "testserver",
        "HTTP_USER_AGENT": "durability",
        settings.IP_META_KEY: f"10.{n // 65536 % 256}.{n // 256 % 256}.{n % 256}",
        "CONTENT_TYPE": "text/plain",
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.input": io.BytesIO(body),
    }
    statuses: list[str] = []
    answer(environ, lambda status, headers, exc_info=None: statuses.append(status))
    if statuses[0].startswith("204"):
        answered.at[path] = time.time()
        answered.by_ref[ref] += 1
        return True
    answered.refused += 1
    return False


def answer_beacons(refs: list[str], n: int, tag: str) -> Answered:
    """``n`` beacons for ``refs`` in turn, in this process."""
    answered = Answered()
    for seq in range(n):
        answer_beacon(refs[seq % len(refs)], f"/{tag}/{seq}", seq, answered)
    return answered


class Clients:
    """Client processes sending beacons for ``refs`` until stopped."""

    def __init__(
        self,
        refs: list[str],
        tag: str,
        redis_url: str,
        count: int,
        env: dict,
        rate: float = 0,
    ) -> None:
        """``rate``: views per second per client at most (0: as fast as it can)."""
        self.procs = []
        for i in range(count):
            command = [
                sys.executable,
                "-m",
                "tests.redis_crash",
                "--tag",
                f"{tag}{i}",
                "--redis-url",
                redis_url,
                "--refs",
                json.dumps(refs),
                "--rate",
                str(rate),
            ]
            self.procs.append(
                subprocess.Popen(  # noqa: S603 - this module, as a client
                    command,
                    env=env,
                    cwd=ROOT,
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    text=True,
                )
            )
        for proc in self.procs:
            line = proc.stdout.readline().strip()
            if line != "ready":
                self.close()
                raise RuntimeError(f"beacon client did not start (said {line!r})")

    def __enter__(self) -> Clients:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def close(self) -> None:
        """Kill any client still running (a test failed before stop())."""
        for proc in self.procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait(10)

    def go(self) -> float:
        for proc in self.procs:
            proc.stdin.write("go\n")
            proc.stdin.flush()
        return time.time()

    def stop(self) -> Answered:
        for proc in self.procs:
            proc.send_signal(signal.SIGTERM)
        answered = Answered()
        for proc in self.procs:
            out, _ = proc.communicate(timeout=60)
            if proc.returncode:
                raise RuntimeError(f"beacon client failed with exit code {proc.returncode}")
            report = json.loads(out.strip().splitlines()[-1])
            answered.add(
                Answered(
                    {path: at for path, at in report["answered"]},
                    report["refused"],
                    report["by_ref"],
                )
            )
        return answered


def client(argv: list[str]) -> None:
    """One beacon client: ready, wait for "go", send until SIGTERM, report as JSON."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--tag", required=True)
    parser.add_argument("--redis-url", required=True)
    parser.add_argument("--refs", required=True, help="signed references, a JSON list")
    parser.add_argument("--rate", type=float, default=0, help="views/s at most; 0: no limit")
    args = parser.parse_args(argv)
    refs = json.loads(args.refs)
    stopping = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))

    import django

    django.setup()
    logging.getLogger("djinsight").setLevel(logging.CRITICAL)  # the 503s are counted instead
    from django.conf import settings

    settings.DJINSIGHT_REDIS_URL = args.redis_url
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    parent = os.getppid()
    print("ready", flush=True)
    if not sys.stdin.readline():
        return  # the parent went away before "go"
    started = time.monotonic()
    answered = Answered()
    seq = 0
    while not stopping and os.getppid() == parent:
        if args.rate and seq > args.rate * (time.monotonic() - started):
            time.sleep(0.002)
            continue
        seq += 1
        if not answer_beacon(refs[seq % len(refs)], f"/{args.tag}/{seq}", seq, answered):
            time.sleep(0.001)  # 503 while Redis is down: the client is stopped soon
    report = {"answered": list(answered.at.items()), "refused": answered.refused}
    print(json.dumps({**report, "by_ref": answered.by_ref}), flush=True)


if __name__ == "__main__":
    client(sys.argv[1:])
