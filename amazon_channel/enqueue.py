"""Queueing the channel's Celery tasks from its services, by the tasks' names.

tasks.py imports the services its tasks run, so a service that starts a task finds it in
Celery's registry here instead of importing tasks.py: no import runs in a circle. The tasks
are registered when the app is ready (amazon_channel.apps). `delay_on_commit` is what the
services called before: sent once the caller's transaction commits, run inline under
CELERY_TASK_ALWAYS_EAGER.
"""

from celery import current_app
from django.db import transaction

from amazon_channel.stores.schedules import STORE_SYNC_TASK

OUTBOX_DELIVERY_TASK = "amazon_channel.tasks.outbox_deliver"
BUYER_EMAIL_TASK = "amazon_channel.tasks.cancellation_buyer_email"
ORDER_REREAD_TASK = "amazon_channel.tasks.order_reread"


def store_sync_enqueue(*, store_id: int, kind: str) -> None:
    """Queue a sync of the store once the caller's transaction commits."""
    current_app.tasks[STORE_SYNC_TASK].delay_on_commit(store_id=store_id, kind=kind)


def outbox_delivery_enqueue(*, store_id: int) -> None:
    """Queue the delivery of the store's outbox once the caller's transaction commits."""
    current_app.tasks[OUTBOX_DELIVERY_TASK].delay_on_commit(store_id=store_id)


def buyer_email_enqueue(*, cancellation_id: int) -> None:
    """Queue the buyer's e-mail of a confirmed cancellation once the caller's transaction
    commits."""
    current_app.tasks[BUYER_EMAIL_TASK].delay_on_commit(cancellation_id=cancellation_id)


def order_reread_enqueue(*, store_id: int, amazon_order_id: str, countdown: float) -> None:
    """Queue the re-read of one order (getOrder) after `countdown` seconds, once the caller's
    transaction commits."""
    task = current_app.tasks[ORDER_REREAD_TASK]
    transaction.on_commit(
        lambda: task.apply_async(
            kwargs={"store_id": store_id, "amazon_order_id": amazon_order_id},
            countdown=countdown,
        )
    )
