"""Every DJINSIGHT_* setting, cached until setting_changed, so override_settings works."""

from __future__ import annotations

from typing import Any

from django.conf import settings as django_settings
from django.core.signals import setting_changed

DEFAULTS: dict[str, Any] = {
    "ENABLE_TRACKING": True,
    "REDIS_KEY_PREFIX": "djinsight:",
    "CLEANUP_DAYS": 90,
    "BATCH_SIZE": 1000,
    "REDIS_TIMEOUT": 5,
    "REDIS_EXPIRATION": 60 * 60 * 24 * 7,
    # Not in the specification; documented in docs/settings.md.
    "REDIS_URL": None,
    "REDIS_CACHE_ALIAS": "default",
    "REDIS_CLUSTER": False,
    "BUFFER_SHARDS": 4,
    "STORE_RAW_LOGS": True,
    "RESPECT_DNT": False,
    "RESPECT_GPC": True,
    "IP_META_KEY": "REMOTE_ADDR",  # deprecated: DJINSIGHT_TRUSTED_PROXIES (check W006)
    "TRUSTED_PROXIES": None,
    "ALLOWED_ORIGINS": (),
    "RATE_LIMIT": {"views": 30, "visitors": 60},
    "MAX_BODY_BYTES": 4096,
    "FLUSH_INTERVAL": 60,
    "UNIQUE_EXACT_LIMIT": 1000,
    "READ_TIMEOUT": 0.25,
    "COUNT_BOTS": True,
    "SKIP_EDITORS": False,
}


class Settings:
    """Typed access to DJINSIGHT_* settings with their defaults."""

    def __init__(self) -> None:
        # The beacon reads a dozen settings per view; each miss on Django's settings raises.
        self._cache: dict[str, Any] = {}

    def _get(self, name: str) -> Any:
        try:
            return self._cache[name]
        except KeyError:
            value = getattr(django_settings, "DJINSIGHT_" + name, DEFAULTS[name])
            self._cache[name] = value
            return value

    @property
    def ENABLE_TRACKING(self) -> bool:
        return self._get("ENABLE_TRACKING")

    @property
    def REDIS_KEY_PREFIX(self) -> str:
        return self._get("REDIS_KEY_PREFIX")

    @property
    def CLEANUP_DAYS(self) -> int:
        return self._get("CLEANUP_DAYS")

    @property
    def BATCH_SIZE(self) -> int:
        return self._get("BATCH_SIZE")

    @property
    def REDIS_TIMEOUT(self) -> float:
        return self._get("REDIS_TIMEOUT")

    @property
    def REDIS_EXPIRATION(self) -> int:
        return self._get("REDIS_EXPIRATION")

    @property
    def REDIS_URL(self) -> str | None:
        return self._get("REDIS_URL")

    @property
    def REDIS_CACHE_ALIAS(self) -> str:
        return self._get("REDIS_CACHE_ALIAS")

    @property
    def REDIS_CLUSTER(self) -> bool:
        return self._get("REDIS_CLUSTER")

    @property
    def BUFFER_SHARDS(self) -> int:
        return self._get("BUFFER_SHARDS")

    @property
    def STORE_RAW_LOGS(self) -> bool:
        return self._get("STORE_RAW_LOGS")

    @property
    def RESPECT_DNT(self) -> bool:
        return self._get("RESPECT_DNT")

    @property
    def RESPECT_GPC(self) -> bool:
        return self._get("RESPECT_GPC")

    @property
    def IP_META_KEY(self) -> str:
        return self._get("IP_META_KEY")

    @property
    def IP_META_KEY_SET(self) -> bool:
        """Whether the project sets the deprecated DJINSIGHT_IP_META_KEY itself."""
        return hasattr(django_settings, "DJINSIGHT_IP_META_KEY")

    @property
    def TRUSTED_PROXIES(self) -> int | list[str] | None:
        """None: not declared (then REMOTE_ADDR is the client, as with 0)."""
        return self._get("TRUSTED_PROXIES")

    @property
    def ALLOWED_ORIGINS(self) -> list[str] | tuple[str, ...]:
        return self._get("ALLOWED_ORIGINS")

    @property
    def RATE_LIMIT(self) -> dict[str, int | None] | int | None:
        return self._get("RATE_LIMIT")

    @property
    def BUDGETS(self) -> tuple[int, int]:
        """(views per network, object and minute; new visitors per network and minute),
        0 for a budget that is off; from DJINSIGHT_RATE_LIMIT."""
        try:
            return self._cache["BUDGETS"]
        except KeyError:
            value = self._cache["BUDGETS"] = budgets(self.RATE_LIMIT)
            return value

    @property
    def MAX_BODY_BYTES(self) -> int:
        return self._get("MAX_BODY_BYTES")

    @property
    def FLUSH_INTERVAL(self) -> int:
        return self._get("FLUSH_INTERVAL")

    @property
    def UNIQUE_EXACT_LIMIT(self) -> int:
        return self._get("UNIQUE_EXACT_LIMIT")

    @property
    def READ_TIMEOUT(self) -> float:
        return self._get("READ_TIMEOUT")

    @property
    def COUNT_BOTS(self) -> bool:
        return self._get("COUNT_BOTS")

    @property
    def SKIP_EDITORS(self) -> bool:
        return self._get("SKIP_EDITORS")


def budgets(limit: Any) -> tuple[int, int]:
    """DJINSIGHT_RATE_LIMIT as (views, visitors), 0 meaning off: None turns both off, an
    int N is short for {"views": N}, missing keys take the defaults."""
    if limit is None:
        return 0, 0
    if isinstance(limit, int):
        limit = {"views": limit}
    if not isinstance(limit, dict):
        return 0, 0  # check E018 reports it
    merged = {**DEFAULTS["RATE_LIMIT"], **limit}
    return merged["views"] or 0, merged["visitors"] or 0


settings = Settings()


def _forget(*, setting: str, **kwargs: Any) -> None:
    if setting.startswith("DJINSIGHT_"):
        settings._cache.clear()


setting_changed.connect(_forget)
