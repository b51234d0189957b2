"""Template tags: live figures, context detection, batching (no N+1), Redis down, escaping."""

import re
from datetime import timedelta

import pytest
from django.template import Context, Template
from django.test import RequestFactory, override_settings
from django.utils import timezone

from djinsight.models import PageViewSummary
from djinsight.pipeline import flush
from djinsight.stats.formatting import format_view_count
from djinsight.store.client import get_redis, outage, read_redis, reset_clients
from tests.conftest import FIGURES, ROOT, beacon, visitor
from tests.testapp.models import Article, Product

pytestmark = pytest.mark.django_db


def render(source: str, **context) -> str:
    return Template("{% load djInsight_tags %}" + source).render(Context(context))


def value_of(html: str, stat: str) -> str:
    """The text of the first ``djinsight-stat-value`` of stat ``stat`` in ``html``."""
    match = re.search(
        rf'data-djinsight-stat="{stat}"><span class="djinsight-stat-label">[^<]*</span> '
        r"<(?:span|time)[^>]*>([^<]*)<",
        html,
    )
    assert match, f"no {stat} in {html}"
    return match.group(1)


@pytest.fixture
def article():
    return Article.objects.create(title="First", slug="first")


class RoundTrips:
    """Counts commands sent to the real Redis server by djinsight's clients (the
    shared one and the live reads' one)."""

    def __init__(self, monkeypatch):
        self.count = 0
        for client in (get_redis(), read_redis()):
            self._watch(monkeypatch, client)

    def _watch(self, monkeypatch, client):
        original = client.execute_command

        def counting(*args, **kwargs):
            self.count += 1
            return original(*args, **kwargs)

        monkeypatch.setattr(client, "execute_command", counting)
        original_pipeline = client.pipeline

        def pipeline(*args, **kwargs):  # a pipeline is one round trip, however long
            pipe = original_pipeline(*args, **kwargs)
            execute = pipe.execute

            def counted_execute(*a, **k):
                self.count += 1
                return execute(*a, **k)

            pipe.execute = counted_execute
            return pipe

        monkeypatch.setattr(client, "pipeline", pipeline)


# --- format_view_count ----------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0, "0"),
        (999, "999"),
        (1000, "1K"),
        (1234, "1.2K"),
        (1299, "1.2K"),  # rounds down: never overstates
        (999_999, "999.9K"),
        (1_250_000, "1.2M"),
        (3_000_000_000, "3B"),
        (-1234, "-1.2K"),
        ("1234", "1.2K"),
        ("12.7", "12"),
        (None, "0"),
        ("", "0"),
        ("lots", "lots"),
        (1234.9, "1.2K"),
    ],
)
def test_format_view_count_abbreviates(value, expected):
    assert format_view_count(value) == expected


def test_format_view_count_filter_escapes_non_numbers():
    assert render("{{ v|format_view_count }}", v="<b>") == "&lt;b&gt;"
    assert render("{{ v|format_view_count }}", v=1_250_000) == "1.2M"


# --- stat components --------------------------------------------------------------


def test_stat_tags_show_live_figures_before_any_flush(client, article):
    for n in (1, 2, 2, 3):
        assert beacon(client, article, **visitor(n)).status_code == 204
    html = render(
        "{% total_views_stat obj=article %}{% unique_views_stat obj=article %}"
        "{% views_today_stat obj=article %}{% views_week_stat obj=article %}"
        "{% views_month_stat obj=article %}{% last_viewed_stat obj=article %}"
        "{% first_viewed_stat obj=article %}",
        article=article,
    )
    assert value_of(html, "total_views") == "4"
    assert value_of(html, "unique_views") == "3"
    assert value_of(html, "views_today") == "4"
    assert value_of(html, "views_week") == "4"
    assert value_of(html, "views_month") == "4"
    assert value_of(html, "last_viewed_at") != "never"
    assert value_of(html, "first_viewed_at") != "never"
    assert 'class="djinsight-stat-item' in html and 'class="djinsight-stat-value"' in html
    assert re.search(r'<time class="djinsight-stat-value" datetime="\d{4}-', html)


def test_object_without_views_shows_zero_and_never(article):
    html = render(
        "{% total_views_stat %}{% views_today_stat %}{% last_viewed_stat %}{% first_viewed_stat %}",
        article=article,
    )
    assert value_of(html, "total_views") == "0"
    assert value_of(html, "views_today") == "0"
    assert value_of(html, "last_viewed_at") == "never"
    assert value_of(html, "first_viewed_at") == "never"


def test_figures_never_go_backwards_across_a_flush(client, article):
    for n in range(3):
        beacon(client, article, **visitor(n))
    source = "{% total_views_stat %}{% unique_views_stat %}{% views_today_stat %}"
    before = render(source, article=article)
    flush.process_pageviews()
    stale = render(source, article=article)  # instance loaded before the flush
    article.refresh_from_db()
    assert article.total_views == 3
    after = render(source, article=article)
    for html in (stale, after):
        for stat in ("total_views", "unique_views", "views_today"):
            assert value_of(html, stat) == value_of(before, stat) == "3"
    beacon(client, article, **visitor(9))
    assert value_of(render(source, article=article), "total_views") == "4"


def test_context_detection_follows_page_object_article_post_item():
    names = ["page", "object", "article", "post", "item"]
    objects = {}
    for i, name in enumerate(names):
        a = Article.objects.create(title=name, slug=name)
        Article.objects.filter(pk=a.pk).update(total_views=100 + i)
        a.refresh_from_db()
        objects[name] = a
    for i in range(len(names)):
        context = {n: objects[n] for n in names[i:]}
        assert value_of(render("{% total_views_stat %}", **context), "total_views") == str(100 + i)


def test_untracked_or_missing_object_renders_nothing(article):
    assert render("{% total_views_stat %}{% page_view_tracker %}{% live_stats_counter %}") == ""
    assert render("{% total_views_stat obj=x %}", x="not a model") == ""
    assert render("{% page_analytics_widget obj=None %}") == ""


def test_explicit_obj_wins_over_context_and_uuid_pk_works(client, article):
    product = Product.objects.create(name="Desk")
    beacon(client, product, **visitor(1))
    html = render("{% total_views_stat obj=product %}", article=article, product=product)
    assert value_of(html, "total_views") == "1"


def test_output_is_escaped(article):
    article.title = '<script>alert("x")</script>'
    article.save()
    html = render("{% page_analytics_widget %}", article=article)
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html


# --- tracker ------------------------------------------------------------------------


def test_tracker_tag_configures_script_by_data_attributes(article):
    html = render(
        "{% page_view_tracker obj=article async_load=False debug=True %}", article=article
    )
    assert 'src="/static/djinsight/tracker.min.js"' in html
    assert 'data-async="false"' in html and 'data-debug="true"' in html
    assert 'data-endpoint="/djInsight/record/"' in html
    assert f'data-ref="testapp.article:{article.pk}:' in html
    assert "<script>" not in html  # never inline code
    default = render("{% page_view_tracker %}", article=article)
    assert 'data-async="true"' in default and 'data-debug="false"' in default
    assert 'data-respect-dnt="false"' in default
    with override_settings(DJINSIGHT_RESPECT_DNT=True):
        assert 'data-respect-dnt="true"' in render("{% page_view_tracker %}", article=article)


def test_tracker_is_left_out_when_tracking_is_disabled(article):
    with override_settings(DJINSIGHT_ENABLE_TRACKING=False):
        assert render("{% page_view_tracker %}", article=article) == ""


def test_script_tags_carry_the_csp_nonce(article):
    request = RequestFactory().get("/")
    request.csp_nonce = "r4nd0m"
    html = render(
        "{% page_view_tracker %}{% live_stats_counter %}", article=article, request=request
    )
    assert html.count('nonce="r4nd0m"') == 2
    html = render("{% page_view_tracker %}", article=article, csp_nonce='"><x')
    assert 'nonce="&quot;&gt;&lt;x"' in html


def test_tracker_script_is_small():
    import gzip
    from pathlib import Path

    import djinsight

    path = Path(djinsight.__file__).parent / "static" / "djinsight" / "tracker.min.js"
    size = len(gzip.compress(path.read_bytes(), compresslevel=9))
    FIGURES.append(f"tracker.min.js: {path.stat().st_size} bytes minified, {size} bytes gzipped")
    assert size <= 600


def test_minified_scripts_are_the_build_of_their_sources():
    """tracker.min.js is what ``make js`` (scripts/build_js.py) makes of tracker.js today."""
    import importlib.util
    import os

    try:
        import calmjs.parse  # noqa: F401
    except ImportError:
        if os.environ.get("DJINSIGHT_REQUIRE_SERVICES") == "1":
            pytest.fail("calmjs.parse is missing and DJINSIGHT_REQUIRE_SERVICES=1")
        pytest.skip("calmjs.parse is missing (pip install -e '.[test]')")

    spec = importlib.util.spec_from_file_location("build_js", ROOT / "scripts" / "build_js.py")
    build_js = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(build_js)
    assert build_js.BUILDS
    for source, target in build_js.BUILDS.items():
        built = build_js.minify((build_js.STATIC / source).read_text(encoding="utf-8"))
        shipped = (build_js.STATIC / target).read_text(encoding="utf-8")
        assert shipped == built, f"{target} is not the build of {source}: run `make js`"


# --- live counter, stats display, widget --------------------------------------------


def test_live_counter_points_live_js_at_the_live_endpoint(client, article):
    beacon(client, article, **visitor(1))
    html = render(
        "{% live_stats_counter obj=article show_unique=False refresh_interval=15 %}"
        "{% live_stats_counter obj=article %}",
        article=article,
    )
    assert html.count('class="djinsight-live-counter"') == 2
    assert 'data-endpoint="/djInsight/live/"' in html and 'data-refresh="15"' in html
    assert 'data-refresh="30"' in html
    assert html.count("djinsight/live.js") == 1  # one script however many counters
    first = html.split("</div>")[0]
    assert 'data-djinsight-stat="unique_views"' not in first
    assert value_of(first, "total_views") == "1"


def test_refresh_interval_nonsense_falls_back_to_default(article):
    html = render(
        "{% live_stats_counter refresh_interval=x %}{% page_stats_display refresh_interval=0 %}",
        article=article,
        x="soon",
    )
    assert 'data-refresh="30"' in html and 'data-refresh="1"' in html


def test_page_stats_display_shows_every_figure(client, article):
    beacon(client, article, **visitor(1))
    html = render("{% page_stats_display %}", article=article)
    assert "data-djinsight-live" in html
    for stat in ("total_views", "unique_views", "views_today", "views_week", "views_month"):
        assert value_of(html, stat) == "1"
    assert value_of(html, "last_viewed_at") != "never"


def test_analytics_widget_week_and_month(client, article):
    today = timezone.localdate()
    # a flushed day earlier this month (when there is one) plus live views today
    for n in range(3):
        beacon(client, article, **visitor(n))
    flush.process_pageviews()
    article.refresh_from_db()
    beacon(client, article, **visitor(7))
    week = render("{% page_analytics_widget %}", article=article)
    month = render("{% page_analytics_widget period='month' %}", article=article)
    assert 'class="djinsight-analytics-widget"' in week
    assert value_of(week, "views_week") == "4" and value_of(month, "views_month") == "4"
    assert value_of(week, "total_views") == "4" and value_of(week, "views_today") == "4"
    assert "<svg" in week and "<polyline" in week
    assert f"{today:%b %d}: 4" in week  # today's point carries the live figure
    points = re.search(r'<polyline points="([^"]*)"', month).group(1).split()
    assert len(points) == today.day  # one point per day of the month so far
    assert "<script" not in week  # plain SVG, no chart library
    bad = render("{% page_analytics_widget period='year' %}", article=article)
    assert 'data-djinsight-period="week"' in bad


def test_sparkline_includes_earlier_flushed_days(article):
    from django.contrib.contenttypes.models import ContentType

    today = timezone.localdate()
    week_start = today - timedelta(days=today.weekday())
    if week_start == today:
        pytest.skip("no earlier day this week on a Monday")
    ct = ContentType.objects.get_for_model(Article)
    PageViewSummary.objects.create(
        content_type=ct, object_id=str(article.pk), date=week_start, total_views=5, unique_views=5
    )
    Article.objects.filter(pk=article.pk).update(total_views=5, unique_views=5)
    article.refresh_from_db()
    html = render("{% page_analytics_widget %}", article=article)
    assert f"{week_start:%b %d}: 5" in html
    assert value_of(html, "views_week") == "5"


# --- Wagtail aliases -------------------------------------------------------------------


def test_wagtail_aliases_take_page(client):
    from wagtail.models import Page

    from tests.testapp.models import BlogPage

    page = Page.get_first_root_node().add_child(instance=BlogPage(title="Blog", slug="blog"))
    beacon(client, page, **visitor(1))
    html = render(
        "{% wagtail_page_view_tracker page=page %}{% wagtail_page_stats_display page=page %}"
        "{% wagtail_page_analytics_widget page=page period='month' %}",
        page=page,
    )
    assert f'data-ref="testapp.blogpage:{page.pk}:' in html
    assert 'class="djinsight-stats-display"' in html
    assert 'class="djinsight-analytics-widget"' in html
    assert value_of(html, "total_views") == "1"


def test_default_stylesheet_tag():
    assert (
        render("{% djinsight_css %}")
        == '<link rel="stylesheet" href="/static/djinsight/djinsight.css">'
    )


# --- I5: no N+1 --------------------------------------------------------------------------


def _dashboard_cost(client, monkeypatch, n):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    trips = RoundTrips(monkeypatch)
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/dashboard/")
    assert response.status_code == 200
    html = response.content.decode()
    assert html.count('class="content-card"') == n
    assert not response.cookies  # lazy context values (csrf_token, user) left alone
    monkeypatch.undo()
    return len(queries), trips.count, html


def test_dashboard_with_50_objects_costs_constant_queries_and_round_trips(client, monkeypatch):
    articles = [Article.objects.create(title=f"A{i}", slug=f"a{i}") for i in range(50)]
    # three states at once: flushed and seeded, viewed but not flushed, never viewed
    for a in articles[:20]:
        beacon(client, a, **visitor(1))
    flush.process_pageviews()
    for a in articles[10:40]:
        beacon(client, a, **visitor(2))
    client.get("/dashboard/")  # warm up: scripts loaded, content types cached
    queries, trips, html = _dashboard_cost(client, monkeypatch, 50)
    for i, a in enumerate(articles):
        expected = (1 if i < 20 else 0) + (1 if 10 <= i < 40 else 0)
        card = html.split(f'id="card-{a.pk}"')[1].split("content-card")[0]
        assert value_of(card, "total_views") == str(expected)
    # one query for the list itself, one Redis round trip for every figure on the page
    assert queries == 1, queries
    assert trips == 1, trips
    FIGURES.append(
        f"dashboard, 50 objects x 4 stat tags + live counter: {queries} SQL query "
        f"(the list), {trips} Redis round trip"
    )


def test_dashboard_cost_does_not_grow_with_objects(client, monkeypatch):
    articles = [Article.objects.create(title=f"A{i}", slug=f"a{i}") for i in range(5)]
    for a in articles:
        beacon(client, a, **visitor(1))
    client.get("/dashboard/")
    small = _dashboard_cost(client, monkeypatch, 5)[:2]
    more = [Article.objects.create(title=f"B{i}", slug=f"b{i}") for i in range(45)]
    for a in more:
        beacon(client, a, **visitor(1))
    big = _dashboard_cost(client, monkeypatch, 50)[:2]
    assert small == big


def test_stats_of_a_list_in_context_are_fetched_in_one_round_trip(client, monkeypatch):
    articles = [Article.objects.create(title=f"A{i}", slug=f"a{i}") for i in range(10)]
    for a in articles:
        beacon(client, a, **visitor(1))
    get_redis().ping()
    trips = RoundTrips(monkeypatch)
    html = render(
        "{% for post in posts %}{% total_views_stat obj=post %}{% views_week_stat obj=post %}"
        "{% endfor %}",
        posts=articles,
    )
    assert html.count('data-djinsight-stat="total_views"') == 10
    assert trips.count == 1


# --- I9: Redis down --------------------------------------------------------------------------


@pytest.fixture
def redis_down():
    outage.succeeded()
    with override_settings(DJINSIGHT_REDIS_URL="redis://127.0.0.1:1/0"):
        reset_clients()
        yield
    reset_clients()
    outage.succeeded()


def test_every_tag_renders_from_the_database_when_redis_is_down(article, redis_down):
    now = timezone.now()
    Article.objects.filter(pk=article.pk).update(
        total_views=1234, unique_views=56, last_viewed_at=now, first_viewed_at=now
    )
    article.refresh_from_db()
    html = render(
        "{% page_view_tracker %}{% total_views_stat %}{% unique_views_stat %}{% last_viewed_stat %}"
        "{% first_viewed_stat %}{% views_today_stat %}{% views_week_stat %}{% views_month_stat %}"
        "{% live_stats_counter %}{% page_stats_display %}{% page_analytics_widget period='month' %}"
        "{{ article.total_views|format_view_count }}",
        article=article,
    )
    assert value_of(html, "total_views") == "1234"
    assert value_of(html, "unique_views") == "56"
    assert value_of(html, "last_viewed_at") != "never"
    assert value_of(html, "views_today") == "0"
    assert "djinsight-analytics-widget" in html and "djinsight-live-counter" in html
    assert html.endswith("1.2K")


def test_stats_of_a_paginator_page_are_fetched_in_one_round_trip(client, monkeypatch):
    from django.core.paginator import Paginator

    for i in range(12):
        beacon(client, Article.objects.create(title=f"A{i}", slug=f"a{i}"), **visitor(1))
    page_obj = Paginator(Article.objects.order_by("pk"), 10).page(1)
    get_redis().ping()
    trips = RoundTrips(monkeypatch)
    html = render(
        "{% for a in page_obj %}{% total_views_stat obj=a %}{% endfor %}", page_obj=page_obj
    )
    assert html.count('data-djinsight-stat="total_views"') == 10
    assert trips.count == 1
