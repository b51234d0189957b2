#!/usr/bin/env python
"""Capture the demo's screens to docs/images/ with headless Chromium.

    make screenshots     # starts the demo (reusing .demo/), captures, stops it
    python example/screenshots.py --url http://127.0.0.1:8000/   # a demo already running

1.png articles list · 2.png article analytics · 3.png components · 4.png product
page · 5.png popular-content dashboard; then 6.png course · 7.png Wagtail blog
page · 8.png Django admin (articles) · 9.png djinsight's admin analytics ·
10.png Wagtail's Page views report · 11.png the page editor's Page views panel ·
12.png the page explorer's Views column.
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parent
ROOT = EXAMPLE.parent
CHROMIUM = os.environ.get("DJINSIGHT_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
WIDTH, MAX_HEIGHT = 1280, 1700


def start_demo(data_dir: str) -> tuple[subprocess.Popen, str]:
    log = open(Path(data_dir) / "screenshots-demo.log", "w")  # noqa: SIM115
    process = subprocess.Popen(  # noqa: S603
        [
            sys.executable,
            str(EXAMPLE / "run_demo.py"),
            "--port",
            "0",
            "--no-input",
            "--data-dir",
            data_dir,
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        text = Path(log.name).read_text()
        if match := re.search(r"^Demo running at (\S+)$", text, re.M):
            return process, match.group(1)
        if process.poll() is not None:
            sys.exit(f"the demo stopped before it was ready:\n{text}")
        time.sleep(0.5)
    process.send_signal(signal.SIGINT)
    sys.exit("the demo did not start within 10 minutes")


def first_link(page, selector: str) -> str:
    return page.locator(selector).first.get_attribute("href")


def capture(base: str, out: Path) -> list[Path]:
    from playwright.sync_api import sync_playwright

    out.mkdir(parents=True, exist_ok=True)
    written = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(
            viewport={"width": WIDTH, "height": 900}, device_scale_factor=1
        )
        page = context.new_page()

        def shot(number: int, path: str, wait_for: str | None = None, click: str = "") -> None:
            page.goto(base.rstrip("/") + path, wait_until="networkidle")
            if click:
                page.click(click)
            if wait_for:
                page.wait_for_selector(wait_for, timeout=15_000)
            if click:
                page.wait_for_timeout(800)  # what it opened slides in
            height = page.evaluate("document.documentElement.scrollHeight")
            target = out / f"{number}.png"
            page.screenshot(
                path=str(target),
                full_page=True,
                clip={"x": 0, "y": 0, "width": WIDTH, "height": min(height, MAX_HEIGHT)},
            )
            written.append(target)
            print(f"  {target}  ←  {path}", flush=True)

        page.goto(base.rstrip("/") + "/popular/", wait_until="networkidle")
        sections = page.locator(".dashboard-section")
        # the most viewed article, and product (priced over 100: it shows the live counter too)
        article = sections.nth(0).locator(".rank a").first.get_attribute("href")
        product = sections.nth(1).locator(".rank a").first.get_attribute("href")
        shot(1, "/", ".djinsight-stat-item")
        shot(2, article, ".djinsight-analytics-widget")
        shot(3, "/components/", ".djinsight-live-counter")
        shot(4, product, ".popularity-badge")
        shot(5, "/popular/", ".rank")
        page.goto(base.rstrip("/") + "/courses/")
        course = first_link(page, ".card-title a")
        shot(6, course, ".djinsight-live-counter")
        blog = page.locator("nav a", has_text="Blog").get_attribute("href")
        shot(7, blog, ".djinsight-analytics-widget")
        page.goto(base.rstrip("/") + "/admin/login/")
        page.fill("#id_username", "admin")
        page.fill("#id_password", "djinsight-demo")
        page.click("input[type=submit]")
        page.wait_for_load_state("networkidle")
        shot(8, "/admin/blog/article/")
        shot(9, "/admin/djinsight/pageviewsummary/analytics/")
        # the Wagtail admin shares the Django admin's session
        shot(10, "/cms/djinsight/reports/page-views/", "#listing-results table")
        edit = first_link(page, "#listing-results td.title a")
        panel = '[data-side-panel-toggle="djinsight-page-views"]'
        shot(11, edit, "[data-djinsight-panel] svg", click=panel)
        page.goto(base.rstrip("/") + edit, wait_until="networkidle")
        ancestors = 'nav[aria-label="Breadcrumb"] a[href*="/cms/pages/"]'
        parent = page.locator(ancestors).nth(-2).get_attribute("href")  # the last is the page
        shot(12, parent, "#listing-results table")
        browser.close()
    return written


def main() -> int:
    parser = argparse.ArgumentParser(description="Capture the demo's screens to docs/images/.")
    parser.add_argument(
        "--url", help="a running demo; when omitted the demo is started and stopped"
    )
    parser.add_argument(
        "--data-dir",
        default=str(ROOT / ".demo"),
        help="demo state when starting it (default .demo/)",
    )
    parser.add_argument("--out", default=str(ROOT / "docs" / "images"), help="where the PNGs go")
    args = parser.parse_args()
    if not Path(CHROMIUM).exists():
        sys.exit(f"{CHROMIUM} not found: install Debian's chromium (make system-deps)")
    demo = None
    base = args.url
    if not base:
        Path(args.data_dir).mkdir(parents=True, exist_ok=True)
        print("starting the demo (the first run generates its history)…", flush=True)
        demo, base = start_demo(args.data_dir)
    try:
        print(f"capturing {base}", flush=True)
        capture(base, Path(args.out))
    finally:
        if demo is not None:
            demo.send_signal(signal.SIGINT)
            demo.wait(60)
    return 0


if __name__ == "__main__":
    sys.exit(main())
