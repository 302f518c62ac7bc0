"""The buyer side: realistic, varied and reproducible orders that honour Amazon's model."""

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from seller_central_sandbox.catalog import MARKETPLACES
from seller_central_sandbox.models import FulfillmentStatus, SandboxOrder
from seller_central_sandbox.representations import (
    INCLUDED_DATA,
    order_2026,
    order_address_v0,
    order_buyer_info_v0,
    order_items_v0,
    order_v0,
)
from seller_central_sandbox.selectors import orders_with_details
from seller_central_sandbox.services.orders import orders_generate, orders_lifecycle_advance
from seller_central_sandbox.services.sellers import seller_clock_offset_set
from seller_central_sandbox.tests.contract import validate
from seller_central_sandbox.tests.helpers import orders_without_ids

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
ORDERS = "orders_2026-01-01.json"
V0 = "ordersV0.json"


@pytest.fixture
def seller(sandbox_seller_factory):
    return sandbox_seller_factory(marketplace_ids=list(MARKETPLACES))


def snapshot(seller) -> list[dict]:
    orders = orders_with_details(SandboxOrder.objects.filter(seller=seller).order_by("order_id"))
    return [order_2026(order, INCLUDED_DATA) for order in orders]


@pytest.mark.django_db(transaction=True)
def test_the_same_seed_and_now_give_the_same_orders(sandbox_seller_factory):
    first = sandbox_seller_factory(marketplace_ids=list(MARKETPLACES))
    orders_generate(seller=first, count=15, seed=5, now=NOW)
    expected = snapshot(first)
    first.delete()
    second = sandbox_seller_factory(marketplace_ids=list(MARKETPLACES))

    orders_generate(seller=second, count=15, seed=5, now=NOW)

    assert snapshot(second) == expected


@pytest.mark.django_db
def test_two_fresh_sellers_get_the_same_orders_from_the_same_seed_and_now(
    sandbox_seller_factory,
):
    first = sandbox_seller_factory(marketplace_ids=list(MARKETPLACES))
    second = sandbox_seller_factory(marketplace_ids=list(MARKETPLACES))

    placed_first = orders_generate(seller=first, count=15, seed=5, now=NOW)
    placed_second = orders_generate(seller=second, count=15, seed=5, now=NOW)

    assert orders_without_ids(second) == orders_without_ids(first)
    # Every id the seed draws is the first seller's: the second gets ids redrawn aside.
    first_ids = [order.order_id for order in placed_first]
    second_ids = [order.order_id for order in placed_second]
    assert len(set(first_ids + second_ids)) == 30


@pytest.mark.django_db
def test_orders_already_in_the_database_change_only_the_ids_a_seed_produces(
    sandbox_seller_factory,
):
    seller = sandbox_seller_factory(marketplace_ids=list(MARKETPLACES))
    orders_generate(seller=seller, count=10, seed=6, now=NOW)
    expected = orders_without_ids(seller)
    orders_generate(seller=seller, count=7, seed=8, now=NOW)

    again = orders_generate(seller=seller, count=10, seed=6, now=NOW)

    assert orders_without_ids(seller)[-10:] == expected
    assert SandboxOrder.objects.filter(seller=seller).count() == 27
    assert all(order.order_id[3] == "-" and len(order.order_id) == 19 for order in again)


@pytest.mark.django_db
def test_redrawn_ids_are_reproducible_too(sandbox_seller_factory):
    taken = sandbox_seller_factory()
    orders_generate(seller=taken, count=5, seed=7, now=NOW)
    redrawn = []
    for _ in range(2):
        seller = sandbox_seller_factory(seller_id="A2REPLAYED")
        redrawn.append(
            [o.order_id for o in orders_generate(seller=seller, count=5, seed=7, now=NOW)]
        )
        seller.delete()

    assert redrawn[0] == redrawn[1]
    assert set(redrawn[0]).isdisjoint(taken.orders.values_list("order_id", flat=True))


@pytest.mark.django_db
def test_orders_cover_the_cases_a_sync_must_handle(seller):
    orders_generate(seller=seller, count=200, seed=1, now=NOW, window=timedelta(days=2))
    served = snapshot(seller)
    orders = list(SandboxOrder.objects.filter(seller=seller).prefetch_related("items"))

    assert len({order.currency_code for order in orders}) >= 4
    assert len({order.marketplace_id for order in orders}) >= 6
    assert Counter(order.fulfilled_by for order in orders).keys() == {"MERCHANT", "AMAZON"}
    assert any("PRIME" in order["programs"] for order in served)
    assert any("AMAZON_BUSINESS" in order["programs"] for order in served)
    assert any(len(order["orderItems"]) > 1 for order in served)
    assert any("packing" in item.get("fulfillment", {}) for o in served for item in o["orderItems"])
    assert any(
        item.get("cancellation", {}).get("cancellationRequest", {}).get("requester") == "BUYER"
        for order in served
        for item in order["orderItems"]
    )
    pending = [o for o in served if o["fulfillment"]["fulfillmentStatus"] == "PENDING"]
    assert pending and all("price" not in i["product"] for o in pending for i in o["orderItems"])
    assert all("proceeds" not in order for order in pending)
    amazon = [o for o in served if o["fulfillment"]["fulfilledBy"] == "AMAZON"]
    assert amazon and all("recipient" not in order for order in amazon)
    assert all(
        order["orderId"][3] == "-"
        and len(order["orderId"]) == 19
        and order["createdTime"] < "2025-06-01T11:58"
        for order in served
    )


@pytest.mark.django_db
def test_generated_orders_honour_the_models_in_every_shape(seller):
    orders_generate(seller=seller, count=60, seed=2, now=NOW)
    orders = list(orders_with_details(SandboxOrder.objects.filter(seller=seller)))

    validate(
        ORDERS,
        "/orders/2026-01-01/orders",
        "get",
        200,
        {
            "orders": [order_2026(order, INCLUDED_DATA) for order in orders],
            "createdBefore": "2025-06-01T11:58:00Z",
        },
    )
    validate(
        V0,
        "/orders/v0/orders",
        "get",
        200,
        {"payload": {"Orders": [order_v0(order) for order in orders]}},
    )
    for order in orders:
        validate(
            V0,
            "/orders/v0/orders/{orderId}/orderItems",
            "get",
            200,
            {"payload": order_items_v0(order)},
        )
        validate(
            V0,
            "/orders/v0/orders/{orderId}/address",
            "get",
            200,
            {"payload": order_address_v0(order)},
        )
        validate(
            V0,
            "/orders/v0/orders/{orderId}/buyerInfo",
            "get",
            200,
            {"payload": order_buyer_info_v0(order)},
        )


@pytest.mark.django_db
def test_a_lifecycle_step_pays_ships_and_cancels_reproducibly(sandbox_seller_factory):
    results = []
    for _ in range(2):
        seller = sandbox_seller_factory(marketplace_ids=["ATVPDKIKX0DER"])
        orders_generate(seller=seller, count=80, seed=3, now=NOW)
        before = Counter(
            SandboxOrder.objects.filter(seller=seller).values_list("status", flat=True)
        )

        steps = orders_lifecycle_advance(seller=seller, seed=9, now=NOW + timedelta(minutes=1))

        after = Counter(SandboxOrder.objects.filter(seller=seller).values_list("status", flat=True))
        results.append((steps, after))
        seller.delete()

    (steps, after), (repeated_steps, repeated_after) = results
    assert steps == repeated_steps and after == repeated_after
    assert steps["paid"] > 0 and steps["shipped_by_amazon"] > 0 and steps["cancelled_by_buyer"] > 0
    assert after[FulfillmentStatus.PENDING] < before[FulfillmentStatus.PENDING]
    assert after[FulfillmentStatus.CANCELLED] == steps["cancelled_by_buyer"]


@pytest.mark.django_db
def test_new_orders_are_placed_and_last_updated_at_now(seller):
    placed = orders_generate(seller=seller, count=25, seed=10, now=NOW)

    assert {(order.created_time, order.last_updated_time) for order in placed} == {(NOW, NOW)}
    served = [order_2026(order, INCLUDED_DATA) for order in placed]
    assert {(order["createdTime"], order["lastUpdatedTime"]) for order in served} == {
        ("2025-06-01T12:00:00Z", "2025-06-01T12:00:00Z")
    }


@pytest.mark.django_db
def test_without_a_given_now_new_orders_happen_at_amazons_clock(seller):
    # Amazon's clock runs five minutes behind the caller's.
    seller_clock_offset_set(seller=seller, seconds=-300)
    started = timezone.now()

    placed = orders_generate(seller=seller, count=5, seed=11)

    finished = timezone.now()
    for order in placed:
        assert order.created_time == order.last_updated_time
        offset = timedelta(seconds=-300)
        assert started + offset <= order.created_time <= finished + offset


@pytest.mark.django_db
def test_a_window_places_history_before_now_with_the_same_buyers_a_seed_gives(
    sandbox_seller_factory,
):
    now_seller = sandbox_seller_factory(marketplace_ids=list(MARKETPLACES))
    history_seller = sandbox_seller_factory(marketplace_ids=list(MARKETPLACES))
    orders_generate(seller=now_seller, count=40, seed=12, now=NOW)

    history = orders_generate(
        seller=history_seller, count=40, seed=12, now=NOW, window=timedelta(days=2)
    )

    created = sorted(order.created_time for order in history)
    assert NOW - timedelta(days=2) <= created[0] and created[-1] <= NOW - timedelta(minutes=5)
    assert created[-1] - created[0] > timedelta(days=1)
    assert all(order.last_updated_time <= NOW - timedelta(minutes=3) for order in history)
    # Only the times differ: a seed draws the same buyers and items as when every order was
    # history of the last two days.
    assert drawn(history_seller) == drawn(now_seller)


def drawn(seller) -> list[tuple]:
    """What a seed draws for each order of the seller, its times aside."""
    return [
        (
            order.marketplace_id,
            order.status,
            order.fulfilled_by,
            order.details["buyer"],
            [
                (item.seller_sku, item.quantity_ordered, item.unit_price)
                for item in order.items.all()
            ],
        )
        for order in SandboxOrder.objects.filter(seller=seller)
        .order_by("pk")
        .prefetch_related("items")
    ]
