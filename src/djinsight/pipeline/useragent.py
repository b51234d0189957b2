"""Browser, OS and device families from a user agent, parsed at flush time."""

from __future__ import annotations

from functools import lru_cache
from urllib.parse import urlsplit


@lru_cache(maxsize=4096)
def parse_agent(user_agent: str) -> tuple[str, str, str]:
    """(browser, os, device) families; empty strings when ua-parser is not installed."""
    if not user_agent:
        return "", "", ""
    try:
        from ua_parser import parse
    except ImportError:
        return "", "", ""
    result = parse(user_agent)
    return (
        (result.user_agent.family if result.user_agent else "Other")[:64],
        (result.os.family if result.os else "Other")[:64],
        (result.device.family if result.device else "Other")[:64],
    )


def referrer_domain(referrer: str) -> str:
    try:
        host = urlsplit(referrer).hostname or ""
    except ValueError:
        return ""
    return host[:255]
