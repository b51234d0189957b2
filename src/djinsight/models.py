"""The mixin for tracked models and djinsight's own tables."""

from __future__ import annotations

from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models.signals import class_prepared
from django.utils.translation import gettext_lazy as _

from djinsight.guard import STAT_FIELDS as STAT_FIELDS  # re-exported: the mixin's columns
from djinsight.guard import guard
from djinsight.indexes import TimeIndex
from djinsight.rules import BOT_KINDS, is_tracked_model, week_start


class PageViewStatisticsMixin:
    """Give a model view statistics: ``total_views``, ``unique_views``,
    ``first_viewed_at`` and ``last_viewed_at`` columns, indexed.

    A plain class, not an abstract model, so it can follow ``models.Model`` or
    Wagtail's ``Page`` in the bases (``class Article(models.Model,
    PageViewStatisticsMixin)``) without an MRO error; the columns are added
    when the concrete model class is prepared.
    """

    def get_tracking_url(self) -> str:
        """The URL recorded for a view; defaults to ``get_absolute_url()``."""
        get_url = getattr(self, "get_absolute_url", None)
        if get_url is not None:
            return get_url()
        url = getattr(self, "url", None)  # Wagtail pages
        return url if isinstance(url, str) else ""

    def get_display_name(self) -> str:
        """How dashboards and commands name this object; defaults to ``str(self)``."""
        return str(self)


def _stat_fields() -> dict[str, models.Field]:
    fields: dict[str, models.Field] = {
        "total_views": models.PositiveBigIntegerField(
            _("total views"), default=0, db_index=True, editable=False
        ),
        "unique_views": models.PositiveBigIntegerField(
            _("unique views"), default=0, db_index=True, editable=False
        ),
        "first_viewed_at": models.DateTimeField(
            _("first viewed at"), null=True, blank=True, editable=False
        ),
        "last_viewed_at": models.DateTimeField(
            _("last viewed at"), null=True, blank=True, db_index=True, editable=False
        ),
    }
    for field in fields.values():
        field.djinsight_figure = True  # type: ignore[attr-defined]  # see djinsight.guard
    return fields


def _has_field(model, name: str) -> bool:
    try:
        model._meta.get_field(name)
    except Exception:
        return False
    return True


def add_stat_fields(sender, **kwargs) -> None:
    meta = getattr(sender, "_meta", None)
    if not is_tracked_model(sender) or meta is None:
        return
    if meta.abstract or meta.proxy or meta.swapped:
        return
    for name, field in _stat_fields().items():
        if not _has_field(sender, name):  # inherited through multi-table inheritance
            sender.add_to_class(name, field)
    guard(sender)  # only the flush writes them


class_prepared.connect(add_stat_fields, dispatch_uid="djinsight.add_stat_fields")


class PageViewLog(models.Model):
    """One row per view. Never the raw IP or the raw session key."""

    # No database constraint or index of its own: the per-row foreign-key check
    # cost a third of the flush's COPY, and djinsight_log_object leads with the
    # column. Deleting a content type still cascades, in Django.
    content_type = models.ForeignKey(
        ContentType, on_delete=models.CASCADE, related_name="+", db_constraint=False, db_index=False
    )
    object_id = models.CharField(max_length=64)
    viewed_at = models.DateTimeField()
    path = models.CharField(max_length=2000, blank=True)
    referrer = models.CharField(max_length=2000, blank=True)
    user_agent = models.CharField(max_length=500, blank=True)
    ip_address = models.GenericIPAddressField(
        _("anonymised IP address"), null=True, blank=True, unpack_ipv4=True
    )
    visitor = models.CharField(_("visitor hash"), max_length=24, blank=True)
    is_unique = models.BooleanField(default=False)
    referrer_domain = models.CharField(max_length=255, blank=True)
    browser = models.CharField(max_length=64, blank=True)
    os = models.CharField(_("operating system"), max_length=64, blank=True)
    device = models.CharField(max_length=64, blank=True)

    class Meta:
        app_label = "djinsight"
        verbose_name = _("page view")
        verbose_name_plural = _("page view log")
        indexes = [
            models.Index(
                fields=["content_type", "object_id", "viewed_at"], name="djinsight_log_object"
            ),
            TimeIndex(fields=["viewed_at"], name="djinsight_log_time"),
        ]

    def __str__(self) -> str:
        return f"{self.content_type_id}:{self.object_id} at {self.viewed_at:%Y-%m-%d %H:%M}"


class PageViewSummary(models.Model):
    """Views of one object on one day (the site's TIME_ZONE)."""

    content_type = models.ForeignKey(ContentType, on_delete=models.CASCADE, related_name="+")
    object_id = models.CharField(max_length=64)
    date = models.DateField(db_index=True)
    total_views = models.PositiveBigIntegerField(default=0)
    unique_views = models.PositiveBigIntegerField(default=0)

    class Meta:
        app_label = "djinsight"
        verbose_name = _("daily summary")
        verbose_name_plural = _("daily summaries")
        constraints = [
            models.UniqueConstraint(
                fields=["content_type", "object_id", "date"], name="djinsight_summary_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.content_type_id}:{self.object_id} on {self.date}: {self.total_views}"


class PageViewDailyTotal(models.Model):
    """Views of one content type on one day: the daily summaries added up.

    Written by the same flush transaction as the summaries, so it always equals
    their sum; site-wide totals and time series read a row per day from here
    instead of a row per object per day.
    """

    content_type = models.ForeignKey(ContentType, on_delete=models.CASCADE, related_name="+")
    date = models.DateField(db_index=True)
    total_views = models.PositiveBigIntegerField(default=0)
    unique_views = models.PositiveBigIntegerField(default=0)

    class Meta:
        app_label = "djinsight"
        verbose_name = _("daily total")
        verbose_name_plural = _("daily totals")
        constraints = [
            models.UniqueConstraint(
                fields=["content_type", "date"], name="djinsight_daily_total_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.content_type_id} on {self.date}: {self.total_views}"


class PageViewDimensionTotal(models.Model):
    """Views on one day (site time) of one value of a raw-log dimension.

    Dimensions: the referrer domain, path, browser, OS and device of the raw
    logs, and the hour of day ("00"–"23"). Written by the flush with the raw
    logs, so the dashboard's log panels read a row per value per day instead
    of every view; kept when old raw logs are cleaned up.
    """

    LOG_DIMENSIONS = ("referrer_domain", "path", "browser", "os", "device")  # PageViewLog columns

    date = models.DateField()
    dimension = models.CharField(max_length=16)
    value = models.CharField(max_length=255)
    views = models.PositiveBigIntegerField(default=0)

    class Meta:
        app_label = "djinsight"
        verbose_name = _("daily dimension total")
        verbose_name_plural = _("daily dimension totals")
        constraints = [
            models.UniqueConstraint(
                fields=["dimension", "date", "value"], name="djinsight_dimension_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.dimension}={self.value} on {self.date}: {self.views}"


class PageViewWeeklySummary(models.Model):
    """Views of one object in one week (``week`` is its Monday): the daily summaries added up.

    Written by the same flush transaction as the daily summaries, so it always
    equals their sum; per-object reports over a range read whole weeks from
    here and only the days at either end from the daily summaries.
    """

    content_type = models.ForeignKey(ContentType, on_delete=models.CASCADE, related_name="+")
    object_id = models.CharField(max_length=64)
    week = models.DateField(db_index=True)
    total_views = models.PositiveBigIntegerField(default=0)
    unique_views = models.PositiveBigIntegerField(default=0)

    class Meta:
        app_label = "djinsight"
        verbose_name = _("weekly summary")
        verbose_name_plural = _("weekly summaries")
        constraints = [
            models.UniqueConstraint(
                fields=["content_type", "object_id", "week"], name="djinsight_weekly_summary_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.content_type_id}:{self.object_id} in week of {self.week}: {self.total_views}"

    week_of = staticmethod(week_start)  # the Monday of a day's week (djinsight.rules)


class FlushLedger(models.Model):
    """Per buffer shard: the last stream id applied to the database."""

    shard = models.PositiveIntegerField(primary_key=True)
    watermark = models.CharField(max_length=48, default="0-0")
    applied_views = models.PositiveBigIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        app_label = "djinsight"
        verbose_name = _("flush ledger entry")
        verbose_name_plural = _("flush ledger")

    def __str__(self) -> str:
        return f"shard {self.shard} at {self.watermark}"


class ApiToken(models.Model):
    """A bearer token for the REST API. Only a SHA-256 of the token is stored;
    the token itself is shown once, when it is created in the admin.

    Also holds the ``djinsight.view_analytics`` permission that the dashboard,
    the API (for session users) and exports require.
    """

    name = models.CharField(_("name"), max_length=100)
    prefix = models.CharField(_("prefix"), max_length=12, editable=False)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True, editable=False)

    class Meta:
        app_label = "djinsight"
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        permissions = [("view_analytics", _("Can view analytics dashboards, API and exports"))]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @staticmethod
    def hash(token: str) -> str:
        import hashlib

        # tokens are 256-bit random strings, so a fast unsalted hash is enough
        return hashlib.sha256(token.encode()).hexdigest()

    @staticmethod
    def generate_raw() -> str:
        import secrets

        return "dji_" + secrets.token_urlsafe(32)

    @classmethod
    def generate(cls, name: str) -> tuple[ApiToken, str]:
        """Create a token; returns the saved row and the raw token (shown once)."""
        raw = cls.generate_raw()
        token = cls.objects.create(name=name, prefix=raw[:12], key_hash=cls.hash(raw))
        return token, raw


class PageViewBotSummary(models.Model):
    """Views of one object on one day (site time) by one kind of automated client.

    ``kind``: "search", "ai" or "other" (djinsight.rules; tracking/agents.py tells
    them apart). Kept apart from every human figure: written by the same flush
    transaction as the daily summaries, so the two always cover the same views.
    """

    KINDS = BOT_KINDS

    content_type = models.ForeignKey(ContentType, on_delete=models.CASCADE, related_name="+")
    object_id = models.CharField(max_length=64)
    date = models.DateField(db_index=True)
    kind = models.CharField(max_length=8)
    views = models.PositiveBigIntegerField(default=0)

    class Meta:
        app_label = "djinsight"
        verbose_name = _("bot summary")
        verbose_name_plural = _("bot summaries")
        constraints = [
            models.UniqueConstraint(
                fields=["content_type", "object_id", "date", "kind"],
                name="djinsight_bot_summary_unique",
            )
        ]

    def __str__(self) -> str:
        return f"{self.content_type_id}:{self.object_id} on {self.date}, {self.kind}: {self.views}"
