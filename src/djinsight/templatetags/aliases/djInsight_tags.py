"""``{% load djInsight_tags %}``: the specification's spelling (see ``djinsight.spelling``)."""

from djinsight.spelling import tag_library

register = tag_library()
