"""The specification's capitalised spelling: ``djInsight`` is ``djinsight``.

``'djInsight'`` in INSTALLED_APPS, ``include('djInsight.urls')`` and
``from djInsight.models import ...`` all resolve to the lowercase package's
modules (the very same module objects). A single module file rather than a
second package folder, so nothing collides on case-insensitive file systems.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import sys

from djinsight import *  # noqa: F403
from djinsight import __version__  # noqa: F401

_ALIAS, _TARGET = "djInsight", "djinsight"

__path__: list[str] = []  # makes this module a package, so submodules can be imported


class _AliasLoader(importlib.abc.Loader):
    def __init__(self, target: str) -> None:
        self.target = target

    def create_module(self, spec):
        module = importlib.import_module(self.target)
        self.original_spec = module.__spec__
        return module

    def exec_module(self, module) -> None:
        # the import system stamped the alias spec on the real module; put its own back
        module.__spec__ = self.original_spec


class _AliasFinder(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname, path=None, target=None):
        if not fullname.startswith(_ALIAS + "."):
            return None
        real = _TARGET + fullname[len(_ALIAS) :]
        if importlib.util.find_spec(real) is None:
            return None
        return importlib.machinery.ModuleSpec(fullname, _AliasLoader(real))


if not any(isinstance(finder, _AliasFinder) for finder in sys.meta_path):
    sys.meta_path.insert(0, _AliasFinder())
