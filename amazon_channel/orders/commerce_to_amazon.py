"""Commerce order actions that Amazon must hear of, orchestrated from the Amazon side.

The Commerce services do the work and know nothing of Amazon; for an order that came from
Amazon these services add, in the same transaction, the message Amazon must receive: a
shipment confirmation (one package per shipment, so partial shipments work) or a refund (the
payment adjustment feed). Cancel of such an order is Amazon's Cancel Order flow.
"""

import dataclasses
from datetime import UTC
from decimal import Decimal

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils.translation import gettext as _

from amazon_channel.models import AdjustmentReason, AmazonOrder, AmazonOrderStatus, OutboxMessage
from amazon_channel.orders.commerce_import import CHANNEL
from amazon_channel.outbox.handlers import OutboxHandler
from amazon_channel.outbox.messages import (
    RetryNotAllowed,
    outbox_message_enqueue,
    outbox_message_retry,
    outbox_message_settle,
)
from amazon_channel.spapi.carriers import amazon_shipment_problem
from commerce_orders.exceptions import CommerceOrderError
from commerce_orders.models import CommerceOrder, CreditMemo, OrderAction, Shipment
from commerce_orders.services import (
    creditmemo_create,
    orders_mass_action,
    shipment_create,
    shipment_tracking_update,
)
from commerce_orders.services.mass_actions import MassActionResult

DEFAULT_REFUND_REASON = AdjustmentReason.CUSTOMER_RETURN
# Amazon refunds only what has shipped; before that an Amazon order is canceled, not refunded.
SHIPPED_STATUSES = (AmazonOrderStatus.SHIPPED, AmazonOrderStatus.PARTIALLY_SHIPPED)


class RefundBeforeShipment(CommerceOrderError):
    """A credit memo of an Amazon order nothing of which has shipped: Amazon would refuse the
    refund; the order is canceled on its Amazon Cancel Order page instead."""

    def __init__(self, *, increment_id: str) -> None:
        self.increment_id = increment_id
        super().__init__(
            _(
                "Amazon refunds only shipped orders, and nothing of order #%(number)s has "
                "shipped yet: cancel it on its Amazon Cancel Order page instead."
            )
            % {"number": increment_id}
        )


class ShipmentNotAccepted(CommerceOrderError):
    """A shipment of an Amazon order that Amazon would refuse: no tracking number, a carrier
    that is not on Amazon's list, Other without the carrier's name, or an order canceled."""

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)


def amazon_order_of(order: CommerceOrder) -> AmazonOrder | None:
    """The Amazon order a Commerce order was created for, if any."""
    if order.external_channel != CHANNEL:
        return None
    return AmazonOrder.objects.filter(commerce_order=order).select_related("store").first()


def _money(amount: Decimal) -> str:
    return str(Decimal(amount).quantize(Decimal("0.01")))


def _package_detail(*, shipment: Shipment) -> dict:
    """confirmShipment's packageDetail of a Commerce shipment: one package, its carrier,
    tracking and items (Amazon's order item ids)."""
    return {
        "packageReferenceId": shipment.increment_id,
        "carrierCode": shipment.carrier_code,
        "carrierName": shipment.carrier_title or shipment.carrier_code,
        "shippingMethod": shipment.shipping_method,
        "trackingNumber": shipment.tracking_number,
        "shipDate": shipment.created_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "orderItems": [
            {"orderItemId": item.order_item.external_item_id, "quantity": item.quantity}
            for item in shipment.items.select_related("order_item").order_by("pk")
        ],
    }


def commerce_shipment_create(
    *,
    actor: AbstractBaseUser | None,
    order: CommerceOrder,
    quantities: dict[int, int],
    carrier_code: str,
    carrier_title: str = "",
    method: str = "",
    tracking_number: str = "",
) -> Shipment:
    """Ship (commerce_orders.shipment_create) and, for an Amazon order, queue confirmShipment
    with the same carrier, tracking and items.

    For an Amazon order, Amazon's requirements are checked first (amazon_channel.spapi.carriers): a
    tracking number and a carrier of Amazon's list (Other with the carrier's name), else
    ShipmentNotAccepted and nothing is written. The Amazon order's row is locked before the
    Commerce order's (the order Cancel Order takes them in), so a shipment and a cancellation
    never both pass: a canceled Amazon order raises ShipmentNotAccepted. Other orders keep the
    Commerce rules. Raises what shipment_create raises."""
    with transaction.atomic():
        amazon_order = None
        if order.external_channel == CHANNEL:
            amazon_order = (
                AmazonOrder.objects.select_for_update(of=("self",))
                .filter(commerce_order=order)
                .order_by("pk")
                .first()
            )
        if amazon_order is not None:
            problem = amazon_shipment_problem(
                carrier_code=carrier_code,
                carrier_name=carrier_title,
                tracking_number=tracking_number,
            )
            if problem:
                raise ShipmentNotAccepted(problem)
            if amazon_order.status == AmazonOrderStatus.CANCELED:
                raise ShipmentNotAccepted(
                    _("Amazon order %(number)s is canceled: it cannot be shipped.")
                    % {"number": amazon_order.amazon_order_id}
                )
        shipment = shipment_create(
            actor=actor,
            order=order,
            quantities=quantities,
            carrier_code=carrier_code,
            carrier_title=carrier_title,
            method=method,
            tracking_number=tracking_number.strip(),
        )
        if amazon_order is not None:
            outbox_message_enqueue(
                store=amazon_order.store,
                kind=OutboxMessage.Kind.CONFIRM_SHIPMENT,
                key=f"ship:{shipment.pk}",
                payload={
                    "amazon_order_id": amazon_order.amazon_order_id,
                    "commerce_shipment": shipment.increment_id,
                    "package_detail": _package_detail(shipment=shipment),
                },
            )
    return shipment


def commerce_shipment_correct(
    *,
    actor: AbstractBaseUser,
    shipment: Shipment,
    carrier_code: str,
    carrier_title: str = "",
    tracking_number: str = "",
) -> OutboxMessage:
    """Correct the carrier and tracking number of a shipment Amazon refused, and send it to
    Amazon again (the same package reference, so Amazon still sees one package).

    Guarantees, in one transaction with the message row locked: the Commerce shipment is
    corrected (commerce_orders.shipment_tracking_update, with its history row), the message's
    package carries the corrected values, and it goes back to pending with a note on the Amazon
    order (outbox_message_retry). Raises ShipmentNotAccepted when the corrected values are still
    not what Amazon requires; RetryNotAllowed when the shipment has no refused message to Amazon
    (never sent to Amazon, on its way, or confirmed)."""
    problem = amazon_shipment_problem(
        carrier_code=carrier_code, carrier_name=carrier_title, tracking_number=tracking_number
    )
    if problem:
        raise ShipmentNotAccepted(problem)
    with transaction.atomic():
        message = (
            OutboxMessage.objects.select_for_update(of=("self",))
            .filter(key=f"ship:{shipment.pk}", kind=OutboxMessage.Kind.CONFIRM_SHIPMENT)
            .first()
        )
        if message is None or message.state != OutboxMessage.State.FAILED:
            raise RetryNotAllowed(
                _("Only a shipment Amazon refused can be corrected and sent again.")
            )
        corrected = shipment_tracking_update(
            actor=actor,
            shipment=shipment,
            carrier_code=carrier_code,
            carrier_title=carrier_title.strip(),
            tracking_number=tracking_number.strip(),
        )
        message.payload = {
            **message.payload,
            "package_detail": {
                **message.payload.get("package_detail", {}),
                "carrierCode": corrected.carrier_code,
                "carrierName": corrected.carrier_title or corrected.carrier_code,
                "trackingNumber": corrected.tracking_number,
            },
        }
        message.save(update_fields=["payload", "updated_at"])
        return outbox_message_retry(message=message, actor=actor)


def _has_shipped(order: CommerceOrder, amazon_order: AmazonOrder) -> bool:
    """Something of the order shipped: a Commerce shipment, or Amazon says so (an order shipped
    in Seller Central, or fulfilled by Amazon)."""
    return amazon_order.status in SHIPPED_STATUSES or any(
        item.quantity_shipped for item in order.items.all()
    )


def commerce_creditmemo_refusal(
    *, order: CommerceOrder, amazon_order: AmazonOrder | None
) -> RefundBeforeShipment | None:
    """Why a credit memo of `order` would be refused on the Amazon side (None when it would
    not): an Amazon order is refunded only once something of it has shipped. Uses
    `order.items.all()`, prefetched by the order view. For the Credit Memo button and page;
    commerce_creditmemo_create checks it again under the order's lock."""
    if amazon_order is None or _has_shipped(order, amazon_order):
        return None
    return RefundBeforeShipment(increment_id=order.increment_id)


def commerce_creditmemo_create(
    *,
    actor: AbstractBaseUser | None,
    order: CommerceOrder,
    quantities: dict[int, int],
    shipping_refund: Decimal = Decimal(0),
    adjustment_refund: Decimal = Decimal(0),
    adjustment_fee: Decimal = Decimal(0),
    comment: str = "",
    return_to_stock: bool = False,
    reason: str = DEFAULT_REFUND_REASON,
) -> CreditMemo:
    """Refund (commerce_orders.creditmemo_create) and, for an Amazon order, queue the refund in a
    payment adjustment feed with `reason` (an AdjustmentReason): each refunded item's principal
    and tax; shipping and the net adjustment on the first item. `reason` is ignored for other
    orders. Raises RefundBeforeShipment for an Amazon order nothing of which has shipped
    (checked under the order's row lock, which shipments take too); ValueError for a reason
    that is not an AdjustmentReason; otherwise what creditmemo_create raises."""
    if reason not in AdjustmentReason.values:
        raise ValueError(f"unknown adjustment reason {reason!r}")
    with transaction.atomic():
        amazon_order = amazon_order_of(order)
        if amazon_order is not None:
            locked = CommerceOrder.objects.select_for_update(of=("self",)).get(pk=order.pk)
            refusal = commerce_creditmemo_refusal(order=locked, amazon_order=amazon_order)
            if refusal is not None:
                raise refusal
        memo = creditmemo_create(
            actor=actor,
            order=order,
            quantities=quantities,
            shipping_refund=shipping_refund,
            adjustment_refund=adjustment_refund,
            adjustment_fee=adjustment_fee,
            comment=comment,
            return_to_stock=return_to_stock,
        )
        if amazon_order is not None:
            lines = list(memo.items.select_related("order_item").order_by("pk"))
            anchor = lines[0].order_item if lines else order.items.order_by("pk").first()
            items = {
                line.order_item.external_item_id: {
                    "order_item_id": line.order_item.external_item_id,
                    "principal": line.row_total,
                    "shipping": Decimal(0),
                    "tax": line.tax_amount,
                }
                for line in lines
            }
            first = items.setdefault(
                anchor.external_item_id,
                {
                    "order_item_id": anchor.external_item_id,
                    "principal": Decimal(0),
                    "shipping": Decimal(0),
                    "tax": Decimal(0),
                },
            )
            first["shipping"] += memo.shipping_amount
            first["principal"] += memo.adjustment_refund - memo.adjustment_fee
            outbox_message_enqueue(
                store=amazon_order.store,
                kind=OutboxMessage.Kind.REFUND_ORDER,
                key=f"refund:{memo.pk}",
                payload={
                    "amazon_order_id": amazon_order.amazon_order_id,
                    "commerce_credit_memo": memo.increment_id,
                    "currency": order.currency,
                    "reason": reason,
                    "items": [
                        {
                            "order_item_id": item["order_item_id"],
                            "principal": _money(item["principal"]),
                            "shipping": _money(item["shipping"]),
                            "tax": _money(item["tax"]),
                        }
                        for item in items.values()
                    ],
                },
            )
    return memo


def commerce_order_amazon_messages(*, order: CommerceOrder) -> dict[str, OutboxMessage]:
    """The messages sent to Amazon for the order's shipments and credit memos, by key
    ("ship:<pk>", "refund:<pk>"), for the order view: sent, confirmed or refused (retry)."""
    keys = [f"ship:{pk}" for pk in order.shipments.values_list("pk", flat=True)]
    keys += [f"refund:{pk}" for pk in order.credit_memos.values_list("pk", flat=True)]
    return {message.key: message for message in OutboxMessage.objects.filter(key__in=keys)}


@dataclasses.dataclass
class CommerceMassActionResult(MassActionResult):
    """MassActionResult, plus `amazon_orders`: for each order refused because it came from
    Amazon (by order number), its Amazon order, whose Cancel Order page cancels it."""

    amazon_orders: dict[str, AmazonOrder] = dataclasses.field(default_factory=dict)


def commerce_orders_mass_action(
    *, actor: AbstractBaseUser | None, order_ids: list[int], action: str
) -> CommerceMassActionResult:
    """The orders grid's mass actions (commerce_orders.orders_mass_action), except that Cancel
    refuses orders from Amazon: Amazon must hear of a cancellation with a reason for each order,
    which its Cancel Order page asks for and the Commerce cancel does not. The refusals name the
    Amazon orders (`amazon_orders`) so that the grid can lead to their Cancel Order pages."""
    if action != OrderAction.CANCEL:
        done = orders_mass_action(actor=actor, order_ids=order_ids, action=action)
        return CommerceMassActionResult(done=done.done, refused=done.refused)
    from_amazon = dict(
        CommerceOrder.objects.filter(pk__in=order_ids, external_channel=CHANNEL)
        .order_by("pk")
        .values_list("pk", "increment_id")
    )
    done = orders_mass_action(
        actor=actor,
        order_ids=[order_id for order_id in order_ids if order_id not in from_amazon],
        action=action,
    )
    result = CommerceMassActionResult(done=done.done, refused=done.refused)
    amazon_orders = AmazonOrder.objects.filter(commerce_order_id__in=from_amazon).order_by("pk")
    result.amazon_orders = {
        from_amazon[amazon_order.commerce_order_id]: amazon_order for amazon_order in amazon_orders
    }
    result.refused.extend(
        (
            number,
            _("Order #%(number)s came from Amazon: cancel it on its Amazon Cancel Order page.")
            % {"number": number},
        )
        for number in from_amazon.values()
    )
    return result


def _commerce_message_applied(message: OutboxMessage) -> None:
    outbox_message_settle(message=message, problem="")


def _commerce_message_refused(message: OutboxMessage, problem: str) -> None:
    outbox_message_settle(message=message, problem=problem)


# What Amazon's answers to a shipment or refund message do: a line in the Amazon order's
# history, and a note while it stays refused (registered in amazon_channel.apps).
COMMERCE_MESSAGE_HANDLER = OutboxHandler(
    applied=_commerce_message_applied, refused=_commerce_message_refused
)
