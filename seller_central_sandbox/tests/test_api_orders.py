"""Orders 2026-01-01 and v0 reads over real HTTP, through python-amazon-sp-api."""

import time
from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.core import signing
from django.utils import timezone
from sp_api.base.exceptions import (
    SellingApiBadRequestException,
    SellingApiNotFoundException,
    SellingApiRequestThrottledException,
)

from seller_central_sandbox.models import SandboxOrder
from seller_central_sandbox.services.orders import orders_generate
from seller_central_sandbox.testing import client_kwargs_for
from seller_central_sandbox.tests.helpers import (
    ALL_INCLUDED,
    minutes_ago,
    orders_client,
    orders_v0_client,
    three_days_ago,
)

US, DE = "ATVPDKIKX0DER", "A1PA6795UKMFR9"


def served_ids(response) -> set[str]:
    assert response.next_token is None
    return {order["orderId"] for order in response.payload["orders"]}


pytestmark = pytest.mark.django_db(transaction=True)


def test_search_pages_cover_every_order_once(sandbox_seller, sandbox_client_kwargs):
    orders_generate(seller=sandbox_seller, count=23, seed=11, now=minutes_ago(10))
    client = orders_client(sandbox_client_kwargs)
    search = {"createdAfter": three_days_ago(), "maxResultsPerPage": 5}

    seen, pages = [], 0
    response = client.search_orders(**search)
    while True:
        pages += 1
        seen.extend(order["orderId"] for order in response.payload["orders"])
        if not response.next_token:
            break
        response = client.search_orders(**search, paginationToken=response.next_token)

    assert pages == 5
    assert len(seen) == len(set(seen)) == 23
    assert set(seen) == set(SandboxOrder.objects.values_list("order_id", flat=True))


def test_an_order_updated_between_pages_is_neither_lost_nor_repeated_by_creation_time(
    sandbox_seller, sandbox_client_kwargs
):
    orders_generate(seller=sandbox_seller, count=6, seed=12, window=timedelta(days=2))
    client = orders_client(sandbox_client_kwargs)
    search = {"createdAfter": three_days_ago(), "maxResultsPerPage": 3}
    first = client.search_orders(**search)
    SandboxOrder.objects.update(last_updated_time=timezone.now() - timedelta(minutes=5))

    second = client.search_orders(**search, paginationToken=first.next_token)

    ids = [order["orderId"] for order in first.payload["orders"] + second.payload["orders"]]
    assert len(set(ids)) == 6
    assert second.next_token is None


def test_sections_come_only_when_included(sandbox_seller, sandbox_client_kwargs):
    orders_generate(seller=sandbox_seller, count=3, seed=13, now=minutes_ago(10))
    client = orders_client(sandbox_client_kwargs)

    bare = client.search_orders(createdAfter=three_days_ago()).payload["orders"][0]
    full = client.search_orders(createdAfter=three_days_ago(), includedData=ALL_INCLUDED)

    assert {"buyer", "fulfillment", "packages", "proceeds"}.isdisjoint(bare)
    assert bare["orderItems"]
    assert all("fulfillment" in order and "buyer" in order for order in full.payload["orders"])
    # Order.packages: "Only available for merchant-fulfilled (FBM) orders".
    merchant = [o for o in full.payload["orders"] if o["fulfillment"]["fulfilledBy"] == "MERCHANT"]
    assert merchant and all("packages" in order for order in merchant)


def test_filters_select_by_status_and_fulfilment_channel(sandbox_seller, sandbox_client_kwargs):
    orders_generate(seller=sandbox_seller, count=30, seed=14, now=minutes_ago(10))
    client = orders_client(sandbox_client_kwargs)

    response = client.search_orders(
        createdAfter=three_days_ago(),
        fulfillmentStatuses=["UNSHIPPED"],
        fulfilledBy=["MERCHANT"],
        includedData=["FULFILLMENT"],
    )

    expected = SandboxOrder.objects.filter(status="UNSHIPPED", fulfilled_by="MERCHANT").count()
    assert 0 < len(response.payload["orders"]) == expected
    assert {order["fulfillment"]["fulfillmentStatus"] for order in response.payload["orders"]} == {
        "UNSHIPPED"
    }


def test_a_marketplace_filter_excludes_the_sellers_other_marketplace(
    sandbox_server, sandbox_seller_factory
):
    seller = sandbox_seller_factory(marketplace_ids=[US, DE])
    orders_generate(seller=seller, count=30, seed=18, now=minutes_ago(10))
    american = set(
        SandboxOrder.objects.filter(marketplace_id=US).values_list("order_id", flat=True)
    )
    german = set(SandboxOrder.objects.filter(marketplace_id=DE).values_list("order_id", flat=True))
    assert american and german
    client = orders_client(client_kwargs_for(sandbox_server, seller))

    only_german = client.search_orders(createdAfter=three_days_ago(), marketplaceIds=[DE])
    only_american = client.search_orders(createdAfter=three_days_ago(), marketplaceIds=[US])
    both = client.search_orders(createdAfter=three_days_ago(), marketplaceIds=[US, DE])

    assert served_ids(only_german) == german
    assert served_ids(only_american) == american
    assert served_ids(both) == american | german


@pytest.mark.parametrize(
    ("after", "before", "field"),
    [
        ("createdAfter", "createdBefore", "created_time"),
        ("lastUpdatedAfter", "lastUpdatedBefore", "last_updated_time"),
    ],
)
def test_the_before_bound_cuts_the_results(
    sandbox_seller, sandbox_client_kwargs, after, before, field
):
    orders_generate(
        seller=sandbox_seller, count=20, seed=19, now=minutes_ago(10), window=timedelta(days=2)
    )
    moments = sorted(SandboxOrder.objects.values_list(field, flat=True))
    cut = moments[len(moments) // 2]
    expected = set(
        SandboxOrder.objects.filter(**{f"{field}__lte": cut}).values_list("order_id", flat=True)
    )

    response = orders_client(sandbox_client_kwargs).search_orders(
        **{after: three_days_ago(), before: cut.isoformat()}
    )

    assert 0 < len(expected) < 20
    assert served_ids(response) == expected
    assert response.payload[before] == cut.strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.mark.parametrize(
    ("after", "before"),
    [("createdAfter", "createdBefore"), ("lastUpdatedAfter", "lastUpdatedBefore")],
)
def test_a_start_later_than_the_end_is_invalid_input(sandbox_client_kwargs, after, before):
    with pytest.raises(SellingApiBadRequestException) as refused:
        orders_client(sandbox_client_kwargs).search_orders(
            **{after: minutes_ago(60).isoformat(), before: minutes_ago(120).isoformat()}
        )

    assert refused.value.amzn_code == "InvalidInput"
    assert f"{after} must be before {before}" in refused.value.message


def test_a_tampered_pagination_token_is_invalid_input(sandbox_seller, sandbox_client_kwargs):
    orders_generate(seller=sandbox_seller, count=4, seed=20, now=minutes_ago(10))
    client = orders_client(sandbox_client_kwargs)
    search = {"createdAfter": three_days_ago(), "maxResultsPerPage": 2}
    first = client.search_orders(**search)

    token = first.next_token
    tampered = token[:-1] + ("B" if token[-1] == "A" else "A")

    with pytest.raises(SellingApiBadRequestException) as refused:
        client.search_orders(**search, paginationToken=tampered)

    assert refused.value.amzn_code == "InvalidInput"
    assert refused.value.message == "The pagination token is not valid."


def test_a_pagination_token_expires_after_a_day(monkeypatch, sandbox_seller, sandbox_client_kwargs):
    orders_generate(seller=sandbox_seller, count=4, seed=21, now=minutes_ago(10))
    client = orders_client(sandbox_client_kwargs)
    search = {"createdAfter": three_days_ago(), "maxResultsPerPage": 2}
    first = client.search_orders(**search)
    # A day and a minute later for the signatures only: the access token stays valid.
    later = time.time() + 24 * 3600 + 60
    monkeypatch.setattr(signing, "time", SimpleNamespace(time=lambda: later))

    with pytest.raises(SellingApiBadRequestException) as refused:
        client.search_orders(**search, paginationToken=first.next_token)

    assert refused.value.amzn_code == "InvalidInput"
    assert "expired" in refused.value.message


def test_a_window_ending_within_two_minutes_of_now_is_invalid_input(sandbox_client_kwargs):
    client = orders_client(sandbox_client_kwargs)

    with pytest.raises(SellingApiBadRequestException) as refused:
        client.search_orders(
            lastUpdatedAfter=three_days_ago(),
            lastUpdatedBefore=(timezone.now() - timedelta(seconds=30)).isoformat(),
        )

    assert refused.value.amzn_code == "InvalidInput"
    assert "two minutes" in refused.value.message


def test_the_default_window_ends_two_minutes_ago(sandbox_client_kwargs):
    response = orders_client(sandbox_client_kwargs).search_orders(lastUpdatedAfter=three_days_ago())

    before = response.payload["lastUpdatedBefore"]
    ends = timezone.datetime.fromisoformat(before.replace("Z", "+00:00"))
    assert timedelta(minutes=2) <= timezone.now() - ends < timedelta(minutes=3)


@pytest.mark.parametrize(
    "window",
    [
        {},
        {"createdAfter": "2025-01-01T00:00:00Z", "lastUpdatedAfter": "2025-01-01T00:00:00Z"},
        {"createdAfter": "2025-01-01T00:00:00Z", "lastUpdatedBefore": "2025-01-02T00:00:00Z"},
        {"createdAfter": "yesterday"},
        {"createdAfter": "2025-01-01T00:00:00Z", "maxResultsPerPage": 101},
        {"createdAfter": "2025-01-01T00:00:00Z", "includedData": ["EVERYTHING"]},
    ],
)
def test_exactly_one_start_and_valid_values_are_required(sandbox_client_kwargs, window):
    with pytest.raises(SellingApiBadRequestException) as refused:
        orders_client(sandbox_client_kwargs).search_orders(**window)

    assert refused.value.amzn_code == "InvalidInput"


def test_searches_beyond_the_burst_are_throttled(settings, sandbox_client_kwargs):
    settings.SANDBOX_TIME_SCALE = 1
    client = orders_client(sandbox_client_kwargs)
    for _ in range(20):
        client.search_orders(createdAfter=three_days_ago())

    with pytest.raises(SellingApiRequestThrottledException) as throttled:
        client.search_orders(createdAfter=three_days_ago())

    assert throttled.value.amzn_code == "QuotaExceeded"
    assert "x-amzn-RateLimit-Limit" not in throttled.value.headers


def test_get_order_returns_one_order_and_404_for_another_sellers(
    sandbox_seller, sandbox_seller_factory, sandbox_client_kwargs
):
    mine = orders_generate(seller=sandbox_seller, count=1, seed=15)[0]
    theirs = orders_generate(seller=sandbox_seller_factory(), count=1, seed=16)[0]
    client = orders_client(sandbox_client_kwargs)

    response = client.get_order(mine.order_id, includedData=["FULFILLMENT"])

    assert response.payload["order"]["orderId"] == mine.order_id
    assert response.payload["order"]["fulfillment"]["fulfillmentStatus"] == mine.status
    with pytest.raises(SellingApiNotFoundException):
        client.get_order(theirs.order_id)


def test_v0_reads_wrap_the_payload_and_use_v0_names(sandbox_seller, sandbox_client_kwargs):
    orders = orders_generate(seller=sandbox_seller, count=12, seed=17, now=minutes_ago(10))
    client = orders_v0_client(sandbox_client_kwargs)

    listed = client.get_orders(CreatedAfter=three_days_ago(), MaxResultsPerPage=10)
    rest = client.get_orders(NextToken=listed.next_token)
    # Buyer information comes for orders to ship or shipped only (ordersV0.json BuyerInfo).
    order = next(order for order in orders if order.status in ("UNSHIPPED", "SHIPPED"))
    single = client.get_order(order.order_id).payload
    items = client.get_order_items(order.order_id).payload
    address = client.get_order_address(order.order_id).payload
    buyer = client.get_order_buyer_info(order.order_id).payload

    assert len(listed.payload["Orders"]) + len(rest.payload["Orders"]) == 12
    expected_status = {"PENDING": "Pending", "UNSHIPPED": "Unshipped", "SHIPPED": "Shipped"}
    assert single["OrderStatus"] == expected_status[order.status]
    assert len(items["OrderItems"]) == order.items.count()
    assert address["AmazonOrderId"] == buyer["AmazonOrderId"] == order.order_id
    assert buyer["BuyerEmail"].endswith("@marketplace.amazon.com")


def test_v0_requires_a_start_or_order_ids(sandbox_client_kwargs):
    with pytest.raises(SellingApiBadRequestException):
        orders_v0_client(sandbox_client_kwargs).get_orders()
