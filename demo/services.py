"""Demo data for `make run`: a merchant login, the merchant's catalog and a store connected to
the Seller Central sandbox, whose buyers have placed orders. The store's first sync (Celery
beat, at once) brings the orders in through the real SP-API client.

Idempotent: every row is keyed by a natural key, so running it twice changes nothing.
"""

import socket
from dataclasses import dataclass
from decimal import Decimal
from urllib.parse import urlsplit

from botocore.exceptions import BotoCoreError, ClientError
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import transaction

from amazon_channel.models import Store
from amazon_channel.notifications.queues import (
    notification_queue_create,
    queue_name,
    queue_region,
)
from amazon_channel.stores.services import StoreCredentials, store_connect
from commerce_orders.models import Product

DEMO_STORE_NAME = "Demo Store (DE)"
DEMO_USERNAME = "merchant"
DEMO_SELLER_ID = "ADEMOSELLER01"
DEMO_MARKETPLACE = "DE"
DEMO_MARKETPLACE_ID = "A1PA6795UKMFR9"
DEMO_CREDENTIALS = StoreCredentials(
    lwa_client_id="amzn1.application-oa2-client.demo",
    lwa_client_secret="demo-client-secret",  # noqa: S106 - the sandbox's demo account
    refresh_token="Atzr|demo-refresh-token",  # noqa: S106 - the sandbox's demo account
)
# The merchant's own catalog: the SKUs they list on Amazon, but one, so that the demo shows how
# an order with an unknown SKU waits in Order Notes.
CATALOG = [
    ("ECHO-DOT-4-CHARCOAL", "Smart speaker, 4th generation, charcoal", "45.99"),
    ("FIRE-TV-4K-2021", "Streaming stick 4K with voice remote", "36.79"),
    ("KETTLE-STEEL-17L", "Electric kettle, brushed steel, 1.7 l", "31.74"),
    ("MUG-SET-4-BLUE", "Stoneware mug set of 4, blue glaze", "22.08"),
    ("YOGA-MAT-6MM-GRN", "Yoga mat 6 mm, non-slip, green", "27.55"),
    ("BACKPACK-25L-BLK", "Daypack 25 l, water resistant, black", "54.28"),
    ("HEADPHONES-NC-700", "Noise-cancelling headphones, over-ear", "164.68"),
    ("CABLE-USBC-2M-2PK", "USB-C cable 2 m, braided, pack of 2", "11.95"),
    ("DESK-LAMP-LED-WHT", "LED desk lamp with dimmer, white", "38.64"),
    ("COFFEE-BEANS-1KG", "Whole coffee beans, medium roast, 1 kg", "19.69"),
    ("BOARD-GAME-STRAT", "Strategy board game for 2-5 players", "41.39"),
]


@dataclass(frozen=True)
class DemoResult:
    store: Store
    username: str
    password: str


def _sandbox_seller_ensure(*, order_count: int, seed: int) -> None:
    # Through the sandbox's own command line: our code never imports the sandbox.
    call_command(
        "sandbox",
        "seller-create",
        "--seller-id",
        DEMO_SELLER_ID,
        "--client-id",
        DEMO_CREDENTIALS.lwa_client_id,
        "--client-secret",
        DEMO_CREDENTIALS.lwa_client_secret,
        "--refresh-token",
        DEMO_CREDENTIALS.refresh_token,
        "--marketplace-id",
        DEMO_MARKETPLACE_ID,
        "--name",
        "Demo seller",
    )
    call_command(
        "sandbox",
        "orders-generate",
        "--seller-id",
        DEMO_SELLER_ID,
        "--count",
        str(order_count),
        "--seed",
        str(seed),
        "--days",
        "30",
        "--if-empty",
    )


@transaction.atomic
def demo_setup(
    *, password: str, sandbox_url: str, order_count: int = 60, seed: int = 7
) -> DemoResult:
    """Create or refresh the demo login, catalog, sandbox seller and connected store."""
    user, _ = get_user_model().objects.get_or_create(
        username=DEMO_USERNAME, defaults={"email": "merchant@example.com"}
    )
    user.is_staff = True
    user.is_superuser = True
    user.set_password(password)
    user.save()

    for sku, name, price in CATALOG:
        Product.objects.get_or_create(
            sku=sku, defaults={"name": name, "price": Decimal(price), "quantity_in_stock": 250}
        )

    _sandbox_seller_ensure(order_count=order_count, seed=seed)
    store, created = store_connect(
        actor=None,
        name=DEMO_STORE_NAME,
        marketplace_code=DEMO_MARKETPLACE,
        seller_id=DEMO_SELLER_ID,
        credentials=DEMO_CREDENTIALS,
        environment=Store.Environment.SANDBOX,
        sp_api_endpoint=sandbox_url,
        token_endpoint=f"{sandbox_url}/auth/o2/token",
    )
    if created:
        store.is_import_enabled = True
        store.save(update_fields=["is_import_enabled"])
    return DemoResult(store=store, username=DEMO_USERNAME, password=password)


def demo_notification_queue_ensure() -> str | None:
    """Make the demo's notification queue in its SQS server (moto), as
    `notifications_queue_create` does; return its ARN. None when notifications are off or the
    server is not up: `make run` starts moto after this, empty, and its consumer makes the
    queue then (AMAZON_NOTIFICATIONS_QUEUE_CREATE)."""
    queue_url, endpoint = settings.AMAZON_NOTIFICATIONS_QUEUE_URL, settings.AMAZON_SQS_ENDPOINT_URL
    if not (queue_url and endpoint):
        return None
    address = urlsplit(endpoint)
    try:
        # A quick look first: boto3 would retry a refused connection for seconds.
        with socket.create_connection((address.hostname, address.port or 80), timeout=1):
            pass
        reference = notification_queue_create(
            name=queue_name(queue_url),
            max_receives=settings.AMAZON_NOTIFICATIONS_MAX_RECEIVES,
            region=queue_region(queue_url),
        )
    except (OSError, BotoCoreError, ClientError):
        return None
    return reference.arn
