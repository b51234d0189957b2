"""What the fuzz tests share: an in-process WSGI app, hostile strings, and the tally
each test adds to the "djinsight figures" summary."""

from __future__ import annotations

import importlib.util
from collections import Counter

import pytest
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings

from tests.conftest import FIGURES

# Schemathesis needs Python 3.11+; the oldest leg of the matrix runs 3.10
collect_ignore = [] if importlib.util.find_spec("schemathesis") else ["test_api_schema.py"]

# Fixed examples, no example database, no time limit per example: the same requests
# on every run, and the run's length is bounded by max_examples.
FUZZ = settings(
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    print_blob=True,
)

# Values that broke parsers before: digits int() refuses or reads, NUL, numbers past
# any range, the calendar's edges, very long text, markup.
HOSTILE = [
    "²",
    "³",
    "٣",
    "１",
    "1_0",
    " 1",
    "+1",
    "-1",
    "0",
    "1.5",
    "1e3",
    "\x00",
    "1\x00",
    "a\x00b",
    "testapp.article\x00",
    "9" * 25,
    "9" * 5000,
    "0001-01-01",
    "1899-12-31",
    "1900-01-01",
    "9999-12-31",
    "9999-12-30",
    "10000-01-01",
    "2024-02-30",
    "20240101",
    "2024-W01-1",
    "２０２４-01-01",
    "x" * 10_000,
    "<script>alert(1)</script>",
    "'; DROP TABLE djinsight_pageviewlog; --",
    "\ud800",
    "𝟙𝟚",
    "",
]


class Tally:
    """Requests sent and answers by status class, reported in the test summary."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.statuses: Counter[int] = Counter()
        self.server_errors: list[str] = []

    def add(self, status: int, request: str) -> None:
        self.statuses[status] += 1
        if status >= 500:
            self.server_errors.append(f"{status} {request}")

    @property
    def requests(self) -> int:
        return sum(self.statuses.values())

    def count(self, low: int, high: int) -> int:
        return sum(n for status, n in self.statuses.items() if low <= status < high)

    def report(self) -> None:
        FIGURES.append(
            f"fuzz, {self.name}: {self.requests} requests, {self.count(200, 300)} 2xx, "
            f"{self.count(300, 400)} 3xx, {self.count(400, 500)} 4xx, "
            f"{self.count(500, 600)} 5xx"
        )


@pytest.fixture
def wsgi_app(settings):
    """Django's real WSGI handler; like the test client it keeps the test's database
    connection open (the test runs in one transaction)."""
    settings.ALLOWED_HOSTS = ["testserver", "localhost"]
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield WSGIHandler()
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)
