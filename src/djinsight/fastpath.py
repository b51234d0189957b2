"""Public path of the WSGI fast path (``djinsight.fastpath.BeaconMiddleware`` in your ``wsgi.py``).

The code lives in ``djinsight.tracking.fastpath``.
"""

from djinsight.tracking.fastpath import BeaconMiddleware

__all__ = ["BeaconMiddleware"]
