"""Commerce order actions that Amazon must hear of, orchestrated from the Amazon side.

The Commerce services do the work and know nothing of Amazon; for an order that came from
Amazon these services add, in the same transaction, the message Amazon must receive: a
shipment confirmation (one package per shipment, so partial shipments work) or a refund (the
payment adjustment feed). Cancel of such an order is Amazon's Cancel Order flow.
"""

from decimal import Decimal

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from amazon_channel.models import AmazonOrder, OutboxMessage
from amazon_channel.services.commerce import CHANNEL
from amazon_channel.services.outbox import outbox_message_enqueue
from commerce_orders.models import CommerceOrder, CreditMemo, OrderAction, Shipment
from commerce_orders.services import creditmemo_create, orders_mass_action, shipment_create
from commerce_orders.services.mass_actions import MassActionResult

DEFAULT_REFUND_REASON = "CustomerReturn"


def amazon_order_of(order: CommerceOrder) -> AmazonOrder | None:
    """The Amazon order a Commerce order was created for, if any."""
    if order.external_channel != CHANNEL:
        return None
    return AmazonOrder.objects.filter(commerce_order=order).select_related("store").first()


def _money(amount: Decimal) -> str:
    return str(Decimal(amount).quantize(Decimal("0.01")))


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
    with the same carrier, tracking and items. Raises what shipment_create raises."""
    with transaction.atomic():
        shipment = shipment_create(
            actor=actor,
            order=order,
            quantities=quantities,
            carrier_code=carrier_code,
            carrier_title=carrier_title,
            method=method,
            tracking_number=tracking_number,
        )
        amazon_order = amazon_order_of(order)
        if amazon_order is not None:
            outbox_message_enqueue(
                store=amazon_order.store,
                kind=OutboxMessage.Kind.CONFIRM_SHIPMENT,
                key=f"ship:{shipment.pk}",
                payload={
                    "amazon_order_id": amazon_order.amazon_order_id,
                    "commerce_shipment": shipment.increment_id,
                    "package_detail": {
                        "packageReferenceId": shipment.increment_id,
                        "carrierCode": carrier_code,
                        "carrierName": carrier_title or carrier_code,
                        "shippingMethod": method,
                        "trackingNumber": tracking_number,
                        "shipDate": timezone.now().strftime("%Y-%m-%dT%H:%M:%SZ"),
                        "orderItems": [
                            {
                                "orderItemId": item.order_item.external_item_id,
                                "quantity": item.quantity,
                            }
                            for item in shipment.items.select_related("order_item").order_by("pk")
                        ],
                    },
                },
            )
    return shipment


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
    payment adjustment feed: each refunded item's principal and tax; shipping and the net
    adjustment on the first item. Raises what creditmemo_create raises."""
    with transaction.atomic():
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
        amazon_order = amazon_order_of(order)
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


def commerce_orders_mass_action(
    *, actor: AbstractBaseUser | None, order_ids: list[int], action: str
) -> MassActionResult:
    """The orders grid's mass actions (commerce_orders.orders_mass_action), except that Cancel
    refuses orders from Amazon: Amazon must hear of a cancellation, with a reason, which its
    Cancel Order page does and the Commerce cancel does not."""
    if action != OrderAction.CANCEL:
        return orders_mass_action(actor=actor, order_ids=order_ids, action=action)
    from_amazon = dict(
        CommerceOrder.objects.filter(pk__in=order_ids, external_channel=CHANNEL)
        .order_by("pk")
        .values_list("pk", "increment_id")
    )
    result = orders_mass_action(
        actor=actor,
        order_ids=[order_id for order_id in order_ids if order_id not in from_amazon],
        action=action,
    )
    result.refused.extend(
        (
            number,
            _("Order #%(number)s came from Amazon: cancel it on its Amazon Cancel Order page.")
            % {"number": number},
        )
        for number in from_amazon.values()
    )
    return result
