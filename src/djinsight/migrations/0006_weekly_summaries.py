import django.db.models.deletion
from django.db import migrations, models


def fill(apps, schema_editor):
    """Existing daily summaries, added up per object and week (from Monday)."""
    from django.db.models import Sum
    from django.db.models.functions import TruncWeek

    summary = apps.get_model("djinsight", "PageViewSummary")
    weekly = apps.get_model("djinsight", "PageViewWeeklySummary")
    rows = (
        summary.objects.using(schema_editor.connection.alias)
        .annotate(monday=TruncWeek("date"))
        .values("content_type_id", "object_id", "monday")
        .annotate(views=Sum("total_views"), unique=Sum("unique_views"))
        .order_by()
    )
    weekly.objects.using(schema_editor.connection.alias).bulk_create(
        (
            weekly(
                content_type_id=r["content_type_id"],
                object_id=r["object_id"],
                week=r["monday"],
                total_views=r["views"],
                unique_views=r["unique"],
            )
            for r in rows.iterator()
        ),
        batch_size=1000,
    )


class Migration(migrations.Migration):
    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("djinsight", "0005_dimension_totals"),
    ]

    operations = [
        migrations.CreateModel(
            name="PageViewWeeklySummary",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("object_id", models.CharField(max_length=64)),
                ("week", models.DateField(db_index=True)),
                ("total_views", models.PositiveBigIntegerField(default=0)),
                ("unique_views", models.PositiveBigIntegerField(default=0)),
                (
                    "content_type",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="contenttypes.contenttype",
                    ),
                ),
            ],
            options={
                "verbose_name": "weekly summary",
                "verbose_name_plural": "weekly summaries",
                "constraints": [
                    models.UniqueConstraint(
                        fields=("content_type", "object_id", "week"),
                        name="djinsight_weekly_summary_unique",
                    )
                ],
            },
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
    ]
