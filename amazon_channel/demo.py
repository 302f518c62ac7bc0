"""Demo data for `make run`: a merchant login, a store and a deterministic set of Amazon orders.

Idempotent: every row is keyed by a natural key, so running it twice changes nothing.
"""

import random
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from amazon_channel.marketplaces import MARKETPLACES
from amazon_channel.models import (
    AmazonOrder,
    AmazonOrderEvent,
    AmazonOrderItem,
    AmazonOrderStatus,
    FulfillmentChannel,
    Store,
)
from commerce_orders.models import Product

DEMO_STORE_NAME = "Demo Store (DE)"
DEMO_USERNAME = "merchant"

CATALOG = [
    ("DEMO-MUG-01", "B0DEMO0001", "Keramikbecher Blau 350 ml", Decimal("12.90")),
    ("DEMO-TEE-M", "B0DEMO0002", "Bio-Baumwoll T-Shirt, Größe M", Decimal("24.50")),
    ("DEMO-LAMP-3", "B0DEMO0003", "LED-Schreibtischlampe dimmbar", Decimal("39.99")),
    ("DEMO-BAG-07", "B0DEMO0004", "Canvas Tote Bag Natur", Decimal("15.00")),
    ("DEMO-PEN-12", "B0DEMO0005", "Füllfederhalter Set", Decimal("29.95")),
]
BUYERS = [
    ("Anna Schmidt", "Hauptstraße 5", "Berlin", "10115"),
    ("Lukas Müller", "Gartenweg 12", "München", "80331"),
    ("Sophie Dubois", "Rue de Rivoli 20", "Köln", "50667"),
    ("Marco Rossi", "Bahnhofstraße 8", "Hamburg", "20095"),
    ("Emma de Vries", "Lindenallee 3", "Frankfurt am Main", "60311"),
]
STATUS_MIX = [
    AmazonOrderStatus.UNSHIPPED,
    AmazonOrderStatus.UNSHIPPED,
    AmazonOrderStatus.UNSHIPPED,
    AmazonOrderStatus.PENDING,
    AmazonOrderStatus.SHIPPED,
    AmazonOrderStatus.SHIPPED,
    AmazonOrderStatus.PARTIALLY_SHIPPED,
    AmazonOrderStatus.CANCELED,
]


@dataclass(frozen=True)
class DemoResult:
    store: Store
    username: str
    password: str
    order_count: int


def _amazon_order_number(rng: random.Random) -> str:
    return (
        f"{rng.randint(100, 999):03d}-{rng.randint(0, 9999999):07d}-{rng.randint(0, 9999999):07d}"
    )


def _shipped_quantity(status: str, position: int, quantity: int) -> int:
    if status == AmazonOrderStatus.SHIPPED:
        return quantity
    if status == AmazonOrderStatus.PARTIALLY_SHIPPED and position == 0:
        return 1
    return 0


@transaction.atomic
def demo_setup(
    *,
    password: str,
    sp_api_endpoint: str,
    token_endpoint: str,
    order_count: int = 40,
    seed: int = 7,
) -> DemoResult:
    """Create or refresh the demo login, store, catalog and orders. Never duplicates a row."""
    user_model = get_user_model()
    user, _ = user_model.objects.get_or_create(
        username=DEMO_USERNAME, defaults={"email": "merchant@example.com"}
    )
    user.is_staff = True
    user.is_superuser = True
    user.set_password(password)
    user.save()

    marketplace = MARKETPLACES["DE"]
    store, _ = Store.objects.update_or_create(
        name=DEMO_STORE_NAME,
        defaults={
            "region": marketplace.region,
            "marketplace_code": marketplace.code,
            "marketplace_id": marketplace.marketplace_id,
            "seller_id": "ADEMOSELLER01",
            "environment": Store.Environment.SANDBOX,
            "sp_api_endpoint": sp_api_endpoint,
            "token_endpoint": token_endpoint,
        },
        create_defaults={
            "region": marketplace.region,
            "marketplace_code": marketplace.code,
            "marketplace_id": marketplace.marketplace_id,
            "seller_id": "ADEMOSELLER01",
            "environment": Store.Environment.SANDBOX,
            "sp_api_endpoint": sp_api_endpoint,
            "token_endpoint": token_endpoint,
            "lwa_client_id": "amzn1.application-oa2-client.demo",
            "lwa_client_secret": "demo-client-secret",
            "refresh_token": "Atzr|demo-refresh-token",
        },
    )

    for sku, _asin, name, price in CATALOG:
        Product.objects.get_or_create(
            sku=sku, defaults={"name": name, "price": price, "quantity_in_stock": 100}
        )

    rng = random.Random(seed)
    # Anchored to the day, so a rerun on the same day rewrites identical rows.
    anchor = timezone.now().replace(hour=8, minute=0, second=0, microsecond=0)
    for index in range(order_count):
        amazon_order_id = _amazon_order_number(rng)
        status = STATUS_MIX[index % len(STATUS_MIX)]
        buyer_name, street, city, postal_code = BUYERS[rng.randrange(len(BUYERS))]
        purchase_date = anchor - timedelta(hours=index * 17 + rng.randint(0, 5))
        lines = [
            (CATALOG[rng.randrange(len(CATALOG))], rng.randint(1, 2))
            for _ in range(rng.randint(1, 3))
        ]
        if status == AmazonOrderStatus.PARTIALLY_SHIPPED:
            # Partially shipped: the first line has two units, one of them shipped.
            lines[0] = (lines[0][0], 2)
        shipped_counts = [
            _shipped_quantity(status, position, quantity)
            for position, (_, quantity) in enumerate(lines)
        ]
        quantity_total = sum(quantity for _, quantity in lines)
        is_pending = status == AmazonOrderStatus.PENDING
        total = sum((product[3] * quantity for product, quantity in lines), Decimal(0))
        order, created = AmazonOrder.objects.update_or_create(
            store=store,
            amazon_order_id=amazon_order_id,
            defaults={
                "marketplace_id": marketplace.marketplace_id,
                "status": status,
                "fulfillment_channel": FulfillmentChannel.MERCHANT,
                "purchase_date": purchase_date,
                "last_update_date": purchase_date + timedelta(minutes=30),
                "latest_ship_date": purchase_date + timedelta(days=2),
                "ship_service_level": "Std DE Dom",
                "buyer_name": "" if is_pending else buyer_name,
                "buyer_email": f"buyer{index:03d}@marketplace.amazon.de",
                "shipping_address": {}
                if is_pending
                else {
                    "name": buyer_name,
                    "addressLine1": street,
                    "city": city,
                    "postalCode": postal_code,
                    "countryCode": "DE",
                },
                "order_total": None if is_pending else total,
                "currency": marketplace.currency,
                "number_of_items_shipped": sum(shipped_counts),
                "number_of_items_unshipped": quantity_total - sum(shipped_counts),
                "is_prime": index % 3 == 0,
                "is_business_order": index % 7 == 0,
                "is_buyer_requested_cancellation": index == 2,
                "buyer_cancellation_reason": "Ordered by mistake" if index == 2 else "",
            },
        )
        for position, ((sku, asin, name, price), quantity) in enumerate(lines):
            AmazonOrderItem.objects.update_or_create(
                order=order,
                order_item_id=f"{amazon_order_id.replace('-', '')[-10:]}{position:04d}",
                defaults={
                    "asin": asin,
                    "seller_sku": sku,
                    "title": name,
                    "condition": "New",
                    "quantity_ordered": quantity,
                    "quantity_shipped": shipped_counts[position],
                    "item_price": None if is_pending else price * quantity,
                    "item_tax": None
                    if is_pending
                    else (price * quantity * Decimal("0.19")).quantize(Decimal("0.01")),
                    "shipping_price": None if is_pending else Decimal("0.00"),
                },
            )
        if created:
            AmazonOrderEvent.objects.create(
                order=order, kind=AmazonOrderEvent.Kind.IMPORTED, new_status=status
            )
    return DemoResult(
        store=store, username=DEMO_USERNAME, password=password, order_count=order_count
    )
