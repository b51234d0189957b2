"""Migrations are self-contained: historical models and frozen logic, no live djinsight code."""

import ast
from contextlib import nullcontext
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test import override_settings
from django.utils import timezone

import djinsight.migrations
from djinsight.models import PageViewDimensionTotal, PageViewLog
from djinsight.pipeline.rollups import rebuild_dimension_totals
from tests.testapp.models import Article

MIGRATIONS = sorted(Path(djinsight.migrations.__file__).parent.glob("0*.py"))
# What a migration may import from djinsight: field and index classes, which the
# migration's operations name and which must stay importable anyway.
ALLOWED = {"djinsight.indexes"}


def _imported_modules(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level:
            # relative to djinsight.migrations: ".." is djinsight itself
            base = ["djinsight", "migrations"][: max(0, 2 - (node.level - 1))]
            names.add(".".join([*base, *([node.module] if node.module else [])]))
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_relative_imports_count_as_djinsight_code(tmp_path):
    source = tmp_path / "0099_x.py"
    source.write_text("from ..pipeline import rollups\nfrom . import helpers\n")
    assert _imported_modules(source) == {"djinsight.pipeline", "djinsight.migrations"}


@pytest.mark.parametrize("path", MIGRATIONS, ids=lambda p: p.stem)
def test_migration_imports_no_live_djinsight_code(path):
    live = {
        name
        for name in _imported_modules(path)
        if name.split(".")[0].lower() == "djinsight" and name not in ALLOWED
    }
    assert live == set(), f"{path.name} imports {sorted(live)}: freeze what it needs in the file"


def _logs(log_model, content_type_id: int) -> list:
    """Raw logs over three local days and many hours, with empty, long and odd values."""
    tz = timezone.get_current_timezone()
    start = datetime(2025, 3, 29, 22, 30, tzinfo=tz)  # around a DST change and local midnight
    rows = []
    for n in range(60):
        rows.append(
            log_model(
                content_type_id=content_type_id,
                object_id=str(n % 4 + 1),
                viewed_at=start + timedelta(minutes=47 * n),
                path=f"/a/{n % 3}/" if n % 7 else "/" + "p" * 300,  # longer than a total's value
                referrer=f"https://r{n % 2}.example/" if n % 3 else "",
                referrer_domain=f"r{n % 2}.example" if n % 3 else "",
                user_agent="ua",
                browser=["Firefox", "Chrome", ""][n % 3],
                os=["Linux", "iOS"][n % 2],
                device=["desktop", "mobile", "tablet", ""][n % 4],
                visitor=f"v{n % 5}",
                is_unique=n % 5 == 0,
            )
        )
    return rows


def _time_zone():
    """The site's time zone, except on MariaDB/MySQL without time-zone tables, which
    cannot convert to it (both sides of the test would leave every log out): UTC there."""
    if connection.vendor == "mysql" and not connection.features.has_zoneinfo_database:
        return override_settings(TIME_ZONE="UTC")
    return nullcontext()


def _totals() -> set[tuple]:
    return set(PageViewDimensionTotal.objects.values_list("dimension", "date", "value", "views"))


@pytest.mark.django_db(transaction=True)
def test_migrating_from_zero_over_existing_logs_fills_the_dimension_totals_like_a_rebuild():
    app = "djinsight"
    latest = MigrationExecutor(connection).loader.graph.leaf_nodes(app)
    before_0005 = [(app, "0004_daily_totals")]
    with _time_zone():
        try:
            MigrationExecutor(connection).migrate([(app, None)])  # zero
            executor = MigrationExecutor(connection)
            executor.migrate(before_0005)
            state = executor.loader.project_state(before_0005)
            old_log = state.apps.get_model(app, "PageViewLog")
            article_type = ContentType.objects.get_for_model(Article)
            old_log.objects.bulk_create(_logs(old_log, article_type.pk))

            MigrationExecutor(connection).migrate(latest)
            migrated = _totals()
            assert PageViewLog.objects.count() == 60
            rebuild_dimension_totals(PageViewLog, PageViewDimensionTotal)
            rebuilt = _totals()
        finally:
            MigrationExecutor(connection).migrate(latest)

    assert migrated == rebuilt
    dimensions = {row[0] for row in migrated}
    assert dimensions == {"referrer_domain", "path", "browser", "os", "device", "hour"}
    assert sum(views for dimension, _, _, views in migrated if dimension == "hour") == 60
    assert any(len(value) == 255 for dimension, _, value, _ in migrated if dimension == "path")
