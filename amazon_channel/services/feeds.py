"""Delivering the outbox to Amazon as feeds, and applying their processing reports.

One feed at a time per store. A feed moves NEW -> UPLOADED -> CREATING -> SUBMITTED -> DONE,
each step committed before the next Amazon call. CREATING is written before createFeed, so a
worker that dies during that call leaves a trace: the next worker first asks Amazon (getFeeds)
for an acknowledgement feed of this marketplace, created since then, that we do not know yet.
Amazon's Feed carries no reference to its input document, but this channel sends the seller's
order acknowledgements, one feed at a time per store, so such a feed is the lost one: it is
adopted, and the messages are not sent twice. Every message is in exactly one feed, and its
result is applied once, under the feed's row lock.
"""

import logging
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from amazon_channel.feed_documents import (
    ACKNOWLEDGEMENT_FEED_TYPE,
    PAYMENT_ADJUSTMENT_FEED_TYPE,
    XML_CONTENT_TYPE,
    AdjustedItem,
    CancelMessage,
    RefundMessage,
    UnreadableReport,
    acknowledgement_feed,
    payment_adjustment_feed,
    processing_report_parse,
)
from amazon_channel.leases import lease_claim, lease_extend
from amazon_channel.models import AmazonFeed, OutboxMessage, Store, SyncState
from amazon_channel.services.cancellation import (
    cancellation_confirm,
    cancellation_read_back,
    cancellation_reject,
)
from amazon_channel.services.outbox import outbox_message_settle, shipments_deliver
from amazon_channel.services.sync import backoff_seconds, lease_duration, store_problem_report
from amazon_channel.spapi import (
    AmazonAuthorizationError,
    AmazonClient,
    AmazonRequestError,
    AmazonRetryableError,
)

logger = logging.getLogger(__name__)

MESSAGES_PER_FEED = 100
UNFINISHED = (
    AmazonFeed.State.NEW,
    AmazonFeed.State.UPLOADED,
    AmazonFeed.State.CREATING,
    AmazonFeed.State.SUBMITTED,
)


@dataclass
class DeliveryOutcome:
    is_finished: bool = False
    wait_seconds: float = 0.0


class FeedLeaseLost(Exception):
    pass


FEED_KINDS = {
    OutboxMessage.Kind.CANCEL_ORDER: ACKNOWLEDGEMENT_FEED_TYPE,
    OutboxMessage.Kind.REFUND_ORDER: PAYMENT_ADJUSTMENT_FEED_TYPE,
}


def _feed_content(store: Store, kind: str, messages: list[OutboxMessage]) -> bytes:
    numbered = list(enumerate(messages, start=1))
    if kind == OutboxMessage.Kind.CANCEL_ORDER:
        return acknowledgement_feed(
            seller_id=store.seller_id,
            messages=[
                CancelMessage(
                    message_id=position,
                    amazon_order_id=message.payload["amazon_order_id"],
                    order_item_ids=message.payload["order_item_ids"],
                    reason=message.payload["reason"],
                )
                for position, message in numbered
            ],
        )
    return payment_adjustment_feed(
        seller_id=store.seller_id,
        messages=[
            RefundMessage(
                message_id=position,
                amazon_order_id=message.payload["amazon_order_id"],
                currency=message.payload["currency"],
                reason=message.payload["reason"],
                items=[AdjustedItem(**item) for item in message.payload["items"]],
            )
            for position, message in numbered
        ],
    )


def _feed_open(store: Store) -> AmazonFeed | None:
    """The store's unfinished feed, or a new one holding the oldest pending messages of one
    feed kind; None when there is nothing to send."""
    with transaction.atomic():
        unfinished = AmazonFeed.objects.filter(store=store, state__in=UNFINISHED).order_by("pk")
        feed = unfinished.first()
        if feed is not None:
            return feed
        waiting = OutboxMessage.objects.select_for_update(skip_locked=True).filter(
            store=store, state=OutboxMessage.State.PENDING, kind__in=FEED_KINDS
        )
        oldest = waiting.order_by("pk").first()
        if oldest is None:
            return None
        pending = list(waiting.filter(kind=oldest.kind).order_by("pk")[:MESSAGES_PER_FEED])
        feed = AmazonFeed.objects.create(
            store=store,
            feed_type=FEED_KINDS[oldest.kind],
            content=_feed_content(store, oldest.kind, pending).decode(),
        )
        for position, message in enumerate(pending, start=1):
            message.feed = feed
            message.feed_message_id = position
            message.state = OutboxMessage.State.IN_FEED
        OutboxMessage.objects.bulk_update(
            pending, ["feed", "feed_message_id", "state", "updated_at"]
        )
        return feed


def _locked_feed(feed: AmazonFeed, holder: str) -> AmazonFeed:
    locked = AmazonFeed.objects.select_for_update(of=("self",)).get(pk=feed.pk)
    if locked.lease_holder != holder:
        raise FeedLeaseLost(f"feed {feed.pk} is no longer held by {holder}")
    return locked


def _feed_save(feed: AmazonFeed, holder: str, **changes) -> AmazonFeed:
    with transaction.atomic():
        locked = _locked_feed(feed, holder)
        for name, value in changes.items():
            setattr(locked, name, value)
        locked.lease_expires_at = timezone.now() + lease_duration()
        locked.save(update_fields=[*changes, "lease_expires_at", "updated_at"])
    return locked


def _feed_hold(feed: AmazonFeed, holder: str, seconds: float) -> None:
    with transaction.atomic():
        locked = _locked_feed(feed, holder)
        lease_extend(locked, seconds=seconds, margin=lease_duration())
        locked.save(update_fields=["lease_expires_at"])


def _feed_settle(
    feed: AmazonFeed, holder: str, *, report_text: str, failure: str = ""
) -> list[int]:
    """Apply the report (or a whole-feed failure) to every message; returns rejected order ids."""
    rejected_orders: list[int] = []
    with transaction.atomic():
        locked = _locked_feed(feed, holder)
        if locked.state == AmazonFeed.State.DONE:
            return rejected_orders
        report = None
        if not failure:
            try:
                report = processing_report_parse(report_text)
            except UnreadableReport as error:
                failure = f"Amazon's processing report could not be read: {error}"
        for message in locked.messages.order_by("pk"):
            if message.state != OutboxMessage.State.IN_FEED:
                continue
            problem = failure or report.outcome(message.feed_message_id) or report.outcome(0)
            message.state = OutboxMessage.State.FAILED if problem else OutboxMessage.State.DONE
            message.result = problem or "OK"
            message.save(update_fields=["state", "result", "updated_at"])
            if message.kind == OutboxMessage.Kind.CANCEL_ORDER:
                cancellation = message.cancellation
                if problem:
                    cancellation_reject(cancellation=cancellation, amazon_message=problem)
                    rejected_orders.append(cancellation.order_id)
                else:
                    cancellation_confirm(cancellation=cancellation)
            else:
                outbox_message_settle(message=message, problem=problem)
        locked.state = AmazonFeed.State.FAILED if failure else AmazonFeed.State.DONE
        locked.report = report_text
        locked.error = failure
        locked.lease_holder = ""
        locked.save(update_fields=["state", "report", "error", "lease_holder", "updated_at"])
    return rejected_orders


def _lost_feed_id(feed: AmazonFeed, client: AmazonClient) -> str | None:
    known = set(
        AmazonFeed.objects.filter(store_id=feed.store_id)
        .exclude(feed_id="")
        .values_list("feed_id", flat=True)
    )
    candidates = client.feeds_created_since(
        feed_type=feed.feed_type, created_since=feed.submitted_at - timedelta(minutes=1)
    )
    unknown = [candidate["feedId"] for candidate in candidates if candidate["feedId"] not in known]
    return str(unknown[0]) if unknown else None


def _feed_advance(feed: AmazonFeed, holder: str, client: AmazonClient) -> DeliveryOutcome | None:
    """Move the feed as far as it goes now; a wait, or None once it is settled."""
    is_resumed_creation = feed.state == AmazonFeed.State.CREATING
    while True:
        if feed.state == AmazonFeed.State.NEW:
            document_id = client.feed_document_upload(
                content=feed.content.encode(), content_type=XML_CONTENT_TYPE
            )
            feed = _feed_save(
                feed, holder, state=AmazonFeed.State.UPLOADED, feed_document_id=document_id
            )
        elif feed.state == AmazonFeed.State.UPLOADED:
            feed = _feed_save(
                feed, holder, state=AmazonFeed.State.CREATING, submitted_at=timezone.now()
            )
        elif feed.state == AmazonFeed.State.CREATING:
            feed_id = None
            if is_resumed_creation:
                # A worker died during createFeed: Amazon may have the feed already.
                feed_id = _lost_feed_id(feed, client)
            if feed_id is None:
                feed_id = client.feed_create(
                    feed_type=feed.feed_type, document_id=feed.feed_document_id
                )
            feed = _feed_save(feed, holder, state=AmazonFeed.State.SUBMITTED, feed_id=feed_id)
        elif feed.state == AmazonFeed.State.SUBMITTED:
            details = client.feed_get(feed.feed_id)
            status = details.get("processingStatus", "")
            if status in ("IN_QUEUE", "IN_PROGRESS"):
                feed = _feed_save(feed, holder, processing_status=status)
                wait = settings.AMAZON_FEED_POLL_SECONDS
                _feed_hold(feed, holder, wait)
                return DeliveryOutcome(wait_seconds=wait)
            if status == "DONE":
                report = client.feed_result_document(details["resultFeedDocumentId"])
                feed = _feed_save(feed, holder, processing_status=status)
                rejected = _feed_settle(feed, holder, report_text=report)
            else:
                feed = _feed_save(feed, holder, processing_status=status)
                rejected = _feed_settle(
                    feed,
                    holder,
                    report_text="",
                    failure=f"Amazon did not process the feed ({status}).",
                )
            for order_id in rejected:
                cancellation_read_back(order_id=order_id)
            return None
        else:
            return None


def store_outbox_deliver(*, store_id: int, holder: str) -> DeliveryOutcome:
    """Send the store's pending messages and follow their feeds until done or a wait.

    Shipment confirmations first (one API call each), then feeds (cancellations, refunds).
    Never sleeps; an Amazon error is a wait with backoff (the messages stay where they are).
    Rejected credentials pause the store, as the sync does; a feed Amazon refuses (4xx) fails
    its messages, and their cancellations are shown as rejected with Amazon's words.
    """
    store = Store.objects.get(pk=store_id)
    if store.sync_state == SyncState.NEEDS_REAUTHORIZATION:
        return DeliveryOutcome(is_finished=True)
    client = AmazonClient(store)
    try:
        shipments_deliver(store=store, client=client, holder=holder, lease=lease_duration())
    except AmazonRetryableError as error:
        return DeliveryOutcome(wait_seconds=error.wait_seconds or backoff_seconds(2))
    except AmazonAuthorizationError as error:
        store_problem_report(store_id, SyncState.NEEDS_REAUTHORIZATION, error.message)
        return DeliveryOutcome(is_finished=True)
    for _ in range(10):
        feed = _feed_open(store)
        if feed is None:
            return DeliveryOutcome(is_finished=True)
        claimed = lease_claim(
            AmazonFeed.objects, pk=feed.pk, holder=holder, duration=lease_duration()
        )
        if claimed is None:
            return DeliveryOutcome(is_finished=True)  # another worker is on it
        try:
            outcome = _feed_advance(claimed, holder, client)
        except AmazonRetryableError as error:
            wait = error.wait_seconds or backoff_seconds(2)
            _feed_hold(claimed, holder, wait)
            return DeliveryOutcome(wait_seconds=wait)
        except AmazonAuthorizationError as error:
            store_problem_report(store_id, SyncState.NEEDS_REAUTHORIZATION, error.message)
            return DeliveryOutcome(is_finished=True)
        except AmazonRequestError as error:
            _feed_settle(
                claimed, holder, report_text="", failure=f"Amazon refused the feed: {error.message}"
            )
            continue
        if outcome is not None:
            return outcome
    return DeliveryOutcome()


def stores_with_outbox_work() -> list[int]:
    """Stores with messages waiting, a message or a feed whose worker has gone quiet."""
    now = timezone.now()
    pending = OutboxMessage.objects.filter(
        Q(state=OutboxMessage.State.PENDING)
        | Q(state=OutboxMessage.State.SENDING, lease_expires_at__lt=now)
    ).values_list("store_id", flat=True)
    stalled = AmazonFeed.objects.filter(state__in=UNFINISHED, lease_expires_at__lt=now).values_list(
        "store_id", flat=True
    )
    never_claimed = AmazonFeed.objects.filter(
        state__in=UNFINISHED, lease_expires_at__isnull=True
    ).values_list("store_id", flat=True)
    return sorted(set(pending) | set(stalled) | set(never_claimed))
