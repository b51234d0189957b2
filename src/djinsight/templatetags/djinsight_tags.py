"""Template tags: the tracker script and view statistics."""

from __future__ import annotations

from django import template
from django.templatetags.static import static
from django.urls import reverse
from django.utils.html import format_html

from ..conf import settings
from ..models import PageViewStatisticsMixin
from ..references import sign

register = template.Library()

CONTEXT_NAMES = ("page", "object", "article", "post", "item")


def find_object(context, obj=None):
    """``obj`` if given, else the first tracked object in the context (page, object, article, post, item)."""
    if obj is not None:
        return obj
    for name in CONTEXT_NAMES:
        candidate = context.get(name)
        if isinstance(candidate, PageViewStatisticsMixin) and getattr(candidate, "pk", None):
            return candidate
    return None


def _flag(value) -> str:
    return "true" if value else "false"


@register.simple_tag(takes_context=True)
def page_view_tracker(context, obj=None, async_load=True, debug=False):
    """A script tag that records one view of ``obj`` when the page loads."""
    obj = find_object(context, obj)
    if obj is None or not isinstance(obj, PageViewStatisticsMixin) or obj.pk is None:
        return ""
    if not settings.ENABLE_TRACKING:
        return ""
    nonce = context.get("csp_nonce") or getattr(context.get("request"), "csp_nonce", None)
    return format_html(
        '<script src="{}" data-endpoint="{}" data-ref="{}" data-async="{}" '
        'data-debug="{}" data-respect-dnt="{}"{} defer></script>',
        static("djinsight/tracker.js"),
        reverse("djinsight:record"),
        sign(obj),
        _flag(async_load),
        _flag(debug),
        _flag(settings.RESPECT_DNT),
        format_html(' nonce="{}"', nonce) if nonce else "",
    )
