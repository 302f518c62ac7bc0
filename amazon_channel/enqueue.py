"""Queueing the channel's Celery tasks from its services, by the tasks' names.

tasks.py imports the services its tasks run, so a service that starts a task finds it in
Celery's registry here instead of importing tasks.py: no import runs in a circle. The tasks
are registered when the app is ready (amazon_channel.apps). `delay_on_commit` is what the
services called before: sent once the caller's transaction commits, run inline under
CELERY_TASK_ALWAYS_EAGER.
"""

from celery import current_app
from django.conf import settings
from django.db import transaction

from amazon_channel.stores.schedules import STORE_SYNC_TASK

OUTBOX_DELIVERY_TASK = "amazon_channel.tasks.outbox_deliver"
BUYER_EMAIL_TASK = "amazon_channel.tasks.cancellation_buyer_email"
NOTIFICATION_HANDLE_TASK = "amazon_channel.tasks.notification_handle"
NOTIFICATIONS_SUBSCRIBE_TASK = "amazon_channel.tasks.store_notifications_subscribe"
NOTIFICATIONS_UNSUBSCRIBE_TASK = "amazon_channel.tasks.store_notifications_unsubscribe"
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


def notification_handle_enqueue(*, notification_pk: int) -> None:
    """Hand a recorded Amazon notification's work to Celery once the caller's transaction
    commits. A broker that refuses raises out of the caller's atomic block, after the commit."""
    current_app.tasks[NOTIFICATION_HANDLE_TASK].delay_on_commit(notification_pk=notification_pk)


def store_notifications_subscribe_enqueue(*, store_id: int) -> None:
    """Queue the subscription of the store's seller to Amazon's notifications once the caller's
    transaction commits (amazon_channel/notifications/setup.py; nothing is queued while the
    notifications queue is not configured)."""
    if settings.AMAZON_NOTIFICATIONS_QUEUE_URL:
        current_app.tasks[NOTIFICATIONS_SUBSCRIBE_TASK].delay_on_commit(store_id=store_id)


def store_notifications_unsubscribe_enqueue(*, store_id: int) -> None:
    """Queue the removal of the store's seller's subscriptions once the caller's transaction
    commits (kept while another active store of the seller uses them)."""
    current_app.tasks[NOTIFICATIONS_UNSUBSCRIBE_TASK].delay_on_commit(store_id=store_id)


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
