"""Cancel Order: the merchant's decision, then Amazon's processing report.

Confirm runs in one transaction with the order row locked: status Canceled, an event naming the
user and the reason, the cancellation record and its outbox message. After commit a task sends
the order acknowledgement feed; the report then confirms or rejects the cancellation.
"""

import logging

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from amazon_channel.models import (
    AmazonOrder,
    AmazonOrderCancellation,
    AmazonOrderEvent,
    AmazonOrderStatus,
    CancelReason,
    OutboxMessage,
)
from amazon_channel.notifications import buyer_cancellation_email_send
from amazon_channel.services.commerce import commerce_order_settle_cancellation
from amazon_channel.services.sync import amazon_order_recover
from amazon_channel.spapi import AmazonError

logger = logging.getLogger(__name__)


class CancellationNotAllowed(Exception):
    """The order cannot be canceled from here; `message` says why and where to go instead."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def cancellation_refusal(order: AmazonOrder) -> str | None:
    """None when Cancel Order applies to the order, else the reason in the merchant's words."""
    if order.status == AmazonOrderStatus.UNSHIPPED and order.fulfillment_channel == "MFN":
        return None
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
    if order.fulfillment_channel == "AFN":
        return _("Amazon fulfills this order: it can only be canceled in Amazon Seller Central.")
    return _("Orders with status %(status)s cannot be canceled.") % {
        "status": order.get_status_display()
    }


def amazon_order_cancel(
    *, order: AmazonOrder, actor: AbstractBaseUser, reason: str
) -> AmazonOrderCancellation:
    """Cancel an Unshipped merchant-fulfilled order and queue the message to Amazon.

    Exactly once: the order row is locked and the status re-checked under the lock, so a double
    click, two tabs or two users produce one cancellation, one event and one outbox message; the
    later callers get CancellationNotAllowed ("already canceled"). Raises ValueError for a reason
    that is not one of CancelReason.
    """
    if reason not in CancelReason.values:
        raise ValueError(f"unknown cancel reason {reason!r}")
    from amazon_channel.tasks import outbox_deliver

    with transaction.atomic():
        locked = AmazonOrder.objects.select_for_update(of=("self",)).get(pk=order.pk)
        refusal = cancellation_refusal(locked)
        if refusal is not None:
            raise CancellationNotAllowed(refusal)
        old_status = locked.status
        locked.status = AmazonOrderStatus.CANCELED
        locked.save(update_fields=["status", "updated_at"])
        message = OutboxMessage.objects.create(
            store_id=locked.store_id,
            kind=OutboxMessage.Kind.CANCEL_ORDER,
            key=f"cancel:{locked.pk}",
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
        cancellation = AmazonOrderCancellation.objects.create(
            order=locked, reason=reason, requested_by=actor, outbox_message=message
        )
        AmazonOrderEvent.objects.create(
            order=locked,
            kind=AmazonOrderEvent.Kind.CANCEL_REQUESTED,
            actor=actor,
            old_status=old_status,
            new_status=locked.status,
            message=CancelReason(reason).label,
        )
        outbox_deliver.delay_on_commit(store_id=locked.store_id)
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
            AmazonOrderEvent.objects.create(
                order_id=locked.order_id,
                kind=AmazonOrderEvent.Kind.NOTE,
                actor=actor,
                message=_("Rejected cancellation reviewed."),
            )
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
    and email the buyer once the transaction commits. Idempotent."""
    with transaction.atomic():
        locked = AmazonOrderCancellation.objects.select_for_update(of=("self",)).get(
            pk=cancellation.pk
        )
        if locked.state != AmazonOrderCancellation.State.PENDING:
            return
        order = AmazonOrder.objects.select_related("store", "commerce_order").get(
            pk=locked.order_id
        )
        locked.state = AmazonOrderCancellation.State.CONFIRMED
        locked.resolved_at = timezone.now()
        locked.save(update_fields=["state", "resolved_at"])
        AmazonOrderEvent.objects.create(
            order=order,
            kind=AmazonOrderEvent.Kind.CANCEL_CONFIRMED,
            new_status=order.status,
            message=CancelReason(locked.reason).label,
        )
        commerce_order_settle_cancellation(order=order, reason=CancelReason(locked.reason).label)
        transaction.on_commit(
            lambda: buyer_cancellation_email_send(order=order, reason=locked.reason)
        )


def cancellation_reject(*, cancellation: AmazonOrderCancellation, amazon_message: str) -> None:
    """Amazon's report rejected the cancellation: flag it with Amazon's words and give the order
    back its status from before Cancel Order (Amazon's current one is read back after)."""
    with transaction.atomic():
        locked = AmazonOrderCancellation.objects.select_for_update(of=("self",)).get(
            pk=cancellation.pk
        )
        if locked.state != AmazonOrderCancellation.State.PENDING:
            return
        order = AmazonOrder.objects.select_for_update(of=("self",)).get(pk=locked.order_id)
        locked.state = AmazonOrderCancellation.State.REJECTED
        locked.amazon_message = amazon_message
        locked.resolved_at = timezone.now()
        locked.save(update_fields=["state", "amazon_message", "resolved_at"])
        old_status = order.status
        order.status = _pre_cancel_status(locked)
        order.save(update_fields=["status", "updated_at"])
        AmazonOrderEvent.objects.create(
            order=order,
            kind=AmazonOrderEvent.Kind.CANCEL_REJECTED,
            old_status=old_status,
            new_status=order.status,
            message=amazon_message,
        )


def cancellation_read_back(*, order_id: int) -> None:
    """Read the order's real state from Amazon after a rejection; best effort (the next sync
    reads it too)."""
    order = AmazonOrder.objects.select_related("store").get(pk=order_id)
    try:
        amazon_order_recover(store=order.store, amazon_order_id=order.amazon_order_id)
    except AmazonError as error:
        logger.info("order %s: read-back after a rejected cancellation failed: %s", order_id, error)
