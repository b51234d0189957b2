"""The specification's spelling, ``djInsight``, for the package ``djinsight``.

The specification writes the name with a capital I in three places, and each
works through a small hook defined here. The files that Python and Django must
find by name (``src/djInsight.py``, ``templatetags/aliases/djInsight_tags.py``
and ``management/commands/migrate.py``) only call into this module.

1. **Imports.** ``"djInsight"`` in INSTALLED_APPS, ``include("djInsight.urls")``
   and ``from djInsight.models import ...`` resolve to the very module objects
   of ``djinsight``: ``djInsight.py`` installs :class:`AliasFinder`. It is a
   module file, not a second package folder, so nothing collides on a
   case-insensitive file system.
2. **The tag library.** ``{% load djInsight_tags %}`` loads ``djinsight_tags``.
   Django finds tag libraries by walking the ``templatetags`` package, so a
   module of that name must exist; it sits in ``templatetags/aliases/`` (added
   to the package's path) for the same case-insensitivity reason.
3. **``manage.py migrate djInsight``.** Django takes a command from the first
   installed app that provides one, so a ``migrate`` command in djinsight could
   hide another app's own ``migrate`` (django-tenants, for one, ships such a
   command). djinsight's ``migrate`` is therefore built on the command that
   would run without it (:func:`next_migrate_command`) and only maps the label
   ``djInsight`` to ``djinsight`` before handing over. Listed before another
   app that overrides ``migrate``, djinsight keeps that app's behaviour; listed
   after it, the other app's command runs and ``migrate djInsight`` is an
   unknown label there (``migrate djinsight`` always works).
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import os
import sys
from typing import Any

ALIAS, TARGET = "djInsight", "djinsight"
LABELS = {ALIAS: TARGET}


class AliasLoader(importlib.abc.Loader):
    """Loads ``djInsight.x`` as the already-importable ``djinsight.x``."""

    def __init__(self, target: str) -> None:
        self.target = target

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> Any:
        module = importlib.import_module(self.target)
        self.original_spec = module.__spec__
        return module

    def exec_module(self, module: Any) -> None:
        # the import system stamped the alias spec on the real module; put its own back
        module.__spec__ = self.original_spec


class AliasFinder(importlib.abc.MetaPathFinder):
    """Finds ``djInsight.<name>`` wherever ``djinsight.<name>`` exists."""

    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> Any:
        if not fullname.startswith(ALIAS + "."):
            return None
        real = TARGET + fullname[len(ALIAS) :]
        if importlib.util.find_spec(real) is None:
            return None
        return importlib.machinery.ModuleSpec(fullname, AliasLoader(real))


def install_import_alias() -> None:
    """Make ``djInsight.*`` importable (idempotent)."""
    if not any(isinstance(finder, AliasFinder) for finder in sys.meta_path):
        sys.meta_path.insert(0, AliasFinder())


def tag_library() -> Any:
    """The ``djinsight_tags`` library, for ``{% load djInsight_tags %}``."""
    from djinsight.templatetags.djinsight_tags import register

    return register


def next_migrate_command() -> type:
    """The ``migrate`` command class Django would run if djinsight provided none.

    Django lets the first app in INSTALLED_APPS that has a command win, so when
    djinsight's wins, the one it displaced is the first other app that has one,
    or else Django's own.
    """
    from django.apps import apps
    from django.core.management import find_commands, load_command_class

    if apps.ready:
        for config in apps.get_app_configs():
            if config.name == TARGET:
                continue
            if "migrate" in find_commands(os.path.join(config.path, "management")):
                return type(load_command_class(config.name, "migrate"))
    from django.core.management.commands.migrate import Command

    return Command


def migrate_command() -> type:
    """``migrate`` that also accepts the label ``djInsight`` (see :func:`next_migrate_command`)."""
    base = next_migrate_command()

    class Command(base):  # type: ignore[misc, valid-type]
        def handle(self, *args: Any, **options: Any) -> Any:
            label = options.get("app_label")
            if label in LABELS:
                options["app_label"] = LABELS[label]
            return super().handle(*args, **options)

    Command.__module__ = "djinsight.management.commands.migrate"
    return Command
