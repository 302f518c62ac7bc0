"""Cancel Order: the merchant's decision, then Amazon's processing report.

Confirm runs in one transaction with the order row locked: status Canceled, an event naming the
user and the reason, the cancellation record and its outbox message. After commit a task sends
the order acknowledgement feed; the report then confirms or rejects the cancellation.

An order has one cancellation record. When Amazon rejected it, the order is still Unshipped and
the merchant has reviewed the rejection, Cancel Order may be tried again: the same record goes
back to pending with the new reason and a new outbox message, keyed by the attempt
(`cancel:<order pk>` first, then `cancel:<order pk>:<attempt>`), so each attempt is sent once.
Locks are always taken order row first, then its cancellation.

When Amazon's answer does not say whether the cancellation was applied (a FATAL feed, a lost
createFeed answer), Amazon's state of the order decides (`cancellation_outcome_read`): cancelled
is confirmed, still Unshipped was not applied (sent again once), shipped is rejected.
"""

import logging
import random
import smtplib
from datetime import timedelta

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from amazon_channel.buyer_emails import buyer_cancellation_email_send
from amazon_channel.enqueue import buyer_email_enqueue, outbox_delivery_enqueue
from amazon_channel.events import (
    order_cancel_confirmed,
    order_cancel_rejected,
    order_cancel_rejection_reviewed,
    order_cancel_requested,
    order_cancel_resent,
)
from amazon_channel.models import (
    AmazonOrder,
    AmazonOrderCancellation,
    AmazonOrderEvent,
    AmazonOrderStatus,
    CancelReason,
    FulfillmentChannel,
    OutboxMessage,
)
from amazon_channel.notes import note, note_english
from amazon_channel.orders.commerce_import import commerce_order_settle_cancellation
from amazon_channel.orders.sync import amazon_order_recover
from amazon_channel.outbox.handlers import OrderVerdict, OutboxHandler
from amazon_channel.selectors import order_cancellation
from amazon_channel.spapi.client import AmazonError
from amazon_channel.spapi.order_payload import STATUS_BY_FULFILLMENT_STATUS
from amazon_channel.transitions import cancellation_transition, order_cancel_transition
from commerce_orders.models import CommerceOrder

logger = logging.getLogger(__name__)


class CancellationNotAllowed(Exception):
    """The order cannot be canceled from here; `message` says why and where to go instead."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def cancellation_refusal(order: AmazonOrder) -> str | None:
    """None when Cancel Order applies to the order, else the reason in the merchant's words."""
    return _refusal(order, order_cancellation(order))


def _refusal(order: AmazonOrder, cancellation: AmazonOrderCancellation | None) -> str | None:
    if (
        order.status == AmazonOrderStatus.UNSHIPPED
        and order.fulfillment_channel == FulfillmentChannel.MERCHANT
    ):
        return _shipment_refusal(order) or _earlier_cancellation_refusal(cancellation)
    return _status_refusal(order)


def _shipment_refusal(order: AmazonOrder) -> str | None:
    """An order Amazon still shows Unshipped whose goods have left: a shipment of its Commerce
    order on its way to Amazon, or a Commerce order that has shipped (Amazon does not cancel
    shipped goods: SP-API.md, "Never send it once any item shipped")."""
    if order.commerce_order_id is None:
        return None  # shipments are made on Commerce orders only
    is_shipment_on_its_way = OutboxMessage.objects.filter(
        store_id=order.store_id,
        kind=OutboxMessage.Kind.CONFIRM_SHIPMENT,
        state__in=[OutboxMessage.State.PENDING, OutboxMessage.State.SENDING],
        payload__amazon_order_id=order.amazon_order_id,
    ).exists()
    if is_shipment_on_its_way:
        return _(
            "A shipment of this order is on its way to Amazon: an order that has shipped "
            "cannot be canceled."
        )
    commerce_order = (
        CommerceOrder.objects.filter(pk=order.commerce_order_id)
        .only("increment_id")
        .filter(items__quantity_shipped__gt=0)
        .first()
    )
    if commerce_order is not None:
        return _(
            "Commerce order #%(number)s has already shipped: an order that has shipped cannot "
            "be canceled."
        ) % {"number": commerce_order.increment_id}
    return None


def _earlier_cancellation_refusal(cancellation: AmazonOrderCancellation | None) -> str | None:
    """What an earlier cancellation of an Unshipped order says about a new one."""
    if cancellation is None:
        return None
    if cancellation.state == AmazonOrderCancellation.State.PENDING:
        return _("The cancellation of this order is waiting for Amazon's answer.")
    if cancellation.state == AmazonOrderCancellation.State.CONFIRMED:
        return _("Amazon has already confirmed the cancellation of this order.")
    if not cancellation.is_rejection_acknowledged:
        # Someone must have read Amazon's reason before the order is canceled again, so that
        # a form left open in another tab does not retry behind the merchant's back.
        return _(
            "Amazon rejected the last cancellation of this order: mark it as reviewed, "
            "then cancel the order again."
        )
    return None


def _status_refusal(order: AmazonOrder) -> str:
    if order.status == AmazonOrderStatus.CANCELED:
        return _("The order is already canceled.")
    if order.status in (
        AmazonOrderStatus.PENDING,
        AmazonOrderStatus.PENDING_AVAILABILITY,
        AmazonOrderStatus.PARTIALLY_SHIPPED,
    ):
        return _("This order can only be canceled in Amazon Seller Central.")
    if order.status == AmazonOrderStatus.SHIPPED:
        return _(
            "The order has shipped: returns and exchanges are handled in Amazon Seller Central."
        )
    if order.fulfillment_channel == FulfillmentChannel.AMAZON:
        return _("Amazon fulfills this order: it can only be canceled in Amazon Seller Central.")
    return _("Orders with status %(status)s cannot be canceled.") % {
        "status": order.get_status_display()
    }


def _cancellation_key(order: AmazonOrder) -> str:
    """The idempotency key of the order's next attempt: each attempt after the first follows
    one rejection, so two requests for the same attempt get the same key."""
    attempt = 1 + order.events.filter(kind=AmazonOrderEvent.Kind.CANCEL_REJECTED).count()
    return f"cancel:{order.pk}" if attempt == 1 else f"cancel:{order.pk}:{attempt}"


def amazon_order_cancel(
    *, order: AmazonOrder, actor: AbstractBaseUser, reason: str
) -> AmazonOrderCancellation:
    """Cancel an Unshipped merchant-fulfilled order and queue the message to Amazon.

    Exactly once: the order row and its cancellation are locked and the transition re-checked
    under the lock, so a double click, two tabs or two users produce one cancellation, one event
    and one outbox message; the later callers get CancellationNotAllowed. After a rejection the
    merchant has reviewed, the same cancellation is requested again (pending, new reason, a new
    outbox message under the next attempt's key, a new event). Raises CancellationNotAllowed
    while a cancellation waits for Amazon or was confirmed, or when the order's status does not
    allow it; ValueError for a reason that is not one of CancelReason.
    """
    if reason not in CancelReason.values:
        raise ValueError(f"unknown cancel reason {reason!r}")
    with transaction.atomic():
        locked = AmazonOrder.objects.select_for_update(of=("self",)).get(pk=order.pk)
        # Shipments lock the Amazon order too (commerce_shipment_create), then the Commerce
        # order: with the Amazon order locked, no shipment starts or ends behind this check.
        cancellation = (
            AmazonOrderCancellation.objects.select_for_update(of=("self",))
            .filter(order=locked)
            .first()
        )
        refusal = _refusal(locked, cancellation)
        if refusal is not None:
            raise CancellationNotAllowed(refusal)
        old_status = locked.status
        order_cancel_transition(locked, AmazonOrderStatus.CANCELED, is_locked=True)
        message = OutboxMessage.objects.create(
            store_id=locked.store_id,
            kind=OutboxMessage.Kind.CANCEL_ORDER,
            key=_cancellation_key(locked),
            payload={
                "amazon_order_id": locked.amazon_order_id,
                "reason": reason,
                "order_item_ids": list(
                    locked.items.filter(quantity_ordered__gt=0)
                    .order_by("pk")
                    .values_list("order_item_id", flat=True)
                ),
            },
        )
        if cancellation is None:
            cancellation = AmazonOrderCancellation.objects.create(
                order=locked,
                store_id=locked.store_id,
                reason=reason,
                requested_by=actor,
                outbox_message=message,
            )
        else:
            # The rejected attempt keeps its outbox message (FAILED, with Amazon's words) and
            # its events; the record now follows the new attempt.
            cancellation = cancellation_transition(
                cancellation,
                AmazonOrderCancellation.State.PENDING,
                fields={
                    "reason": reason,
                    "requested_by": actor,
                    "requested_at": timezone.now(),
                    "outbox_message": message,
                    "amazon_message": "",
                    "resolved_at": None,
                    "is_rejection_acknowledged": False,
                },
                is_locked=True,
            )
        order_cancel_requested(order=locked, actor=actor, old_status=old_status, reason=reason)
        outbox_delivery_enqueue(store_id=locked.store_id)
    order.status = locked.status
    return cancellation


def amazon_order_cancellation_acknowledge(
    *, cancellation: AmazonOrderCancellation, actor: AbstractBaseUser
) -> AmazonOrderCancellation:
    """Mark a rejected cancellation as seen, so the store card stops flagging it. Idempotent."""
    with transaction.atomic():
        locked = AmazonOrderCancellation.objects.select_for_update(of=("self",)).get(
            pk=cancellation.pk
        )
        if locked.state == AmazonOrderCancellation.State.REJECTED and not (
            locked.is_rejection_acknowledged
        ):
            locked.is_rejection_acknowledged = True
            locked.save(update_fields=["is_rejection_acknowledged"])
            order_cancel_rejection_reviewed(order_id=locked.order_id, actor=actor)
        return locked


def _pre_cancel_status(cancellation: AmazonOrderCancellation) -> str:
    requested = (
        AmazonOrderEvent.objects.filter(
            order_id=cancellation.order_id, kind=AmazonOrderEvent.Kind.CANCEL_REQUESTED
        )
        .order_by("-created_at", "-pk")
        .first()
    )
    return requested.old_status if requested else AmazonOrderStatus.UNSHIPPED


def cancellation_confirm(*, cancellation: AmazonOrderCancellation) -> None:
    """Amazon's report confirmed the cancellation: mark it, settle stock and the Commerce order,
    and queue the buyer's e-mail (sent by its own task once the transaction commits).
    Idempotent."""
    with transaction.atomic():
        locked = AmazonOrderCancellation.objects.select_for_update(of=("self",)).get(
            pk=cancellation.pk
        )
        if locked.state != AmazonOrderCancellation.State.PENDING:
            return
        order = AmazonOrder.objects.select_related("store", "commerce_order").get(
            pk=locked.order_id
        )
        cancellation_transition(
            locked,
            AmazonOrderCancellation.State.CONFIRMED,
            fields={"resolved_at": timezone.now()},
            event=lambda confirmed: order_cancel_confirmed(order=order, reason=confirmed.reason),
            is_locked=True,
        )
        commerce_order_settle_cancellation(
            order=order, reason=note(f"cancel_reason.{locked.reason}")
        )
        # The buyer's e-mail is a step of its own, after commit: a mail server that is down
        # retries the e-mail and never holds up the outbox (cancellation_buyer_email_send).
        locked.buyer_email_due_at = timezone.now()
        locked.save(update_fields=["buyer_email_due_at"])
        buyer_email_enqueue(cancellation_id=locked.pk)


# Attempts at the buyer's e-mail before it is given up (logged, kept on the cancellation): the
# waits double from BUYER_EMAIL_FIRST_RETRY_SECONDS up to BUYER_EMAIL_LONGEST_RETRY_SECONDS
# (with its jitter within the 10 minutes settings.LONGEST_TASK_COUNTDOWN_SECONDS counts on),
# about 3.5 hours in all.
BUYER_EMAIL_MAX_ATTEMPTS = 30
BUYER_EMAIL_FIRST_RETRY_SECONDS = 30.0
BUYER_EMAIL_LONGEST_RETRY_SECONDS = 500.0
BUYER_EMAIL_RETRY_JITTER = 1.2


def buyer_email_retry_seconds(attempts: int) -> float:
    """The wait after the `attempts`-th failed attempt: doubling, capped, with jitter."""
    wait = BUYER_EMAIL_FIRST_RETRY_SECONDS * 2 ** min(max(attempts - 1, 0), 16)
    jitter = random.uniform(1.0, BUYER_EMAIL_RETRY_JITTER)  # noqa: S311 - not security
    return min(wait, BUYER_EMAIL_LONGEST_RETRY_SECONDS) * jitter


def cancellation_buyer_email_send(*, cancellation_id: int) -> float:
    """Send the buyer's e-mail of a confirmed cancellation, once: the row is locked while it
    is sent and marked sent in the same transaction, so a second task finds it done. Returns 0
    when nothing is left to do (sent, no buyer address, given up or not due), else the seconds
    until the next attempt, which is recorded. A mail server that is down or refuses (OSError,
    SMTPException) is a failed attempt, never an exception."""
    with transaction.atomic():
        locked = (
            AmazonOrderCancellation.objects.select_for_update(of=("self",))
            .filter(pk=cancellation_id)
            .first()
        )
        if locked is None or locked.buyer_email_due_at is None or locked.buyer_emailed_at:
            return 0.0
        order = AmazonOrder.objects.select_related("store").get(pk=locked.order_id)
        try:
            buyer_cancellation_email_send(order=order, reason=locked.reason)
        except (OSError, smtplib.SMTPException) as error:
            locked.buyer_email_attempts += 1
            locked.buyer_email_error = f"{type(error).__name__}: {error}"[:500]
            is_given_up = locked.buyer_email_attempts >= BUYER_EMAIL_MAX_ATTEMPTS
            wait = 0.0 if is_given_up else buyer_email_retry_seconds(locked.buyer_email_attempts)
            locked.buyer_email_due_at = (
                None if is_given_up else timezone.now() + timedelta(seconds=wait)
            )
            locked.save(
                update_fields=["buyer_email_attempts", "buyer_email_error", "buyer_email_due_at"]
            )
            log = logger.warning if is_given_up else logger.info
            log(
                "cancellation %s: buyer e-mail attempt %s failed%s: %s",
                cancellation_id,
                locked.buyer_email_attempts,
                " (given up)" if is_given_up else "",
                locked.buyer_email_error,
            )
            return wait
        locked.buyer_email_attempts += 1
        locked.buyer_emailed_at = timezone.now()
        locked.buyer_email_due_at = None
        locked.buyer_email_error = ""
        locked.save(
            update_fields=[
                "buyer_email_attempts",
                "buyer_emailed_at",
                "buyer_email_due_at",
                "buyer_email_error",
            ]
        )
    return 0.0


def cancellations_with_buyer_email_lost(*, lost_after: timedelta) -> list[int]:
    """Cancellations whose buyer e-mail was due more than `lost_after` ago: its task was lost
    (a retry task records the next attempt's time, so a live one is never due that long)."""
    return list(
        AmazonOrderCancellation.objects.filter(
            buyer_email_due_at__lt=timezone.now() - lost_after, buyer_emailed_at=None
        )
        .order_by("pk")
        .values_list("pk", flat=True)[:500]
    )


def cancellation_reject(*, cancellation: AmazonOrderCancellation, amazon_message: str) -> None:
    """Amazon's report rejected the cancellation: flag it with Amazon's words and give the order
    back its status from before Cancel Order (Amazon's current one is read back after)."""
    with transaction.atomic():
        # Order first, then the cancellation: the order in which Cancel Order locks them.
        order = AmazonOrder.objects.select_for_update(of=("self",)).get(pk=cancellation.order_id)
        locked = AmazonOrderCancellation.objects.select_for_update(of=("self",)).get(
            pk=cancellation.pk
        )
        if locked.state != AmazonOrderCancellation.State.PENDING:
            return
        cancellation_transition(
            locked,
            AmazonOrderCancellation.State.REJECTED,
            fields={"amazon_message": amazon_message, "resolved_at": timezone.now()},
            is_locked=True,
        )
        old_status = order.status
        order_cancel_transition(
            order,
            _pre_cancel_status(locked),
            event=lambda rejected: order_cancel_rejected(
                order=rejected, old_status=old_status, amazon_message=amazon_message
            ),
            is_locked=True,
        )


def cancellation_read_back(*, order_id: int) -> None:
    """Read the order's real state from Amazon after a rejection; best effort (the next sync
    reads it too)."""
    order = AmazonOrder.objects.select_related("store").get(pk=order_id)
    try:
        amazon_order_recover(store=order.store, amazon_order_id=order.amazon_order_id)
    except AmazonError as error:
        logger.info("order %s: read-back after a rejected cancellation failed: %s", order_id, error)


def cancellation_outcome_read(*, order: dict, order_item_ids: list[str]) -> OrderVerdict:
    """Read Amazon's order (getOrder, Orders API 2026-01-01): CANCELLED, or every item we asked
    to cancel with a cancellationExecution, means applied; UNSHIPPED with those items not
    cancelled means not applied; shipped (fully or partly) or any other status means it can no
    longer be applied. An order without a readable status is undecided."""
    fulfillment = order.get("fulfillment") if isinstance(order.get("fulfillment"), dict) else {}
    status = fulfillment.get("fulfillmentStatus")
    items = {
        str(item.get("orderItemId")): item
        for item in order.get("orderItems") or []
        if isinstance(item, dict)
    }
    wanted = [items.get(str(item_id)) for item_id in order_item_ids]
    are_items_cancelled = bool(wanted) and all(
        item is not None
        and isinstance(item.get("cancellation"), dict)
        and item["cancellation"].get("cancellationExecution")
        for item in wanted
    )
    if status == "CANCELLED" or are_items_cancelled:
        return OrderVerdict(is_applied=True)
    if status == "UNSHIPPED":
        return OrderVerdict(is_sendable_again=True)
    if status in ("SHIPPED", "PARTIALLY_SHIPPED"):
        return OrderVerdict(refusal=note_english("cancellation.shipped_since"))
    if status in STATUS_BY_FULFILLMENT_STATUS:
        shown = note(f"part.order_status.{STATUS_BY_FULFILLMENT_STATUS[status].value}")
        return OrderVerdict(refusal=note_english("cancellation.shown_as", status=shown))
    return OrderVerdict(is_undecided=True)


def _cancel_message_applied(message: OutboxMessage) -> None:
    cancellation_confirm(cancellation=message.cancellation)


def _cancel_message_refused(message: OutboxMessage, problem: str) -> None:
    cancellation_reject(cancellation=message.cancellation, amazon_message=problem)


def _cancel_message_refusal_committed(message: OutboxMessage) -> None:
    cancellation_read_back(order_id=message.cancellation.order_id)


def _cancel_message_order_verdict(message: OutboxMessage, order: dict) -> OrderVerdict:
    return cancellation_outcome_read(
        order=order, order_item_ids=message.payload.get("order_item_ids") or []
    )


def _cancel_message_sent_again(message: OutboxMessage) -> None:
    order_cancel_resent(order_id=message.cancellation.order_id)


# What Amazon's answers to a cancellation message do (registered in amazon_channel.apps).
CANCEL_ORDER_HANDLER = OutboxHandler(
    applied=_cancel_message_applied,
    refused=_cancel_message_refused,
    refusal_committed=_cancel_message_refusal_committed,
    order_verdict=_cancel_message_order_verdict,
    sent_again=_cancel_message_sent_again,
)
