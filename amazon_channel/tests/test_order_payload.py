"""What the sync reads must parse Amazon's own example payloads."""

import copy
import json
from decimal import Decimal
from pathlib import Path

import pytest

from amazon_channel.models import AmazonOrderStatus, FulfillmentChannel
from amazon_channel.order_payload import UnreadableOrder, parse_order

MODELS_DIR = Path(__file__).resolve().parents[2] / "seller_central_sandbox" / "sp_api_models"


def example_orders() -> list[dict]:
    model = json.loads((MODELS_DIR / "orders_2026-01-01.json").read_text())
    search = model["paths"]["/orders/2026-01-01/orders"]["get"]["responses"]["200"]
    get = model["paths"]["/orders/2026-01-01/orders/{orderId}"]["get"]["responses"]["200"]
    orders = list(search["examples"]["application/json"]["orders"])
    orders.append(get["examples"]["application/json"]["order"])
    for case in search.get("x-amzn-api-sandbox", {}).get("static", []):
        orders.extend(case["response"].get("orders", []))
    return orders


def test_amazons_example_orders_parse_without_problems():
    orders = example_orders()
    assert len(orders) >= 2

    for payload in orders:
        parsed = parse_order(payload)
        assert parsed.amazon_order_id == payload["orderId"]
        assert parsed.items, payload["orderId"]


def test_the_search_example_maps_onto_the_dashboard_fields():
    parsed = parse_order(example_orders()[0])

    assert parsed.problems == []
    assert parsed.fields["status"] == AmazonOrderStatus.SHIPPED
    assert parsed.fields["fulfillment_channel"] == FulfillmentChannel.MERCHANT
    assert parsed.fields["order_total"] == Decimal("154.99")
    assert parsed.fields["currency"] == "USD"
    assert parsed.fields["buyer_name"] == "John Smith"
    assert parsed.fields["shipping_address"]["city"] == "Seattle"
    assert parsed.fields["is_prime"] and parsed.fields["is_business_order"]
    assert parsed.fields["is_replacement_order"]
    assert parsed.fields["is_buyer_requested_cancellation"]
    item = parsed.items[0]
    assert (item["seller_sku"], item["quantity_ordered"]) == ("ECHO-DOT-4-CHARCOAL", 2)
    assert item["item_price"] == Decimal("99.98")
    assert item["item_tax"] == Decimal("0.02")


def test_an_unknown_status_is_kept_as_error_with_the_reason():
    payload = copy.deepcopy(example_orders()[0])
    payload["fulfillment"]["fulfillmentStatus"] = "TELEPORTED"

    parsed = parse_order(payload)

    assert parsed.fields["status"] == AmazonOrderStatus.ERROR
    assert "Unknown order status 'TELEPORTED'." in parsed.problems


def pending_without_prices(status: str = "PENDING", *, paid: dict | None = None) -> dict:
    """An order (Amazon's example by default) as it reads before payment: no proceeds, no item
    prices."""
    payload = copy.deepcopy(paid or example_orders()[0])
    payload.pop("proceeds")
    payload.pop("packages", None)
    for item in payload["orderItems"]:
        item.pop("proceeds", None)
        item["product"].pop("price", None)
        item.get("fulfillment", {}).pop("quantityFulfilled", None)
    payload["fulfillment"]["fulfillmentStatus"] = status
    return payload


@pytest.mark.parametrize("status", ["PENDING", "PENDING_AVAILABILITY"])
def test_a_pending_order_without_prices_is_explained_but_not_flagged(status):
    parsed = parse_order(pending_without_prices(status))

    assert parsed.problems == []
    assert parsed.notes == [
        "Amazon gives no prices while the order is pending; they will be read when it is paid."
    ]
    assert parsed.fields["order_total"] is None
    assert all(item["item_price"] is None for item in parsed.items)


def test_an_unshipped_order_without_prices_is_a_problem():
    payload = pending_without_prices("UNSHIPPED")

    parsed = parse_order(payload)

    assert "The order has no grand total." in parsed.problems
    assert parsed.notes == []


def test_an_amazon_fulfilled_order_without_an_address_is_explained_but_not_flagged():
    payload = copy.deepcopy(example_orders()[0])
    payload["fulfillment"]["fulfilledBy"] = "AMAZON"
    payload.pop("recipient")

    parsed = parse_order(payload)

    assert parsed.problems == []
    assert parsed.notes == ["Amazon fulfils this order and shares no shipping address."]
    assert parsed.fields["shipping_address"] == {}


def test_a_merchant_fulfilled_order_without_an_address_is_a_problem():
    payload = copy.deepcopy(example_orders()[0])
    payload.pop("recipient")

    parsed = parse_order(payload)

    assert "The order has no shipping address." in parsed.problems
    assert parsed.notes == []


def test_an_order_with_prices_and_an_address_has_no_notes():
    assert parse_order(copy.deepcopy(example_orders()[0])).notes == []


@pytest.mark.parametrize("missing", ["orderId", "createdTime", "lastUpdatedTime"])
def test_an_order_without_id_or_dates_cannot_be_stored(missing):
    payload = copy.deepcopy(example_orders()[0])
    payload.pop(missing)

    with pytest.raises(UnreadableOrder):
        parse_order(payload)
