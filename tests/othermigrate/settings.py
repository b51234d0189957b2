"""tests.settings plus an app that overrides ``migrate``, before or after djinsight.

OTHER_MIGRATE_POSITION: "before" or "after" djinsight in INSTALLED_APPS.
"""

import os

from tests.settings import *  # noqa: F403
from tests.settings import INSTALLED_APPS as BASE_APPS

_at = BASE_APPS.index("djInsight") + (os.environ["OTHER_MIGRATE_POSITION"] == "after")
INSTALLED_APPS = [*BASE_APPS[:_at], "tests.othermigrate", *BASE_APPS[_at:]]
