"""Query parameters: what issue 14's fuzzing found answered 500, now a 4xx with a stable
code, or a range clamped to days that exist."""

import json
from datetime import date, timedelta

import pytest
from django.utils import timezone

from djinsight.exceptions import BadParameter
from djinsight.models import ApiToken
from djinsight.reports.params import DateRange, parse_content_type, parse_int
from djinsight.rules import whole_number
from tests import analytics_data as data

pytestmark = pytest.mark.django_db

API = "/djInsight/api/"


@pytest.mark.parametrize(
    "text", ["²", "³", "٣", "１", "1_0", " 1", "+1", "-1", "1.5", "9" * 21, ""]
)
def test_whole_numbers_are_ascii_digits_only(text):
    assert whole_number(text) is None


def test_whole_numbers_read_as_int():
    assert whole_number("0") == 0
    assert whole_number("007") == 7
    assert whole_number("9" * 20) == int("9" * 20)


@pytest.mark.parametrize("name", ["period", "limit", "page"])
@pytest.mark.parametrize("value", ["²", "³", "٣", "9" * 5000, "1\x00"])
def test_unicode_digits_and_huge_numbers_are_bad_parameters(name, value):
    with pytest.raises(BadParameter) as caught:
        parse_int({name: value}, name, 1, 1, 100)
    assert caught.value.code == f"invalid_{name}"


@pytest.mark.parametrize("value", ["20240101", "2024-W01-1", "２０２４-01-01", "2024-1-1", "\x00"])
def test_dates_are_yyyy_mm_dd_only(value):
    with pytest.raises(BadParameter) as caught:
        DateRange.from_params({"since": value})
    assert caught.value.code == "invalid_date"


def test_until_after_today_is_today():
    today = timezone.localdate()
    rng = DateRange.from_params({"since": "2024-01-01", "until": "9999-12-31"})
    assert (rng.since, rng.until) == (date(2024, 1, 1), today)
    assert rng.end > rng.start  # no OverflowError: the day after exists


def test_since_in_the_future_is_a_bad_range():
    with pytest.raises(BadParameter) as caught:
        DateRange.from_params({"since": "9999-12-31"})
    assert caught.value.code == "invalid_range"


def test_a_bad_date_is_refused_even_when_a_period_wins():
    with pytest.raises(BadParameter) as caught:
        DateRange.from_params({"period": "7", "until": "²"})
    assert caught.value.code == "invalid_date"
    assert DateRange.from_params({"period": "7", "until": "2020-01-01"}).days == 7


@pytest.mark.parametrize(
    "label", ["testapp.article\x00", "testapp\x00.article", "\x00", "testapp.art icle", "a.b.c"]
)
def test_content_type_labels_that_name_no_model_are_refused_before_the_database(
    label, django_assert_num_queries
):
    with django_assert_num_queries(0), pytest.raises(BadParameter) as caught:
        parse_content_type(label)
    assert caught.value.code == "unknown_content_type"


@pytest.fixture
def token():
    return ApiToken.generate("tests")[1]


def api(client, token, path, query):
    return client.get(API + path + "?" + query, HTTP_AUTHORIZATION=f"Bearer {token}")


@pytest.mark.parametrize(
    ("path", "query", "code"),
    [
        ("top/", "period=%C2%B2", "invalid_period"),
        ("top/", "limit=%C2%B3", "invalid_limit"),
        ("top/", "page=%C2%B2", "invalid_page"),
        ("top/", "content_type=testapp.article%00", "unknown_content_type"),
        ("timeseries/", "content_type=testapp.article&object_id=1%00", "invalid_object_id"),
        ("timeseries/", "content_type=testapp.article&object_id=%D9%A3", "invalid_object_id"),
        ("stats/testapp.article/%C2%B2/", "", "invalid_object_id"),
    ],
)
def test_the_api_answers_observed_500s_with_a_400_and_a_code(client, token, path, query, code):
    response = api(client, token, path, query)
    assert response.status_code == 400
    assert json.loads(response.content)["error"]["code"] == code


@pytest.mark.parametrize("kind", ["logs", "summaries"])
def test_an_export_to_9999_12_31_streams_to_its_end(client, token, kind):
    fx = data.build()
    since = (fx.today - timedelta(days=40)).isoformat()
    response = api(
        client, token, "export/", f"kind={kind}&format=csv&since={since}&until=9999-12-31"
    )
    assert response.status_code == 200
    lines = b"".join(response.streaming_content).decode().splitlines()
    assert len(lines) == 1 + (4 if kind == "logs" else 7)  # header + every row
    assert f"-{fx.today}.csv" in response["Content-Disposition"]
