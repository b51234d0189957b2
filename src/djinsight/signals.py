"""Extension points.

``view_recorded(sender=None, name: ObjectName, unique: bool, request)`` is sent
after a view is recorded in Redis (under the WSGI fast path, ``request`` is a
small object with ``META``, ``COOKIES`` and ``body``, not an HttpRequest).
``views_flushed(sender=None, shard: int, views: int)`` is sent
after a flush batch is committed.
"""

from django.dispatch import Signal

view_recorded = Signal()
views_flushed = Signal()
