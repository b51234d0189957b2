import django.db.models.deletion
from django.db import migrations, models

import djinsight.indexes


class Migration(migrations.Migration):
    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("djinsight", "0002_api_token"),
    ]

    operations = [
        migrations.AlterField(
            model_name="pageviewlog",
            name="content_type",
            field=models.ForeignKey(
                db_constraint=False,
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="contenttypes.contenttype",
            ),
        ),
        migrations.AlterField(
            model_name="pageviewlog",
            name="viewed_at",
            field=models.DateTimeField(),
        ),
        migrations.AddIndex(
            model_name="pageviewlog",
            index=djinsight.indexes.TimeIndex(fields=["viewed_at"], name="djinsight_log_time"),
        ),
    ]
