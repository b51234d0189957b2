"""Extension points.

``view_recorded(sender=None, name: ObjectName, unique: bool, request, kind: str)`` is
sent after a view is recorded in Redis; ``kind`` is "human", "search", "ai" or
"other" (a bot's view is never unique). Under the WSGI fast path, ``request`` is a
small object with ``META``, ``COOKIES`` and ``body``, not an HttpRequest.
``views_flushed(sender=None, shard: int, views: int)`` is sent
after a flush batch is committed.
"""

from django.dispatch import Signal

view_recorded = Signal()
views_flushed = Signal()
