"""The shared domain rules, and that every surface applies the same one."""

import uuid
from datetime import date, timedelta

import pytest
from django.contrib.auth.models import AnonymousUser, Permission, User
from django.utils import timezone

from djinsight import rules
from djinsight.models import PageViewWeeklySummary
from djinsight.querysets import period_bounds
from djinsight.reports.queries import bucket_start
from djinsight.stats.figures import Periods
from tests.testapp.models import Article, BlogPage, Product, Untracked

# -- the start of a week -------------------------------------------------------------

# 2024-12-30 is a Monday, in the ISO week that holds 2025-01-01 (a year boundary).
DAYS = [date(2024, 12, 28) + timedelta(days=n) for n in range(15)]


@pytest.mark.parametrize("day", DAYS, ids=str)
def test_a_week_starts_on_the_monday_on_or_before_the_day(day):
    start = rules.week_start(day)
    assert start.weekday() == 0
    assert 0 <= (day - start).days < 7
    assert start.isocalendar()[:2] == day.isocalendar()[:2]


@pytest.mark.parametrize("day", DAYS, ids=str)
def test_weekly_summaries_reports_and_querysets_share_the_week(day, monkeypatch):
    monkeypatch.setattr(timezone, "localdate", lambda *args: day)
    start = rules.week_start(day)
    assert PageViewWeeklySummary.week_of(day) == start
    assert bucket_start(day, "week") == start
    assert Periods.current().week_start == start
    assert period_bounds("week") == (start, day)


# -- tracked models ------------------------------------------------------------------


def test_a_model_is_tracked_when_it_uses_the_mixin():
    for model in (Article, Product, BlogPage):
        assert rules.is_tracked_model(model)
        assert rules.tracked_model(model._meta.label_lower) is model
    assert not rules.is_tracked_model(Untracked)
    assert not rules.is_tracked_model(Article(title="an instance, not a model"))
    assert not rules.is_tracked_model(None)
    for label in ("testapp.untracked", "testapp.nothing", "nothing.article", "no-dot", ""):
        assert rules.tracked_model(label) is None


# -- primary keys --------------------------------------------------------------------


def test_object_ids_become_primary_keys_or_none():
    key = uuid.uuid4()
    assert rules.object_pk(Article, "42") == 42
    assert rules.object_pk(Product, str(key)) == key
    assert rules.object_pk(Product, key.hex) == key
    for bad in ("x", "1.5", "", "9" * 5000):
        assert rules.object_pk(Article, bad) is None, bad
    assert rules.object_pk(Product, "42") is None


# -- the analytics permission --------------------------------------------------------


def _user(name, *, staff=True, active=True, permission=True, superuser=False):
    user = User.objects.create_user(
        name, password="pw", is_staff=staff, is_active=active, is_superuser=superuser
    )
    if permission:
        user.user_permissions.add(
            Permission.objects.get(content_type__app_label="djinsight", codename="view_analytics")
        )
    return User.objects.get(pk=user.pk)  # a fresh instance: no cached permissions


USERS = {
    "staff with the permission": ({}, True),
    "staff without it": ({"permission": False}, False),
    "the permission without staff (a Wagtail editor)": ({"staff": False}, True),
    "inactive staff with it": ({"active": False}, False),
    "neither staff nor the permission": ({"staff": False, "permission": False}, False),
    "superuser staff": ({"permission": False, "superuser": True}, True),
}


@pytest.mark.django_db
@pytest.mark.parametrize("kind", list(USERS))
def test_who_may_view_analytics(kind):
    options, allowed = USERS[kind]
    assert rules.can_view_analytics(_user("u", **options)) is allowed


def test_anonymous_and_missing_users_may_not_view_analytics():
    assert rules.can_view_analytics(AnonymousUser()) is False
    assert rules.can_view_analytics(None) is False


@pytest.mark.django_db
@pytest.mark.parametrize(
    "kind", [k for k, (options, _) in USERS.items() if options.get("staff", True)]
)
def test_admin_dashboard_and_api_apply_the_same_rule(client, kind):
    options, allowed = USERS[kind]
    user = _user("u", **options)
    client.force_login(user)
    dashboard = client.get("/admin/djinsight/pageviewsummary/analytics/")
    api = client.get("/djInsight/api/summary/")
    if not user.is_active:  # no session for an inactive user: both ask to log in
        assert dashboard.status_code == 302 and api.status_code == 401
        return
    assert (dashboard.status_code == 200) is allowed
    assert (api.status_code == 200) is allowed
    if not allowed:
        assert (dashboard.status_code, api.status_code) == (403, 403)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "kind", [k for k, (options, _) in USERS.items() if not options.get("staff", True)]
)
def test_non_staff_get_the_api_by_the_permission_and_never_the_django_admin(client, kind):
    options, allowed = USERS[kind]
    client.force_login(_user("u", **options))
    # the Django admin keeps its own login: non-staff are sent to it either way
    assert client.get("/admin/djinsight/pageviewsummary/analytics/").status_code == 302
    assert client.get("/djInsight/api/summary/").status_code == (200 if allowed else 403)
