"""Index types djinsight's migrations refer to."""

from django.db import models


class TimeIndex(models.Index):
    """A BRIN index on PostgreSQL, a B-tree elsewhere.

    Log rows arrive in time order, so a BRIN index serves time ranges at a
    fraction of a B-tree's cost per insert (the flush COPYs every view).
    """

    def create_sql(self, model, schema_editor, using="", **kwargs):
        if schema_editor.connection.vendor == "postgresql":
            using = " USING brin"
        return super().create_sql(model, schema_editor, using=using, **kwargs)
