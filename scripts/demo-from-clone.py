#!/usr/bin/env python3
"""Time a new user's ``git clone`` + ``make demo`` up to the first page served.

    python3 scripts/demo-from-clone.py [--hide-system-deps] [--cold] [--redis-url URL]

Clones this repository's HEAD into a temporary directory, runs ``make demo``
there on a free port, polls the home page until it answers 200 and prints how
long each step took. Then checks the demo's environment the way a machine
without system packages would need it: none of the test or bench extras
(mysqlclient, playwright, gunicorn, pytest, psycopg) installed, and no package
built from source but djinsight itself (pip's log, and every platform wheel
tagged manylinux/musllinux rather than built here). Stops the demo with
SIGINT, as Ctrl-C does, and checks that nothing it started is left.

--hide-system-deps  (root, Linux) run in a private mount namespace
                    (``unshare -m``) in which every file of the Debian packages
                    that scripts/system-deps.sh installs (chromium, wrk,
                    libmariadb-dev, pkg-config, the emoji font) is hidden, so
                    the run sees a machine without them. Nothing outside this
                    run is changed.
--cold              an empty pip cache and no pip configuration: every
                    package comes from the package index.
--redis-url URL     run with REDIS_URL set, as on a machine with its own Redis.

Only the standard library: it runs before any virtualenv exists.
"""
# ruff: noqa: S603, S607 - fixed commands of this machine (git, make, mount, dpkg, pgrep)

from __future__ import annotations

import argparse
import glob
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# The packages scripts/system-deps.sh installs, with the ones they bring.
SYSTEM_PACKAGES = [
    "chromium", "chromium-common", "wrk", "fonts-noto-color-emoji",
    "libmariadb-dev", "libmariadb3", "pkg-config", "pkgconf", "pkgconf-bin", "libpkgconf3",
]  # fmt: skip
HIDDEN_DIRS = ["/usr/include/mariadb", "/usr/include/mysql", "/usr/lib/chromium"]
NOT_FOR_THE_DEMO = {
    "mysqlclient", "playwright", "gunicorn", "pytest", "pytest-django",
    "psycopg", "psycopg-binary", "pyinstrument",
}  # fmt: skip
MILESTONES = [  # (label, pattern in make's output), in order
    ("venv created", r"-m pip install -q 'pip"),
    ("pip ready", r"-m pip install -q --prefer-binary"),
    ("pip install done", r"example/run_demo\.py"),
    ("database ready", r"^database ready"),
    ("content created", r"^created the demo content"),
    ("history generated", r"^history: [\d,]+ views in|^history: already"),
    ("demo banner", r"^Demo running at"),
]


def hide_system_packages() -> None:
    """Inside a private mount namespace: cover every file of SYSTEM_PACKAGES."""
    subprocess.run(["mount", "--make-rprivate", "/"], check=True)
    files = []
    for package in SYSTEM_PACKAGES:
        listing = subprocess.run(["dpkg", "-L", package], capture_output=True, text=True)
        files += [f for f in listing.stdout.splitlines() if os.path.isfile(f)]
    for directory in HIDDEN_DIRS:
        if os.path.isdir(directory):
            subprocess.run(["mount", "-t", "tmpfs", "none", directory], check=True)
    for path in files:
        if os.path.isfile(path):  # not under a directory covered above
            subprocess.run(["mount", "--bind", "/dev/null", path], check=False)
    for tool in ("pkg-config", "mariadb_config", "mysql_config", "chromium", "wrk"):
        found = subprocess.run(["sh", "-c", f"command -v {tool}"], capture_output=True, text=True)
        if found.returncode == 0:
            sys.exit(f"could not hide {tool}: {found.stdout.strip()}")
    print(f"hid {len(files)} files of {len(SYSTEM_PACKAGES)} Debian packages", flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def answers_200(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - localhost
            return response.status == 200
    except OSError:
        return False


def check_environment(venv: Path) -> list[str]:
    """What is wrong with the demo's virtualenv for a machine without system packages."""
    problems = []
    listing = subprocess.run(
        [str(venv / "bin/python"), "-m", "pip", "list", "--format=freeze"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    installed = {line.split("==")[0].lower() for line in listing.stdout.splitlines()}
    if extra := sorted(installed & NOT_FOR_THE_DEMO):
        problems.append(f"installed but not needed by the demo: {extra}")
    log = (venv / "pip-install.log").read_text(errors="replace")
    built = set(re.findall(r"Building (?:wheel|editable) for (\S+)", log))
    built |= set(re.findall(r"Running setup\.py install for (\S+)", log))
    if built - {"djinsight"}:
        problems.append(f"built from source: {sorted(built - {'djinsight'})}")
    local = []
    for wheel in glob.glob(str(venv / "lib/python*/site-packages/*.dist-info/WHEEL")):
        tags = re.findall(r"^Tag: (\S+)", Path(wheel).read_text(), re.M)
        if any(re.search(r"-linux_\w+$", tag) for tag in tags):  # not manylinux: built here
            local.append(Path(wheel).parent.name)
    if local:
        problems.append(f"platform wheels built on this machine: {local}")
    print(f"demo venv: {len(installed)} packages; built from source: {sorted(built)}; ")
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--hide-system-deps", action="store_true")
    parser.add_argument("--cold", action="store_true")
    parser.add_argument("--redis-url")
    parser.add_argument("--keep", action="store_true", help="keep the clone (its path is printed)")
    args = parser.parse_args()
    if args.hide_system_deps and not os.environ.get("DEMO_FROM_CLONE_UNSHARED"):
        env = {**os.environ, "DEMO_FROM_CLONE_UNSHARED": "1"}
        return subprocess.call(["unshare", "-m", sys.executable, *sys.argv], env=env)
    if args.hide_system_deps:
        hide_system_packages()

    work = Path(tempfile.mkdtemp(prefix="djinsight-clone-"))
    clone = work / "djinsight"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VIRTUAL_ENV", "PYTHONPATH"))}
    env.pop("REDIS_URL", None)
    if args.redis_url:
        env["REDIS_URL"] = args.redis_url
    if args.cold:
        env = {k: v for k, v in env.items() if not k.startswith("PIP_") or k == "PIP_CERT"}
        env.update(PIP_CONFIG_FILE=os.devnull, PIP_CACHE_DIR=str(work / "pip-cache"))
    port = free_port()
    url = f"http://127.0.0.1:{port}/"

    started = time.monotonic()
    subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
    cloned = time.monotonic()
    make = subprocess.Popen(
        ["make", "demo", f"DEMO_ARGS=--port {port}"],
        cwd=clone, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True, start_new_session=True,
    )  # fmt: skip
    seen: dict[str, float] = {}
    lines: list[str] = []

    def read() -> None:
        for line in make.stdout:
            lines.append(line)
            for label, pattern in MILESTONES:
                if label not in seen and re.search(pattern, line.strip()):
                    seen[label] = time.monotonic()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    first_page = None
    while time.monotonic() - started < 600 and make.poll() is None:
        if answers_200(url):
            first_page = time.monotonic()
            break
        time.sleep(0.25)
    status = 0
    if first_page is None:
        print("".join(lines))
        print(f"no 200 from {url} (make exited with {make.poll()})")
        status = 1
    else:
        total = first_page - started
        print(f"git clone → first page ({url}): {total:.1f}s  (clone {cloned - started:.1f}s)")
        previous = cloned
        for label, _ in MILESTONES:
            if label in seen:
                step, at = seen[label] - previous, seen[label] - started
                print(f"  {label:<18} +{step:5.1f}s  at {at:5.1f}s")
                previous = seen[label]
        print(f"  {'first 200':<18} +{first_page - previous:5.1f}s  at {total:5.1f}s")
        for line in lines:
            if line.startswith(("database:", "database ready", "history: ", "  Redis:")):
                print("  | " + line.rstrip())
    os.killpg(make.pid, signal.SIGINT)
    try:
        make.wait(60)
    except subprocess.TimeoutExpired:
        os.killpg(make.pid, signal.SIGKILL)
        status = 1
    reader.join(5)
    if not any("all demo processes stopped." in line for line in lines):
        print("the demo did not report a clean stop:\n" + "".join(lines[-20:]))
        status = 1
    left = subprocess.run(["pgrep", "-f", str(clone)], capture_output=True, text=True).stdout
    if left.strip():
        print(f"processes left: {left}")
        status = 1
    if (clone / ".venv-demo").exists():
        for problem in check_environment(clone / ".venv-demo"):
            print(f"problem: {problem}")
            status = 1
    if args.keep:
        print(f"kept {clone}")
    else:
        shutil.rmtree(work, ignore_errors=True)
    return status


if __name__ == "__main__":
    sys.exit(main())
