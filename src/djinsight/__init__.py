"""djinsight: real-time page-view analytics for any Django model."""

__version__ = "0.1.0"
