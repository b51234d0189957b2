"""Signed object references: the only way a browser can name an object."""

from __future__ import annotations

from django.apps import apps
from django.core import signing

from .exceptions import BadReference
from .keys import ObjectName

SALT = "djinsight.object-reference"
MAX_PK_LENGTH = 64


def _signer() -> signing.Signer:
    return signing.Signer(salt=SALT)


def sign(obj) -> str:
    """A reference to ``obj`` that the browser sends back unchanged."""
    return _signer().sign(str(ObjectName.of(obj)))


def unsign(reference: object) -> ObjectName:
    """The object a reference names; BadReference if forged, malformed or unknown."""
    if not isinstance(reference, str) or not reference or len(reference) > 300:
        raise BadReference("reference must be a non-empty string")
    try:
        value = _signer().unsign(reference)
    except signing.BadSignature:
        raise BadReference("reference signature is invalid") from None
    try:
        name = ObjectName.parse(value)
    except ValueError:
        raise BadReference("reference is malformed") from None
    if len(name.pk) > MAX_PK_LENGTH or tracked_model(name.label) is None:
        raise BadReference("reference names no tracked model")
    return name


def tracked_model(label: str):
    """The model class for ``app_label.model_name`` if it uses the mixin, else None."""
    from .models import PageViewStatisticsMixin

    try:
        model = apps.get_model(label)
    except (LookupError, ValueError):
        return None
    return model if issubclass(model, PageViewStatisticsMixin) else None
