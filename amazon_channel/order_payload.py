"""Reading an Orders API 2026-01-01 `Order` into our fields, saying plainly what is surprising.

A surprising order is still kept: its problems go to Order Notes and the order is read again on
the next sync. What Amazon withholds by design (prices of a pending order, the address of an
order it fulfils, the buyer's personal data before payment) is explained in Order Notes too, but
needs no attention: the order comes back with the next search once Amazon changes it. An order
the merchant must ship whose address lacks the recipient's name, street or postal code is a
problem, though: Amazon withholds them from apps without the restricted role. Amounts that are
not numbers, or not in the order's currency, are left out and said. Nothing here touches the
database.
"""

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation

from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

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
# The merchant still has to ship these: the parcel needs the recipient's whole address.
TO_SHIP_STATUSES = {AmazonOrderStatus.UNSHIPPED, AmazonOrderStatus.PARTIALLY_SHIPPED}
PARCEL_ADDRESS_PARTS = (
    ("name", gettext_lazy("name")),
    ("addressLine1", gettext_lazy("street")),
    ("postalCode", gettext_lazy("postal code")),
)
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


MONEY_LIMIT = Decimal(10) ** 12


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
    if not isinstance(value, dict):
        return None
    amount = value.get("amount")
    if isinstance(amount, bool) or not isinstance(amount, str | int | float) or amount == "":
        return None
    try:
        value = Decimal(str(amount)).quantize(Decimal("0.01"))
    except InvalidOperation:
        return None
    # NaN passes quantize; our money columns hold 14 digits.
    return value if value.is_finite() and abs(value) < MONEY_LIMIT else None


def _dict(value) -> dict:
    return value if isinstance(value, dict) else {}


def _text(value) -> str:
    return value if isinstance(value, str) else ""


def _datetime(value) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return parse_datetime(value)
    except ValueError:
        return None


@dataclass
class _Reading:
    """What a breakdown is read against: the order's currency, and where to say what is wrong."""

    currency: str
    problems: list[str]


def _breakdown(breakdowns, kind: str, reading: _Reading, where: str) -> Decimal | None:
    """The sum of the `kind` entries of a proceeds breakdown, None when there is none. An entry
    whose amount is not a number, or in another currency than the order's, is left out and
    said in `reading.problems`: adding it would make the totals wrong without a word."""
    amounts = []
    for entry in breakdowns if isinstance(breakdowns, list) else []:
        if not isinstance(entry, dict) or entry.get("type") != kind:
            continue
        subtotal = _dict(entry.get("subtotal"))
        amount = _money(subtotal)
        currency = _text(subtotal.get("currencyCode"))
        if amount is None:
            reading.problems.append(
                f"{where}: the {kind} amount {subtotal.get('amount')!r} is not a number; "
                "it was left out."
            )
        elif reading.currency and currency and currency != reading.currency:
            reading.problems.append(
                f"{where}: the {kind} amount {amount} {currency} is not in the order's "
                f"currency {reading.currency}; it was left out."
            )
        else:
            amounts.append(amount)
    return sum(amounts, Decimal("0.00")) if amounts else None


def _item(payload: dict, reading: _Reading) -> dict | None:
    problems = reading.problems
    item_id = payload.get("orderItemId")
    if not item_id:
        problems.append("An order item has no orderItemId; it was left out.")
        return None
    product = _dict(payload.get("product"))
    proceeds = _dict(payload.get("proceeds"))
    fulfillment = _dict(payload.get("fulfillment"))
    condition = _dict(product.get("condition"))
    quantity_ordered = payload.get("quantityOrdered")
    if not isinstance(quantity_ordered, int) or quantity_ordered < 0:
        problems.append(f"Item {item_id} has no valid quantityOrdered.")
        quantity_ordered = 0
    quantity_shipped = fulfillment.get("quantityFulfilled") or 0
    if not isinstance(quantity_shipped, int) or quantity_shipped > quantity_ordered:
        problems.append(f"Item {item_id} reports {quantity_shipped} shipped of {quantity_ordered}.")
        is_count = isinstance(quantity_shipped, int) and quantity_shipped >= 0
        quantity_shipped = min(quantity_shipped, quantity_ordered) if is_count else 0
    if not product.get("sellerSku"):
        problems.append(f"Item {item_id} has no seller SKU.")
    breakdowns = proceeds.get("breakdowns")
    where = f"Item {item_id}"
    unit_price = _money(_dict(product.get("price")).get("unitPrice"))
    item_price = _breakdown(breakdowns, "ITEM", reading, where)
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
        "item_tax": _breakdown(breakdowns, "TAX", reading, where),
        # Amazon carries shipping per item (ItemProceedsBreakdown SHIPPING); the order's
        # SHIPPING is their sum, so reading the items' never counts it twice.
        "shipping_price": _breakdown(breakdowns, "SHIPPING", reading, where),
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


def _address(value) -> dict:
    """The delivery address's known parts that carry text; numbers (a postal code sent as a
    number) are kept as text, anything else is dropped."""
    address = {}
    for key, part in _dict(value).items():
        if key not in ADDRESS_KEYS or isinstance(part, bool):
            continue
        text = str(part).strip() if isinstance(part, str | int | float) else ""
        if text:
            address[key] = text
    return address


def _address_check(status: str, address: dict, problems: list[str], notes: list[str]) -> None:
    """What a merchant-fulfilled order's address says. Amazon shares the recipient's name,
    street and postal code only with apps holding the restricted Direct-to-Consumer Shipping
    role, and only for Unshipped, PartiallyShipped and Shipped orders (Access Orders PII,
    https://developer-docs.amazon.com/sp-api/docs/access-orders-pii); city, region and country
    come without them. An order waiting for the merchant's parcel cannot go without them."""
    missing = [label for key, label in PARCEL_ADDRESS_PARTS if not address.get(key)]
    if not missing:
        return
    parts = ", ".join(str(label) for label in missing)
    if status in TO_SHIP_STATUSES:
        problems.append(
            _(
                "Amazon withheld the recipient's %(parts)s, which the parcel needs. Amazon "
                "shares them only with apps that hold the Direct-to-Consumer Shipping role: "
                "the seller's authorization of this app may lack it. The order is not imported "
                "into Commerce and is read again on every sync until they arrive."
            )
            % {"parts": parts}
        )
    elif status == AmazonOrderStatus.SHIPPED and not address:
        problems.append("The order has no shipping address.")
    elif status == AmazonOrderStatus.SHIPPED:
        notes.append(
            _(
                "Amazon shared no recipient's %(parts)s for this shipped order: the seller's "
                "authorization of this app may lack the Direct-to-Consumer Shipping role."
            )
            % {"parts": parts}
        )
    elif status in PRICELESS_STATUSES:
        notes.append(_("Amazon shares the recipient's name and address once the order is paid."))


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
    fulfillment = _dict(payload.get("fulfillment"))
    raw_status = fulfillment.get("fulfillmentStatus")
    status = STATUS_BY_FULFILLMENT_STATUS.get(raw_status)
    if status is None:
        problems.append(f"Unknown order status {raw_status!r}.")
        status = AmazonOrderStatus.ERROR
    channel = CHANNEL_BY_FULFILLED_BY.get(fulfillment.get("fulfilledBy"))
    if channel is None:
        problems.append(f"Unknown fulfillment channel {fulfillment.get('fulfilledBy')!r}.")
        channel = FulfillmentChannel.MERCHANT

    buyer = _dict(payload.get("buyer"))
    address = _address(_dict(payload.get("recipient")).get("deliveryAddress"))
    proceeds = _dict(payload.get("proceeds"))
    grand_total = _dict(proceeds.get("grandTotal"))
    programs = set(payload.get("programs") or [])
    reading = _Reading(currency=_text(grand_total.get("currencyCode"))[:3], problems=problems)
    items = [
        parsed
        for entry in payload.get("orderItems") or []
        if (parsed := _item(entry if isinstance(entry, dict) else {}, reading)) is not None
    ]
    if not items:
        problems.append("The order has no items.")
    order_total = _money(grand_total)
    if order_total is not None and order_total < 0:
        problems.append(f"The grand total {order_total} is negative; it was left out.")
        order_total = None
    if order_total is None and status not in PRICELESS_STATUSES:
        problems.append("The order has no grand total.")
    notes: list[str] = []
    is_priceless = order_total is None or any(item["item_price"] is None for item in items)
    if status in PRICELESS_STATUSES and is_priceless:
        # Amazon changes the order when it is paid, so the next search reads its prices.
        notes.append(
            _(
                "Amazon gives no prices while the order is pending; "
                "they will be read when it is paid."
            )
        )
    if channel == FulfillmentChannel.MERCHANT:
        _address_check(status, address, problems, notes)
    elif not address:
        notes.append(_("Amazon fulfils this order and shares no shipping address."))
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
        "buyer_name": (_text(buyer.get("buyerName")) or address.get("name", ""))[:255],
        "buyer_email": _text(buyer.get("buyerEmail"))[:255],
        "shipping_address": address,
        "order_total": order_total,
        "currency": reading.currency,
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
