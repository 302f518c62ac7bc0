"""Names of the per-store beat entries. The schedule itself is in settings (CELERY_BEAT_SCHEDULE
and AMAZON_SYNC_INTERVAL_SECONDS); entries live in the database, where ops edit them."""

STORE_SYNC_TASK = "amazon_channel.tasks.store_sync_orders"


def store_sync_task_name(store_id: int) -> str:
    return f"Amazon order sync: store {store_id}"
