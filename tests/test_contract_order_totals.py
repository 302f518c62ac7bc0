"""Commerce totals equal what Amazon charged, or the order says by how much they differ.

Amazon carries shipping per item (orders_2026-01-01.json ItemProceedsBreakdown SHIPPING; the
order's OrderProceedsBreakdown is "aggregated across all order items"); its getOrder example
202-1234567-8901234 has item SHIPPING 10.00 in a grandTotal of 103.97. Charges Commerce does not
hold (the search example's DELIVERY_TIP, "not attributed to a specific item") and unit prices
that do not divide an item's price leave a difference, which is flagged, never hidden.
"""

import copy
import json
from decimal import Decimal
from pathlib import Path

import pytest

from amazon_channel.models import AmazonOrder
from amazon_channel.orders.commerce_import import commerce_orders_follow
from amazon_channel.orders.upsert import amazon_orders_upsert
from amazon_channel.tests.factories import StoreFactory
from commerce_orders.models import Product
from commerce_orders.notes import notes_text
from seller_central_sandbox.catalog import PRODUCTS
from seller_central_sandbox.models import SandboxOrder
from seller_central_sandbox.services.orders import orders_generate
from seller_central_sandbox.testing import TEST_TIME_SCALE
from tests.sync_helpers import minutes_ago, store_for_seller, sync_to_the_end

MODEL = Path(__file__).resolve().parents[1] / "seller_central_sandbox/sp_api_models"
DE = "A1PA6795UKMFR9"


def amazons_examples() -> tuple[dict, dict]:
    """Amazon's searchOrders example (with a DELIVERY_TIP) and getOrder example (with item
    SHIPPING), from the model."""
    model = json.loads((MODEL / "orders_2026-01-01.json").read_text())
    search = model["paths"]["/orders/2026-01-01/orders"]["get"]["responses"]["200"]
    get = model["paths"]["/orders/2026-01-01/orders/{orderId}"]["get"]["responses"]["200"]
    return (
        copy.deepcopy(search["examples"]["application/json"]["orders"][0]),
        copy.deepcopy(get["examples"]["application/json"]["order"]),
    )


def amazons_charge(order: SandboxOrder) -> Decimal:
    """What the buyer pays on the sandbox's side: items, their tax and the shipping charge."""
    items = order.items.all()
    return sum(
        (item.unit_price * item.quantity_ordered + item.item_tax for item in items), Decimal(0)
    ) + Decimal(order.details["shippingPrice"])


@pytest.mark.django_db(transaction=True)
def test_generated_orders_become_commerce_orders_and_invoices_of_amazons_total(
    sandbox_server, sandbox_seller_factory, settings
):
    settings.AMAZON_RATE_LIMIT_SCALE = TEST_TIME_SCALE
    settings.AMAZON_RETRY_BASE_SECONDS = 0.05
    for product in PRODUCTS:
        Product.objects.create(
            sku=product.seller_sku, name=product.title, price="1.00", quantity_in_stock=900
        )
    seller = sandbox_seller_factory(marketplace_ids=[DE])
    orders_generate(seller=seller, count=40, seed=71, now=minutes_ago(30))
    store = store_for_seller(sandbox_server, seller, is_import_enabled=True)

    sync_to_the_end(store)

    imported = list(
        AmazonOrder.objects.filter(store=store, commerce_order__isnull=False).select_related(
            "commerce_order"
        )
    )
    with_shipping = 0
    for order in imported:
        placed = SandboxOrder.objects.get(order_id=order.amazon_order_id)
        commerce_order = order.commerce_order
        [invoice] = commerce_order.invoices.all()
        assert order.order_total == amazons_charge(placed), order.amazon_order_id
        assert commerce_order.grand_total == invoice.grand_total == order.order_total
        assert commerce_order.shipping_amount == Decimal(placed.details["shippingPrice"])
        assert notes_text(order.commerce_import_error) == ""
        with_shipping += commerce_order.shipping_amount > 0
    assert len(imported) >= 10 and with_shipping >= 3


def import_example(payload: dict, *, skus: list[str]) -> AmazonOrder:
    store = StoreFactory(is_import_enabled=True)
    for sku in skus:
        Product.objects.create(sku=sku, name=sku, price="1.00", quantity_in_stock=10)
    amazon_orders_upsert(store=store, payloads=[payload])
    order = AmazonOrder.objects.get(store=store, amazon_order_id=payload["orderId"])
    commerce_orders_follow(store=store, order_ids=[order.pk])
    order.refresh_from_db()
    return order


@pytest.mark.django_db
def test_amazons_example_with_item_shipping_imports_at_amazons_total():
    _, with_shipping = amazons_examples()

    order = import_example(with_shipping, skus=["ECHO-DOT-4-UK-CHARCOAL-3PACK"])

    assert order.commerce_order.shipping_amount == Decimal("10.00")
    assert order.commerce_order.grand_total == order.order_total == Decimal("103.97")
    assert notes_text(order.commerce_import_error) == ""


@pytest.mark.django_db
def test_a_charge_commerce_does_not_hold_is_flagged_with_the_difference():
    with_tip, _ = amazons_examples()

    order = import_example(with_tip, skus=["ECHO-DOT-4-CHARCOAL", "FIRE-TV-4K-2021"])

    assert order.commerce_order.grand_total == Decimal("149.99")
    assert notes_text(order.commerce_import_error) == (
        "Commerce total 149.99 USD differs from Amazon's 154.99 USD by 5.00 USD."
    )


@pytest.mark.django_db
def test_a_unit_price_that_does_not_divide_the_items_price_is_flagged_by_the_cent():
    _, payload = amazons_examples()
    item = payload["orderItems"][0]
    item["proceeds"]["breakdowns"][0]["subtotal"]["amount"] = "10.00"
    payload["proceeds"]["grandTotal"]["amount"] = "24.00"

    order = import_example(payload, skus=["ECHO-DOT-4-UK-CHARCOAL-3PACK"])

    # Commerce holds a unit price: 3 x 3.33 = 9.99 for Amazon's 10.00.
    assert order.commerce_order.grand_total == Decimal("23.99")
    assert notes_text(order.commerce_import_error) == (
        "Commerce total 23.99 GBP differs from Amazon's 24.00 GBP by 0.01 GBP."
    )


@pytest.mark.django_db
def test_a_total_difference_never_starves_the_retry_of_blocked_orders():
    from amazon_channel.models import SyncRun
    from amazon_channel.orders.sync import attention_orders_retry

    # Given 200 orders imported with Amazon's tip, so each differs from its Commerce total
    with_tip, _ = amazons_examples()
    store = StoreFactory(is_import_enabled=True)
    for sku in ("ECHO-DOT-4-CHARCOAL", "FIRE-TV-4K-2021"):
        Product.objects.create(sku=sku, name=sku, price="1.00", quantity_in_stock=900)
    payloads = []
    for number in range(200):
        payload = copy.deepcopy(with_tip)
        payload["orderId"] = f"123-{number:07d}-0000001"
        for position, item in enumerate(payload["orderItems"]):
            item["orderItemId"] = f"{number:07d}{position:07d}"
        payloads.append(payload)
    amazon_orders_upsert(store=store, payloads=payloads)
    commerce_orders_follow(store=store, order_ids=list(store.orders.values_list("pk", flat=True)))
    assert store.orders.filter(commerce_order__isnull=False).count() == 200
    assert store.orders.exclude(commerce_import_error=[]).count() == 200
    # and a newer order blocked by a SKU Commerce does not have yet
    blocked = copy.deepcopy(with_tip)
    blocked["orderId"] = "123-9999999-0000001"
    blocked["lastUpdatedTime"] = "2025-01-02T00:00:00Z"
    blocked["orderItems"] = blocked["orderItems"][:1]
    blocked["orderItems"][0]["product"]["sellerSku"] = "NEW-SKU"
    amazon_orders_upsert(store=store, payloads=[blocked])
    order = AmazonOrder.objects.get(amazon_order_id=blocked["orderId"])
    commerce_orders_follow(store=store, order_ids=[order.pk])
    order.refresh_from_db()
    assert order.commerce_order is None and "NEW-SKU" in notes_text(order.commerce_import_error)

    # When the SKU is created and a sync retries the orders that need it
    Product.objects.create(sku="NEW-SKU", name="New", price="1.00", quantity_in_stock=9)
    run = SyncRun.objects.create(
        store=store,
        kind=SyncRun.Kind.SCHEDULED,
        window_start=minutes_ago(60),
        window_end=minutes_ago(2),
    )
    attention_orders_retry(run=run, client=None)

    # Then the blocked order is imported: the differences of linked orders are no retry work
    order.refresh_from_db()
    assert order.commerce_order is not None
