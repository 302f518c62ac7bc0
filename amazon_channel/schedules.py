"""The Celery beat schedule, in one place. Entries live in the database (django-celery-beat), so
ops edit intervals in Django admin; these are the defaults the services create."""

from datetime import timedelta

# The Commerce channel's cron cadence.
STORE_SYNC_INTERVAL = timedelta(minutes=5)
STORE_SYNC_TASK = "amazon_channel.tasks.store_sync_orders"


def store_sync_task_name(store_id: int) -> str:
    return f"Amazon order sync: store {store_id}"
