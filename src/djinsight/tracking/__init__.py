"""Recording a view.

Visitor identity, signed object references, the beacon view and the WSGI fast path.

A view enters djinsight here, and leaves for Redis through ``djinsight.store``.
"""
