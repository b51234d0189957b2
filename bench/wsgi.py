"""WSGI entry point gunicorn serves in the record and live benchmarks.

With BENCH_FASTPATH=1, requests whose query string is exactly ``fast`` go
through ``djinsight.fastpath.BeaconMiddleware``; all others go straight to
Django. One server thus measures the floor, the plain endpoint and the fast
path, byte-for-byte alike but for the query string.
"""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
django_application = get_wsgi_application()
application = django_application

if os.environ.get("BENCH_FASTPATH") == "1":
    from djinsight.fastpath import BeaconMiddleware

    fast_application = BeaconMiddleware(django_application)

    def application(environ, start_response):
        if environ.get("QUERY_STRING") == "fast":
            return fast_application(environ, start_response)
        return django_application(environ, start_response)
