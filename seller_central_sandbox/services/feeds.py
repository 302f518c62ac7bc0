"""Feeds 2021-06-30: documents uploaded to a presigned URL, feeds that move IN_QUEUE ->
IN_PROGRESS -> DONE over time.

Progress is computed lazily when a feed is read, under a row lock, so the feed's messages are
applied exactly once and no background process is needed.

What Amazon does and the sandbox follows (feeds_2021-06-30.json):
- FATAL: "The feed was aborted due to a fatal error. Some, none, or all of the operations within
  the feed may have completed successfully." (Feed.processingStatus). The FATAL fault
  (`seller_feed_faults_set`) applies the first messages, then aborts, with or without a
  processing report of what was processed.
- Result documents may be compressed: FeedDocument.compressionAlgorithm "GZIP" ("If the feed
  document contents have been compressed, the compression algorithm used is returned in this
  property and you must decompress the feed when you download"). The seller's
  `result_compression` decides: never, always, or every second report.
- getFeeds lists the seller's feeds whatever application submitted them: a Feed carries no
  application, and its feedId "is unique only in combination with a seller ID". Feeds of the
  seller's other tools (`feeds_foreign_create`) are processed and listed alike.
"""

import gzip
import secrets
import uuid
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from seller_central_sandbox.acknowledgement import (
    CODE_INVALID_VALUE,
    CODE_ORDER_NOT_CANCELLABLE,
    CODE_ORDER_NOT_FOUND,
    CODE_UNSUPPORTED,
    CODE_XML_PARSING_ERROR,
    FeedParseError,
    ResultRow,
    parse_acknowledgements,
    processing_report,
)
from seller_central_sandbox.adjustment import ADJUSTMENT_REASONS, parse_adjustments
from seller_central_sandbox.models import (
    FeedProcessingStatus,
    FulfillmentStatus,
    ResultCompression,
    SandboxFeed,
    SandboxFeedDocument,
    SandboxOrder,
    SandboxRefund,
    SandboxSeller,
)
from seller_central_sandbox.services.notifications import feed_finished_notify
from seller_central_sandbox.services.orders import OrderTransitionError, order_items_cancel
from seller_central_sandbox.services.sellers import SandboxError, seller_amazon_behaviour_set

DOCUMENT_URL_LIFETIME = timedelta(minutes=5)
# At SANDBOX_TIME_SCALE = 1 a feed waits SANDBOX_FEED_QUEUE_SECONDS in the queue, then is
# processed for SANDBOX_FEED_PROCESSING_SECONDS (3 s each by default; Amazon's take longer, and
# documents no figure: bench/notifications_latency.py sets a minute).
ACKNOWLEDGEMENT_FEED_TYPE = "POST_ORDER_ACKNOWLEDGEMENT_DATA"
PAYMENT_ADJUSTMENT_FEED_TYPE = "POST_PAYMENT_ADJUSTMENT_DATA"
GZIP = "GZIP"
XML_CONTENT_TYPE = "text/xml; charset=UTF-8"


def _scaled(seconds: float) -> timedelta:
    return timedelta(seconds=seconds / max(float(settings.SANDBOX_TIME_SCALE), 1e-9))


def _document_new(
    *,
    seller: SandboxSeller,
    content_type: str,
    now: datetime,
    content: bytes | None = None,
    is_result: bool = False,
    compression_algorithm: str = "",
) -> SandboxFeedDocument:
    """A feed document with Amazon's identity: its id, and a URL token valid for five minutes
    from `now`."""
    return SandboxFeedDocument.objects.create(
        seller=seller,
        document_id=f"amzn1.tortuga.4.na.{uuid.uuid4()}",
        url_token=secrets.token_urlsafe(32),
        url_expires_at=now + DOCUMENT_URL_LIFETIME,
        content_type=content_type[:100],
        content=content,
        compression_algorithm=compression_algorithm,
        is_result=is_result,
        created_at=now,
    )


def feed_document_create(*, seller: SandboxSeller, content_type: str) -> SandboxFeedDocument:
    """createFeedDocument: an empty document and the token of its upload URL (5 minutes)."""
    if not content_type:
        raise SandboxError("contentType is required.")
    return _document_new(seller=seller, content_type=content_type, now=timezone.now())


def feed_document_url_refresh(*, document: SandboxFeedDocument) -> SandboxFeedDocument:
    """getFeedDocument: each answer carries a URL valid for five minutes from now."""
    document.url_expires_at = timezone.now() + DOCUMENT_URL_LIFETIME
    document.save(update_fields=["url_expires_at"])
    return document


def _document_by_url_token(url_token: str) -> SandboxFeedDocument:
    document = SandboxFeedDocument.objects.filter(url_token=url_token).first()
    if document is None or document.url_expires_at <= timezone.now():
        raise SandboxError(
            "Request has expired or the URL is not valid.", code="AccessDenied", status=403
        )
    return document


def feed_document_upload(*, url_token: str, content: bytes) -> SandboxFeedDocument:
    """PUT on the presigned URL; raises SandboxError 403 once the URL expired."""
    document = _document_by_url_token(url_token)
    if document.is_result or document.input_feeds.exists():
        raise SandboxError(
            "This document can no longer be written.", code="AccessDenied", status=403
        )
    document.content = content
    document.save(update_fields=["content"])
    return document


def feed_document_download(*, url_token: str) -> SandboxFeedDocument:
    document = _document_by_url_token(url_token)
    if document.content is None:
        raise SandboxError("The document has no content.", code="NoSuchKey", status=404)
    return document


def feed_create(
    *, seller: SandboxSeller, feed_type: str, marketplace_ids: list[str], input_document_id: str
) -> SandboxFeed:
    """createFeed; raises SandboxError 400 on a missing field, a marketplace the seller does not
    sell in, or an unknown input document."""
    if not feed_type or not isinstance(feed_type, str):
        raise SandboxError("feedType is required.")
    if (
        not isinstance(marketplace_ids, list)
        or not 1 <= len(marketplace_ids) <= 25
        or not all(isinstance(value, str) for value in marketplace_ids)
    ):
        raise SandboxError("marketplaceIds must list 1 to 25 marketplace ids.")
    foreign = [value for value in marketplace_ids if value not in seller.marketplace_ids]
    if foreign:
        raise SandboxError(f"Invalid marketplaceIds: {', '.join(foreign)}.")
    document = SandboxFeedDocument.objects.filter(
        seller=seller, document_id=input_document_id, is_result=False
    ).first()
    if document is None:
        raise SandboxError(f"inputFeedDocumentId {input_document_id} was not found.")
    return SandboxFeed.objects.create(
        seller=seller,
        feed_id=_new_feed_id(),
        feed_type=feed_type,
        marketplace_ids=marketplace_ids,
        input_document=document,
        created_time=timezone.now(),
    )


def _new_feed_id() -> str:
    feed_id = str(50_000_000_000 + secrets.randbelow(10**10))
    while SandboxFeed.objects.filter(feed_id=feed_id).exists():
        feed_id = str(50_000_000_000 + secrets.randbelow(10**10))
    return feed_id


def feeds_foreign_create(
    *,
    seller: SandboxSeller,
    feed_type: str,
    content: bytes,
    application: str = "ERP",
    marketplace_ids: list[str] | None = None,
    content_type: str = XML_CONTENT_TYPE,
) -> SandboxFeed:
    """A feed the seller's other tool (an ERP, a repricer) submitted: its own input document,
    processed over time and listed by getFeeds like any other (Amazon's Feed says nothing of
    who submitted it). Raises SandboxError without an application name or a feed type."""
    if not application:
        raise SandboxError("A foreign feed needs the name of its application.")
    if not feed_type:
        raise SandboxError("feedType is required.")
    now = timezone.now()
    document = _document_new(seller=seller, content_type=content_type, now=now, content=content)
    return SandboxFeed.objects.create(
        seller=seller,
        feed_id=_new_feed_id(),
        feed_type=feed_type,
        application=application[:120],
        marketplace_ids=list(marketplace_ids or seller.marketplace_ids[:1]),
        input_document=document,
        created_time=now,
    )


def seller_feed_faults_set(
    *,
    seller: SandboxSeller,
    fatal_next: int = 0,
    fatal_applied: int = 1,
    has_fatal_report: bool = True,
    result_compression: str | None = None,
) -> SandboxSeller:
    """The seller's feed faults: the next `fatal_next` feeds of this application end FATAL after
    applying their first `fatal_applied` messages, with a processing report of those when
    `has_fatal_report`; and how processing reports are compressed (None leaves it). Raises
    SandboxError on a negative count or an unknown compression."""
    return seller_amazon_behaviour_set(
        seller=seller,
        fatal_next=fatal_next,
        fatal_applied=fatal_applied,
        has_fatal_report=has_fatal_report,
        result_compression=result_compression,
    )


def _fatal_fault_consume(seller: SandboxSeller) -> SandboxSeller | None:
    """The seller's FATAL settings when this feed takes one unit of the fault, else None.
    One conditional UPDATE, as the other faults: two feeds never take the same unit."""
    taken = SandboxSeller.objects.filter(pk=seller.pk, fault_feed_fatal_next__gt=0).update(
        fault_feed_fatal_next=F("fault_feed_fatal_next") - 1
    )
    if taken != 1:
        return None
    return SandboxSeller.objects.only("fault_feed_fatal_applied", "fault_feed_fatal_report").get(
        pk=seller.pk
    )


def feed_cancel(*, seller: SandboxSeller, feed_id: str) -> SandboxFeed:
    """cancelFeed: only a feed still IN_QUEUE; raises SandboxError 404 / 400 otherwise."""
    with transaction.atomic():
        feed = _lock_feed(seller=seller, feed_id=feed_id)
        _advance_locked(feed)
        if feed.processing_status != FeedProcessingStatus.IN_QUEUE:
            raise SandboxError(
                f"The feed is {feed.processing_status}: only feeds IN_QUEUE can be cancelled."
            )
        feed.processing_status = FeedProcessingStatus.CANCELLED
        feed.save(update_fields=["processing_status"])
        feed_finished_notify(feed=feed)
    return feed


def _lock_feed(*, seller: SandboxSeller, feed_id: str) -> SandboxFeed:
    feed = (
        SandboxFeed.objects.select_for_update(of=("self",))
        .filter(seller=seller, feed_id=feed_id)
        .order_by("pk")
        .first()
    )
    if feed is None:
        raise SandboxError(f"Feed {feed_id} was not found.", code="NotFound", status=404)
    return feed


def feed_advance(*, seller: SandboxSeller, feed_id: str) -> SandboxFeed:
    """The feed as it is now: moved on as far as time allows, its messages applied once."""
    with transaction.atomic():
        feed = _lock_feed(seller=seller, feed_id=feed_id)
        _advance_locked(feed)
    return feed


def feeds_advance(*, seller: SandboxSeller, feed_ids: list[str]) -> None:
    for feed_id in feed_ids:
        feed_advance(seller=seller, feed_id=feed_id)


def _advance_locked(feed: SandboxFeed, now: datetime | None = None) -> None:
    now = now or timezone.now()
    if feed.processing_status == FeedProcessingStatus.IN_QUEUE:
        started = feed.created_time + _scaled(settings.SANDBOX_FEED_QUEUE_SECONDS)
        if now < started:
            return
        feed.processing_status = FeedProcessingStatus.IN_PROGRESS
        feed.processing_start_time = started
        feed.save(update_fields=["processing_status", "processing_start_time"])
    if feed.processing_status == FeedProcessingStatus.IN_PROGRESS:
        ended = feed.processing_start_time + _scaled(settings.SANDBOX_FEED_PROCESSING_SECONDS)
        if now < ended:
            return
        _process(feed, ended)


def _process(feed: SandboxFeed, ended: datetime) -> None:
    content = feed.input_document.content
    status = FeedProcessingStatus.DONE
    processed = 0
    # Only this application's feeds take the FATAL fault: the other tools' feeds are context.
    fatal = None if feed.application else _fatal_fault_consume(feed.seller)
    limit = fatal.fault_feed_fatal_applied if fatal is not None else None
    if content is None:
        status = FeedProcessingStatus.FATAL
        results = [ResultRow("0", CODE_XML_PARSING_ERROR, "The feed document has no content.")]
    elif feed.feed_type == ACKNOWLEDGEMENT_FEED_TYPE:
        processed, results = _apply_acknowledgements(feed, bytes(content), limit)
    elif feed.feed_type == PAYMENT_ADJUSTMENT_FEED_TYPE:
        processed, results = _apply_adjustments(feed, bytes(content), ended, limit)
    else:
        status = FeedProcessingStatus.FATAL
        results = [
            ResultRow("0", CODE_UNSUPPORTED, f"Feed type {feed.feed_type} is not supported.")
        ]
    if fatal is not None:
        status = FeedProcessingStatus.FATAL
    if fatal is None or fatal.fault_feed_fatal_report:
        # A FATAL feed's report describes what was processed before the abort, nothing more.
        report = processing_report(
            merchant_identifier=feed.seller.seller_id,
            document_transaction_id=feed.feed_id,
            messages_processed=processed,
            results=results,
        )
        feed.result_document = _result_document(feed, report, ended)
    feed.processing_status = status
    feed.processing_end_time = ended
    feed.save(update_fields=["result_document", "processing_status", "processing_end_time"])
    feed_finished_notify(feed=feed)


def _is_compressed(seller: SandboxSeller) -> bool:
    if seller.result_compression == ResultCompression.GZIP:
        return True
    if seller.result_compression == ResultCompression.ALTERNATE:
        # Every second report, starting with the first: both of the client's paths get used.
        earlier = SandboxFeedDocument.objects.filter(seller=seller, is_result=True).count()
        return earlier % 2 == 0
    return False


def _result_document(feed: SandboxFeed, report: bytes, ended: datetime) -> SandboxFeedDocument:
    is_compressed = _is_compressed(feed.seller)
    return _document_new(
        seller=feed.seller,
        content_type=XML_CONTENT_TYPE,
        now=ended,
        content=gzip.compress(report, mtime=0) if is_compressed else report,
        compression_algorithm=GZIP if is_compressed else "",
        is_result=True,
    )


def _apply_acknowledgements(
    feed: SandboxFeed, content: bytes, limit: int | None = None
) -> tuple[int, list[ResultRow]]:
    """Apply the messages in order (the first `limit` of them when a fault aborts the feed);
    returns how many were processed and their error rows."""
    try:
        messages = parse_acknowledgements(content)
    except FeedParseError as error:
        return 0, [ResultRow("0", CODE_XML_PARSING_ERROR, str(error))]
    messages = messages if limit is None else messages[:limit]
    results = []
    for message in messages:
        row = _apply_acknowledgement(feed, message)
        if row is not None:
            results.append(row)
    return len(messages), results


def _apply_acknowledgement(feed: SandboxFeed, message) -> ResultRow | None:
    def error(code: str, description: str) -> ResultRow:
        return ResultRow(
            message.message_id or "0", code, description, amazon_order_id=message.amazon_order_id
        )

    if not message.amazon_order_id:
        return error(CODE_INVALID_VALUE, "AmazonOrderID is required.")
    if message.status_code == "Success":
        return None
    if message.status_code != "Failure":
        return error(
            CODE_INVALID_VALUE, f"StatusCode '{message.status_code}' is not Success or Failure."
        )
    reasons = {}
    for item in message.items:
        if not item.cancel_reason:
            return error(
                CODE_INVALID_VALUE,
                f"CancelReason is required for AmazonOrderItemCode {item.amazon_order_item_code}.",
            )
        reasons[item.amazon_order_item_code] = item.cancel_reason
    try:
        with transaction.atomic():
            order_items_cancel(
                seller=feed.seller,
                order_id=message.amazon_order_id,
                reasons_by_item=reasons,
                default_reason=None,
            )
    except OrderTransitionError as refusal:
        return error(CODE_ORDER_NOT_CANCELLABLE, refusal.message)
    except SandboxError as refusal:
        code = CODE_ORDER_NOT_FOUND if refusal.status == 404 else CODE_INVALID_VALUE
        return error(code, refusal.message)
    return None


def _apply_adjustments(
    feed: SandboxFeed, content: bytes, ended: datetime, limit: int | None = None
) -> tuple[int, list[ResultRow]]:
    """As _apply_acknowledgements, for refunds."""
    try:
        messages = parse_adjustments(content)
    except FeedParseError as error:
        return 0, [ResultRow("0", CODE_XML_PARSING_ERROR, str(error))]
    messages = messages if limit is None else messages[:limit]
    results = []
    for message in messages:
        row = _apply_adjustment(feed, message, ended)
        if row is not None:
            results.append(row)
    return len(messages), results


def _apply_adjustment(feed: SandboxFeed, message, ended: datetime) -> ResultRow | None:
    """Refund the items of one message, all or nothing; an error row says why not."""

    def error(code: str, description: str) -> ResultRow:
        return ResultRow(
            message.message_id or "0", code, description, amazon_order_id=message.amazon_order_id
        )

    order = (
        SandboxOrder.objects.select_for_update()
        .filter(seller=feed.seller, order_id=message.amazon_order_id)
        .first()
    )
    if order is None:
        return error(CODE_ORDER_NOT_FOUND, f"Order {message.amazon_order_id} was not found.")
    if order.status not in (FulfillmentStatus.SHIPPED, FulfillmentStatus.PARTIALLY_SHIPPED):
        return error(
            CODE_INVALID_VALUE,
            f"Order {order.order_id} is {order.status}: only shipped orders can be refunded.",
        )
    if not message.items:
        return error(CODE_INVALID_VALUE, "An OrderAdjustment needs at least one AdjustedItem.")
    items = {item.order_item_id: item for item in order.items.all()}
    refunds = []
    for adjusted in message.items:
        item = items.get(adjusted.amazon_order_item_code)
        if item is None:
            return error(
                CODE_INVALID_VALUE,
                f"AmazonOrderItemCode {adjusted.amazon_order_item_code} is not in the order.",
            )
        if adjusted.problem:
            return error(CODE_INVALID_VALUE, adjusted.problem)
        if adjusted.reason not in ADJUSTMENT_REASONS:
            return error(CODE_INVALID_VALUE, f"AdjustmentReason '{adjusted.reason}' is not valid.")
        if adjusted.currency and adjusted.currency != order.currency_code:
            return error(
                CODE_INVALID_VALUE,
                f"Currency {adjusted.currency} is not the order's {order.currency_code}.",
            )
        principal = adjusted.amounts.get("Principal", Decimal(0))
        already = sum((refund.principal for refund in item.refunds.all()), Decimal(0))
        paid = item.unit_price * item.quantity_shipped
        if principal < 0 or already + principal > paid:
            return error(
                CODE_INVALID_VALUE,
                f"Item {item.order_item_id}: refunding {principal} would exceed the "
                f"{paid - already} left of what was paid for shipped units.",
            )
        refunds.append(
            SandboxRefund(
                order=order,
                item=item,
                feed_id=feed.feed_id,
                reason=adjusted.reason,
                principal=principal,
                shipping=adjusted.amounts.get("Shipping", Decimal(0)),
                tax=adjusted.amounts.get("Tax", Decimal(0)),
                created_at=ended,
            )
        )
    SandboxRefund.objects.bulk_create(refunds)
    order.last_updated_time = ended
    order.save(update_fields=["last_updated_time"])
    return None
