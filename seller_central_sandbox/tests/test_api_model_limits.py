"""Limits and values the models state, where the sandbox once said otherwise."""

from datetime import timedelta

import httpx
import pytest
from django.utils import timezone

from seller_central_sandbox.models import FulfilledBy, FulfillmentStatus
from seller_central_sandbox.services.integrations import integration_acknowledgements_submit
from seller_central_sandbox.services.orders import order_items_cancel
from seller_central_sandbox.services.sellers import seller_clock_offset_set
from seller_central_sandbox.testing import order_in_status
from seller_central_sandbox.tests.helpers import access_token

pytestmark = pytest.mark.django_db(transaction=True)


def get(server, token, path, **params):
    return httpx.get(
        server.url + path, params=params, headers={"x-amz-access-token": token}, timeout=10
    )


def test_a_sellers_cancellation_is_executed_by_the_merchant(sandbox_server, sandbox_seller):
    # Given an unshipped order the seller cancels (an acknowledgement feed's Failure).
    order = order_in_status(
        seller=sandbox_seller,
        status=FulfillmentStatus.UNSHIPPED,
        fulfilled_by=FulfilledBy.MERCHANT,
        seed=5,
    )
    order_items_cancel(
        seller=sandbox_seller,
        order_id=order.order_id,
        reasons_by_item={item.order_item_id: "NoInventory" for item in order.items.all()},
        default_reason=None,
    )

    # When the order is read with its cancellation.
    answer = get(
        sandbox_server,
        access_token(sandbox_server, sandbox_seller),
        f"/orders/2026-01-01/orders/{order.order_id}",
        includedData="CANCELLATION",
    )

    # Then Amazon names the merchant: ItemCancellationExecution.cancelledBy is BUYER, MERCHANT
    # or AMAZON (orders_2026-01-01.json).
    executions = [
        item["cancellation"]["cancellationExecution"]
        for item in answer.json()["order"]["orderItems"]
    ]
    assert {execution["cancelledBy"] for execution in executions} == {"MERCHANT"}
    assert {execution["cancelReason"] for execution in executions} == {"NoInventory"}


def test_a_get_feeds_next_token_must_come_alone(sandbox_server, sandbox_seller):
    # Given two feeds, read one a page.
    for _ in range(2):
        integration_acknowledgements_submit(seller=sandbox_seller)
    token = access_token(sandbox_server, sandbox_seller)
    first = get(
        sandbox_server,
        token,
        "/feeds/2021-06-30/feeds",
        feedTypes="POST_ORDER_ACKNOWLEDGEMENT_DATA",
        pageSize=1,
    )
    next_token = first.json()["nextToken"]

    # When the next page is asked with the token alone, and with the token and other filters.
    alone = get(sandbox_server, token, "/feeds/2021-06-30/feeds", nextToken=next_token)
    with_filters = get(
        sandbox_server,
        token,
        "/feeds/2021-06-30/feeds",
        nextToken=next_token,
        feedTypes="POST_ORDER_ACKNOWLEDGEMENT_DATA",
    )

    # Then only the first is answered (feeds_2021-06-30.json, nextToken: "Specifying nextToken
    # with any other parameters will cause the request to fail").
    assert alone.status_code == 200
    assert len(alone.json()["feeds"]) == 1
    assert with_filters.status_code == 400
    assert with_filters.json()["errors"][0]["code"] == "InvalidInput"


def test_v0_order_statuses_accept_invoice_unconfirmed_and_ids_stop_at_fifty(
    sandbox_server, sandbox_seller
):
    token = access_token(sandbox_server, sandbox_seller)
    since = (timezone.now() - timedelta(days=3)).isoformat()

    # InvoiceUnconfirmed is one of the OrderStatuses of ordersV0.json: a valid filter.
    invoice_unconfirmed = get(
        sandbox_server,
        token,
        "/orders/v0/orders",
        MarketplaceIds="ATVPDKIKX0DER",
        CreatedAfter=since,
        OrderStatuses="InvoiceUnconfirmed",
    )
    # AmazonOrderIds has maxItems 50: 51 ids are refused, not cut to 50.
    ids = ",".join(f"111-0000000-{number:07d}" for number in range(51))
    too_many = get(
        sandbox_server,
        token,
        "/orders/v0/orders",
        MarketplaceIds="ATVPDKIKX0DER",
        AmazonOrderIds=ids,
    )

    assert invoice_unconfirmed.status_code == 200
    assert invoice_unconfirmed.json()["payload"]["Orders"] == []
    assert too_many.status_code == 400


def test_an_amazon_fulfilled_order_has_no_packages_section(sandbox_server, sandbox_seller):
    # Order.packages: "Only available for merchant-fulfilled (FBM) orders".
    afn = order_in_status(
        seller=sandbox_seller,
        status=FulfillmentStatus.SHIPPED,
        fulfilled_by=FulfilledBy.AMAZON,
        seed=2,
    )
    mfn = order_in_status(
        seller=sandbox_seller,
        status=FulfillmentStatus.UNSHIPPED,
        fulfilled_by=FulfilledBy.MERCHANT,
        seed=3,
    )
    token = access_token(sandbox_server, sandbox_seller)

    def read(order):
        return get(
            sandbox_server,
            token,
            f"/orders/2026-01-01/orders/{order.order_id}",
            includedData="PACKAGES",
        ).json()["order"]

    assert "packages" not in read(afn)
    assert read(mfn)["packages"] == []


def test_v0_get_orders_judges_the_two_minute_rule_by_amazons_clock(sandbox_server, sandbox_seller):
    # Given Amazon's clock five minutes behind the caller's.
    seller_clock_offset_set(seller=sandbox_seller, seconds=-300)
    token = access_token(sandbox_server, sandbox_seller)
    three_minutes_ago = (timezone.now() - timedelta(minutes=3)).isoformat()
    since = (timezone.now() - timedelta(days=1)).isoformat()

    # When a window ends three minutes ago by the caller's clock.
    answer = get(
        sandbox_server,
        token,
        "/orders/v0/orders",
        MarketplaceIds="ATVPDKIKX0DER",
        LastUpdatedAfter=since,
        LastUpdatedBefore=three_minutes_ago,
    )

    # Then Amazon, whose now is eight minutes ago by that clock, finds it too recent
    # (ordersV0.json LastUpdatedBefore: "at least two minutes before current time").
    assert answer.status_code == 400
    seller_clock_offset_set(seller=sandbox_seller, seconds=0)
    assert (
        get(
            sandbox_server,
            token,
            "/orders/v0/orders",
            MarketplaceIds="ATVPDKIKX0DER",
            LastUpdatedAfter=since,
            LastUpdatedBefore=three_minutes_ago,
        ).status_code
        == 200
    )


@pytest.mark.parametrize(("reference", "status"), [("P-1", 400), ("0", 400), ("000000001", 204)])
def test_a_package_reference_is_a_positive_number(
    sandbox_server, sandbox_seller, reference, status
):
    # ordersV0.json PackageReferenceId: "Only positive numeric values are supported"
    # (amzn/selling-partner-api-models#5094: production answers 400 otherwise). Our client sends
    # its shipment numbers, zero-padded digits.
    order = order_in_status(
        seller=sandbox_seller,
        status=FulfillmentStatus.UNSHIPPED,
        fulfilled_by=FulfilledBy.MERCHANT,
        seed=8,
    )
    item = order.items.order_by("pk").first()

    answer = httpx.post(
        f"{sandbox_server.url}/orders/v0/orders/{order.order_id}/shipmentConfirmation",
        json={
            "marketplaceId": order.marketplace_id,
            "packageDetail": {
                "packageReferenceId": reference,
                "carrierCode": "DHL",
                "trackingNumber": "00340434161094042557",
                "shipDate": timezone.now().strftime("%Y-%m-%dT%H:%M:%SZ"),
                "orderItems": [{"orderItemId": item.order_item_id, "quantity": 1}],
            },
        },
        headers={"x-amz-access-token": access_token(sandbox_server, sandbox_seller)},
        timeout=10,
    )

    assert answer.status_code == status, answer.text
    assert order.packages.count() == (1 if status == 204 else 0)
