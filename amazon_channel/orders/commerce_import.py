"""Commerce orders for Amazon orders, as Adobe's Amazon Sales Channel makes them.

With Import Amazon Orders enabled: a merchant-fulfilled order gets a Commerce order once it is
Unshipped, PartiallyShipped or Shipped, an Amazon-fulfilled one once Shipped, never a Pending or
Canceled one. The Commerce order is invoiced offline ("Amazon Channel Payment", the Amazon order
id as PO number). Amazon's Shipped completes it; a cancellation on Amazon completes it with the
reason. Pending orders hold stock when the store says so. What blocks an import (a SKU missing or
out of stock, an address Amazon withheld) is written on the Amazon order and retried on the
next sync. A Commerce order whose grand total is not Amazon's is flagged the same way, with the
difference.
"""

import logging
from decimal import Decimal

from django.db import transaction

from amazon_channel.events import order_commerce_order_created
from amazon_channel.models import (
    AmazonOrder,
    AmazonOrderStatus,
    FulfillmentChannel,
    Store,
)
from amazon_channel.notes import note, text_note
from amazon_channel.spapi.order_payload import TO_SHIP_STATUSES, parcel_address_missing
from commerce_orders.exceptions import CommerceOrderError, ProductUnavailable
from commerce_orders.models import OrderState
from commerce_orders.services import (
    AddressData,
    OrderLine,
    StockLine,
    invoice_create,
    order_complete,
    order_complete_after_channel_cancellation,
    order_create,
    order_stock_reference,
    stock_release,
    stock_reserve,
)

logger = logging.getLogger(__name__)

CHANNEL = "amazon"
PAYMENT_METHOD = "Amazon Channel Payment"
SHIPPING_METHOD = "Amazon Channel Shipping"
IMPORTABLE = {
    FulfillmentChannel.MERCHANT: {
        AmazonOrderStatus.UNSHIPPED,
        AmazonOrderStatus.PARTIALLY_SHIPPED,
        AmazonOrderStatus.SHIPPED,
    },
    FulfillmentChannel.AMAZON: {AmazonOrderStatus.SHIPPED},
}
PENDING = {AmazonOrderStatus.PENDING, AmazonOrderStatus.PENDING_AVAILABILITY}


class ItemWithoutPrice(ValueError):
    """An item Amazon has not priced yet: no Commerce order until it has."""

    def __init__(self, *, sku: str) -> None:
        self.sku = sku
        super().__init__(f"Item {sku} has no price yet.")


def _problem_notes(error: ProductUnavailable) -> list[dict]:
    return [problem.note for problem in error.problems]


def _stock_reference(order: AmazonOrder) -> str:
    return order_stock_reference(external_channel=CHANNEL, external_order_id=order.amazon_order_id)


def _lines(order: AmazonOrder) -> list[OrderLine]:
    lines = []
    for item in order.items.all():
        if item.quantity_ordered <= 0:
            continue
        if item.item_price is None:
            raise ItemWithoutPrice(sku=item.seller_sku)
        lines.append(
            OrderLine(
                sku=item.seller_sku,
                name=item.title or item.seller_sku,
                quantity=item.quantity_ordered,
                price=(item.item_price / item.quantity_ordered).quantize(Decimal("0.01")),
                tax_amount=item.item_tax or Decimal("0.00"),
                external_item_id=item.order_item_id,
            )
        )
    return lines


def _address(order: AmazonOrder) -> AddressData:
    address = order.shipping_address or {}
    street = "\n".join(
        address[key] for key in ("addressLine1", "addressLine2", "addressLine3") if address.get(key)
    )
    return AddressData(
        name=address.get("name", order.buyer_name)[:255],
        street=street,
        city=address.get("city", "")[:120],
        region=address.get("stateOrRegion", "")[:120],
        postal_code=address.get("postalCode", "")[:32],
        country_code=address.get("countryCode", "")[:2],
        phone=address.get("phone", "")[:40],
    )


def _withheld_address_parts(order: AmazonOrder) -> list[dict]:
    """What the parcel of an order the merchant still ships lacks of its address: Amazon
    withholds the recipient's name, street and postal code from apps without the restricted
    Direct-to-Consumer Shipping role. An address the merchant completed here counts."""
    is_to_ship = order.status in TO_SHIP_STATUSES
    if order.fulfillment_channel != FulfillmentChannel.MERCHANT or not is_to_ship:
        return []
    return parcel_address_missing(order.shipping_address or {})


def _total_difference(order: AmazonOrder, commerce_order) -> list[dict]:
    """Why the Commerce order's grand total is not Amazon's, or [] when it is (or Amazon gave
    none to compare). Commerce holds items, their tax and shipping: Amazon's other charges
    (gift wrap, discounts, delivery tips) and a unit price that does not divide the item's
    price (10.00 for 3 units) leave a difference the merchant must see."""
    if order.order_total is None or commerce_order.grand_total == order.order_total:
        return []
    return [
        note(
            "import.total_differs",
            commerce=commerce_order.grand_total,
            amazon=order.order_total,
            difference=abs(order.order_total - commerce_order.grand_total),
            currency=order.currency,
        )
    ]


def _record_import_error(order: AmazonOrder, message: list[dict]) -> None:
    """Write why no Commerce order exists (notes, [] once nothing blocks it) on the order."""
    with transaction.atomic():
        locked = AmazonOrder.objects.select_for_update(of=("self",)).get(pk=order.pk)
        if locked.commerce_import_error != message:
            locked.commerce_import_error = message
            locked.save(update_fields=["commerce_import_error", "updated_at"])
    order.commerce_import_error = message


def _import(store: Store, order: AmazonOrder) -> bool:
    """Create, invoice (and complete when shipped) the Commerce order; True when created."""
    with transaction.atomic():
        locked = AmazonOrder.objects.select_for_update(of=("self",)).get(pk=order.pk)
        if locked.commerce_order_id is not None:
            return False
        address = _address(order)
        is_account = store.customer_creation == Store.CustomerCreation.NEW_ACCOUNT and bool(
            order.buyer_email
        )
        commerce_order = order_create(
            actor=None,
            external_channel=CHANNEL,
            external_order_id=order.amazon_order_id,
            increment_id=order.amazon_order_id
            if store.order_number_source == Store.OrderNumberSource.AMAZON
            else None,
            customer_email=order.buyer_email,
            customer_name=order.buyer_name,
            create_customer_account=is_account,
            currency=order.currency,
            lines=_lines(order),
            billing_address=address,
            shipping_address=address,
            payment_method=PAYMENT_METHOD,
            po_number=order.amazon_order_id,
            shipping_method=SHIPPING_METHOD,
            shipping_amount=sum(
                (item.shipping_price or Decimal("0") for item in order.items.all()), Decimal("0")
            ),
            purchased_at=order.purchase_date,
        )
        custom_status = (
            store.processing_status
            if store.order_status_source == Store.OrderStatusSource.CUSTOM
            else None
        )
        invoice_create(actor=None, order=commerce_order, capture_offline=True, status=custom_status)
        if order.status == AmazonOrderStatus.SHIPPED:
            order_complete(
                actor=None, order=commerce_order, notes=[note("history.shipped_on_amazon")]
            )
        locked.commerce_order = commerce_order
        # A total that is not Amazon's stays on the order as its Commerce problem.
        locked.commerce_import_error = _total_difference(order, commerce_order)
        locked.save(update_fields=["commerce_order", "commerce_import_error", "updated_at"])
        order_commerce_order_created(order=locked, number=commerce_order.increment_id)
    order.commerce_order = commerce_order
    order.commerce_import_error = locked.commerce_import_error
    return True


def _follow_linked(order: AmazonOrder) -> None:
    commerce_order = order.commerce_order
    if order.status == AmazonOrderStatus.SHIPPED and commerce_order.state == OrderState.PROCESSING:
        order_complete(actor=None, order=commerce_order, notes=[note("history.shipped_on_amazon")])
    elif order.status == AmazonOrderStatus.CANCELED and commerce_order.state in (
        OrderState.NEW,
        OrderState.PROCESSING,
    ):
        reason = order.buyer_cancellation_reason or note("history.canceled_on_amazon")
        order_complete_after_channel_cancellation(actor=None, order=commerce_order, reason=reason)


def _reserve(store: Store, order: AmazonOrder) -> None:
    message = []
    if store.is_pending_quantity_reserved:
        try:
            stock_reserve(
                reference=_stock_reference(order),
                lines=[
                    StockLine(sku=item.seller_sku, quantity=item.quantity_ordered)
                    for item in order.items.all()
                    if item.quantity_ordered > 0
                ],
            )
        except ProductUnavailable as error:
            message = [note("import.stock_not_reserved", problems=_problem_notes(error))]
    if order.commerce_import_error != message:
        _record_import_error(order, message)


def amazon_order_commerce_follow(*, store: Store, order: AmazonOrder) -> bool:
    """Bring the Commerce side of one Amazon order in line; True when a Commerce order was made.

    Never raises for what the merchant must fix: that is written on the Amazon order.
    """
    try:
        if order.commerce_order_id is not None:
            _follow_linked(order)
            return False
        if order.status in PENDING:
            _reserve(store, order)
            return False
        if order.status == AmazonOrderStatus.CANCELED:
            stock_release(reference=_stock_reference(order))
            return False
        if order.status not in IMPORTABLE.get(order.fulfillment_channel, set()):
            return False
        withheld = _withheld_address_parts(order)
        if withheld:
            _record_import_error(order, [note("import.address_withheld", parts=withheld)])
            return False
        return _import(store, order)
    except ProductUnavailable as error:
        _record_import_error(
            order, [note("import.not_created_problems", problems=_problem_notes(error))]
        )
    except ItemWithoutPrice as error:
        _record_import_error(
            order,
            [note("import.not_created", error=note("import.item_without_price", sku=error.sku))],
        )
    except (CommerceOrderError, ValueError) as error:
        # Commerce's other refusals carry their sentence only: kept as text.
        _record_import_error(order, [note("import.not_created", error=text_note(str(error)))])
    return False


def commerce_orders_follow(*, store: Store, order_ids: list[int]) -> int:
    """Follow the given Amazon orders of a store; returns the number of Commerce orders created.

    Does nothing while the store's Import Amazon Orders setting is Disabled.
    """
    if not store.is_import_enabled or not order_ids:
        return 0
    orders = (
        AmazonOrder.objects.filter(store=store, pk__in=order_ids)
        .select_related("commerce_order")
        .prefetch_related("items")
        .order_by("pk")
    )
    return sum(amazon_order_commerce_follow(store=store, order=order) for order in orders)


def commerce_order_settle_cancellation(*, order: AmazonOrder, reason: str) -> None:
    """After Amazon confirmed a cancellation: release reserved stock, and complete the linked
    Commerce order with the reason (Adobe's behaviour). Runs inside the caller's transaction."""
    stock_release(reference=_stock_reference(order))
    commerce_order = order.commerce_order
    if commerce_order is not None and commerce_order.state in (
        OrderState.NEW,
        OrderState.PROCESSING,
    ):
        order_complete_after_channel_cancellation(actor=None, order=commerce_order, reason=reason)
