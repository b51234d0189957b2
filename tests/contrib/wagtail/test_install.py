"""One INSTALLED_APPS line; without Wagtail, an error that names the extra to install."""

from __future__ import annotations

import importlib
import sys

import pytest
from django.apps import apps

from djinsight.exceptions import ImproperlyInstalled


def test_the_app_is_installed_by_one_line():
    config = apps.get_app_config("djinsight_wagtail")
    assert config.name == "djinsight.contrib.wagtail"


def test_without_wagtail_the_error_names_the_pip_command(monkeypatch):
    monkeypatch.setitem(sys.modules, "wagtail", None)  # import wagtail -> ImportError
    monkeypatch.delitem(sys.modules, "djinsight.contrib.wagtail")
    with pytest.raises(ImproperlyInstalled, match=r"pip install 'djinsight\[wagtail\]'"):
        importlib.import_module("djinsight.contrib.wagtail")
    with pytest.raises(ImportError):  # still an ImportError, for code that knows nothing of it
        importlib.import_module("djinsight.contrib.wagtail")
