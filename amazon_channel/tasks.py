"""Celery tasks: thin and idempotent, taking ids. A wait is a retry with a countdown."""

import logging
import random

from celery import shared_task
from django.conf import settings
from django.db import InterfaceError, OperationalError

from amazon_channel.models import Store, SyncRun
from amazon_channel.notifications import handling as notification_handling
from amazon_channel.notifications import setup as notifications_setup
from amazon_channel.notifications.consumer import notifications_with_hand_off_lost
from amazon_channel.orders.cancellation import (
    BUYER_EMAIL_MAX_ATTEMPTS,
    cancellation_buyer_email_send,
    cancellations_with_buyer_email_lost,
)
from amazon_channel.orders.sync import LeaseLost, SyncNotAllowed, sync_run_start, sync_run_step
from amazon_channel.outbox.feeds import (
    FeedLeaseLost,
    store_outbox_deliver,
    stores_with_outbox_work,
)
from amazon_channel.outbox.leases import lease_duration
from amazon_channel.spapi.client import (
    AmazonError,
    AmazonRetryableError,
    AmazonThrottled,
    RateLimited,
)
from amazon_channel.stores import changes

logger = logging.getLogger(__name__)


# A dropped database connection is retried: the next attempt gets a fresh connection and the
# run resumes from its last committed page.
DATABASE_ERRORS = (OperationalError, InterfaceError)
RETRY_OPTIONS = {"autoretry_for": DATABASE_ERRORS, "retry_backoff": 2, "retry_jitter": True}


@shared_task(acks_late=True, ignore_result=True, max_retries=5, **RETRY_OPTIONS)
def store_sync_orders(*, store_id: int, kind: str = SyncRun.Kind.SCHEDULED) -> None:
    """Beat's entry point per store: open (or resume) a run and start working on it."""
    store = Store.objects.filter(pk=store_id).first()
    if store is None:
        return
    try:
        run = sync_run_start(store=store, kind=kind)
    except SyncNotAllowed as reason:
        logger.info("store %s sync skipped: %s", store_id, reason)
        return
    if run is None:
        logger.info("store %s sync already running", store_id)
        return
    sync_run_continue.delay(run_id=run.pk)


@shared_task(bind=True, acks_late=True, ignore_result=True, max_retries=None, **RETRY_OPTIONS)
def sync_run_continue(self, *, run_id: int) -> None:
    """Work on a run; come back after the wait it asks for, under the same task id (its lease)."""
    try:
        outcome = sync_run_step(
            run_id=run_id,
            holder=self.request.id or f"run-{run_id}",
            max_pages=settings.AMAZON_SYNC_PAGES_PER_STEP,
        )
    except LeaseLost:
        return  # Another worker resumed this run: it carries on.
    if outcome.is_finished or outcome.is_busy:
        return
    jitter = random.uniform(0, 0.5)  # noqa: S311 - jitter, not security
    raise self.retry(countdown=outcome.wait_seconds + jitter)


@shared_task(bind=True, acks_late=True, ignore_result=True, max_retries=None, **RETRY_OPTIONS)
def outbox_deliver(self, *, store_id: int) -> None:
    """Send the store's outbox to Amazon and follow the feeds; come back after each wait."""
    try:
        outcome = store_outbox_deliver(store_id=store_id, holder=self.request.id or "outbox")
    except FeedLeaseLost:
        return
    if outcome.is_finished:
        return
    # A short wait (a feed's collection window, its first poll) gets a short jitter.
    jitter = random.uniform(0, min(0.5, outcome.wait_seconds / 20))  # noqa: S311
    raise self.retry(countdown=outcome.wait_seconds + jitter)


@shared_task(
    bind=True,
    acks_late=True,
    ignore_result=True,
    max_retries=BUYER_EMAIL_MAX_ATTEMPTS,
    **RETRY_OPTIONS,
)
def cancellation_buyer_email(self, *, cancellation_id: int) -> None:
    """Send a confirmed cancellation's buyer e-mail; come back after the wait a failure asks."""
    wait = cancellation_buyer_email_send(cancellation_id=cancellation_id)
    # Run eagerly (tests, CELERY_TASK_ALWAYS_EAGER), a retry would come at once, not after the
    # wait: the attempt recorded is left to the outbox sweep instead.
    if wait and not self.request.is_eager:
        raise self.retry(countdown=wait)


@shared_task(acks_late=True, ignore_result=True, max_retries=5, **RETRY_OPTIONS)
def notification_handle(*, notification_pk: int) -> None:
    """The consumer's hand-off: do what one recorded Amazon notification asks."""
    notification_handling.notification_handle(notification_pk=notification_pk)


# Setting up a seller's notifications is retried for about an hour (rate limits, 5xx, SQS out of
# reach), then left to the next connect, reauthorize or `manage.py notifications_subscribe`.
NOTIFICATIONS_SETUP_MAX_RETRIES = 8
NOTIFICATIONS_SETUP_BACKOFF_CAP_SECONDS = 600


def _notifications_setup_countdown(error: Exception, retries: int) -> float:
    wait = getattr(error, "wait_seconds", 0) or 0
    backoff = min(NOTIFICATIONS_SETUP_BACKOFF_CAP_SECONDS, 10 * 2**retries)
    jitter = random.uniform(0, 1)  # noqa: S311 - jitter, not security
    return max(wait, backoff if not isinstance(error, RateLimited) else 0) + jitter


def _can_retry(task, error: Exception) -> bool:
    """Retryable (rate limit, 5xx, network, SQS out of reach) and retries left; never when run
    eagerly (tests, CELERY_TASK_ALWAYS_EAGER), where a retry would come at once."""
    if isinstance(error, notifications_setup.NotificationsSetupError):
        is_retryable = error.is_retryable
    else:
        is_retryable = isinstance(error, AmazonRetryableError)
    return is_retryable and not task.request.is_eager and task.request.retries < task.max_retries


@shared_task(
    bind=True,
    acks_late=True,
    ignore_result=True,
    max_retries=NOTIFICATIONS_SETUP_MAX_RETRIES,
    **RETRY_OPTIONS,
)
def store_notifications_subscribe(self, *, store_id: int) -> None:
    """Connect and Reauthorize: subscribe the store's seller to Amazon's notifications. Quiet
    on success; a failure is recorded on the store (Order Settings says why), except a rate
    limit's or a queue the consumer is still making, which only wait. Never touches the store's
    sync: the poll goes on."""
    try:
        notifications_setup.store_notifications_subscribe(store_id=store_id)
    except (AmazonError, notifications_setup.NotificationsSetupError) as error:
        can_retry = _can_retry(self, error)
        # A wait is no failure; any other failure says why at once, retried or not.
        is_wait = isinstance(error, (RateLimited, AmazonThrottled)) or getattr(
            error, "is_waiting", False
        )
        if not (can_retry and is_wait):
            notifications_setup.store_notifications_failure_record(store_id=store_id, error=error)
        if can_retry:
            raise self.retry(
                countdown=_notifications_setup_countdown(error, self.request.retries)
            ) from error


@shared_task(
    bind=True,
    acks_late=True,
    ignore_result=True,
    max_retries=NOTIFICATIONS_SETUP_MAX_RETRIES,
    **RETRY_OPTIONS,
)
def store_notifications_unsubscribe(self, *, store_id: int) -> None:
    """Deactivation: delete the seller's subscriptions unless another active store needs them
    (nothing when the store was activated again meanwhile)."""
    store = Store.objects.filter(pk=store_id, is_active=False).first()
    if store is None:
        return
    try:
        notifications_setup.store_notifications_unsubscribe(store=store)
    except AmazonError as error:
        if _can_retry(self, error):
            raise self.retry(
                countdown=_notifications_setup_countdown(error, self.request.retries)
            ) from error
        logger.warning("store %s: notifications not removed (%s)", store_id, type(error).__name__)


@shared_task(acks_late=True, ignore_result=True, max_retries=5, **RETRY_OPTIONS)
def order_reread(*, store_id: int, amazon_order_id: str) -> None:
    """Read one order again for its ORDER_CHANGE notifications (coalesced); a read that must
    wait asks for the next one itself."""
    notification_handling.order_reread(store_id=store_id, amazon_order_id=amazon_order_id)


@shared_task(acks_late=True, ignore_result=True)
def outbox_sweep() -> None:
    """Beat, every minute: restart delivery where a task was lost (killed worker, lost message),
    the buyer e-mails and the order re-reads whose task was lost."""
    for store_id in stores_with_outbox_work():
        outbox_deliver.delay(store_id=store_id)
    for cancellation_id in cancellations_with_buyer_email_lost(lost_after=lease_duration()):
        cancellation_buyer_email.delay(cancellation_id=cancellation_id)
    notification_handling.order_rereads_overdue_send()


@shared_task(acks_late=True, ignore_result=True)
def store_changes_compact() -> None:
    """Beat, every minute: each store's StoreChange rows into one (its mark unchanged), so
    reading the marks stays one short index scan (amazon_channel/stores/changes.py)."""
    changes.store_changes_compact()


@shared_task(acks_late=True, ignore_result=True)
def notifications_sweep() -> None:
    """Beat, every minute: hand Celery again the notifications recorded but still RECEIVED a
    minute later (the consumer or the broker lost the hand-off; handling is idempotent), and
    set up the stores without notifications (connected before the queue was configured, or
    whose setup gave up an hour ago or more)."""
    for notification_pk in notifications_with_hand_off_lost():
        notification_handle.delay(notification_pk=notification_pk)
    for store_id in notifications_setup.stores_without_notifications():
        store_notifications_subscribe.delay(store_id=store_id)
