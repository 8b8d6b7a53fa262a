"""The monthly run: the batch, the backfill, --check, the run lock, sending after the batch.

May import every utils package below it (core, services, delivery, reporting, sources) and utils.monthly.
"""
