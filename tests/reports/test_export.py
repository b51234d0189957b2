import csv
import io
import json
import subprocess
import sys
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from djinsight.reports import export
from djinsight.reports.params import DateRange
from tests import analytics_data as data
from tests.conftest import ROOT, child_env

pytestmark = pytest.mark.django_db


@pytest.fixture
def fx():
    return data.build()


@pytest.mark.parametrize(
    "value", ["=1+2", "+SUM(A1)", "-2+3", "@cmd", "\tx", "\rx", '=HYPERLINK("x")']
)
def test_formula_cells_are_neutralised(value):
    assert export.neutralise(value) == "'" + value


@pytest.mark.parametrize("value", ["plain", "1=1", "", 42, None, "a-b"])
def test_other_cells_are_left_alone(value):
    assert export.neutralise(value) == value


def test_csv_export_of_hostile_logs_is_inert(fx):
    data.log(
        fx.alpha,
        data.local(fx.today, 8),
        path="=cmd|' /C calc'!A0",
        referrer="@SUM(1+1)",
        referrer_domain="+evil",
        user_agent="-2+3",
    )
    text = "".join(export.lines("csv", "logs", export.rows("logs", DateRange.last(7))))
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == 4
    for row in rows:
        for value in row.values():
            assert not value.startswith(("=", "+", "-", "@", "\t", "\r")), value
    hostile = next(
        r for r in rows if r["viewed_at"].startswith(str(fx.today)) and r["path"].startswith("'")
    )
    assert hostile["path"] == "'=cmd|' /C calc'!A0"
    assert hostile["referrer"] == "'@SUM(1+1)" and hostile["user_agent"] == "'-2+3"


def test_summaries_csv_has_labels_and_only_the_range(fx):
    text = "".join(export.lines("csv", "summaries", export.rows("summaries", DateRange.last(7))))
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [(r["content_type"], r["total_views"]) for r in rows] == [
        ("testapp.article", "10"),  # in the order they were written
        ("testapp.article", "5"),
        ("testapp.article", "7"),
        ("testapp.product", "2"),
    ]
    assert rows[-1]["object_id"] == str(fx.product.pk)


def test_ndjson_keeps_text_exactly(fx):
    lines = list(export.lines("ndjson", "logs", export.rows("logs", DateRange.last(7))))
    rows = [json.loads(line) for line in lines]
    assert data.HOSTILE_REFERRER in {r["referrer"] for r in rows}
    assert all(line.endswith("\n") and line.count("\n") == 1 for line in lines)


def test_command_writes_a_file_with_a_progress_bar(fx, tmp_path, capsys):
    out = tmp_path / "logs.csv"
    since = (fx.today - timedelta(days=6)).isoformat()
    call_command(
        "djinsight_export",
        "--format",
        "csv",
        "--kind",
        "logs",
        "--since",
        since,
        "--until",
        fx.today.isoformat(),
        "--output",
        str(out),
    )
    rows = list(csv.DictReader(out.open(newline="")))
    assert len(rows) == 3
    err = capsys.readouterr().err
    assert "3/3 rows" in err and "100%" in err and "Wrote 3 logs rows" in err


def test_command_writes_ndjson_to_stdout(fx, capsys):
    call_command("djinsight_export", "--format", "ndjson", "--kind", "summaries", "--no-progress")
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert sorted(r["total_views"] for r in rows) == [2, 3, 5, 7, 10, 20, 100]


@pytest.mark.parametrize(
    "args, message",
    [
        (["--since", "2024-02-30"], "not a date"),
        (["--format", "xlsx"], "invalid choice"),
        (["--kind", "users"], "invalid choice"),
        (["--since", "2024-03-02", "--until", "2024-03-01"], "after --until"),
        (["--since", "1900-01-01", "--until", "2024-01-01"], "at most"),
        (["--output", "/nonexistent/dir/x.csv"], "cannot write"),
    ],
)
def test_command_rejects_bad_flags_clearly(args, message):
    with pytest.raises(CommandError, match=message):
        call_command("djinsight_export", *args)


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_command_memory_stays_flat_with_many_rows():
    """The Python heap peak of an export does not grow with the number of rows."""
    from django.contrib.contenttypes.models import ContentType
    from django.utils import timezone

    from djinsight.models import PageViewLog
    from tests.testapp.models import Article

    code = (
        "import django, tracemalloc; django.setup();"
        "from django.core.management import call_command;"
        "tracemalloc.start();"
        "call_command('djinsight_export', '--kind', 'logs', '--output', '/dev/null',"
        " '--no-progress');"
        "print(tracemalloc.get_traced_memory()[1])"
    )
    ct = ContentType.objects.get_for_model(Article)
    now = timezone.now()

    def peak(rows: int) -> int:
        PageViewLog.objects.all().delete()
        PageViewLog.objects.bulk_create(
            [
                PageViewLog(
                    content_type=ct, object_id=str(i), viewed_at=now, path="/p/" + "x" * 500
                )
                for i in range(rows)
            ],
            batch_size=2000,
        )
        result = subprocess.run(
            [sys.executable, "-c", code],
            env=child_env(),
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert result.returncode == 0, result.stderr
        return int(result.stdout.strip().splitlines()[-1])

    peaks = [peak(n) for n in (2000, 60000)]
    # 58k more rows of ~600 bytes is ~35 MB of text: held in memory it would show
    assert peaks[1] - peaks[0] < 2_000_000, peaks  # bytes of Python heap at the peak


def test_chunked_reading_returns_every_row_once_across_equal_timestamps(fx):
    when = data.local(fx.today, 7)
    for i in range(5):
        data.log(fx.product, when, path=f"/same/{i}/")
    rng = DateRange.last(7)
    for chunk_size in (1, 2, 3, 100):
        paths = [r["path"] for r in export.rows("logs", rng, chunk_size=chunk_size)]
        assert len(paths) == 8 and len(set(paths) - {"/a/"}) == 6, chunk_size
        summaries = list(export.rows("summaries", rng, chunk_size=chunk_size))
        assert sorted(r["total_views"] for r in summaries) == [2, 5, 7, 10]
