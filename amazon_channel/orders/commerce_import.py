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

import json
import logging
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import Prefetch
from django.utils import timezone

from amazon_channel.events import order_commerce_order_created, orders_commerce_order_created
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
    ChannelOrderData,
    ChannelOrderOutcome,
    OrderLine,
    StockLine,
    channel_order_create,
    channel_orders_create,
    order_complete,
    order_complete_after_channel_cancellation,
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


def _items(order: AmazonOrder) -> list:
    """The order's items: the list commerce_orders_follow prefetched (`item_list`), else read."""
    items = getattr(order, "item_list", None)
    return items if items is not None else list(order.items.all())


def _lines(order: AmazonOrder) -> list[OrderLine]:
    lines = []
    for item in _items(order):
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
        commerce_order = channel_order_create(
            actor=None, external_channel=CHANNEL, data=_order_data(store, order)
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
                    for item in _items(order)
                    if item.quantity_ordered > 0
                ],
            )
        except ProductUnavailable as error:
            message = [note("import.stock_not_reserved", problems=_problem_notes(error))]
    if order.commerce_import_error != message:
        _record_import_error(order, message)


def _error_notes(error: Exception) -> list[dict]:
    """Why no Commerce order was made, as the notes written on the Amazon order."""
    if isinstance(error, ProductUnavailable):
        return [note("import.not_created_problems", problems=_problem_notes(error))]
    if isinstance(error, ItemWithoutPrice):
        return [note("import.not_created", error=note("import.item_without_price", sku=error.sku))]
    # Commerce's other refusals carry their sentence only: kept as text.
    return [note("import.not_created", error=text_note(str(error)))]


def amazon_order_commerce_follow(*, store: Store, order: AmazonOrder) -> bool:
    """Bring the Commerce side of one Amazon order in line; True when a Commerce order was made.

    The one-order path (commerce_orders_follow imports a page at once, with the same rows).
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
    except (CommerceOrderError, ValueError) as error:
        _record_import_error(order, _error_notes(error))
    return False


def _is_importable(order: AmazonOrder) -> bool:
    return order.commerce_order_id is None and order.status in IMPORTABLE.get(
        order.fulfillment_channel, set()
    )


def _order_data(store: Store, order: AmazonOrder) -> ChannelOrderData:
    """The Commerce order, its invoice and completion an Amazon order becomes (one by one in
    _import, a page at once in commerce_orders_follow). Raises ItemWithoutPrice."""
    address = _address(order)
    items = _items(order)
    return ChannelOrderData(
        external_order_id=order.amazon_order_id,
        increment_id=order.amazon_order_id
        if store.order_number_source == Store.OrderNumberSource.AMAZON
        else None,
        customer_email=order.buyer_email,
        customer_name=order.buyer_name,
        create_customer_account=store.customer_creation == Store.CustomerCreation.NEW_ACCOUNT
        and bool(order.buyer_email),
        currency=order.currency,
        lines=_lines(order),
        billing_address=address,
        shipping_address=address,
        payment_method=PAYMENT_METHOD,
        po_number=order.amazon_order_id,
        shipping_method=SHIPPING_METHOD,
        shipping_amount=sum((item.shipping_price or Decimal("0") for item in items), Decimal("0")),
        purchased_at=order.purchase_date,
        is_invoiced=True,
        invoice_status=store.processing_status
        if store.order_status_source == Store.OrderStatusSource.CUSTOM
        else None,
        completion_notes=[note("history.shipped_on_amazon")]
        if order.status == AmazonOrderStatus.SHIPPED
        else None,
    )


_LINK_FIELDS = ("id", "commerce_order", "commerce_import_error", "updated_at")


def _links_write(rows: list[tuple[int, int | None, list[dict]]], *, now) -> None:
    """Set (pk, commerce_order_id, commerce_import_error) of Amazon orders in one UPDATE ...
    FROM (VALUES ...): what bulk_update does, without its CASE expression per row and column
    (most of a page's time when built by the ORM)."""
    if not rows:
        return
    quote = connection.ops.quote_name
    meta = AmazonOrder._meta
    column = {name: quote(meta.get_field(name).column) for name in _LINK_FIELDS}
    # VALUES columns are column1.. on both backends; the JSON travels as text.
    error = "CAST(v.column3 AS jsonb)" if connection.vendor == "postgresql" else "v.column3"
    values = ", ".join(["(%s, %s, %s)"] * len(rows))
    sql = (
        f"UPDATE {quote(meta.db_table)} AS t SET "  # noqa: S608 - names from the model only
        f"{column['commerce_order']} = CAST(v.column2 AS bigint), "
        f"{column['commerce_import_error']} = {error}, {column['updated_at']} = %s "
        f"FROM (VALUES {values}) AS v WHERE t.{column['id']} = v.column1"
    )
    parameters = [connection.ops.adapt_datetimefield_value(now)]
    for pk, commerce_order_id, message in rows:
        parameters += [pk, commerce_order_id, json.dumps(message)]
    with connection.cursor() as cursor:
        cursor.execute(sql, parameters)


def _import_page(store: Store, orders: list[AmazonOrder]) -> tuple[int, list[AmazonOrder]]:
    """Import the page's importable orders at once (channel_orders_create): lock them, create
    their Commerce orders, link them and write what blocked the others, in one transaction.

    Returns (Commerce orders created, orders whose Commerce order already exists unlinked: the
    one-order path settles those, as it did).
    """
    planned: dict[int, ChannelOrderData] = {}
    blocked: dict[int, list[dict]] = {}
    for order in orders:
        withheld = _withheld_address_parts(order)
        if withheld:
            blocked[order.pk] = [note("import.address_withheld", parts=withheld)]
            continue
        try:
            planned[order.pk] = _order_data(store, order)
        except (CommerceOrderError, ValueError) as error:
            blocked[order.pk] = _error_notes(error)
    created = 0
    existing: list[AmazonOrder] = []
    with transaction.atomic():
        # Workers on the same page queue here; the later one finds the orders linked.
        locked = {
            pk: [commerce_order_id, error]
            for pk, commerce_order_id, error in AmazonOrder.objects.select_for_update(of=("self",))
            .filter(pk__in=[order.pk for order in orders])
            .order_by("pk")
            .values_list("pk", "commerce_order_id", "commerce_import_error")
        }
        to_create = [
            order
            for order in orders
            if order.pk in planned and order.pk in locked and locked[order.pk][0] is None
        ]
        outcomes: list[ChannelOrderOutcome] = channel_orders_create(
            actor=None,
            external_channel=CHANNEL,
            orders=[planned[order.pk] for order in to_create],
        )
        changed, linked = [], []
        for order, outcome in zip(to_create, outcomes, strict=True):
            if outcome.is_created:
                # A total that is not Amazon's stays on the order as its Commerce problem.
                message = _total_difference(order, outcome.order)
                changed.append((order.pk, outcome.order.pk, message))
                linked.append((order, outcome.order.increment_id))
                order.commerce_order = outcome.order
                order.commerce_import_error = message
                created += 1
            elif outcome.error is not None:
                blocked[order.pk] = _error_notes(outcome.error)
            else:
                existing.append(order)
        for order in orders:
            message = blocked.get(order.pk)
            if message is None or order.pk not in locked:
                continue
            commerce_order_id, stored = locked[order.pk]
            if commerce_order_id is not None:
                continue
            order.commerce_import_error = message
            if stored != message:
                changed.append((order.pk, None, message))
        _links_write(changed, now=timezone.now())
        orders_commerce_order_created(orders=linked)
    return created, existing


# The columns of AmazonOrder this module reads (commerce_orders_follow loads no others).
FOLLOW_FIELDS = (
    "store",
    "amazon_order_id",
    "status",
    "fulfillment_channel",
    "purchase_date",
    "buyer_name",
    "buyer_email",
    "buyer_cancellation_reason",
    "shipping_address",
    "order_total",
    "currency",
    "commerce_import_error",
    "commerce_order",
)


def commerce_orders_follow(*, store: Store, order_ids: list[int]) -> int:
    """Follow the given Amazon orders of a store; returns the number of Commerce orders created.

    Orders already linked, pending or canceled are followed one by one; then the page's orders
    to import are imported at once (channel_orders_create), a few queries for the whole page.
    Does nothing while the store's Import Amazon Orders setting is Disabled.
    """
    if not store.is_import_enabled or not order_ids:
        return 0
    orders = (
        AmazonOrder.objects.filter(store=store, pk__in=order_ids)
        # What following reads, no more: every JSON column costs a decoding per row.
        .only(*FOLLOW_FIELDS)
        .select_related("commerce_order")
        .prefetch_related(Prefetch("items", to_attr="item_list"))
        .order_by("pk")
    )
    to_import = []
    for order in orders:
        if _is_importable(order):
            to_import.append(order)
        else:
            amazon_order_commerce_follow(store=store, order=order)
    if not to_import:
        return 0
    created, existing = _import_page(store, to_import)
    return created + sum(
        amazon_order_commerce_follow(store=store, order=order) for order in existing
    )


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
