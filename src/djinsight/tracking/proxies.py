"""Noticing a reverse proxy nobody declared.

Behind a proxy that DJINSIGHT_TRUSTED_PROXIES does not declare, REMOTE_ADDR is the
proxy's, so every visitor shares one network and the inflation budgets would drop
real traffic. The beacon counts, per process, consecutive beacons that carry
X-Forwarded-For from a loopback or private REMOTE_ADDR; at SUSPECT_AFTER of them it
logs a warning once and leaves a mark in Redis that ``manage.py check`` reports
(djinsight.W007). Costs two dictionary reads per beacon once a proxy is declared.
"""

from __future__ import annotations

import contextlib
import ipaddress
import logging
import time
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

import redis

from djinsight.conf import settings
from djinsight.store.client import get_redis
from djinsight.store.keys import PROXY_SUSPECTED_TTL, proxy_suspected

logger = logging.getLogger("djinsight")

SUSPECT_AFTER = 100  # consecutive beacons
_state = {"streak": 0, "warned": False}


def undeclared() -> bool:
    return settings.TRUSTED_PROXIES is None and settings.IP_META_KEY == "REMOTE_ADDR"


def watch(meta: Mapping[str, Any]) -> None:
    if _state["warned"] or not undeclared():
        return
    if "HTTP_X_FORWARDED_FOR" not in meta or not _private(meta.get("REMOTE_ADDR", "")):
        _state["streak"] = 0
        return
    _state["streak"] += 1
    if _state["streak"] >= SUSPECT_AFTER:
        suspect(meta.get("REMOTE_ADDR", ""))


def suspect(remote: str) -> None:
    """Warn, once per process, that a proxy at ``remote`` seems to be undeclared."""
    _state["warned"] = True
    logger.warning(
        "djinsight: the last %d beacons came from %s with X-Forwarded-For, but "
        "DJINSIGHT_TRUSTED_PROXIES is not set: every visitor shares the proxy's address, "
        "so the inflation budgets (DJINSIGHT_RATE_LIMIT) will drop real views. Declare "
        "the proxy (DJINSIGHT_TRUSTED_PROXIES = 1, or its networks). See docs/settings.md.",
        SUSPECT_AFTER,
        remote,
    )
    with contextlib.suppress(redis.RedisError, OSError):  # then only the log line tells
        get_redis().set(proxy_suspected(), f"{int(time.time())} {remote}", ex=PROXY_SUSPECTED_TTL)


def reset() -> None:
    """Forget the streak and the warning (tests)."""
    _state.update(streak=0, warned=False)


@lru_cache(maxsize=64)
def _private(ip: str) -> bool:
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return False
    return address.is_private or address.is_loopback
