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


def test_a_pending_order_without_prices_is_normal_but_an_unshipped_one_is_not():
    payload = copy.deepcopy(example_orders()[0])
    payload.pop("proceeds")
    payload["fulfillment"]["fulfillmentStatus"] = "PENDING"
    assert parse_order(payload).problems == []

    payload["fulfillment"]["fulfillmentStatus"] = "UNSHIPPED"
    assert "The order has no grand total." in parse_order(payload).problems


def test_an_order_without_id_or_dates_cannot_be_stored():
    payload = copy.deepcopy(example_orders()[0])
    payload.pop("lastUpdatedTime")

    with pytest.raises(UnreadableOrder):
        parse_order(payload)
