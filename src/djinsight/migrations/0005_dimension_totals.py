from django.db import migrations, models


def fill(apps, schema_editor):
    """The log panels' figures for the raw logs already stored."""
    from djinsight.pipeline.rollups import rebuild_dimension_totals

    rebuild_dimension_totals(
        apps.get_model("djinsight", "PageViewLog"),
        apps.get_model("djinsight", "PageViewDimensionTotal"),
        using=schema_editor.connection.alias,
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
