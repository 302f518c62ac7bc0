"""The buyer side: realistic orders drawn from a seeded random.Random, no database access.

The same seed, marketplaces and `now` give the same orders, so a demo or a test can be replayed.
"""

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from seller_central_sandbox.catalog import (
    BUYER_CANCEL_REASONS,
    CITIES,
    COMPANIES,
    FIRST_NAMES,
    GIFT_MESSAGES,
    LAST_NAMES,
    MARKETPLACES,
    PRODUCTS,
    SERVICE_LEVELS,
    STREETS,
)
from seller_central_sandbox.models import FulfilledBy, FulfillmentStatus

TAX_RATE = Decimal("0.08")
# The history every generated order was before new orders were placed now (the old default).
PAST_WINDOW = timedelta(days=2)


@dataclass
class ItemSpec:
    order_item_id: str
    asin: str
    seller_sku: str
    title: str
    quantity_ordered: int
    unit_price: Decimal
    item_tax: Decimal
    quantity_shipped: int = 0
    gift_message: str = ""
    gift_wrap_level: str = ""
    buyer_cancel_reason: str = ""


@dataclass
class OrderSpec:
    order_id: str
    marketplace_id: str
    currency_code: str
    status: str
    fulfilled_by: str
    created_time: datetime
    last_updated_time: datetime
    details: dict
    items: list[ItemSpec] = field(default_factory=list)


def amazon_order_id(rng: random.Random) -> str:
    return f"{rng.randint(100, 999)}-{rng.randint(0, 9999999):07d}-{rng.randint(0, 9999999):07d}"


def order_item_id(rng: random.Random) -> str:
    return str(rng.randint(10**13, 10**14 - 1))


def money(amount: Decimal, decimal_places: int) -> Decimal:
    return amount.quantize(Decimal(1).scaleb(-decimal_places), rounding=ROUND_HALF_UP)


def isoformat(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def generate_order(
    rng: random.Random, *, marketplace_ids: list[str], now: datetime, window: timedelta
) -> OrderSpec:
    """One order. Without a `window` the buyer places it at `now`, which is also its last
    update (new events happen at Amazon's now, so the next sync window catches them); with a
    window it is history, placed between `now - window` and five minutes before `now`."""
    marketplace = MARKETPLACES[rng.choice(marketplace_ids)]
    fulfilled_by = FulfilledBy.AMAZON if rng.random() < 0.3 else FulfilledBy.MERCHANT
    roll = rng.random()
    if roll < 0.2:
        status = FulfillmentStatus.PENDING
    elif fulfilled_by == FulfilledBy.AMAZON and roll < 0.55:
        status = FulfillmentStatus.SHIPPED
    else:
        status = FulfillmentStatus.UNSHIPPED
    is_prime = rng.random() < 0.4
    is_business = rng.random() < 0.15
    # Orders placed now draw their times as the two-day history once did, unused, so that a seed
    # still gives the buyers and items it always gave.
    earliest = max(window or PAST_WINDOW, timedelta(minutes=10))
    created = now - timedelta(seconds=rng.randint(5 * 60, int(earliest.total_seconds())))
    age = (now - created).total_seconds() - 3 * 60
    updated = created + timedelta(seconds=rng.randint(0, int(min(3600, age))))
    if not window:
        created = updated = now

    buyer_name = f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"
    buyer = {
        "buyerName": buyer_name,
        "buyerEmail": f"{rng.getrandbits(48):012x}@marketplace.amazon.com",
    }
    company = ""
    if is_business:
        company = rng.choice(COMPANIES)
        buyer["buyerCompanyName"] = company
        buyer["buyerPurchaseOrderNumber"] = f"PO-{rng.randint(10000, 99999)}"
    city, region, postal_code = rng.choice(CITIES[marketplace.country_code])
    address = None
    # Amazon ships AFN orders itself and never shows the seller the buyer's address.
    if fulfilled_by == FulfilledBy.MERCHANT:
        address = {
            "name": buyer_name,
            "addressLine1": f"{rng.randint(1, 250)} {rng.choice(STREETS)}",
            "city": city,
            "stateOrRegion": region,
            "postalCode": postal_code,
            "countryCode": marketplace.country_code,
            "phone": f"+{rng.randint(10, 99)} {rng.randint(100, 999)} {rng.randint(1000, 9999)}",
            "addressType": "COMMERCIAL" if is_business else "RESIDENTIAL",
        }
        if company:
            address["companyName"] = company
    service_level = "EXPEDITED" if is_prime else rng.choice(SERVICE_LEVELS)
    programs = (["PRIME"] if is_prime else []) + (["AMAZON_BUSINESS"] if is_business else [])
    shipping = money(Decimal(rng.choice(["0", "0", "4.99", "7.50"])) * marketplace.price_factor, 2)
    details = {
        "buyer": buyer,
        "address": address,
        "serviceLevel": service_level,
        "programs": programs,
        "isPrime": is_prime,
        "isBusiness": is_business,
        "shippingPrice": str(money(shipping, marketplace.decimal_places)),
        "shipByWindow": {
            "earliestDateTime": isoformat(created + timedelta(hours=2)),
            "latestDateTime": isoformat(created + timedelta(days=1 if is_prime else 2)),
        },
        "deliverByWindow": {
            "earliestDateTime": isoformat(created + timedelta(days=2)),
            "latestDateTime": isoformat(created + timedelta(days=3 if is_prime else 6)),
        },
    }

    items = []
    for product in rng.sample(PRODUCTS, k=rng.choices([1, 2, 3, 4], weights=[55, 25, 12, 8])[0]):
        quantity = rng.choices([1, 2, 3], weights=[75, 18, 7])[0]
        unit_price = money(product.price_usd * marketplace.price_factor, marketplace.decimal_places)
        if is_business:
            unit_price = money(unit_price * Decimal("0.95"), marketplace.decimal_places)
        item = ItemSpec(
            order_item_id=order_item_id(rng),
            asin=product.asin,
            seller_sku=product.seller_sku,
            title=product.title,
            quantity_ordered=quantity,
            unit_price=unit_price,
            item_tax=money(unit_price * quantity * TAX_RATE, marketplace.decimal_places),
            quantity_shipped=quantity if status == FulfillmentStatus.SHIPPED else 0,
        )
        if rng.random() < 0.1:
            item.gift_message = rng.choice(GIFT_MESSAGES)
            item.gift_wrap_level = rng.choice(["STANDARD", "PREMIUM"])
        items.append(item)
    is_merchant_unshipped = (
        fulfilled_by == FulfilledBy.MERCHANT and status == FulfillmentStatus.UNSHIPPED
    )
    if is_merchant_unshipped and rng.random() < 0.08:
        items[0].buyer_cancel_reason = rng.choice(BUYER_CANCEL_REASONS)
    return OrderSpec(
        order_id=amazon_order_id(rng),
        marketplace_id=marketplace.marketplace_id,
        currency_code=marketplace.currency_code,
        status=status,
        fulfilled_by=fulfilled_by,
        created_time=created,
        last_updated_time=updated,
        details=details,
        items=items,
    )
