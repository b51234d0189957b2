"""Django's ``migrate`` (or the one another app provides), also accepting ``djInsight``.

Why this exists and why it cannot hide another app's ``migrate``: ``djinsight.spelling``.
"""

from djinsight.spelling import migrate_command

Command = migrate_command()
