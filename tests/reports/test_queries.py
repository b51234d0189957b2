"""Per-object reports read whole weeks from the weekly summaries and the days at
either end from the daily summaries; their figures must be those of the daily
summaries alone, for any range."""

import random
from collections import defaultdict
from datetime import date, timedelta

import pytest
from django.contrib.contenttypes.models import ContentType

from djinsight.models import PageViewSummary
from djinsight.pipeline.rollups import rebuild_rollups
from djinsight.reports import queries
from djinsight.reports.params import DateRange
from tests.testapp.models import Article, Product

pytestmark = pytest.mark.django_db

START = date(2024, 3, 1)  # a Friday; summaries cover 62 days from here, to a Wednesday

RANGES = {
    "mid-week to mid-week": (START + timedelta(days=4), START + timedelta(days=26)),  # Tue..Wed
    "Tuesday to Thursday": (START + timedelta(days=4), START + timedelta(days=6)),
    "Saturday to Tuesday": (START + timedelta(days=1), START + timedelta(days=4)),
    "one day": (START + timedelta(days=9), START + timedelta(days=9)),
    "three whole weeks": (START + timedelta(days=3), START + timedelta(days=23)),  # Mon..Sun
    "Monday to mid-week": (START + timedelta(days=10), START + timedelta(days=28)),  # ..Fri
    "mid-week to Sunday": (START + timedelta(days=5), START + timedelta(days=30)),
    "six days, Monday to Saturday": (START + timedelta(days=3), START + timedelta(days=8)),
    "90 days around the data": (START - timedelta(days=15), START + timedelta(days=74)),
    "after the data": (START + timedelta(days=70), START + timedelta(days=80)),
    # nothing after the last day in its week, as for a range ending today
    "to the last day, a Wednesday": (START + timedelta(days=33), START + timedelta(days=61)),
    "to the day before, some views after": (START + timedelta(days=33), START + timedelta(days=60)),
}


@pytest.fixture
def daily():
    """Random daily summaries (few views, so ties) of 12 objects of two types, and
    the same figures as {(content_type_id, object_id): {day: (views, unique)}}."""
    rng = random.Random(11)
    types = [ContentType.objects.get_for_model(m).pk for m in (Article, Product)]
    figures: dict[tuple[int, str], dict[date, tuple[int, int]]] = defaultdict(dict)
    rows = []
    for k in range(12):
        key = (types[k % 2], str(k + 1))  # digits only: DB collations order them as Python does
        first, last = (0, 61) if k == 0 else sorted(rng.sample(range(62), 2))
        for n in range(first, last + 1):
            if rng.random() < 0.5 or n == last:
                views = rng.randrange(4)  # 0 too: such a row still names the object as viewed
                unique = rng.randrange(views + 1)
                figures[key][START + timedelta(days=n)] = (views, unique)
                rows.append(
                    PageViewSummary(
                        content_type_id=key[0],
                        object_id=key[1],
                        date=START + timedelta(days=n),
                        total_views=views,
                        unique_views=unique,
                    )
                )
    PageViewSummary.objects.bulk_create(rows)
    rebuild_rollups()
    return types, figures


def expected(figures, since, until, content_type_id=None):
    """{(ct, object): (views, unique)} of the objects with a daily summary in the range."""
    result = {}
    for key, days in figures.items():
        inside = [f for day, f in days.items() if since <= day <= until]
        if inside and content_type_id in (None, key[0]):
            result[key] = (sum(v for v, _ in inside), sum(u for _, u in inside))
    return result


def ranked(figures: dict) -> list[tuple]:
    return sorted(((*key, *f) for key, f in figures.items()), key=lambda r: (-r[2], r[0], r[1]))


def as_tuples(rows) -> list[tuple]:
    return [(r.content_type_id, r.object_id, r.views, r.unique) for r in rows]


@pytest.mark.parametrize("name", RANGES)
def test_top_content_and_count_equal_the_daily_summaries(daily, name, django_assert_num_queries):
    types, figures = daily
    rng = DateRange(*RANGES[name])
    for ct_id in (None, types[1]):
        content_type = ContentType.objects.get_for_id(ct_id) if ct_id else None
        want = ranked(expected(figures, rng.since, rng.until, ct_id))
        with django_assert_num_queries(2):
            assert as_tuples(queries.top_content(rng, content_type, limit=100)) == want
            assert queries.count_content(rng, content_type) == len(want)
        assert as_tuples(queries.top_content(rng, content_type, limit=3, offset=2)) == want[2:5]


@pytest.mark.parametrize("name", RANGES)
def test_top_per_type_and_objects_per_type_equal_the_daily_summaries(daily, name):
    types, figures = daily
    rng = DateRange(*RANGES[name])
    want = ranked(expected(figures, rng.since, rng.until))
    per_type = {ct: [r for r in want if r[0] == ct][:2] for ct in types}
    got = queries.top_per_type(rng, limit=2)
    assert {ct: as_tuples(rows) for ct, rows in got.items()} == {
        ct: rows for ct, rows in per_type.items() if rows
    }
    objects = {t.content_type_id: t.objects for t in queries.content_types(rng)}
    assert {ct: n for ct, n in objects.items() if n} == {
        ct: sum(1 for r in want if r[0] == ct) for ct in types if any(r[0] == ct for r in want)
    }


@pytest.mark.parametrize("name", RANGES)
def test_trending_equals_the_daily_summaries_against_the_previous_period(daily, name):
    types, figures = daily
    rng = DateRange(*RANGES[name])
    prev = rng.previous()
    for ct_id in (None, types[0]):
        content_type = ContentType.objects.get_for_id(ct_id) if ct_id else None
        now = expected(figures, rng.since, rng.until, ct_id)
        before = expected(figures, prev.since, prev.until, ct_id)
        want = [
            (ct, oid, views, unique, before.get((ct, oid), (0, 0))[0])
            for ct, oid, views, unique in ranked(now)
            if views > before.get((ct, oid), (0, 0))[0]
        ]
        want.sort(key=lambda r: (-(r[2] - r[4]), -r[2], r[0], r[1]))
        got = queries.trending(rng, limit=100, content_type=content_type)
        assert [(*t, r.previous_views) for t, r in zip(as_tuples(got), got, strict=True)] == want
        assert as_tuples(queries.trending(rng, limit=2, content_type=content_type)) == [
            r[:4] for r in want[:2]
        ]


def test_the_ranges_cover_what_they_claim(daily):
    """The cases above hit both ends mid-week, whole weeks and ranges inside one week."""
    weekdays = {
        name: (since.weekday(), until.weekday(), (until - since).days + 1)
        for name, (since, until) in RANGES.items()
    }
    assert weekdays["three whole weeks"] == (0, 6, 21)
    assert weekdays["mid-week to mid-week"][:2] == (1, 2)
    assert weekdays["Tuesday to Thursday"] == (1, 3, 3)
    assert weekdays["Saturday to Tuesday"] == (5, 1, 4)
    assert weekdays["Monday to mid-week"][:2] == (0, 4)
    assert weekdays["mid-week to Sunday"][:2] == (2, 6)
    assert weekdays["six days, Monday to Saturday"] == (0, 5, 6)
    assert weekdays["90 days around the data"][2] == 90
    assert weekdays["to the last day, a Wednesday"][1] == 2
    last_day = max(day for days in daily[1].values() for day in days)
    assert last_day == RANGES["to the last day, a Wednesday"][1]
    assert sum(len(days) for days in daily[1].values()) > 100
