from django.core.exceptions import ImproperlyConfigured


class DjinsightError(Exception):
    """Base class for djinsight's own errors."""


class ConfigurationError(DjinsightError, ImproperlyConfigured):
    """A DJINSIGHT_* setting or the Redis configuration is wrong."""


class ImproperlyInstalled(DjinsightError, ImportError):
    """An optional dependency is missing; the message names the pip command."""


class BadReference(DjinsightError, ValueError):
    """An object reference is malformed, forged or names no tracked model."""
