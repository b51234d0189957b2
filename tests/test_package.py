"""Packaging promises: public import paths, migrations, mixin forms."""

import pytest
from django.core.management import call_command
from django.db import models


@pytest.mark.django_db
def test_no_missing_migrations():
    call_command("makemigrations", "djinsight", "testapp", check=True, dry_run=True, verbosity=0)


def test_mixin_columns_exist_in_every_form():
    from tests.testapp.models import Article, BlogPage, Product

    for model in (Article, BlogPage, Product):
        names = {f.name for f in model._meta.get_fields()}
        assert {"total_views", "unique_views", "first_viewed_at", "last_viewed_at"} <= names
        assert model._meta.get_field("total_views").db_index


def test_specification_ordering_has_no_mro_error_and_abstract_parents_work():
    from djinsight.models import PageViewStatisticsMixin

    class Base(models.Model, PageViewStatisticsMixin):
        class Meta:
            abstract = True
            app_label = "testapp"

    class Concrete(Base):
        class Meta:
            app_label = "testapp"

    assert Concrete._meta.get_field("unique_views")
    assert not any(f.name == "total_views" for f in Base._meta.local_fields)


@pytest.mark.django_db
def test_specification_orm_queries_work():
    from django.db.models import F
    from django.utils import timezone

    from tests.testapp.models import Article

    Article.objects.create(title="a", slug="a")
    Article.objects.filter(slug="a").update(
        total_views=200, unique_views=150, last_viewed_at=timezone.now()
    )
    assert list(
        Article.objects.filter(last_viewed_at__month=timezone.now().month).order_by("-total_views")
    )
    ratio = Article.objects.annotate(
        unique_ratio=F("unique_views") * 100.0 / F("total_views")
    ).get()
    assert ratio.unique_ratio == 75.0


def test_default_hooks():
    from tests.testapp.models import Article, Product

    article = Article(title="T", slug="t")
    assert article.get_tracking_url() == "/articles/t/"
    assert article.get_display_name() == "T"
    assert Product(name="Lamp").get_display_name() == "Product: Lamp"


# (public path, where the code lives): users' settings, wsgi.py and code name the former
PUBLIC_PATHS = [
    ("djinsight.models.PageViewStatisticsMixin", "djinsight.models.PageViewStatisticsMixin"),
    ("djinsight.fastpath.BeaconMiddleware", "djinsight.tracking.fastpath.BeaconMiddleware"),
    ("djinsight.querysets.ViewStatsQuerySet", "djinsight.querysets.ViewStatsQuerySet"),
    ("djinsight.querysets.ViewStatsManager", "djinsight.querysets.ViewStatsManager"),
    ("djinsight.admin.ViewStatisticsAdminMixin", "djinsight.admin.ViewStatisticsAdminMixin"),
    ("djinsight.schedule.beat_schedule", "djinsight.pipeline.schedule.beat_schedule"),
    ("djinsight.stats.get_stats", "djinsight.stats.figures.get_stats"),
    ("djinsight.stats.get_object_stats", "djinsight.stats.figures.get_object_stats"),
    ("djinsight.signals.view_recorded", "djinsight.signals.view_recorded"),
    ("djinsight.signals.views_flushed", "djinsight.signals.views_flushed"),
    ("djinsight.tasks.process_pageviews", "djinsight.tasks.process_pageviews"),
    ("djinsight.exceptions.DjinsightError", "djinsight.exceptions.DjinsightError"),
]


def _resolve(dotted: str):
    import importlib

    module, _, name = dotted.rpartition(".")
    return getattr(importlib.import_module(module), name)


@pytest.mark.parametrize(("public", "home"), PUBLIC_PATHS, ids=[p for p, _ in PUBLIC_PATHS])
def test_documented_import_paths_are_the_real_objects(public, home):
    assert _resolve(public) is _resolve(home)


def test_wsgi_py_can_import_the_fast_path_before_django_is_set_up():
    """As a project's wsgi.py does: the import comes before get_wsgi_application()."""
    import os
    import subprocess
    import sys

    from tests.conftest import ROOT

    code = (
        "import django.conf, djinsight.fastpath, djinsight.stats.formatting\n"
        "assert not django.conf.settings.configured\n"
        "print(djinsight.fastpath.BeaconMiddleware.__name__)"
    )
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    env["PYTHONPATH"] = f"{ROOT}{os.pathsep}{ROOT / 'src'}"
    result = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "BeaconMiddleware"
