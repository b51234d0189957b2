"""djinsight's checks and test matrix, in one place.

    make lint            nox -s lint types       ruff, ruff format --check, mypy, the wheel
    make test            nox -s tests            every leg of the matrix below
    make test-django6    nox -s "tests(latest)"  one leg
    make js              nox -s js               rebuild tracker.min.js

Legs (Python x Django x Wagtail, then the databases each runs on):

    lts     3.11  Django 5.2  Wagtail 7.4 LTS  SQLite: every test (browser, demo, crash and
                                               Celery process tests included), then
                                               PostgreSQL and MariaDB in parallel
    latest  3.13  Django 6.0  Wagtail 8.x      SQLite and PostgreSQL in parallel, quick tests
    oldest  3.10  Django 5.2  Wagtail 8.x      SQLite, quick tests

Quick tests leave out the browser, demo, crash and Celery process tests: they
do not depend on Django's version. Server databases leave out what does not
depend on the database (browser, demo, Celery processes).

TEST_DATABASES (e.g. "sqlite") limits the databases; pytest arguments go after
``--`` (``make test PYTEST_ARGS="-x -k flush"``). pytest's exit code 5 (no test
ran) fails a leg like any other.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

import nox
from nox.command import CommandFailed

ROOT = Path(__file__).resolve().parent
PYPROJECT = nox.project.load_toml(ROOT / "pyproject.toml")

nox.options.default_venv_backend = "uv|virtualenv"
nox.options.reuse_venv = "yes"
# Interpreters already on the machine only: nothing outside the package index is fetched.
nox.options.download_python = "never"
nox.options.sessions = ["lint", "types", "tests"]

# pyenv keeps interpreters it has not selected out of PATH.
_PYENV = sorted(Path.home().glob(".pyenv/versions/3.1[0-9]*/bin"), reverse=True)
os.environ["PATH"] = os.pathsep.join([*map(str, _PYENV), os.environ.get("PATH", "")])

QUICK = "not browser and not demo and not slow and not celery"
NO_PROCESSES = "not browser and not demo and not celery"


@dataclass(frozen=True)
class Run:
    database: str
    markers: str | None = None  # None: every test


@dataclass(frozen=True)
class Leg:
    python: str
    django: str
    wagtail: str
    serial: tuple[Run, ...]  # one after the other, first
    parallel: tuple[Run, ...] = ()  # then side by side (2 cores: at most 2)
    demo: bool = False  # install the demo's requirements (example/requirements.txt)


LEGS = {
    "lts": Leg(
        "3.11",
        "django>=5.2,<5.3",
        "wagtail>=7.4,<7.5",
        serial=(Run("sqlite"),),
        parallel=(Run("postgresql", NO_PROCESSES), Run("mysql", NO_PROCESSES)),
        demo=True,
    ),
    "latest": Leg(
        "3.13",
        "django>=6.0,<6.1",
        "wagtail>=8.0,<9",
        serial=(),
        parallel=(Run("sqlite", QUICK), Run("postgresql", QUICK)),
    ),
    "oldest": Leg("3.10", "django>=5.2,<5.3", "wagtail>=8.0,<9", serial=(Run("sqlite", QUICK),)),
}


def _wanted(runs: tuple[Run, ...]) -> list[Run]:
    databases = os.environ.get("TEST_DATABASES", "").split()
    return [run for run in runs if not databases or run.database in databases]


def _pytest_command(session: nox.Session, run: Run) -> list[str]:
    markers = ["-m", run.markers] if run.markers else []
    return [
        "python",
        "-m",
        "pytest",
        "-p",
        "no:cacheprovider",
        "--durations=5",
        *markers,
        *session.posargs,
    ]


def _env(run: Run) -> dict[str, str]:
    return {"DJINSIGHT_TEST_DB": run.database, "PYTHONPATH": f"{ROOT}{os.pathsep}{ROOT / 'src'}"}


def _run_serial(session: nox.Session, run: Run) -> list[str]:
    """Run pytest on one database; the failure, if any, for the leg's summary."""
    try:
        session.run(*_pytest_command(session, run), env=_env(run))
    except CommandFailed:
        return [run.database]
    return []


def _run_parallel(session: nox.Session, runs: list[Run]) -> list[str]:
    """Run pytest once per database side by side, print each log whole; the failures."""
    env = {**os.environ, "PATH": os.pathsep.join([*session.bin_paths, os.environ["PATH"]])}
    failed = []
    with tempfile.TemporaryDirectory() as logs:
        started = {}
        for run in runs:
            command = _pytest_command(session, run)
            session.log(f"{run.database} (in parallel): {' '.join(command)}")
            log = Path(logs) / f"{run.database}.log"
            with log.open("w") as out:  # the child keeps its own copy of the descriptor
                process = subprocess.Popen(  # noqa: S603 (the command is the session's pytest)
                    command,
                    env={**env, **_env(run)},
                    cwd=ROOT,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                )
            started[run.database] = (process, log, time.monotonic())
        for database, (process, log, start) in started.items():
            code = process.wait()
            print(f"=== {session.name} on {database}: exit {code}, {time.monotonic() - start:.0f}s")
            print(log.read_text(), flush=True)
            if code != 0:
                failed.append(f"{database} (exit {code})")
    return failed


@nox.session
@nox.parametrize(
    "python,leg",
    [(leg.python, name) for name, leg in LEGS.items()],
    ids=list(LEGS),
)
def tests(session: nox.Session, leg: str) -> None:
    """One leg of the matrix: install its Django and Wagtail, run pytest on its databases."""
    spec = LEGS[leg]
    serial, parallel = _wanted(spec.serial), _wanted(spec.parallel)
    if not serial and not parallel:
        session.skip(f"TEST_DATABASES={os.environ['TEST_DATABASES']!r} has none of this leg's")
    install = ["-e", ".[test,wagtail,useragent]", spec.django, spec.wagtail]
    if spec.demo:
        install += ["-r", "example/requirements.txt"]
    session.install(*install)
    session.run("python", "-m", "django", "--version")
    session.run("python", "-c", "import wagtail; print('wagtail', wagtail.__version__)")
    if any(run.database == "mysql" for run in serial + parallel):
        session.run("sh", "scripts/mysql-timezones.sh", external=True)
    # Every database runs even when one fails, so one CI run reports them all.
    failed = [database for run in serial for database in _run_serial(session, run)]
    if len(parallel) == 1:
        failed += _run_serial(session, parallel[0])
    elif parallel:
        failed += _run_parallel(session, parallel)
    if failed:
        session.error(f"pytest failed on {', '.join(failed)}")


@nox.session
def lint(session: nox.Session) -> None:
    """ruff check and ruff format --check."""
    session.install(*nox.project.dependency_groups(PYPROJECT, "lint"))
    paths = ["src", "tests", "bench", "example", "scripts", "noxfile.py"]
    session.run("ruff", "check", *paths)
    session.run("ruff", "format", "--check", *paths)


@nox.session(python=LEGS["lts"].python)
def types(session: nox.Session) -> None:
    """mypy with django-stubs on src, then the wheel: py.typed and the static files in it."""
    lts = LEGS["lts"]
    session.install(
        "-e",
        ".[wagtail,useragent]",
        lts.django,
        lts.wagtail,
        *nox.project.dependency_groups(PYPROJECT, "types"),
    )
    session.run("mypy", env={"PYTHONPATH": str(ROOT)})  # tests.settings for django-stubs
    session.install(*PYPROJECT["build-system"]["requires"])
    with tempfile.TemporaryDirectory() as out:
        session.run("python", "-m", "hatchling", "build", "--target", "wheel", "--directory", out)
        (wheel,) = Path(out).glob("*.whl")
        names = set(zipfile.ZipFile(wheel).namelist())
    wanted = {
        "djinsight/py.typed",
        "djinsight/static/djinsight/tracker.min.js",
        "djinsight/migrations/0001_initial.py",
        "djInsight.py",
    }
    if missing := wanted - names:
        session.error(f"{wheel.name} lacks {sorted(missing)}")
    session.log(f"{wheel.name}: {len(names)} files, py.typed included")


@nox.session
def js(session: nox.Session) -> None:
    """Rebuild the minified scripts (scripts/build_js.py), with the test extra's minifier."""
    test_extra = PYPROJECT["project"]["optional-dependencies"]["test"]
    (minifier,) = [requirement for requirement in test_extra if "calmjs" in requirement]
    session.install(minifier)
    session.run("python", "scripts/build_js.py", *session.posargs)


@nox.session(python=LEGS["lts"].python)
def demo_schema(session: nox.Session) -> None:
    """Rewrite example/demo_site/schema.sql with the oldest Django and Wagtail supported.

    Built on the oldest, the file's migrations exist on every supported version;
    newer versions apply their later migrations after loading it.
    """
    lts = LEGS["lts"]
    session.install("-e", ".[wagtail,useragent]", lts.django, lts.wagtail)
    session.install("-r", "example/requirements.txt")
    session.run("python", "example/manage.py", "demo_schema", *session.posargs)
