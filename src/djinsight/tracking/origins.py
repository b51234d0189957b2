"""Beacons from other sites are refused (403 ``cross_site``).

A browser says where a request comes from: ``Sec-Fetch-Site`` (every current
browser) and ``Origin``. Another site's page could otherwise post views of your
objects from its visitors' browsers. ``same-origin``, ``same-site`` and ``none``
pass; without ``Sec-Fetch-Site``, an ``Origin`` whose host is not the request's
own is cross-site. DJINSIGHT_ALLOWED_ORIGINS lists the sites that may send beacons
anyway (host patterns as in ALLOWED_HOSTS: ``"blog.example.com"``, ``".example.com"``).
A client that is no browser can omit both headers: the inflation budgets cap it.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from django.conf import settings as django_settings
from django.http.request import validate_host

from djinsight.conf import settings
from djinsight.exceptions import CrossSite
from djinsight.tracking.identity import host_name


def check_origin(meta: Mapping[str, Any]) -> None:
    """Raise CrossSite if the browser says another site sent this beacon."""
    origin = meta.get("HTTP_ORIGIN") or ""
    fetch_site = meta.get("HTTP_SEC_FETCH_SITE")
    if fetch_site is not None:
        if fetch_site != "cross-site":
            return
    elif not origin or origin == "null" or origin_host(origin) == host_name(_own_host(meta)):
        return
    if origin and origin != "null" and _allowed(origin_host(origin), _patterns()):
        return
    raise CrossSite(
        message=f"beacons from {origin or 'another site'!r} are not accepted; "
        "list the site in DJINSIGHT_ALLOWED_ORIGINS to accept them"
    )


def origin_host(origin: str) -> str:
    """'https://Blog.Example.com:8443' -> 'blog.example.com'."""
    return host_name(origin.partition("://")[2] or origin)


def _own_host(meta: Mapping[str, Any]) -> str:
    if django_settings.USE_X_FORWARDED_HOST and "HTTP_X_FORWARDED_HOST" in meta:
        return meta["HTTP_X_FORWARDED_HOST"].split(",")[-1].strip()
    return meta.get("HTTP_HOST") or meta.get("SERVER_NAME", "")


def _patterns() -> tuple[str, ...]:
    allowed = settings.ALLOWED_ORIGINS
    return tuple(allowed) if isinstance(allowed, (list, tuple)) else ()


@lru_cache(maxsize=256)
def _allowed(host: str, patterns: tuple[str, ...]) -> bool:
    # entries may be written as origins ("https://blog.example.com"): keep their host
    hosts = [p if p.startswith(".") or p == "*" else origin_host(p) for p in patterns]
    return bool(host) and validate_host(host, hosts)
