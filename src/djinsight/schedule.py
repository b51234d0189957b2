"""Public path of the periodic-task schedule.

Celery settings name ``djinsight.schedule.beat_schedule``.

The code lives in ``djinsight.pipeline.schedule``.
"""

from djinsight.pipeline.schedule import beat_schedule, install_periodic_tasks

__all__ = ["beat_schedule", "install_periodic_tasks"]
