"""Fill djinsight's Redis buffer fast: pipelined EVALSHA of the record script.

Each view is an EVALSHA of the beacon's own record script with the keys and
arguments of ``djinsight.store.scripts.record_call`` (checked on the first view),
so the buffer holds exactly what real traffic would leave there.
"""

from __future__ import annotations

import random
import time
from dataclasses import replace
from datetime import timedelta

from django.utils import timezone

from djinsight.conf import settings
from djinsight.store import buffer, scripts
from djinsight.store.client import get_redis, scripts_for
from djinsight.store.keys import STATS_DAYS, ObjectName, day_key, keys_for, parse_day

AGENTS = [
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0 Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:125.0) Gecko/20100101 Firefox/125.0",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.4 Safari/605.1.15",
]
REFERRERS = ["", "https://www.google.com/", "https://news.ycombinator.com/item?id=1", ""]


def load_views(
    label: str,
    pks: list[int],
    views: int,
    seed: int = 1,
    pipeline: int = 2000,
    deadline: float = 600,
) -> dict:
    """Record ``views`` views of objects ``pks``; 20% repeat a recent (visitor, object) pair.

    Keys and arguments are exactly those of ``scripts.record_call`` (checked on the
    first view), computed once per object rather than once per view, so the
    loader spends its time in Redis rather than in settings look-ups.
    """
    rng = random.Random(seed)
    client = get_redis()
    record = scripts_for(client).record
    pipe = client.pipeline(transaction=False)
    now = timezone.now()
    start_ms = int((now - timedelta(minutes=30)).timestamp() * 1000)
    day = timezone.localdate(now)
    day_text = day_key(day)
    prune = day_key(day - timedelta(days=STATS_DAYS))
    expiration = settings.REDIS_EXPIRATION
    exact_limit = settings.UNIQUE_EXACT_LIMIT
    objects = []
    for pk in pks:
        name = ObjectName(label, str(pk))
        keys = keys_for(name)
        objects.append(
            (
                name,
                str(name),
                keys,
                [
                    keys.counter(name),
                    keys.unique_counter(name),
                    "",
                    keys.stats(name),
                    keys.stream,
                    keys.pending,
                    keys.objects,
                    keys.deleted(name),
                    keys.day_visitors(name, day_text),
                    keys.day_claimed(name, day_text),
                ],
            )
        )
    recent: list[tuple[str, int, int]] = []
    fresh = 0
    started = time.monotonic()
    for i in range(views):
        if recent and rng.random() < 0.2:
            visitor, index, n = recent[rng.randrange(len(recent))]
        else:
            fresh += 1
            n = fresh
            visitor, index = f"c{fresh:019x}", rng.randrange(len(objects))
            if len(recent) < 1000:
                recent.append((visitor, index, n))
            else:
                recent[n % 1000] = (visitor, index, n)
        name, text, keys, script_keys = objects[index]
        script_keys = script_keys.copy()
        script_keys[2] = keys.session(visitor, name)
        args = [
            text,
            visitor,
            start_ms + i % 1_800_000,
            day_text,
            expiration,
            f"/items/{name.pk}/",
            REFERRERS[n % len(REFERRERS)],
            AGENTS[n % len(AGENTS)],
            f"10.{n // 65536 % 256}.{n // 256 % 256}.0",
            prune,
            exact_limit,
        ]
        if i == 0:
            _check_same_as_record_call(name, script_keys, args)
        record(keys=script_keys, args=args, client=pipe)
        if len(pipe) >= pipeline:
            pipe.execute()
            if time.monotonic() - started > deadline:
                views = i + 1  # time budget spent: report what was loaded
                break
    if len(pipe):
        pipe.execute()
    return {"views": views, "seconds": time.monotonic() - started, "fresh_visitors": fresh}


def load_distinct_visitors(label: str, pk: int, visitors: int, pipeline: int = 2000) -> dict:
    """One view each by ``visitors`` new visitors of one object today, as a client inventing
    visitors (a new cookie or user agent per request) would send them.

    The stream is emptied after each batch, so Redis keeps what outlives a flush (marks,
    the day's visitor estimate) and not the buffered views. Keys and arguments are those of
    ``scripts.record_call`` with the visitor swapped in (checked on the first view).
    """
    client = get_redis()
    record = scripts_for(client).record
    name = ObjectName(label, str(pk))
    keys = keys_for(name)
    now = timezone.now()
    template = buffer.View(
        name=name,
        visitor="",
        timestamp_ms=int(now.timestamp() * 1000),
        day=timezone.localdate(now),
        path=f"/items/{pk}/",
        user_agent=AGENTS[0],
    )
    template_keys, template_args = scripts.record_call(template)
    pipe = client.pipeline(transaction=False)
    started = time.monotonic()
    for i in range(visitors):
        visitor = f"i{i:019x}"
        script_keys, args = template_keys.copy(), template_args.copy()
        script_keys[2], args[1] = keys.session(visitor, name), visitor
        if i == 0 and (script_keys, args) != scripts.record_call(
            replace(template, visitor=visitor)
        ):
            raise RuntimeError("bench/load.py is out of date with scripts.record_call")
        record(keys=script_keys, args=args, client=pipe)
        if len(pipe) >= pipeline:
            pipe.delete(keys.stream)
            pipe.execute()
    pipe.delete(keys.stream)
    pipe.execute()
    return {"visitors": visitors, "seconds": time.monotonic() - started}


def _check_same_as_record_call(name, script_keys, args) -> None:
    """Fail loudly if scripts.record_call changed and this loader did not."""
    view = buffer.View(
        name=name,
        visitor=args[1],
        timestamp_ms=args[2],
        day=parse_day(args[3]),
        path=args[5],
        referrer=args[6],
        user_agent=args[7],
        ip=args[8],
    )
    expected = scripts.record_call(view)
    if expected != (script_keys, args):
        raise RuntimeError(
            f"bench/load.py is out of date with scripts.record_call: {expected} "
            f"!= {(script_keys, args)}"
        )
