"""Reading an Orders API 2026-01-01 `Order` into our fields, saying plainly what is surprising.

A surprising order is still kept: its problems go to Order Notes and the order is read again on
the next sync. What Amazon withholds by design (prices of a pending order, the address of an
order it fulfils) is explained in Order Notes too, but needs no attention: the order comes back
with the next search once Amazon changes it. Nothing here touches the database.
"""

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation

from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from amazon_channel.models import AmazonOrderStatus, FulfillmentChannel

STATUS_BY_FULFILLMENT_STATUS = {
    "PENDING_AVAILABILITY": AmazonOrderStatus.PENDING_AVAILABILITY,
    "PENDING": AmazonOrderStatus.PENDING,
    "UNSHIPPED": AmazonOrderStatus.UNSHIPPED,
    "PARTIALLY_SHIPPED": AmazonOrderStatus.PARTIALLY_SHIPPED,
    "SHIPPED": AmazonOrderStatus.SHIPPED,
    "CANCELLED": AmazonOrderStatus.CANCELED,
    "UNFULFILLABLE": AmazonOrderStatus.UNFULFILLABLE,
}
CHANNEL_BY_FULFILLED_BY = {
    "MERCHANT": FulfillmentChannel.MERCHANT,
    "AMAZON": FulfillmentChannel.AMAZON,
}
PRICELESS_STATUSES = {AmazonOrderStatus.PENDING, AmazonOrderStatus.PENDING_AVAILABILITY}
ADDRESS_KEYS = (
    "name",
    "companyName",
    "addressLine1",
    "addressLine2",
    "addressLine3",
    "city",
    "districtOrCounty",
    "stateOrRegion",
    "postalCode",
    "countryCode",
    "phone",
)


class UnreadableOrder(ValueError):
    """The payload lacks what identifies an order (id, dates): it cannot be stored at all."""


@dataclass
class ParsedOrder:
    amazon_order_id: str
    last_update_date: datetime
    fields: dict
    items: list[dict]
    packages: list[dict]
    # What needs fixing: the order is flagged and read again on the next sync.
    problems: list[str] = field(default_factory=list)
    # What is normal but would surprise a merchant: written in Order Notes, not flagged.
    notes: list[str] = field(default_factory=list)


def _money(value) -> Decimal | None:
    if not isinstance(value, dict) or value.get("amount") in (None, ""):
        return None
    try:
        return Decimal(str(value["amount"])).quantize(Decimal("0.01"))
    except InvalidOperation:
        return None


def _datetime(value) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return parse_datetime(value)
    except ValueError:
        return None


def _breakdown(breakdowns, kind: str) -> Decimal | None:
    amounts = [
        _money(entry.get("subtotal"))
        for entry in breakdowns or []
        if isinstance(entry, dict) and entry.get("type") == kind
    ]
    amounts = [amount for amount in amounts if amount is not None]
    return sum(amounts, Decimal("0.00")) if amounts else None


def _item(payload: dict, problems: list[str]) -> dict | None:
    item_id = payload.get("orderItemId")
    if not item_id:
        problems.append("An order item has no orderItemId; it was left out.")
        return None
    product = payload.get("product") or {}
    proceeds = payload.get("proceeds") or {}
    fulfillment = payload.get("fulfillment") or {}
    condition = product.get("condition") or {}
    quantity_ordered = payload.get("quantityOrdered")
    if not isinstance(quantity_ordered, int) or quantity_ordered < 0:
        problems.append(f"Item {item_id} has no valid quantityOrdered.")
        quantity_ordered = 0
    quantity_shipped = fulfillment.get("quantityFulfilled") or 0
    if not isinstance(quantity_shipped, int) or quantity_shipped > quantity_ordered:
        problems.append(f"Item {item_id} reports {quantity_shipped} shipped of {quantity_ordered}.")
        quantity_shipped = min(int(quantity_shipped or 0), quantity_ordered)
    if not product.get("sellerSku"):
        problems.append(f"Item {item_id} has no seller SKU.")
    breakdowns = proceeds.get("breakdowns")
    unit_price = _money((product.get("price") or {}).get("unitPrice"))
    item_price = _breakdown(breakdowns, "ITEM")
    if item_price is None and unit_price is not None:
        item_price = unit_price * quantity_ordered
    return {
        "order_item_id": str(item_id),
        "asin": product.get("asin") or "",
        "seller_sku": product.get("sellerSku") or "",
        "title": (product.get("title") or "")[:500],
        "condition": (condition.get("conditionType") or "").title(),
        "quantity_ordered": quantity_ordered,
        "quantity_shipped": quantity_shipped,
        "item_price": item_price,
        "item_tax": _breakdown(breakdowns, "TAX"),
        "shipping_price": _breakdown(breakdowns, "SHIPPING"),
    }


def _package(payload: dict) -> dict | None:
    reference = payload.get("packageReferenceId")
    if not reference:
        return None
    return {
        "package_reference_id": str(reference),
        "carrier": payload.get("carrier") or "",
        "shipping_service": payload.get("shippingService") or "",
        "tracking_number": payload.get("trackingNumber") or "",
        "ship_time": _datetime(payload.get("shipTime")),
        "status": (payload.get("packageStatus") or {}).get("status", ""),
        "items": [
            {"orderItemId": entry.get("orderItemId"), "quantity": entry.get("quantity")}
            for entry in payload.get("packageItems") or []
            if isinstance(entry, dict)
        ],
    }


def parse_order(payload: dict) -> ParsedOrder:
    """Map one `Order`. Raises UnreadableOrder when it has no id or dates to store it by."""
    if not isinstance(payload, dict) or not payload.get("orderId"):
        raise UnreadableOrder("An order without an orderId was skipped.")
    order_id = str(payload["orderId"])
    created = _datetime(payload.get("createdTime"))
    updated = _datetime(payload.get("lastUpdatedTime"))
    if created is None or updated is None:
        raise UnreadableOrder(f"Order {order_id} has no readable createdTime/lastUpdatedTime.")

    problems: list[str] = []
    fulfillment = payload.get("fulfillment") or {}
    raw_status = fulfillment.get("fulfillmentStatus")
    status = STATUS_BY_FULFILLMENT_STATUS.get(raw_status)
    if status is None:
        problems.append(f"Unknown order status {raw_status!r}.")
        status = AmazonOrderStatus.ERROR
    channel = CHANNEL_BY_FULFILLED_BY.get(fulfillment.get("fulfilledBy"))
    if channel is None:
        problems.append(f"Unknown fulfillment channel {fulfillment.get('fulfilledBy')!r}.")
        channel = FulfillmentChannel.MERCHANT

    buyer = payload.get("buyer") or {}
    address = (payload.get("recipient") or {}).get("deliveryAddress") or {}
    proceeds = payload.get("proceeds") or {}
    grand_total = proceeds.get("grandTotal") or {}
    programs = set(payload.get("programs") or [])
    items = [
        parsed
        for entry in payload.get("orderItems") or []
        if (parsed := _item(entry if isinstance(entry, dict) else {}, problems)) is not None
    ]
    if not items:
        problems.append("The order has no items.")
    order_total = _money(grand_total)
    if order_total is None and status not in PRICELESS_STATUSES:
        problems.append("The order has no grand total.")
    if not address and channel == FulfillmentChannel.MERCHANT and status not in PRICELESS_STATUSES:
        problems.append("The order has no shipping address.")
    notes: list[str] = []
    if not address and channel == FulfillmentChannel.AMAZON:
        notes.append(_("Amazon fulfils this order and shares no shipping address."))
    is_priceless = order_total is None or any(item["item_price"] is None for item in items)
    if status in PRICELESS_STATUSES and is_priceless:
        # Amazon changes the order when it is paid, so the next search reads its prices.
        notes.append(
            _(
                "Amazon gives no prices while the order is pending; "
                "they will be read when it is paid."
            )
        )
    cancellation_requests = [
        (entry.get("cancellation") or {}).get("cancellationRequest") or {}
        for entry in payload.get("orderItems") or []
        if isinstance(entry, dict)
    ]
    buyer_requests = [
        request for request in cancellation_requests if request.get("requester") == "BUYER"
    ]
    # A buyer who cancelled outright shows as an executed cancellation, with the reason there.
    buyer_requests += [
        execution
        for entry in payload.get("orderItems") or []
        if isinstance(entry, dict)
        and (execution := (entry.get("cancellation") or {}).get("cancellationExecution") or {})
        and execution.get("cancelledBy") == "BUYER"
    ]
    shipped = sum(item["quantity_shipped"] for item in items)
    ordered = sum(item["quantity_ordered"] for item in items)
    fields = {
        "marketplace_id": (payload.get("salesChannel") or {}).get("marketplaceId") or "",
        "status": status,
        "fulfillment_channel": channel,
        "purchase_date": created,
        "last_update_date": updated,
        "latest_ship_date": _datetime(
            (fulfillment.get("shipByWindow") or {}).get("latestDateTime")
        ),
        "ship_service_level": (fulfillment.get("fulfillmentServiceLevel") or "")[:64],
        "buyer_name": (buyer.get("buyerName") or address.get("name") or "")[:255],
        "buyer_email": (buyer.get("buyerEmail") or "")[:255],
        "shipping_address": {key: address[key] for key in ADDRESS_KEYS if address.get(key)},
        "order_total": order_total,
        "currency": (grand_total.get("currencyCode") or "")[:3],
        "number_of_items_shipped": shipped,
        "number_of_items_unshipped": max(ordered - shipped, 0),
        "is_prime": "PRIME" in programs,
        "is_business_order": "AMAZON_BUSINESS" in programs,
        "is_premium_order": "PREMIUM" in programs,
        "is_replacement_order": any(
            (associated or {}).get("associationType") == "REPLACEMENT_ORIGINAL_ID"
            for associated in payload.get("associatedOrders") or []
        ),
        "is_buyer_requested_cancellation": bool(buyer_requests),
        "buyer_cancellation_reason": (buyer_requests[0].get("cancelReason") or "")[:255]
        if buyer_requests
        else "",
        "raw_payload": payload,
    }
    packages = [
        parsed
        for entry in payload.get("packages") or []
        if isinstance(entry, dict) and (parsed := _package(entry)) is not None
    ]
    return ParsedOrder(
        amazon_order_id=order_id,
        last_update_date=updated,
        fields=fields,
        items=items,
        packages=packages,
        problems=problems,
        notes=notes,
    )
