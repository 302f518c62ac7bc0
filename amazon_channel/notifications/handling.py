"""The work a recorded notification asks for (run by Celery's notification_handle task).

ORDER_CHANGE says "this order changed", never what it now is (OrderChangeNotification.json:
no prices, a postal code for an address), so it is only a reason to read the order again:
getOrder through the shared limiter (its own bucket, not searchOrders'), then the poll's own
upsert, which compares Amazon's last update times and never lets an older answer overwrite
newer data. Changes of one order within AMAZON_NOTIFICATIONS_COALESCE_SECONDS share one read:
the first asks for it (an AmazonOrderReread row and a task due after the window), the others
find the row and wait for that read. The row is deleted just before the read, so a change that
arrives during the read asks for another; a notification counts as handled once a read that
began after it was recorded has stored the order.

Doubt: whether getOrder shows a change the moment Amazon notifies it is not documented; the
coalescing delay gives Amazon that moment, and a read that still shows the older order changes
nothing here (same last update time) and leaves the change to the poll.

FEED_PROCESSING_FINISHED makes our feed's next getFeed due now and queues the store's
delivery, which reads the processing report; the getFeed poll stays the fallback.

A store that cannot call Amazon (inactive, or needing reauthorization) makes no call: its
ORDER_CHANGE notifications wait (WAITING, with the reason), and the first sync that succeeds
afterwards reads their changes (its window starts at the watermark, which stays put while the
store cannot sync: orders/sync.py marks them handled). A seller who revoked the app (getOrder
401/403) pauses the store as the sync does. Notifications are hostile input: a missing or
malformed id, an unknown feed or marketplace ends as IGNORED with the reason, and costs only
itself.
"""

import logging
import re
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from amazon_channel.enqueue import order_reread_enqueue
from amazon_channel.models import (
    AmazonFeed,
    AmazonNotification,
    AmazonOrderReread,
    NotificationType,
    Store,
    SyncState,
)
from amazon_channel.orders.sync import amazon_order_recover
from amazon_channel.outbox.backoff import backoff_seconds
from amazon_channel.outbox.feeds import feed_poll_now
from amazon_channel.outbox.leases import lease_duration
from amazon_channel.spapi.client import (
    AmazonAuthorizationError,
    AmazonNotFound,
    AmazonRequestError,
    AmazonRetryableError,
)
from amazon_channel.stores.services import store_problem_report

logger = logging.getLogger(__name__)

State = AmazonNotification.State
# Amazon's order ids (3-7-7 digits); anything else is not sent to getOrder.
AMAZON_ORDER_ID = re.compile(r"^\d{3}-\d{7}-\d{7}$")
# A getOrder answering 404 right after the notification may be Amazon's order not yet
# readable there: read again this many times before giving up (the poll still reads it).
NOT_FOUND_ATTEMPTS = 3
# Throttles, 5xx and timeouts in a row before the re-read is left to the poll.
RETRYABLE_ATTEMPTS = 8
REASON_LENGTH = 200


def _field(mapping, name: str):
    """`name` of a notification object, whatever its case: ORDER_CHANGE's envelope is
    PascalCase, FEED_PROCESSING_FINISHED's camelCase (their schemas), and a consumer may
    have normalized either."""
    if not isinstance(mapping, dict):
        return None
    if name in mapping:
        return mapping[name]
    wanted = name.lower()
    for key, value in mapping.items():
        if isinstance(key, str) and key.lower() == wanted:
            return value
    return None


def _text(value, *, limit: int = 100) -> str:
    return value.strip()[:limit] if isinstance(value, str) else ""


def _settle(pks: list[int], state: str, reason: str = "") -> int:
    """Move the notifications still RECEIVED (a copy or a retry changes nothing else)."""
    if not pks:
        return 0
    is_final = state in (State.HANDLED, State.IGNORED)
    return AmazonNotification.objects.filter(pk__in=pks, state=State.RECEIVED).update(
        state=state,
        reason=reason[:REASON_LENGTH],
        handled_at=timezone.now() if is_final else None,
    )


def store_waiting_reason(store: Store) -> str:
    """Why the store makes no call to Amazon now ("" when it may): inactive, or waiting for
    Reauthorize. An error state does not stop it: the next call may well succeed."""
    if not store.is_active:
        return "The store is inactive."
    if store.is_sync_paused:
        return f"The store needs reauthorization: {store.sync_state_message}"
    return ""


def notification_handle(*, notification_pk: int) -> None:
    """Do what the notification asks, once; idempotent (a copy or a retry does nothing new).

    ORDER_CHANGE: an order re-read is asked for (coalesced; the notification is handled when
    the read is done), or the notification waits for its store, or is ignored with the reason.
    FEED_PROCESSING_FINISHED: our feed's result is fetched at once (handled), or ignored when
    no feed of ours has that id. Never raises for the notification's content.
    """
    notification = (
        AmazonNotification.objects.select_related("store").filter(pk=notification_pk).first()
    )
    if notification is None or notification.state != State.RECEIVED:
        return
    if notification.notification_type == NotificationType.ORDER_CHANGE:
        _order_change_handle(notification)
    elif notification.notification_type == NotificationType.FEED_PROCESSING_FINISHED:
        _feed_finished_handle(notification)
    else:
        _settle(
            [notification.pk],
            State.IGNORED,
            f"Notifications of type {notification.notification_type[:40]} are not handled.",
        )


# -- ORDER_CHANGE -------------------------------------------------------------------------------


def _order_change(payload) -> dict:
    """The OrderChangeNotification object of the notification (the envelope's Payload)."""
    change = _field(_field(payload, "Payload"), "OrderChangeNotification")
    return change if isinstance(change, dict) else {}


def _order_change_store(notification: AmazonNotification, change: dict) -> tuple[Store | None, str]:
    """The store whose order changed, and why there is none. The consumer names the seller's
    store; when the order's marketplace (Summary.MarketplaceId) is another store's of the same
    seller, that store's, for getOrder would bring the order to the wrong store otherwise."""
    store = notification.store
    if store is None:
        return None, "No store of ours belongs to this notification's seller."
    marketplace_id = _text(_field(_field(change, "Summary"), "MarketplaceId"), limit=20)
    if not marketplace_id or marketplace_id == store.marketplace_id:
        return store, ""
    sibling = (
        Store.objects.filter(
            seller_id=store.seller_id,
            marketplace_id=marketplace_id,
            environment=store.environment,
        )
        .order_by("pk")
        .first()
    )
    if sibling is None:
        return None, (
            f"The order is in marketplace {marketplace_id}, which no store of ours sells in."
        )
    return sibling, ""


def _order_change_handle(notification: AmazonNotification) -> None:
    change = _order_change(notification.payload)
    amazon_order_id = notification.amazon_order_id or _text(_field(change, "AmazonOrderId"))
    if not AMAZON_ORDER_ID.match(amazon_order_id):
        _settle([notification.pk], State.IGNORED, "The notification names no Amazon order id.")
        return
    store, problem = _order_change_store(notification, change)
    if store is None:
        _settle([notification.pk], State.IGNORED, problem)
        return
    if store.pk != notification.store_id or amazon_order_id != notification.amazon_order_id:
        # The re-read finds its notifications by store and order.
        AmazonNotification.objects.filter(pk=notification.pk).update(
            store=store, amazon_order_id=amazon_order_id
        )
    waiting = store_waiting_reason(store)
    if waiting:
        _settle([notification.pk], State.WAITING, waiting)
        return
    order_reread_request(store=store, amazon_order_id=amazon_order_id)


def order_reread_request(
    *, store: Store, amazon_order_id: str, delay: float | None = None, attempts: int = 0
) -> bool:
    """Ask for the order to be read again after `delay` seconds (the coalescing window by
    default), unless a read is already asked for: then that one serves. Returns whether this
    call asked for it. A request whose task is long overdue (lost by the broker) is taken
    over and queued again."""
    delay = settings.AMAZON_NOTIFICATIONS_COALESCE_SECONDS if delay is None else delay
    now = timezone.now()
    with transaction.atomic():
        reread, is_created = AmazonOrderReread.objects.get_or_create(
            store=store,
            amazon_order_id=amazon_order_id,
            defaults={"due_at": now + timedelta(seconds=delay), "attempts": attempts},
        )
        if not is_created:
            if reread.due_at >= now - lease_duration():
                return False
            # Its task was lost: the one of this call replaces it.
            is_taken = AmazonOrderReread.objects.filter(pk=reread.pk, due_at=reread.due_at).update(
                due_at=now + timedelta(seconds=delay)
            )
            if not is_taken:
                return False
        if attempts and settings.CELERY_TASK_ALWAYS_EAGER:
            # Run eagerly (tests), the retry would run at once, in a loop, not after `delay`:
            # the row stays, and the sweep sends it once overdue.
            return True
        order_reread_enqueue(store_id=store.pk, amazon_order_id=amazon_order_id, countdown=delay)
    return True


def order_rereads_overdue_send() -> int:
    """Queue again the re-reads whose task is overdue by more than a lease (lost with a
    worker or the broker); returns how many. The outbox sweep runs it every minute."""
    overdue = AmazonOrderReread.objects.filter(
        due_at__lt=timezone.now() - lease_duration()
    ).select_related("store")
    sent = 0
    for reread in overdue.order_by("pk")[:500]:
        if order_reread_request(
            store=reread.store, amazon_order_id=reread.amazon_order_id, delay=0
        ):
            sent += 1
    return sent


def _reread_release(store_id: int, amazon_order_id: str) -> int:
    """Delete the order's re-read request before reading (a change from now on asks for
    another); returns the attempts it had made."""
    with transaction.atomic():
        reread = (
            AmazonOrderReread.objects.select_for_update()
            .filter(store_id=store_id, amazon_order_id=amazon_order_id)
            .first()
        )
        if reread is None:
            return 0
        attempts = reread.attempts
        reread.delete()
    return attempts


def order_reread(*, store_id: int, amazon_order_id: str) -> None:
    """Read one order again for the ORDER_CHANGE notifications recorded before this read, and
    mark them handled once the order is stored (amazon_order_recover: getOrder, the poll's
    upsert, the Commerce follow-up). Throttled, a 5xx or a timeout: read again later (another
    request, with backoff), never lost. Rejected credentials pause the store and the
    notifications wait. A 404 is read again a few times, then left to the poll."""
    attempts = _reread_release(store_id, amazon_order_id)
    store = Store.objects.filter(pk=store_id).first()
    if store is None:
        return
    pending = list(
        AmazonNotification.objects.filter(
            store=store,
            amazon_order_id=amazon_order_id,
            notification_type=NotificationType.ORDER_CHANGE,
            state=State.RECEIVED,
        ).values_list("pk", flat=True)
    )
    if not pending:
        return  # a copy of this task, or a read that took them already
    waiting = store_waiting_reason(store)
    if waiting:
        _settle(pending, State.WAITING, waiting)
        return
    try:
        amazon_order_recover(store=store, amazon_order_id=amazon_order_id)
    except AmazonRetryableError as error:
        attempts += 1
        if attempts >= RETRYABLE_ATTEMPTS:
            reason = f"getOrder kept failing; the poll reads the order: {error.message}"
            _settle(pending, State.HANDLED, reason)
            return
        wait = error.wait_seconds or backoff_seconds(attempts)
        logger.info(
            "store %s: re-read of order %s again in %.1f s: %s",
            store.pk,
            amazon_order_id,
            wait,
            error.message,
        )
        order_reread_request(
            store=store, amazon_order_id=amazon_order_id, delay=wait, attempts=attempts
        )
        return
    except AmazonAuthorizationError as error:
        # As the sync does: the store is paused until Reauthorize, and the notifications wait.
        logger.info("store %s: getOrder refused the credentials; the store is paused", store.pk)
        store_problem_report(store.pk, SyncState.NEEDS_REAUTHORIZATION, error.message)
        _settle(pending, State.WAITING, f"The store needs reauthorization: {error.message}")
        return
    except AmazonNotFound as error:
        attempts += 1
        if attempts < NOT_FOUND_ATTEMPTS:
            order_reread_request(
                store=store,
                amazon_order_id=amazon_order_id,
                delay=backoff_seconds(attempts),
                attempts=attempts,
            )
            return
        _settle(pending, State.IGNORED, f"Amazon does not find the order: {error.message}")
        return
    except AmazonRequestError as error:
        _settle(pending, State.IGNORED, f"Amazon refused getOrder: {error.message}")
        return
    _settle(pending, State.HANDLED)


# -- FEED_PROCESSING_FINISHED -------------------------------------------------------------------


def _feed_finished(payload) -> dict:
    finished = _field(_field(payload, "payload"), "feedProcessingFinishedNotification")
    return finished if isinstance(finished, dict) else {}


def _feed_finished_handle(notification: AmazonNotification) -> None:
    finished = _feed_finished(notification.payload)
    feed_id = notification.feed_id or _text(_field(finished, "feedId"), limit=64)
    seller_id = _text(_field(finished, "sellerId"), limit=32) or (
        notification.store.seller_id if notification.store else ""
    )
    if not feed_id or not seller_id:
        _settle([notification.pk], State.IGNORED, "The notification names no feed or seller.")
        return
    # Notifications are per application: a feed of the seller's other tools is not ours, nor
    # is one of ours whose createFeed answer we never got (the poll settles that one).
    feed = (
        AmazonFeed.objects.filter(feed_id=feed_id, store__seller_id=seller_id)
        .order_by("pk")
        .first()
    )
    if feed is None:
        _settle(
            [notification.pk],
            State.IGNORED,
            "No feed of ours has this id: another application's, or one we have no answer for.",
        )
        return
    reason = "" if feed_poll_now(feed_pk=feed.pk) else "The feed was already settled."
    if notification.feed_id != feed_id or notification.store_id != feed.store_id:
        AmazonNotification.objects.filter(pk=notification.pk).update(
            feed_id=feed_id, store_id=feed.store_id
        )
    _settle([notification.pk], State.HANDLED, reason)
