"""Shipping charges as Amazon reports them, over real HTTP: each item's proceeds carry its
SHIPPING and its proceedsTotal includes it; the order's breakdown holds the sum ("aggregated
across all order items", orders_2026-01-01.json OrderProceedsBreakdown; Amazon's getOrder example
202-1234567-8901234: item SHIPPING 10.00, order SHIPPING 10.00, grandTotal = proceedsTotal)."""

from decimal import Decimal

import pytest

from seller_central_sandbox.catalog import MARKETPLACES
from seller_central_sandbox.models import SandboxOrder, SandboxOrderItem
from seller_central_sandbox.services.orders import orders_generate
from seller_central_sandbox.testing import client_kwargs_for
from seller_central_sandbox.tests.helpers import (
    minutes_ago,
    orders_client,
    orders_v0_client,
    three_days_ago,
    unshipped_merchant_order,
)

pytestmark = pytest.mark.django_db(transaction=True)


def amount(money: dict) -> Decimal:
    return Decimal(money["amount"])


def breakdown(proceeds: dict, kind: str) -> Decimal:
    return sum(
        (amount(entry["subtotal"]) for entry in proceeds["breakdowns"] if entry["type"] == kind),
        Decimal(0),
    )


def test_each_item_carries_its_share_of_shipping_and_the_order_their_sum(
    sandbox_server, sandbox_seller_factory
):
    seller = sandbox_seller_factory(marketplace_ids=list(MARKETPLACES))
    orders_generate(seller=seller, count=95, seed=61, now=minutes_ago(30))
    client = orders_client(client_kwargs_for(sandbox_server, seller))

    served = client.search_orders(
        createdAfter=three_days_ago(),
        marketplaceIds=list(MARKETPLACES),
        includedData=["PROCEEDS"],
    )

    priced = [order for order in served.payload["orders"] if "proceeds" in order]
    shipped_with_a_charge = 0
    for order in priced:
        stored = SandboxOrder.objects.get(order_id=order["orderId"])
        items = [item["proceeds"] for item in order["orderItems"]]
        item_shipping = sum((breakdown(item, "SHIPPING") for item in items), Decimal(0))
        assert item_shipping == breakdown(order["proceeds"], "SHIPPING")
        assert item_shipping == Decimal(stored.details["shippingPrice"])
        for item in items:
            assert amount(item["proceedsTotal"]) == sum(
                (breakdown(item, kind) for kind in ("ITEM", "SHIPPING", "TAX")), Decimal(0)
            )
        grand_total = amount(order["proceeds"]["grandTotal"])
        assert grand_total == sum((amount(item["proceedsTotal"]) for item in items), Decimal(0))
        shipped_with_a_charge += bool(item_shipping) and len(items) > 1
    assert shipped_with_a_charge >= 2
    assert {order["salesChannel"]["marketplaceId"] for order in priced} >= {
        "A1VC38T7YXB528",  # yen: no decimals
        "A1PA6795UKMFR9",
    }


def test_shipping_is_split_by_item_value_with_the_cents_left_to_the_largest_remainders(
    sandbox_seller, sandbox_client_kwargs
):
    order = unshipped_merchant_order(sandbox_seller)
    order.items.all().delete()
    for number in range(3):
        SandboxOrderItem.objects.create(
            order=order,
            order_item_id=f"5000000000000{number}",
            asin=f"B00000000{number}",
            seller_sku=f"SKU-{number}",
            title="Same price",
            quantity_ordered=1,
            unit_price=Decimal("5.00"),
        )
    order.details = {**order.details, "shippingPrice": "10.00"}
    order.save(update_fields=["details"])

    served = orders_client(sandbox_client_kwargs).get_order(
        order.order_id, includedData=["PROCEEDS"]
    )

    shares = [
        breakdown(item["proceeds"], "SHIPPING") for item in served.payload["order"]["orderItems"]
    ]
    assert shares == [Decimal("3.34"), Decimal("3.33"), Decimal("3.33")]
    assert amount(served.payload["order"]["proceeds"]["grandTotal"]) == Decimal("25.00")


def test_v0_items_carry_the_same_shipping_shares(sandbox_seller, sandbox_client_kwargs):
    orders_generate(seller=sandbox_seller, count=30, seed=62, now=minutes_ago(30))
    client = orders_v0_client(sandbox_client_kwargs)
    checked = 0

    for order in SandboxOrder.objects.filter(seller=sandbox_seller).exclude(status="PENDING"):
        total = amount_v0(client.get_order(order.order_id).payload["OrderTotal"])
        items = client.get_order_items(order.order_id).payload["OrderItems"]
        parts = [
            amount_v0(item[name])
            for item in items
            for name in ("ItemPrice", "ItemTax", "ShippingPrice")
            if name in item
        ]
        assert sum(parts, Decimal(0)) == total
        checked += any("ShippingPrice" in item for item in items)
    assert checked >= 3


def amount_v0(money: dict) -> Decimal:
    return Decimal(money["Amount"])
