"""Who sent a view: a human, a search crawler, an AI crawler or another automated client.

Told apart by the User-Agent alone, with the patterns of ``crawler-user-agents``
(the maintained list behind many bot filters: ~1,500 patterns, each tagged, e.g.
``search-engine`` or ``ai-crawler``). A few names of our own sit on top: AI
crawlers the list tags otherwise or lacks, and clients it misses (headless
browsers, HTTP libraries). Empty or absurd User-Agents are automated too. See
docs/analytics.md, "Humans and bots", for the choice of library and its cost.

``classify`` is cached per User-Agent string (a bounded LRU), so the beacon pays
the patterns' cost (~50 µs) once per distinct agent and ~0.1 µs after.
"""

from __future__ import annotations

import re
from functools import cache, lru_cache

from djinsight.rules import AI, HUMAN, OTHER, SEARCH

# Our own, matched before the library's tags (case-sensitive, like its patterns).
# AI first: "Applebot-Extended" also contains the search crawler "Applebot".
OWN_AI = ("Applebot-Extended", "Amazonbot", "meta-externalagent", "GPTBot", "ClaudeBot")
OWN_SEARCH = ("YandexBot", "YandexMobileBot", "Googlebot", "bingbot", "Applebot")
OWN_OTHER = (
    "Headless",  # HeadlessChrome, HeadlessEdg
    "jsdom",
    "Cypress",
    "SlimerJS",
    "PostmanRuntime",
    "undici",
    "libcurl",
    "Java/",
    "Deno/",
    "Ruby",
    "Dart/",
)
LIBRARY_AI_TAG = "ai-crawler"
LIBRARY_SEARCH_TAG = "search-engine"
CACHE_SIZE = 4096  # distinct User-Agents kept (each at most 500 characters: ~2 MB)
SHORTEST_BROWSER = 10  # characters; no browser sends a shorter User-Agent


@cache
def _patterns() -> tuple[re.Pattern, re.Pattern, re.Pattern]:
    """(AI, search, any automated): compiled once, at the first classification (~50 ms)."""
    from crawleruseragents import CRAWLER_USER_AGENTS_DATA as entries

    def tagged(tag: str) -> list[str]:
        return [e["pattern"] for e in entries if tag in e.get("tags", ())]

    def own(names: tuple[str, ...]) -> list[str]:
        return [re.escape(name) for name in names]

    every = [e["pattern"] for e in entries] + own(OWN_AI + OWN_SEARCH + OWN_OTHER)
    return (
        re.compile(_alternation(own(OWN_AI) + tagged(LIBRARY_AI_TAG))),
        re.compile(_alternation(own(OWN_SEARCH) + tagged(LIBRARY_SEARCH_TAG))),
        re.compile(_alternation(every)),
    )


def _alternation(patterns: list[str]) -> str:
    """``a|b|…`` with the patterns that start with a plain character grouped by it.

    Python's regex engine tries every branch at every position; grouped, a
    branch fails at its first character, which makes the search of a browser's
    User-Agent ~12 times faster with the same matches.
    """
    groups: dict[str, list[str]] = {}
    rest = []
    for pattern in patterns:
        if _groupable(pattern):
            groups.setdefault(pattern[0], []).append(pattern[1:])
        else:
            rest.append(pattern)
    grouped = [re.escape(head) + "(?:" + "|".join(tails) + ")" for head, tails in groups.items()]
    return "|".join(grouped + rest)


def _groupable(pattern: str) -> bool:
    """True if ``pattern`` starts with a literal character that a quantifier does not
    follow, and has no top-level ``|`` (so that ``x(?:rest)`` means the same)."""
    if len(pattern) < 2 or not pattern[0].isalnum() or pattern[1] in "*+?{":
        return False
    depth, in_class, i = 0, False, 0
    while i < len(pattern):
        char = pattern[i]
        if char == "\\":
            i += 2
            continue
        if in_class:
            in_class = char != "]"
        elif char == "[":
            in_class = True
        elif char in "()":
            depth += 1 if char == "(" else -1
        elif char == "|" and depth == 0:
            return False
        i += 1
    return True


def absurd(user_agent: str) -> bool:
    """No person's browser: empty, too short, without a letter, or without the
    "(platform; …)" that every browser that runs the tracker sends."""
    text = user_agent.strip()
    return len(text) < SHORTEST_BROWSER or "(" not in text or not any(c.isalpha() for c in text)


@lru_cache(maxsize=CACHE_SIZE)
def classify(user_agent: str) -> str:
    """HUMAN, SEARCH, AI or OTHER for a User-Agent string."""
    ai, search, automated = _patterns()
    if not automated.search(user_agent):
        return OTHER if absurd(user_agent) else HUMAN
    if ai.search(user_agent):  # named crawlers first: "anthropic-ai" alone is absurd too
        return AI
    if search.search(user_agent):
        return SEARCH
    return OTHER
