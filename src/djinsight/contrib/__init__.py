"""Optional integrations, each behind its extra (``djinsight[wagtail]``)."""
