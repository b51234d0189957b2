import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("djinsight", "0006_weekly_summaries"),
    ]

    operations = [
        migrations.CreateModel(
            name="PageViewBotSummary",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("object_id", models.CharField(max_length=64)),
                ("date", models.DateField(db_index=True)),
                ("kind", models.CharField(max_length=8)),
                ("views", models.PositiveBigIntegerField(default=0)),
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
                "verbose_name": "bot summary",
                "verbose_name_plural": "bot summaries",
                "constraints": [
                    models.UniqueConstraint(
                        fields=("content_type", "object_id", "date", "kind"),
                        name="djinsight_bot_summary_unique",
                    )
                ],
            },
        ),
    ]
