"""Stat tags over Wagtail listings: base Page instances and loops over unlisted children.

``{% for child in page.get_children.live %}`` gives base ``Page`` instances and
keeps its list out of the context; the tags resolve the specific pages and
fetch the figures of the whole listing at once (I5).
"""

from __future__ import annotations

import logging
import re

import pytest
from django.db import connection
from django.template import Context, Template
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from wagtail.models import Page

from djinsight.pipeline import flush
from djinsight.stats import prefetch
from tests.conftest import FIGURES, beacon, visitor
from tests.templatetags.test_djinsight_tags import RoundTrips
from tests.testapp.models import BlogPage

pytestmark = pytest.mark.django_db

ITEM = "{% total_views_stat child %}{% unique_views_stat child %}{% views_today_stat child %}"
PATTERNS = {
    "base pages": "{% for child in page.get_children.live %}<li>" + ITEM + "</li>{% endfor %}",
    "specific": "{% for child in page.get_children.live.specific %}<li>"
    + ITEM
    + "</li>{% endfor %}",
    "listed": "{% with children=page.get_children.live %}{% for child in children %}<li>"
    + ITEM
    + "</li>{% endfor %}{% endwith %}",
    "listed specific": "{% with children=page.get_children.live.specific %}"
    "{% for child in children %}<li>" + ITEM + "</li>{% endfor %}{% endwith %}",
}


def render(source: str, **context) -> str:
    return Template("{% load djinsight_tags %}" + source).render(Context(context))


def totals(html: str) -> list[str]:
    return re.findall(
        r'data-djinsight-stat="total_views">.*?<span class="djinsight-stat-value">(\d+)<', html
    )


@pytest.fixture
def section(client):
    """20 blog posts under an index: 10 viewed and flushed, 5 more viewed since, 5 never."""
    index = Page.get_first_root_node().add_child(instance=BlogPage(title="Blog", slug="blog"))
    children = [
        index.add_child(instance=BlogPage(title=f"Post {i}", slug=f"post-{i}")) for i in range(20)
    ]
    for i, child in enumerate(children[:10]):
        for v in range(i + 1):
            beacon(client, child, **visitor(v))
    flush.process_pageviews()
    for child in children[5:15]:
        beacon(client, child, **visitor(99))
    return index, children


def expected(children) -> list[str]:
    return [str((i + 1 if i < 10 else 0) + (1 if 5 <= i < 15 else 0)) for i in range(20)]


@pytest.mark.parametrize("pattern", list(PATTERNS))
def test_a_listing_of_20_children_costs_a_few_queries_and_one_round_trip(
    section, monkeypatch, pattern
):
    index, children = section
    render(PATTERNS[pattern], page=Page.objects.get(pk=index.pk))  # warm up: scripts, types
    page = Page.objects.get(pk=index.pk).specific
    trips = RoundTrips(monkeypatch)
    with CaptureQueriesContext(connection) as queries:
        html = render(PATTERNS[pattern], page=page)
    monkeypatch.undo()
    assert totals(html) == expected(children)
    FIGURES.append(
        f"Wagtail listing, 20 children x 3 stat tags, {pattern}: "
        f"{len(queries)} SQL queries, {trips.count} Redis round trip"
    )
    assert trips.count == 1
    # the children (with .specific: base rows, then specific rows), then the specific
    # rows of a base-page list or of an unlisted loop's siblings
    assert (
        len(queries) == {"base pages": 2, "specific": 3, "listed": 2, "listed specific": 2}[pattern]
    ), [q["sql"] for q in queries]


def test_untracked_children_render_nothing_and_cost_nothing_more(client, section, monkeypatch):
    index, children = section
    index.add_child(instance=Page(title="Plain", slug="plain"))
    html = render(PATTERNS["base pages"], page=Page.objects.get(pk=index.pk))
    assert html.count("<li>") == 21
    assert "<li></li>" in html
    assert totals(html) == expected(children)


def test_a_listing_beyond_the_sibling_window_still_shows_every_figure(section, monkeypatch):
    index, children = section
    monkeypatch.setattr(prefetch, "SIBLINGS", 3)
    source = "{% for child in page.get_children.live.reverse %}<li>" + ITEM + "</li>{% endfor %}"
    html = render(source, page=index)
    assert totals(html) == list(reversed(expected(children)))


def test_in_debug_a_tag_given_an_untracked_object_says_why(caplog):
    plain = Page.get_first_root_node().add_child(instance=Page(title="Plain", slug="plain"))
    with caplog.at_level(logging.WARNING, logger="djinsight"):
        with override_settings(DEBUG=True):
            assert render("{% total_views_stat child %}", child=plain) == ""
        assert "not a saved instance of a model using PageViewStatisticsMixin" in caplog.text
        caplog.clear()
        assert render("{% total_views_stat child %}", child=plain) == ""
        assert caplog.text == ""
