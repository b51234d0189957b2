"""Redis to the database: the flush, its SQL writes, raw log rows, rollup rebuilds, cleanup and the schedule."""
