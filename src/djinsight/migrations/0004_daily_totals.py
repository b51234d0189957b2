import django.db.models.deletion
from django.db import migrations, models


def fill(apps, schema_editor):
    """Existing daily summaries, added up per content type and day."""
    from django.db.models import Sum

    summary = apps.get_model("djinsight", "PageViewSummary")
    total = apps.get_model("djinsight", "PageViewDailyTotal")
    rows = (
        summary.objects.using(schema_editor.connection.alias)
        .values("content_type_id", "date")
        .annotate(views=Sum("total_views"), unique=Sum("unique_views"))
        .order_by()
    )
    total.objects.using(schema_editor.connection.alias).bulk_create(
        [
            total(
                content_type_id=r["content_type_id"],
                date=r["date"],
                total_views=r["views"],
                unique_views=r["unique"],
            )
            for r in rows.iterator()
        ],
        batch_size=1000,
    )


class Migration(migrations.Migration):
    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("djinsight", "0003_log_indexes"),
    ]

    operations = [
        migrations.CreateModel(
            name="PageViewDailyTotal",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("date", models.DateField(db_index=True)),
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
                "verbose_name": "daily total",
                "verbose_name_plural": "daily totals",
                "constraints": [
                    models.UniqueConstraint(
                        fields=("content_type", "date"), name="djinsight_daily_total_unique"
                    )
                ],
            },
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
    ]
