"""``{% load djInsight_tags %}``: the specification's spelling of djinsight_tags."""

from djinsight.templatetags.djinsight_tags import register  # noqa: F401
