"""Signed object references: the only way a browser can name an object."""

from __future__ import annotations

from django.core import signing
from django.core.signals import setting_changed

from djinsight.exceptions import BadReference
from djinsight.rules import tracked_model
from djinsight.store.keys import ObjectName

SALT = "djinsight.object-reference"
MAX_PK_LENGTH = 64
# Verified references: the same few strings come back on every view, and the
# HMAC check was a fifth of the beacon's own CPU (bench/). Only references that
# passed are kept, so forged ones are checked every time.
_verified: dict[str, ObjectName] = {}
_VERIFIED_MAX = 10_000


def _signer() -> signing.Signer:
    return signing.Signer(salt=SALT)


def sign(obj) -> str:
    """A reference to ``obj`` that the browser sends back unchanged."""
    return _signer().sign(str(ObjectName.of(obj)))


def unsign(reference: object) -> ObjectName:
    """The object a reference names; BadReference if forged, malformed or unknown."""
    if not isinstance(reference, str) or not reference or len(reference) > 300:
        raise BadReference("reference must be a non-empty string")
    name = _verified.get(reference)
    if name is None:
        name = _verify(reference)
        if len(_verified) >= _VERIFIED_MAX:
            _verified.clear()
        _verified[reference] = name
    return name


def _verify(reference: str) -> ObjectName:
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


def _forget(*, setting: str, **kwargs) -> None:
    if setting in ("SECRET_KEY", "SECRET_KEY_FALLBACKS", "INSTALLED_APPS"):
        _verified.clear()


setting_changed.connect(_forget, dispatch_uid="djinsight.tracking.references.forget")
