"""Redis to the database.

The flush, its SQL writes, raw log rows, rollup rebuilds, cleanup and the schedule.
"""
