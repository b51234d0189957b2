"""djinsight in the Wagtail admin: the "Page views" report, the editor's side
panel, a "Views" column in the page explorer, a dashboard panel, and the
``djinsight.view_analytics`` permission on Wagtail's group page.

Installed by one line in ``INSTALLED_APPS``: ``"djinsight.contrib.wagtail"``
(after ``"djinsight"`` and Wagtail's apps). See docs/wagtail.md.
"""

from djinsight.exceptions import ImproperlyInstalled

try:
    import wagtail  # noqa: F401
except ImportError as exc:
    raise ImproperlyInstalled(
        "djinsight.contrib.wagtail needs Wagtail: pip install 'djinsight[wagtail]'"
    ) from exc
