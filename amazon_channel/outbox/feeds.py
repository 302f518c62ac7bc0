"""Delivering the outbox to Amazon as feeds, and applying what Amazon says of them.

A feed moves NEW -> UPLOADED -> CREATING -> SUBMITTED -> DONE, each step committed before the
next Amazon call. Every message is in exactly one feed at a time, and a feed's outcome is
applied once, under the feed's row lock.

When a feed goes (see `feed_collection_wait`): createFeed allows a burst of 15 and then one
call per 2 minutes (0.0083/s, feeds_2021-06-30.json), so messages are batched. The first
message after a quiet period (no feed of the seller for FEED_RECENT_SECONDS) goes at once;
after that the pending messages are collected for AMAZON_FEED_COLLECT_SECONDS from the oldest,
a window that doubles once a seller has sent FEEDS_BEFORE_THE_WINDOW_GROWS feeds within
FEED_RECENT_SECONDS; and no feed is opened while createFeed has no token for the seller (the
messages keep gathering until one is due). A submitted feed does not hold back the next one:
Amazon queues a seller's feeds itself (IN_QUEUE "may be waiting for another IN_PROGRESS feed",
feeds_2021-06-30.json). Only a feed not yet submitted (NEW, UPLOADED, CREATING) does, so that
messages never wait in several half-sent feeds. A submitted feed is polled (getFeed, 2/s burst
15) soon, then less and less often (`feed_poll_interval`).

What a feed's outcome says of each message:
- DONE: the processing report decides; an error row for the message (or for the whole feed)
  means refused, no error row means applied.
- FATAL: "Some, none, or all of the operations within the feed may have completed
  successfully" (feeds_2021-06-30.json, Feed.processingStatus). When the feed has a report, an
  error row for the message still means refused. A message without one is applied only when
  the ProcessingSummary proves it (every message processed, as many successful as have no
  error row): a report of a feed that stopped half-way lists only what it processed. Anything
  else, and a FATAL feed without a report, leaves the outcome unknown.
- A lost createFeed answer (the worker died or the call timed out while CREATING) leaves the
  outcome unknown too. getFeeds cannot tell us whether our feed exists: it lists every feed of
  the seller, including those of their ERP or repricer, and a Feed names neither its
  application nor its input document. So no feed is ever adopted as ours.

An unknown outcome puts the message in VERIFYING, and nothing is sent again until Amazon's
state of the order has been read (getOrder). A cancellation is confirmed when Amazon shows the
order (or the items) cancelled, rejected when the order has shipped meanwhile, and sent again in
a new feed, once (the message's RESENT_AFTER_CHECK flag, same idempotency key), when the order is
still Unshipped. An order Amazon refuses to show (4xx), or whose state stays unreadable for
UNDECIDED_LIMIT, ends the cancellation as rejected, telling the merchant to check it in Seller
Central. A waiting message carries its next check in `lease_expires_at` (no holder), so that the
beat's sweep restarts only the deliveries whose task was lost. A refund
cannot be verified this way (Amazon's order shows no refund state): it waits for the merchant
(see outbox/messages.py).

The race of a lost feed: our feed may exist at Amazon and still be IN_QUEUE or IN_PROGRESS, its
effect not yet visible in the orders, and sending again at once could apply it twice. So
before the orders are read, we wait: first until the createFeed call cannot still be alive
(its timeout after CREATING was written), then while any feed of our type and marketplace
created around our call (from a minute before CREATING to a minute after the call's timeout)
that is not known to be another of ours is unfinished (getFeeds, processingStatuses IN_QUEUE
and IN_PROGRESS). Once they are all finished, our feed, if Amazon has it, has been applied or
refused, and the orders tell which. A feed of another tool in that window only delays the check.
A cancellation sent again that Amazon refuses is checked against the order once more (Amazon's
order can lag behind its feeds: "not cancellable" may mean "already cancelled").
"""

import logging
from dataclasses import dataclass
from datetime import timedelta
from enum import Enum

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from amazon_channel.enqueue import outbox_delivery_enqueue
from amazon_channel.models import AmazonFeed, OutboxMessage, Store, SyncState
from amazon_channel.notes import note_english
from amazon_channel.outbox.backoff import backoff_seconds
from amazon_channel.outbox.handlers import outbox_handler
from amazon_channel.outbox.leases import lease_claim, lease_duration, lease_extend
from amazon_channel.outbox.messages import (
    AWAITING_MERCHANT,
    outbox_message_doubt,
    shipments_deliver,
)
from amazon_channel.spapi.client import (
    AmazonAuthorizationError,
    AmazonClient,
    AmazonNotFound,
    AmazonRequestError,
    AmazonRetryableError,
    AmazonThrottled,
    RateLimited,
    clock_skew_margin,
)
from amazon_channel.spapi.feed_documents import (
    ACKNOWLEDGEMENT_FEED_TYPE,
    PAYMENT_ADJUSTMENT_FEED_TYPE,
    XML_CONTENT_TYPE,
    AdjustedItem,
    CancelMessage,
    ProcessingReport,
    RefundMessage,
    UnreadableReport,
    acknowledgement_feed,
    payment_adjustment_feed,
    processing_report_parse,
)
from amazon_channel.stores.services import store_problem_report
from amazon_channel.transitions import OUTBOX_MESSAGE, feed_transition, outbox_message_transition

logger = logging.getLogger(__name__)

MESSAGES_PER_FEED = 100
UNFINISHED = (
    AmazonFeed.State.NEW,
    AmazonFeed.State.UPLOADED,
    AmazonFeed.State.CREATING,
    AmazonFeed.State.SUBMITTED,
)
NOT_YET_SUBMITTED = (AmazonFeed.State.NEW, AmazonFeed.State.UPLOADED, AmazonFeed.State.CREATING)
# createFeed refills one token per 120 s (0.0083/s): feeds of the seller within that long are
# "recent", and a seller without any is in a quiet period.
FEED_RECENT_SECONDS = 120.0
# Recent feeds sent with the plain collection window before it doubles with each further one.
FEEDS_BEFORE_THE_WINDOW_GROWS = 5
# Each getFeed waits this fraction of the feed's age, between the first and the longest poll.
FEED_POLL_AGE_FRACTION = 0.5
# How long a cancellation's order may stay unreadable (an unknown status) before the merchant
# is asked to check it in Seller Central.
UNDECIDED_LIMIT = timedelta(days=1)
# A cancellation message sent again after Amazon's order showed it was not applied.
RESENT_AFTER_CHECK = "is_resent_after_check"


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


class Outcome(Enum):
    APPLIED = "applied"
    REFUSED = "refused"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class FeedAnswer:
    """What Amazon said of a feed as a whole. `refusal`: nothing was applied (every message is
    refused with it). Else `report` decides per message when there is one; `is_done` says the
    feed completed (DONE), so that a message without an error row was applied; `unknown` is the
    reason given for a message whose outcome the answer leaves open."""

    status: str = ""
    report_text: str = ""
    report: ProcessingReport | None = None
    is_done: bool = False
    refusal: str = ""
    unknown: str = ""

    def outcome(self, message_id: int, all_ids: list[int]) -> tuple[Outcome, str]:
        if self.refusal:
            return Outcome.REFUSED, self.refusal
        report = self.report
        if report is None:
            return Outcome.UNKNOWN, self.unknown
        problem = report.outcome(message_id)
        if problem:
            return Outcome.REFUSED, problem
        if self.is_done:
            feed_problem = report.feed_error()
            return (Outcome.REFUSED, feed_problem) if feed_problem else (Outcome.APPLIED, "")
        # FATAL: an error about the whole feed says nothing of which messages were applied.
        if report.feed_error() is None and report.accounts_for_all(all_ids):
            return Outcome.APPLIED, ""
        return Outcome.UNKNOWN, self.unknown


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


def feed_collection_window(recent_feeds: int) -> float:
    """Seconds to collect pending messages before a feed goes, given how many feeds the seller
    opened within FEED_RECENT_SECONDS: none at once; then AMAZON_FEED_COLLECT_SECONDS,
    doubling for each recent feed past FEEDS_BEFORE_THE_WINDOW_GROWS, up to one createFeed
    refill (FEED_RECENT_SECONDS)."""
    if recent_feeds <= 0:
        return 0.0
    doublings = max(0, recent_feeds - FEEDS_BEFORE_THE_WINDOW_GROWS)
    window = settings.AMAZON_FEED_COLLECT_SECONDS * 2 ** min(doublings, 16)
    return min(window, FEED_RECENT_SECONDS)


def feed_collection_wait(*, store: Store, oldest_pending_at) -> float:
    """Seconds until the store's oldest pending message may go in a feed (0: now): its
    collection window (`feed_collection_window`) counted from when it was queued."""
    now = timezone.now()
    recent_feeds = AmazonFeed.objects.filter(
        store__seller_id=store.seller_id,
        created_at__gte=now - timedelta(seconds=FEED_RECENT_SECONDS),
    ).count()
    window = feed_collection_window(recent_feeds)
    due = oldest_pending_at + timedelta(seconds=window)
    return max(0.0, (due - now).total_seconds())


def feed_poll_interval(feed: AmazonFeed) -> float:
    """Seconds until the next getFeed of a submitted feed: AMAZON_FEED_FIRST_POLL_SECONDS at
    first, then half the feed's age (each wait 1.5 times the last), at most
    AMAZON_FEED_POLL_SECONDS. A feed takes seconds to minutes; getFeed allows 2/s."""
    submitted_at = feed.submitted_at or timezone.now()
    age = max(0.0, (timezone.now() - submitted_at).total_seconds())
    interval = max(settings.AMAZON_FEED_FIRST_POLL_SECONDS, age * FEED_POLL_AGE_FRACTION)
    return min(interval, settings.AMAZON_FEED_POLL_SECONDS)


@dataclass
class FeedOpening:
    feed: AmazonFeed | None = None
    # When no feed was opened while messages wait: seconds until one may be.
    wait_seconds: float = 0.0


def _feed_open(store: Store, client: AmazonClient) -> FeedOpening:
    """A new feed holding the oldest pending messages of one feed kind, when they may go (see
    the module's docstring); else how long until they may (0 when nothing waits)."""
    with transaction.atomic():
        # One opening at a time per store: each sees the feeds the one before opened.
        Store.objects.select_for_update(of=("self",)).filter(pk=store.pk).first()
        waiting = OutboxMessage.objects.select_for_update(skip_locked=True).filter(
            store=store, state=OutboxMessage.State.PENDING, kind__in=FEED_KINDS
        )
        oldest = waiting.order_by("pk").first()
        if oldest is None:
            return FeedOpening()
        if AmazonFeed.objects.filter(store=store, state__in=NOT_YET_SUBMITTED).exists():
            # Its worker (or, once its lease lapses, the sweep's) submits it, then opens the
            # next feed: the messages wait for that, not in a second half-sent feed.
            return FeedOpening()
        pending = list(waiting.filter(kind=oldest.kind).order_by("pk")[:MESSAGES_PER_FEED])
        wait = max(
            feed_collection_wait(store=store, oldest_pending_at=oldest.created_at),
            client.token_wait("createFeed"),
        )
        if wait > 0 and len(pending) < MESSAGES_PER_FEED:
            return FeedOpening(wait_seconds=wait)
        feed = AmazonFeed.objects.create(
            store=store,
            feed_type=FEED_KINDS[oldest.kind],
            content=_feed_content(store, oldest.kind, pending).decode(),
        )
        for position, message in enumerate(pending, start=1):
            OUTBOX_MESSAGE.check(
                pk=message.pk, source=message.state, target=OutboxMessage.State.IN_FEED
            )
            message.feed = feed
            message.feed_message_id = position
            message.state = OutboxMessage.State.IN_FEED
        OutboxMessage.objects.bulk_update(
            pending, ["feed", "feed_message_id", "state", "updated_at"]
        )
        return FeedOpening(feed=feed)


def _locked_feed(feed: AmazonFeed, holder: str) -> AmazonFeed:
    locked = AmazonFeed.objects.select_for_update(of=("self",)).get(pk=feed.pk)
    if locked.lease_holder != holder:
        raise FeedLeaseLost(f"feed {feed.pk} is no longer held by {holder}")
    return locked


def _feed_save(feed: AmazonFeed, holder: str, **changes) -> AmazonFeed:
    with transaction.atomic():
        locked = _locked_feed(feed, holder)
        lease_expires_at = timezone.now() + lease_duration()
        if "state" in changes:
            state = changes.pop("state")
            return feed_transition(
                locked,
                state,
                fields={**changes, "lease_expires_at": lease_expires_at},
                is_locked=True,
            )
        for name, value in changes.items():
            setattr(locked, name, value)
        locked.lease_expires_at = lease_expires_at
        locked.save(update_fields=[*changes, "lease_expires_at", "updated_at"])
    return locked


def _feed_hold(feed: AmazonFeed, holder: str, seconds: float) -> None:
    with transaction.atomic():
        locked = _locked_feed(feed, holder)
        lease_extend(locked, seconds=seconds, margin=lease_duration())
        locked.save(update_fields=["lease_expires_at"])


def _feed_message_move(message: OutboxMessage, state: str, *, result: str) -> None:
    # The feed's row lock, held by _feed_settle, covers its IN_FEED messages.
    outbox_message_transition(message, state, fields={"result": result}, is_locked=True)


def _message_refused(message: OutboxMessage, problem: str, refused: list[OutboxMessage]) -> None:
    if message.payload.get(RESENT_AFTER_CHECK):
        # Sent again because Amazon's order looked as if it had not been applied (only
        # cancellations are); its refusal may only mean the first feed's message has reached
        # the order since: the order decides once more.
        _feed_message_move(message, OutboxMessage.State.VERIFYING, result=problem)
        return
    _feed_message_move(message, OutboxMessage.State.FAILED, result=problem)
    outbox_handler(message.kind).refused(message, problem)
    refused.append(message)


def _refusals_follow(refused: list[OutboxMessage]) -> None:
    """After the refusals have committed: what each message's domain does next (a refused
    cancellation reads Amazon's order back)."""
    for message in refused:
        outbox_handler(message.kind).refusal_committed(message)


def _message_applied(message: OutboxMessage) -> None:
    _feed_message_move(message, OutboxMessage.State.DONE, result="OK")
    outbox_handler(message.kind).applied(message)


def _message_unknown(message: OutboxMessage, reason: str, *, is_feed_known: bool) -> None:
    _feed_message_move(message, OutboxMessage.State.VERIFYING, result=reason)
    if message.kind == OutboxMessage.Kind.REFUND_ORDER and is_feed_known:
        # Our feed has finished: Seller Central shows whatever it applied.
        outbox_message_doubt(message=message)


def _feed_settle(feed: AmazonFeed, holder: str, *, answer: FeedAnswer) -> list[OutboxMessage]:
    """Apply Amazon's answer to every message of the feed; returns the messages refused."""
    refused: list[OutboxMessage] = []
    with transaction.atomic():
        locked = _locked_feed(feed, holder)
        if locked.state in (AmazonFeed.State.DONE, AmazonFeed.State.FAILED):
            return refused
        messages = [
            message
            for message in locked.messages.order_by("pk")
            if message.state == OutboxMessage.State.IN_FEED
        ]
        all_ids = [message.feed_message_id for message in messages]
        for message in messages:
            outcome, text = answer.outcome(message.feed_message_id, all_ids)
            if outcome == Outcome.APPLIED:
                _message_applied(message)
            elif outcome == Outcome.REFUSED:
                _message_refused(message, text, refused)
            else:
                _message_unknown(message, text, is_feed_known=bool(locked.feed_id))
        feed_transition(
            locked,
            AmazonFeed.State.DONE if answer.is_done else AmazonFeed.State.FAILED,
            fields={
                "processing_status": answer.status or locked.processing_status,
                "report": answer.report_text,
                "error": answer.refusal or ("" if answer.is_done else answer.unknown),
                "lease_holder": "",
            },
            is_locked=True,
        )
    return refused


def _report_answer(status: str, report_text: str, *, is_done: bool) -> FeedAnswer:
    unknown = (
        note_english("feed.report_silent") if is_done else note_english("feed.fatal_report_silent")
    )
    try:
        report = processing_report_parse(report_text)
    except UnreadableReport as error:
        # Amazon processed the feed: nothing proves a message was refused, nor applied.
        return FeedAnswer(
            status=status,
            report_text=report_text,
            unknown=note_english("feed.report_unreadable", error=str(error)),
        )
    return FeedAnswer(
        status=status, report_text=report_text, report=report, is_done=is_done, unknown=unknown
    )


def _finished_feed_answer(feed: AmazonFeed, details: dict, client: AmazonClient) -> FeedAnswer:
    """What a finished feed (DONE, FATAL, CANCELLED, or a status we do not know) says."""
    status = str(details.get("processingStatus") or "")
    document_id = details.get("resultFeedDocumentId")
    if status == "CANCELLED":
        # "The feed was cancelled before it started processing": nothing was applied.
        return FeedAnswer(status=status, refusal=note_english("feed.cancelled"))
    if status in ("DONE", "FATAL") and document_id:
        try:
            report_text = client.feed_result_document(str(document_id))
        except AmazonRequestError as error:
            return FeedAnswer(
                status=status,
                unknown=note_english("feed.report_not_downloaded", error=error.message),
            )
        return _report_answer(status, report_text, is_done=status == "DONE")
    if status == "FATAL":
        return FeedAnswer(
            status=status,
            unknown=note_english("feed.fatal_without_report"),
        )
    return FeedAnswer(
        status=status,
        unknown=note_english("feed.ended_without_report", status=status),
    )


def _feed_lost(feed: AmazonFeed, holder: str) -> None:
    _feed_settle(
        feed,
        holder,
        answer=FeedAnswer(unknown=note_english("feed.creation_answer_lost")),
    )


def _feed_advance(feed: AmazonFeed, holder: str, client: AmazonClient) -> DeliveryOutcome | None:
    """Move the feed as far as it goes now; a wait, or None once it is settled."""
    if feed.state == AmazonFeed.State.CREATING:
        # createFeed was called and its answer lost (a dead worker, a timeout): Amazon may or
        # may not have the feed, and nothing proves which feed would be ours.
        _feed_lost(feed, holder)
        return None
    while True:
        if feed.state == AmazonFeed.State.NEW:
            try:
                document_id = client.feed_document_upload(
                    content=feed.content.encode(), content_type=XML_CONTENT_TYPE
                )
            except AmazonRequestError as error:
                _feed_refused(feed, holder, error)
                return None
            feed = _feed_save(
                feed, holder, state=AmazonFeed.State.UPLOADED, feed_document_id=document_id
            )
        elif feed.state == AmazonFeed.State.UPLOADED:
            feed = _feed_save(
                feed, holder, state=AmazonFeed.State.CREATING, submitted_at=timezone.now()
            )
        elif feed.state == AmazonFeed.State.CREATING:
            try:
                feed_id = client.feed_create(
                    feed_type=feed.feed_type, document_id=feed.feed_document_id
                )
            except (RateLimited, AmazonThrottled, AmazonAuthorizationError):
                # Nothing was sent (our limiter), or Amazon throttled or denied the call: no
                # feed exists, and the next attempt calls createFeed again.
                _feed_save(feed, holder, state=AmazonFeed.State.UPLOADED)
                raise
            except AmazonRequestError as error:
                _feed_refused(feed, holder, error)
                return None
            feed = _feed_save(feed, holder, state=AmazonFeed.State.SUBMITTED, feed_id=feed_id)
        elif feed.state == AmazonFeed.State.SUBMITTED:
            details = client.feed_get(feed.feed_id)
            status = details.get("processingStatus", "")
            if status in ("IN_QUEUE", "IN_PROGRESS"):
                feed = _feed_save(feed, holder, processing_status=status)
                wait = feed_poll_interval(feed)
                _feed_hold(feed, holder, wait)
                return DeliveryOutcome(wait_seconds=wait)
            answer = _finished_feed_answer(feed, details, client)
            _refusals_follow(_feed_settle(feed, holder, answer=answer))
            return None
        else:
            return None


def _feed_refused(feed: AmazonFeed, holder: str, error: AmazonRequestError) -> None:
    """createFeedDocument or createFeed refused (4xx): no feed exists, nothing was applied."""
    refused = _feed_settle(
        feed,
        holder,
        answer=FeedAnswer(refusal=note_english("feed.refused", error=error.message)),
    )
    _refusals_follow(refused)


def _lost_feed_wait(feed: AmazonFeed, client: AmazonClient) -> float:
    """Seconds to wait before the orders may be read for a lost feed's messages; 0 when every
    feed that could be ours has finished (see the module's docstring)."""
    now = timezone.now()
    call_timeout = timedelta(seconds=settings.AMAZON_REQUEST_TIMEOUT_SECONDS)
    quiet_from = feed.submitted_at + call_timeout
    if now < quiet_from:
        return (quiet_from - now).total_seconds()
    known = set(
        AmazonFeed.objects.filter(store__seller_id=feed.store.seller_id)
        .exclude(feed_id="")
        .values_list("feed_id", flat=True)
    )
    # Our clock and Amazon's differ by seconds: the window is widened by the usual margin.
    margin = clock_skew_margin()
    window_end = quiet_from + margin
    unfinished = client.feeds_unfinished(
        feed_type=feed.feed_type,
        created_since=feed.submitted_at - margin,
        # Until Amazon's now (the default) while the window is still open: Amazon's clock may
        # be behind ours, and a time in its future may be refused.
        created_until=window_end if window_end < now - margin else None,
    )
    if any(str(candidate["feedId"]) not in known for candidate in unfinished):
        return settings.AMAZON_FEED_POLL_SECONDS
    return 0.0


def _verification_claim(message: OutboxMessage, holder: str) -> OutboxMessage | None:
    verifying = OutboxMessage.objects.filter(state=OutboxMessage.State.VERIFYING)
    try:
        return lease_claim(verifying, pk=message.pk, holder=holder, duration=lease_duration())
    except OutboxMessage.DoesNotExist:
        return None  # settled meanwhile by another worker


def _verified(message: OutboxMessage, holder: str, *, state: str, result: str) -> bool:
    """Move a VERIFYING message on under its lock; False when another worker has it now."""
    locked = OutboxMessage.objects.select_for_update(of=("self",)).get(pk=message.pk)
    if locked.state != OutboxMessage.State.VERIFYING or locked.lease_holder != holder:
        return False
    fields = {"result": result, "lease_holder": ""}
    if state == OutboxMessage.State.PENDING:
        fields |= {
            "feed": None,
            "feed_message_id": None,
            "payload": {**locked.payload, RESENT_AFTER_CHECK: True},
        }
    # `message` is the caller's copy, saved as before; the row is locked above, and the check
    # proved it is still VERIFYING and ours.
    message.state = locked.state
    outbox_message_transition(message, state, fields=fields, is_locked=True)
    return True


def _verification_apply(message: OutboxMessage, holder: str, order: dict | None) -> None:
    """Settle a VERIFYING message (a cancellation) from Amazon's order (None: Amazon does not
    find it), as the message's handler reads the order."""
    handler = outbox_handler(message.kind)
    if order is None:
        outcome_refusal = note_english("feed.order_not_found")
        outcome = None
    else:
        outcome = handler.order_verdict(message, order)
        outcome_refusal = outcome.refusal
    is_rejected = False
    with transaction.atomic():
        if outcome is not None and outcome.is_undecided:
            if message.updated_at > timezone.now() - UNDECIDED_LIMIT:
                _verified_release(message, holder)
                return
            outcome_refusal = _verification_given_up_text(
                note_english("feed.order_status_is", status=_order_status_shown(order))
            )
        if outcome is not None and outcome.is_applied:
            if _verified(message, holder, state=OutboxMessage.State.DONE, result="OK"):
                handler.applied(message)
            return
        if outcome is not None and outcome.is_sendable_again:
            if message.payload.get(RESENT_AFTER_CHECK):
                # Sent again once already and still not applied: it is not sent a third time.
                outcome_refusal = note_english(
                    "feed.cancellation_not_applied_twice", answer=message.result or "-"
                )
            elif _verified(message, holder, state=OutboxMessage.State.PENDING, result=""):
                handler.sent_again(message)
                return
            else:
                return
        if _verified(message, holder, state=OutboxMessage.State.FAILED, result=outcome_refusal):
            handler.refused(message, outcome_refusal)
            is_rejected = True
    if is_rejected:
        handler.refusal_committed(message)


def _verified_release(message: OutboxMessage, holder: str) -> None:
    OutboxMessage.objects.filter(pk=message.pk, lease_holder=holder).update(lease_holder="")


def _order_status_shown(order: dict) -> str:
    fulfillment = order.get("fulfillment")
    status = fulfillment.get("fulfillmentStatus") if isinstance(fulfillment, dict) else None
    return str(status)[:40] if status else "-"


def _verification_given_up_text(reason: str) -> str:
    return note_english("feed.verification_given_up", reason=reason)


def _verification_give_up(message: OutboxMessage, holder: str, reason: str) -> None:
    """Amazon refuses to show the order (4xx, terminal): the cancellation ends rejected, and
    the merchant checks the order in Seller Central."""
    text = _verification_given_up_text(reason)
    with transaction.atomic():
        if _verified(message, holder, state=OutboxMessage.State.FAILED, result=text):
            outbox_handler(message.kind).refused(message, text)


def _awaiting_amazon() -> Q:
    """VERIFYING messages that Amazon's side settles: cancellations (by the order), and refunds
    of a lost feed until no feed that could be ours is unfinished (then the merchant's)."""
    return Q(state=OutboxMessage.State.VERIFYING) & (
        Q(kind=OutboxMessage.Kind.CANCEL_ORDER)
        | (Q(kind=OutboxMessage.Kind.REFUND_ORDER) & ~Q(payload__has_key=AWAITING_MERCHANT))
    )


def _refund_doubt(message: OutboxMessage) -> None:
    """A lost feed's refund once every feed that could be ours has finished: Seller Central now
    shows it if Amazon applied it, so the merchant decides."""
    with transaction.atomic():
        locked = OutboxMessage.objects.select_for_update(of=("self",)).get(pk=message.pk)
        if locked.state == OutboxMessage.State.VERIFYING and AWAITING_MERCHANT not in (
            locked.payload
        ):
            outbox_message_doubt(message=locked)


def _messages_verify(*, store: Store, client: AmazonClient, holder: str) -> float:
    """Settle the store's VERIFYING cancellations from Amazon's orders, and hand a lost feed's
    refunds to the merchant once no feed that could be ours is unfinished; returns how long to
    wait before trying again (0 when nothing is left for Amazon's side). Raises
    AmazonAuthorizationError."""
    now = timezone.now()
    candidates = (
        OutboxMessage.objects.filter(_awaiting_amazon(), store=store)
        .exclude(lease_holder__gt="", lease_expires_at__gt=now)
        .select_related("feed", "feed__store")
        .order_by("pk")
    )
    waits: list[float] = []
    lost_feed_waits: dict[int, float] = {}
    for message in list(candidates[:MESSAGES_PER_FEED]):
        try:
            feed = message.feed
            if feed is not None and not feed.feed_id:
                if feed.pk not in lost_feed_waits:
                    lost_feed_waits[feed.pk] = _lost_feed_wait(feed, client)
                if lost_feed_waits[feed.pk] > 0:
                    waits.append(lost_feed_waits[feed.pk])
                    continue
            if message.kind == OutboxMessage.Kind.REFUND_ORDER:
                _refund_doubt(message)
                continue
            claimed = _verification_claim(message, holder)
            if claimed is None:
                continue
            try:
                order = client.get_order(claimed.payload["amazon_order_id"])
            except AmazonNotFound:
                order = None
            except AmazonRequestError as error:
                logger.info("outbox message %s: getOrder refused: %s", claimed.pk, error.message)
                _verification_give_up(claimed, holder, error.message)
                continue
            _verification_apply(claimed, holder, order)
        except AmazonRetryableError as error:
            # Throttled or unreachable: the rest waits for the next pass.
            waits.append(error.wait_seconds or backoff_seconds(2))
            break
    awaiting = OutboxMessage.objects.filter(_awaiting_amazon(), store=store)
    if not awaiting.exists():
        return 0.0
    wait = min(waits) if waits else settings.AMAZON_FEED_POLL_SECONDS
    # This delivery comes back after `wait`: until then (and a lease's margin) the sweep leaves
    # the waiting messages alone, as it does SENDING ones.
    awaiting.filter(lease_holder__in=["", holder]).update(
        lease_expires_at=timezone.now() + timedelta(seconds=wait) + lease_duration()
    )
    return wait


class _StorePaused(Exception):
    """Amazon rejected the store's credentials: the store is paused, delivery stops."""


@dataclass(frozen=True)
class FeedWork:
    """What a worker did with a feed: settled it, or left it with a wait before its next
    step; neither when another worker holds it."""

    is_settled: bool = False
    wait_seconds: float | None = None


def _feed_work(feed_id: int, *, store_id: int, holder: str, client: AmazonClient) -> FeedWork:
    """Claim the feed and move it as far as it goes now. Raises _StorePaused."""
    unfinished = AmazonFeed.objects.filter(state__in=UNFINISHED)
    try:
        claimed = lease_claim(unfinished, pk=feed_id, holder=holder, duration=lease_duration())
    except AmazonFeed.DoesNotExist:
        return FeedWork()  # settled meanwhile by another worker
    if claimed is None:
        return FeedWork()  # another worker is on it and comes back to it
    try:
        outcome = _feed_advance(claimed, holder, client)
    except AmazonRetryableError as error:
        wait = error.wait_seconds or backoff_seconds(2)
        _feed_hold(claimed, holder, wait)
        return FeedWork(wait_seconds=wait)
    except AmazonAuthorizationError as error:
        store_problem_report(store_id, SyncState.NEEDS_REAUTHORIZATION, error.message)
        raise _StorePaused from error
    except AmazonRequestError as error:
        # getFeed refused (getFeedDocument's 4xx is read in _finished_feed_answer): the feed
        # was created, so its outcome is unknown (never "refused": Amazon may have applied it).
        _feed_settle(
            claimed,
            holder,
            answer=FeedAnswer(unknown=note_english("feed.outcome_refused", error=error.message)),
        )
        return FeedWork(is_settled=True)
    if outcome is None:
        return FeedWork(is_settled=True)
    return FeedWork(wait_seconds=outcome.wait_seconds)


def _store_feeds_work(*, store: Store, holder: str, client: AmazonClient) -> tuple[bool, list]:
    """Move on every unfinished feed of the store no other worker holds, then open new ones
    while their messages may go; returns whether a feed was settled (its messages may need a
    check or a new feed) and the waits before this worker's next steps."""
    is_settled = False
    waits: list[float] = []
    unfinished = AmazonFeed.objects.filter(store=store, state__in=UNFINISHED)
    for feed_id in list(unfinished.order_by("pk").values_list("pk", flat=True)):
        work = _feed_work(feed_id, store_id=store.pk, holder=holder, client=client)
        is_settled |= work.is_settled
        if work.wait_seconds is not None:
            waits.append(work.wait_seconds)
    for _opened in range(10):
        opening = _feed_open(store, client)
        if opening.feed is None:
            if opening.wait_seconds:
                waits.append(opening.wait_seconds)
            break
        work = _feed_work(opening.feed.pk, store_id=store.pk, holder=holder, client=client)
        is_settled |= work.is_settled
        if work.wait_seconds is not None:
            waits.append(work.wait_seconds)
    return is_settled, waits


def store_outbox_deliver(*, store_id: int, holder: str) -> DeliveryOutcome:
    """Send the store's pending messages and follow their feeds until done or a wait.

    Shipment confirmations first (one API call each), then the cancellations whose outcome is
    being checked against Amazon's orders, then feeds (cancellations, refunds): every unfinished
    feed no other worker holds is moved on, and a new one is opened when its messages may go
    (the module's docstring). Never sleeps; an Amazon error is a wait with backoff (the messages
    stay where they are). Rejected credentials pause the store, as the sync does; a feed Amazon
    refuses (4xx) fails its messages, and their cancellations are shown as rejected with
    Amazon's words. Returns the shortest wait among the store's feeds, collection window and
    checks this worker is to come back for.
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
    waits: list[float] = []
    for _pass in range(10):
        try:
            verify_wait = _messages_verify(store=store, client=client, holder=holder)
            is_settled, waits = _store_feeds_work(store=store, holder=holder, client=client)
        except AmazonAuthorizationError as error:
            store_problem_report(store_id, SyncState.NEEDS_REAUTHORIZATION, error.message)
            return DeliveryOutcome(is_finished=True)
        except _StorePaused:
            return DeliveryOutcome(is_finished=True)
        if verify_wait:
            waits.append(verify_wait)
        if not is_settled:
            break
        # A settled feed may have left messages to check against Amazon's orders, or to send
        # again: another pass takes them up.
    if not waits:
        return DeliveryOutcome(is_finished=True)
    return DeliveryOutcome(wait_seconds=min(waits))


def feed_poll_now(*, feed_pk: int) -> bool:
    """Make the feed's next getFeed due now and queue its store's delivery (Amazon said it
    finished: FEED_PROCESSING_FINISHED), so that its report is read at once rather than at
    its next poll (`feed_poll_interval`). A submitted feed waiting for its poll keeps a lease
    until then: the lease is made to lapse, so the delivery queued here claims the feed; the
    worker that waited finds it settled, or held, and stops (a worker in the middle of a step
    loses the lease at its next write, FeedLeaseLost, and stops too). Returns False when the
    feed is settled already (nothing to do)."""
    with transaction.atomic():
        feed = AmazonFeed.objects.select_for_update(of=("self",)).filter(pk=feed_pk).first()
        if feed is None or feed.state not in UNFINISHED:
            return False
        if feed.state == AmazonFeed.State.SUBMITTED:
            feed.lease_expires_at = timezone.now()
            feed.save(update_fields=["lease_expires_at"])
        outbox_delivery_enqueue(store_id=feed.store_id)
    return True


def stores_with_outbox_work() -> list[int]:
    """Stores with messages waiting, a message or a feed whose worker has gone quiet, or a
    message whose outcome Amazon's side is still to settle and whose next check is due."""
    now = timezone.now()
    pending = OutboxMessage.objects.filter(
        Q(state=OutboxMessage.State.PENDING)
        | Q(state=OutboxMessage.State.SENDING, lease_expires_at__lt=now)
        | (_awaiting_amazon() & (Q(lease_expires_at__isnull=True) | Q(lease_expires_at__lt=now)))
    ).values_list("store_id", flat=True)
    stalled = AmazonFeed.objects.filter(state__in=UNFINISHED, lease_expires_at__lt=now).values_list(
        "store_id", flat=True
    )
    never_claimed = AmazonFeed.objects.filter(
        state__in=UNFINISHED, lease_expires_at__isnull=True
    ).values_list("store_id", flat=True)
    return sorted(set(pending) | set(stalled) | set(never_claimed))
