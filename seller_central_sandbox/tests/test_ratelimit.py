"""Usage plans over real HTTP, through python-amazon-sp-api: each operation's burst, its
x-amzn-RateLimit-Limit, one bucket per seller, refills sped up by the time scale.

The buckets run on a hand-driven clock (the `rate_limit_clock` fixture): no token comes back
while the test does not advance it, so every count is exact."""

import io

import pytest
from sp_api.api import Feeds
from sp_api.base.exceptions import (
    SellingApiBadRequestException,
    SellingApiRequestThrottledException,
)

from seller_central_sandbox.models import SandboxSeller
from seller_central_sandbox.services.orders import orders_generate
from seller_central_sandbox.services.sellers import SandboxError, seller_usage_plan_set
from seller_central_sandbox.testing import client_kwargs_for
from seller_central_sandbox.tests.contract import find_operation, load_model
from seller_central_sandbox.tests.helpers import (
    cancel_feed_xml,
    orders_client,
    orders_v0_client,
    submit_feed,
    three_days_ago,
    unshipped_merchant_order,
)

pytestmark = pytest.mark.django_db(transaction=True)

# Amazon's documented rates (requests per second) as x-amzn-RateLimit-Limit spells them.
DOCUMENTED_RATES = {
    ("orders_2026-01-01.json", "searchOrders"): "0.0056",
    ("orders_2026-01-01.json", "getOrder"): "0.5",
    ("ordersV0.json", "getOrders"): "0.0167",
    ("ordersV0.json", "getOrder"): "0.5",
    ("ordersV0.json", "getOrderItems"): "0.5",
    ("ordersV0.json", "confirmShipment"): "2",
    ("feeds_2021-06-30.json", "createFeedDocument"): "0.5",
    ("feeds_2021-06-30.json", "createFeed"): "0.0083",
    ("feeds_2021-06-30.json", "getFeed"): "2",
    ("feeds_2021-06-30.json", "getFeeds"): "0.0222",
    ("feeds_2021-06-30.json", "getFeedDocument"): "0.0222",
}


def operation_of(exchange) -> tuple[str, str] | None:
    found = find_operation(exchange.method, exchange.path)
    if found is None:
        return None
    model, template = found
    return model, load_model(model)["paths"][template][exchange.method.lower()]["operationId"]


def test_successful_answers_carry_the_documented_rate_of_their_operation(
    sandbox_server, sandbox_seller, sandbox_client_kwargs, rate_limit_clock
):
    order = unshipped_merchant_order(sandbox_seller)
    item = order.items.order_by("pk").first()
    orders = orders_client(sandbox_client_kwargs)
    orders_v0 = orders_v0_client(sandbox_client_kwargs)
    feeds = Feeds(**sandbox_client_kwargs)

    orders.search_orders(createdAfter=three_days_ago())
    orders.get_order(order.order_id)
    orders_v0.get_orders(CreatedAfter=three_days_ago())
    orders_v0.get_order(order.order_id)
    orders_v0.get_order_items(order.order_id)
    orders_v0.confirm_shipment(
        order.order_id,
        marketplaceId=order.marketplace_id,
        packageDetail={
            "packageReferenceId": "1",
            "carrierCode": "UPS",
            "trackingNumber": "1Z1",
            "shipDate": "2025-06-01T10:00:00Z",
            "orderItems": [{"orderItemId": item.order_item_id, "quantity": 1}],
        },
    )
    feed_id = submit_feed(
        sandbox_client_kwargs, cancel_feed_xml(sandbox_seller.seller_id, order.order_id, {})
    )
    feeds.get_feed(feed_id)
    feeds.get_feeds(feedTypes=["POST_ORDER_ACKNOWLEDGEMENT_DATA"])
    feeds.get_feed_document(
        feeds.create_feed_document(io.BytesIO(b"<x/>"), "text/xml").payload["feedDocumentId"]
    )

    served = {}
    for exchange in sandbox_server.exchanges:
        operation = operation_of(exchange)
        if operation is not None and exchange.status < 300:
            served.setdefault(operation, set()).add(exchange.headers["x-amzn-ratelimit-limit"])
    assert served == {operation: {rate} for operation, rate in DOCUMENTED_RATES.items()}


def several_calls(kwargs: dict, order_id: str):
    orders = orders_client(kwargs)
    orders_v0 = orders_v0_client(kwargs)
    feeds = Feeds(**kwargs)
    return {
        "getOrder": (30, lambda: orders.get_order(order_id)),
        "getOrderItems": (30, lambda: orders_v0.get_order_items(order_id)),
        "getOrders": (20, lambda: orders_v0.get_orders(CreatedAfter=three_days_ago())),
        "createFeedDocument": (
            15,
            lambda: feeds.create_feed_document(io.BytesIO(b"<x/>"), "text/xml"),
        ),
        "getFeeds": (10, lambda: feeds.get_feeds(feedTypes=["POST_ORDER_ACKNOWLEDGEMENT_DATA"])),
    }


@pytest.mark.parametrize(
    "operation", ["getOrder", "getOrderItems", "getOrders", "createFeedDocument", "getFeeds"]
)
def test_an_operation_answers_its_burst_then_429(
    operation, sandbox_seller, sandbox_client_kwargs, rate_limit_clock
):
    order = orders_generate(seller=sandbox_seller, count=1, seed=19)[0]
    burst, call = several_calls(sandbox_client_kwargs, order.order_id)[operation]

    for _ in range(burst):
        call()
    with pytest.raises(SellingApiRequestThrottledException) as throttled:
        call()

    assert throttled.value.amzn_code == "QuotaExceeded"


def test_refused_shipments_count_against_the_burst_of_ten(
    sandbox_seller, sandbox_client_kwargs, rate_limit_clock
):
    order = unshipped_merchant_order(sandbox_seller)
    client = orders_v0_client(sandbox_client_kwargs)

    def confirm_unknown_item():
        client.confirm_shipment(
            order.order_id,
            marketplaceId=order.marketplace_id,
            packageDetail={
                "packageReferenceId": "1",
                "carrierCode": "UPS",
                "trackingNumber": "1Z1",
                "shipDate": "2025-06-01T10:00:00Z",
                "orderItems": [{"orderItemId": "00000000000000", "quantity": 1}],
            },
        )

    for _ in range(10):
        with pytest.raises(SellingApiBadRequestException) as refused:
            confirm_unknown_item()
        assert refused.value.headers["x-amzn-RateLimit-Limit"] == "2"
    with pytest.raises(SellingApiRequestThrottledException):
        confirm_unknown_item()


def test_one_sellers_empty_bucket_leaves_another_seller_alone(
    sandbox_server, sandbox_seller, sandbox_seller_factory, sandbox_client_kwargs, rate_limit_clock
):
    other = orders_client(client_kwargs_for(sandbox_server, sandbox_seller_factory()))
    client = orders_client(sandbox_client_kwargs)
    for _ in range(20):
        client.search_orders(createdAfter=three_days_ago())
    with pytest.raises(SellingApiRequestThrottledException):
        client.search_orders(createdAfter=three_days_ago())

    answered = [other.search_orders(createdAfter=three_days_ago()) for _ in range(20)]

    assert all(response.payload["orders"] == [] for response in answered)
    with pytest.raises(SellingApiRequestThrottledException):
        client.search_orders(createdAfter=three_days_ago())


def test_the_time_scale_runs_refills_faster(
    settings, sandbox_seller, sandbox_client_kwargs, rate_limit_clock
):
    settings.SANDBOX_TIME_SCALE = 1
    client = orders_client(sandbox_client_kwargs)
    for _ in range(20):
        client.search_orders(createdAfter=three_days_ago())

    # 4 s at 0.0056 requests per second give back 0.0224 of a token: still empty.
    rate_limit_clock.advance(4)
    with pytest.raises(SellingApiRequestThrottledException):
        client.search_orders(createdAfter=three_days_ago())
    # The same 4 s fifty times faster give back 1.12 tokens: one more search, not two.
    settings.SANDBOX_TIME_SCALE = 50
    rate_limit_clock.advance(4)
    client.search_orders(createdAfter=three_days_ago())
    with pytest.raises(SellingApiRequestThrottledException):
        client.search_orders(createdAfter=three_days_ago())
    # A full burst comes back after burst / (rate x scale) = 20 / 0.28 s.
    rate_limit_clock.advance(20 / 0.28)
    for _ in range(20):
        client.search_orders(createdAfter=three_days_ago())
    with pytest.raises(SellingApiRequestThrottledException):
        client.search_orders(createdAfter=three_days_ago())


def search_rates(sandbox_server, since: int) -> list[str]:
    return [
        exchange.headers.get("x-amzn-ratelimit-limit", "")
        for exchange in sandbox_server.exchanges[since:]
        if exchange.path == "/orders/2026-01-01/orders"
    ]


def test_a_sellers_usage_plan_sets_the_header_and_the_bucket_from_the_next_call(
    settings, sandbox_server, sandbox_seller, sandbox_client_kwargs, rate_limit_clock
):
    # Amazon's dynamic usage plans: the header states "the usage plan rate limits that are
    # applied to the requested operation" (orders_2026-01-01.json, searchOrders' description).
    settings.SANDBOX_TIME_SCALE = 1
    client = orders_client(sandbox_client_kwargs)
    # Changed from another process: the sandbox reads the seller's row with every call.
    seller_usage_plan_set(
        seller=SandboxSeller.objects.get(pk=sandbox_seller.pk),
        operation="searchOrders",
        rate="0.0028",
        burst=3,
    )

    for _ in range(3):
        client.search_orders(createdAfter=three_days_ago())
    with pytest.raises(SellingApiRequestThrottledException):
        client.search_orders(createdAfter=three_days_ago())
    # One token comes back after 1 / 0.0028 s, not after 1 / 0.0056 s.
    rate_limit_clock.advance(1 / 0.0056)
    with pytest.raises(SellingApiRequestThrottledException):
        client.search_orders(createdAfter=three_days_ago())
    rate_limit_clock.advance(1 / 0.0028 - 1 / 0.0056)
    client.search_orders(createdAfter=three_days_ago())

    assert search_rates(sandbox_server, 0) == ["0.0028"] * 3 + [""] * 2 + ["0.0028"]


def test_clearing_a_usage_plan_restores_the_documented_one(
    settings, sandbox_server, sandbox_seller, sandbox_client_kwargs, rate_limit_clock
):
    settings.SANDBOX_TIME_SCALE = 1
    client = orders_client(sandbox_client_kwargs)
    seller_usage_plan_set(seller=sandbox_seller, operation="searchOrders", rate="0.0028", burst=3)
    client.search_orders(createdAfter=three_days_ago())

    seller_usage_plan_set(seller=sandbox_seller, operation="searchOrders", rate=None, burst=None)

    # Two tokens were left under the small plan; a full documented burst is back after
    # burst / rate seconds.
    rate_limit_clock.advance(20 / 0.0056)
    for _ in range(20):
        client.search_orders(createdAfter=three_days_ago())
    with pytest.raises(SellingApiRequestThrottledException):
        client.search_orders(createdAfter=three_days_ago())
    assert search_rates(sandbox_server, 0)[0] == "0.0028"
    assert search_rates(sandbox_server, 0)[1:] == ["0.0056"] * 20 + [""]
    assert SandboxSeller.objects.get(pk=sandbox_seller.pk).usage_plans == {}


def test_a_plan_above_the_documented_one_grants_more(
    sandbox_seller, sandbox_client_kwargs, rate_limit_clock
):
    order = orders_generate(seller=sandbox_seller, count=1, seed=23)[0]
    seller_usage_plan_set(seller=sandbox_seller, operation="getOrder", rate="5", burst=40)
    client = orders_client(sandbox_client_kwargs)

    answers = [client.get_order(order.order_id) for _ in range(40)]

    assert {answer.headers["x-amzn-RateLimit-Limit"] for answer in answers} == {"5"}
    with pytest.raises(SellingApiRequestThrottledException):
        client.get_order(order.order_id)


@pytest.mark.parametrize(
    ("operation", "rate", "burst"),
    [
        ("searchEverything", "1", 1),
        ("searchOrders", "0", None),
        ("searchOrders", "-1", None),
        ("searchOrders", "fast", None),
        ("searchOrders", None, 0),
    ],
)
def test_a_usage_plan_needs_a_known_operation_a_positive_rate_and_burst(
    sandbox_seller, operation, rate, burst
):
    with pytest.raises(SandboxError):
        seller_usage_plan_set(seller=sandbox_seller, operation=operation, rate=rate, burst=burst)

    assert SandboxSeller.objects.get(pk=sandbox_seller.pk).usage_plans == {}


def test_create_feed_answers_its_burst_of_15_then_429_and_refills_one_per_two_minutes(
    settings, sandbox_seller, sandbox_client_kwargs, rate_limit_clock
):
    # Given createFeed's documented plan (0.0083/s, burst 15) at Amazon's own speed
    settings.SANDBOX_TIME_SCALE = 1
    feeds = Feeds(**sandbox_client_kwargs)
    document_id = feeds.create_feed_document(io.BytesIO(b"<x/>"), "text/xml").payload[
        "feedDocumentId"
    ]

    def create_feed():
        return feeds.create_feed("POST_ORDER_ACKNOWLEDGEMENT_DATA", document_id)

    # When 15 feeds are created at once, the 16th is throttled
    for _ in range(15):
        create_feed()
    with pytest.raises(SellingApiRequestThrottledException) as throttled:
        create_feed()
    assert throttled.value.amzn_code == "QuotaExceeded"

    # Then a token comes back after 1 / 0.0083 = 120.5 s, not before, and only one
    rate_limit_clock.advance(119)
    with pytest.raises(SellingApiRequestThrottledException):
        create_feed()
    rate_limit_clock.advance(2)
    assert create_feed().payload["feedId"]
    with pytest.raises(SellingApiRequestThrottledException):
        create_feed()
