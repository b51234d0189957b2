import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis
from django.conf import settings
from django.db import connection

from djinsight.store.client import get_redis, outage, read_outage, reset_clients
from djinsight.tracking.references import sign
from tests.servers import free_port, redis_server_command

ROOT = Path(__file__).resolve().parent.parent
FIGURES: list[str] = []


@pytest.fixture(autouse=True)
def clean_redis():
    """Every test starts and ends with no keys under this run's prefix, and with no
    Redis failure remembered."""
    reset_clients()
    _forget_failures()
    _delete_prefixed()
    yield
    reset_clients()
    _forget_failures()
    _delete_prefixed()


def _forget_failures():
    outage.reset()
    read_outage.reset()


def _delete_prefixed():
    client = get_redis()
    keys = list(client.scan_iter(match=settings.DJINSIGHT_REDIS_KEY_PREFIX + "*", count=1000))
    if keys:
        client.delete(*keys)


@pytest.fixture
def redis_client():
    return get_redis()


@pytest.fixture
def own_redis():
    """A throwaway redis-server on a free loopback port, which the test may restart."""
    port = free_port()
    command = redis_server_command(port)
    procs = []

    def start():
        procs.append(subprocess.Popen(command, stdout=subprocess.DEVNULL))
        client = redis.Redis(port=port)
        for _ in range(100):
            try:
                return client.ping()
            except redis.ConnectionError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def restart():
        procs[-1].terminate()
        procs[-1].wait(10)
        start()

    start()
    yield f"redis://127.0.0.1:{port}/0", restart
    for proc in procs:
        if proc.poll() is None:
            proc.terminate()
            proc.wait(10)
    reset_clients()


def beacon(client, obj=None, ref=None, **headers):
    body = {"ref": ref if ref is not None else sign(obj), "url": "/x/", "referrer": ""}
    return client.post(
        "/djInsight/record/", data=json.dumps(body), content_type="text/plain", **headers
    )


def visitor(n: int) -> dict:
    """Request headers of a distinct cookieless visitor."""
    return {"REMOTE_ADDR": f"10.0.{n // 250}.{n % 250 + 1}", "HTTP_USER_AGENT": f"agent-{n}"}


def child_env() -> dict:
    """Environment for a subprocess that uses this test's database and Redis key space."""
    env = dict(os.environ)
    env["DJANGO_SETTINGS_MODULE"] = "tests.settings"
    env["PYTHONPATH"] = f"{ROOT}{os.pathsep}{ROOT / 'src'}"
    env["DJINSIGHT_TEST_PREFIX"] = settings.DJINSIGHT_REDIS_KEY_PREFIX
    env["DJINSIGHT_TEST_QUEUE"] = settings.CELERY_TASK_DEFAULT_QUEUE
    env["DJINSIGHT_TEST_DBNAME"] = str(connection.settings_dict["NAME"])
    if connection.vendor == "sqlite":
        env["DJINSIGHT_TEST_SQLITE"] = str(connection.settings_dict["NAME"])
    return env


def spawn(code: str, **extra_env) -> subprocess.Popen:
    env = child_env()
    env.update(extra_env)
    return subprocess.Popen(
        [sys.executable, "-c", code],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def pytest_terminal_summary(terminalreporter):
    if FIGURES:
        terminalreporter.section("djinsight figures")
        for line in FIGURES:
            terminalreporter.write_line(line)
