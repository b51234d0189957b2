"""A hand-computed analytics fixture shared by the admin, API and export tests.

Figures for the last 7 days (today included), previous period = the 7 days before:
  views 10+5+7+2 = 24, unique 4+2+7+1 = 14; previous views 3+20 = 23, unique 1+5 = 6.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta

from django.contrib.auth.models import Permission, User
from django.contrib.contenttypes.models import ContentType
from django.utils import timezone

from djinsight.models import PageViewDimensionTotal, PageViewLog, PageViewSummary
from djinsight.pipeline.rollups import rebuild_dimension_totals, rebuild_rollups
from tests.testapp.models import Article, Product

HOSTILE = '<script>alert("x")</script>\'"&' + "A" * 3000
HOSTILE_REFERRER = '"><script>alert(1)</script>'
HOSTILE_PATH = "/<script>alert(2)</script>/"
HOSTILE_UA = "<img src=x onerror=alert(3)>\"'" + "B" * 400


def local(day, hour, minute=0):
    return timezone.make_aware(datetime.combine(day, time(hour, minute)))


@dataclass
class Fixture:
    alpha: Article
    hostile: Article
    product: Product
    today: object


def summary(obj, day, total, unique):
    return PageViewSummary.objects.create(
        content_type=ContentType.objects.get_for_model(obj),
        object_id=str(obj.pk),
        date=day,
        total_views=total,
        unique_views=unique,
    )


def log(obj, when, **fields):
    defaults = dict(
        path="/a/",
        referrer="",
        referrer_domain="",
        user_agent="ua",
        browser="",
        os="",
        device="",
        visitor="v",
        is_unique=True,
    )
    defaults.update(fields)
    return PageViewLog.objects.create(
        content_type=ContentType.objects.get_for_model(obj),
        object_id=str(obj.pk),
        viewed_at=when,
        **defaults,
    )


def with_figures(obj, **figures):
    """``obj`` with its view figures set in the database: save() never writes them."""
    type(obj)._base_manager.filter(pk=obj.pk).update(**figures)
    obj.refresh_from_db()
    return obj


def build() -> Fixture:
    today = timezone.localdate()
    alpha = with_figures(Article.objects.create(title="Alpha", slug="alpha"), total_views=118)
    hostile = with_figures(
        Article.objects.create(title=HOSTILE[:200], slug="hostile"), total_views=27
    )
    product = Product.objects.create(name="Widget")
    d = lambda n: today - timedelta(days=n)  # noqa: E731
    summary(alpha, d(0), 10, 4)
    summary(alpha, d(1), 5, 2)
    summary(alpha, d(8), 3, 1)  # previous period
    summary(alpha, d(20), 100, 100)  # outside both periods
    summary(hostile, d(2), 7, 7)
    summary(hostile, d(10), 20, 5)  # previous period
    summary(product, d(0), 2, 1)
    rebuild_rollups()  # what the flush keeps in step with the summaries
    log(
        alpha,
        local(d(0), 9, 30),
        referrer="https://evil.example/x",
        referrer_domain="evil.example",
        browser="Firefox",
        os="Linux",
        device="Other",
        user_agent=HOSTILE_UA,
    )
    log(
        alpha,
        local(d(0), 9, 45),
        referrer=HOSTILE_REFERRER,
        referrer_domain=HOSTILE_REFERRER,
        path=HOSTILE_PATH,
        browser="Chrome",
        os="Windows",
        device="Other",
        user_agent=HOSTILE_UA,
    )
    log(
        hostile,
        local(d(1), 22, 10),
        referrer_domain="evil.example",
        browser="Firefox",
        os="Mac OS X",
        device="iPhone",
        is_unique=False,
    )
    log(
        alpha,
        local(d(30), 12, 0),
        referrer_domain="old.example",
        browser="Old",
        os="Old",
        device="Old",
        path="/old/",
    )
    rebuild_dimension_totals(
        PageViewLog, PageViewDimensionTotal
    )  # the flush writes them with the logs
    return Fixture(alpha, hostile, product, today)


def analyst(username="analyst") -> User:
    user = User.objects.create_user(username, password="pw", is_staff=True)
    user.user_permissions.add(
        Permission.objects.get(content_type__app_label="djinsight", codename="view_analytics")
    )
    return User.objects.get(pk=user.pk)  # fresh: no cached permissions


def staff_without_permission() -> User:
    return User.objects.create_user("staff", password="pw", is_staff=True)
