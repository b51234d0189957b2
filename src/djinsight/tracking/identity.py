"""Who is viewing, without storing who they are.

A visitor is a salted hash: of the session cookie together with the client's
network (its /24 or /48) when the browser has one, else of IP address + user
agent + host (without its port) with a salt that rotates daily, so cookieless
visitors cannot be followed across days. A cookie the client invents is thus a
new visitor only within its own network, where the inflation budgets (record.lua)
cap new visitors. Raw IPs never leave this module; only anonymised ones (the
network: last octet / last 80 bits zeroed) are kept.

The client's address is REMOTE_ADDR unless DJINSIGHT_TRUSTED_PROXIES declares the
proxies in front of the site: then it is the right-most X-Forwarded-For address
not added by one of them. An address that does not parse is unknown, never stored.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
from datetime import date
from functools import lru_cache

from django.conf import settings as django_settings

from djinsight.conf import settings

FORWARDED_FOR = "HTTP_X_FORWARDED_FOR"
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@lru_cache(maxsize=64)
def _key(purpose: str, secret: str) -> bytes:
    return hashlib.sha256(f"djinsight:{purpose}:{secret}".encode()).digest()


def _digest(purpose: str, value: str) -> str:
    key = _key(purpose, django_settings.SECRET_KEY)
    return hmac.digest(key, value.encode(), "sha256").hex()[:20]


def client_ip(request) -> str:
    """The client's address as the request says it, or '' if unknown (or malformed)."""
    meta = request.META
    proxies = settings.TRUSTED_PROXIES
    if proxies is None and settings.IP_META_KEY != "REMOTE_ADDR":
        # deprecated DJINSIGHT_IP_META_KEY: its right-most entry, which the proxy wrote
        return _valid(_entries(meta.get(settings.IP_META_KEY))[-1:])
    remote = meta.get("REMOTE_ADDR", "") or ""
    if not proxies:  # None (undeclared), 0 or []: no proxy, REMOTE_ADDR is the client
        return _valid([remote])
    chain = [*_entries(meta.get(FORWARDED_FOR)), remote]
    if isinstance(proxies, int):
        # each proxy appends the address it got the request from; the last one is REMOTE_ADDR
        return _valid(chain[-(proxies + 1) :][:1])
    return _right_most_untrusted(chain, _networks(tuple(proxies)))


def _entries(value: str | None) -> list[str]:
    return [part.strip() for part in value.split(",")] if value else []


def _valid(found: list[str]) -> str:
    ip = found[0] if found else ""
    return ip if anonymise_ip(ip) is not None else ""


def _right_most_untrusted(chain: list[str], trusted: tuple[Network, ...]) -> str:
    for entry in reversed(chain):
        hop = _trusted(entry, trusted)
        if hop is None:
            return ""  # nothing left of a malformed entry can be trusted
        if not hop:
            return entry
    return _valid(chain[:1])  # every hop is a trusted proxy: the farthest one


@lru_cache(maxsize=1024)  # the proxies' own addresses come back on every beacon
def _trusted(entry: str, trusted: tuple[Network, ...]) -> bool | None:
    """Whether ``entry`` is in a trusted network; None if it is no address."""
    try:
        address = ipaddress.ip_address(entry)
    except ValueError:
        return None
    return any(address in network for network in trusted)


@lru_cache(maxsize=8)
def _networks(proxies: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(p, strict=False) for p in proxies)


def anonymise_ip(ip: str) -> str | None:
    """The address's network (/24 or /48) as an address, or None if ``ip`` is malformed."""
    masked = _masked_ipv4(ip)
    if masked is not None:
        return masked
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return None
    host_bits = 8 if address.version == 4 else 80  # keep the /24 or the /48
    return str(type(address)(int(address) >> host_bits << host_bits))


def _masked_ipv4(ip: str) -> str | None:
    """The common case without ``ipaddress`` (a tenth of the beacon's CPU); None if not
    a dotted-quad IPv4 address as ``ipaddress`` accepts it (which then decides)."""
    parts = ip.split(".")
    if len(parts) != 4:
        return None
    for part in parts:
        if (
            not (part.isascii() and part.isdigit())
            or len(part) > 3
            or (part[0] == "0" and part != "0")
        ):
            return None
        if int(part) > 255:
            return None
    return f"{parts[0]}.{parts[1]}.{parts[2]}.0"


def host_name(host: str) -> str:
    """A Host header without its port, lower-cased ('[::1]:8000' -> '[::1]')."""
    if not host.endswith("]") and ":" in host:
        host = host.rpartition(":")[0]
    return host.lower()


def visitor_hash(request, today: date, ip: str, network: str) -> str:
    """The visitor from ``ip`` (``client_ip``) and ``network`` (``anonymise_ip``), '' if unknown."""
    cookie = request.COOKIES.get(django_settings.SESSION_COOKIE_NAME)
    if cookie:
        return "s" + _digest("session", f"{cookie}|{network}")
    user_agent = request.META.get("HTTP_USER_AGENT", "")
    host = host_name(request.META.get("HTTP_HOST", ""))
    return "c" + _digest(f"daily:{today.isoformat()}", f"{ip}|{user_agent}|{host}")
