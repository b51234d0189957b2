from django.db import migrations, models
from django.db.models import Count, Func
from django.db.models.functions import ExtractHour, Left, TruncDate
from django.utils import timezone

# Frozen as of this migration: later changes to djinsight's code must not change
# what it does. Same result as djinsight.pipeline.rollups.rebuild_dimension_totals
# at the time (tests/test_migrations.py compares them).
LOG_DIMENSIONS = ("referrer_domain", "path", "browser", "os", "device")
VALUE_LENGTH = 255


def fill(apps, schema_editor):
    """The log panels' figures for the raw logs already stored: views per day
    (site time) per value of each log dimension, and per hour of day ("00"-"23")."""
    alias = schema_editor.connection.alias
    log = apps.get_model("djinsight", "PageViewLog")
    total = apps.get_model("djinsight", "PageViewDimensionTotal")
    tz = timezone.get_current_timezone()
    # MySQL without time-zone tables gives NULL days: those logs are left out, not fatal.
    logs = (
        log.objects.using(alias)
        .annotate(day=TruncDate("viewed_at", tzinfo=tz))
        .filter(day__isnull=False)
    )
    values: dict[str, Func] = {name: Left(name, VALUE_LENGTH) for name in LOG_DIMENSIONS}
    values["hour"] = ExtractHour("viewed_at", tzinfo=tz)
    for dimension, value in values.items():
        rows = logs.annotate(value=value)
        if dimension != "hour":
            rows = rows.exclude(value="")
        rows = rows.values("day", "value").annotate(views=Count("id")).order_by()
        total.objects.using(alias).bulk_create(
            (
                total(
                    dimension=dimension,
                    date=r["day"],
                    value=f"{r['value']:02d}" if dimension == "hour" else r["value"],
                    views=r["views"],
                )
                for r in rows.iterator()
            ),
            batch_size=1000,
        )


class Migration(migrations.Migration):
    dependencies = [
        ("djinsight", "0004_daily_totals"),
    ]

    operations = [
        migrations.CreateModel(
            name="PageViewDimensionTotal",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("date", models.DateField()),
                ("dimension", models.CharField(max_length=16)),
                ("value", models.CharField(max_length=255)),
                ("views", models.PositiveBigIntegerField(default=0)),
            ],
            options={
                "verbose_name": "daily dimension total",
                "verbose_name_plural": "daily dimension totals",
                "constraints": [
                    models.UniqueConstraint(
                        fields=("dimension", "date", "value"), name="djinsight_dimension_unique"
                    )
                ],
            },
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
    ]
