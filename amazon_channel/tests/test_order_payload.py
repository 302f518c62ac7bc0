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


def without_personal_data(status: str) -> dict:
    """Amazon's example order in `status` as an app without the restricted role reads it: no
    buyer name or email, only the impersonal parts of the address (Access Orders PII)."""
    payload = copy.deepcopy(example_orders()[0])
    payload["fulfillment"]["fulfillmentStatus"] = status
    payload["buyer"] = {"buyerCompanyName": "Smith Industries LLC"}
    address = payload["recipient"]["deliveryAddress"]
    for key in ("name", "addressLine1", "addressLine2", "addressLine3", "postalCode", "phone"):
        address.pop(key, None)
    return payload


@pytest.mark.parametrize("status", ["UNSHIPPED", "PARTIALLY_SHIPPED"])
def test_an_order_to_ship_without_the_recipients_name_street_or_postcode_is_flagged(status):
    parsed = parse_order(without_personal_data(status))

    [problem] = parsed.problems
    assert "withheld the recipient's name, street, postal code" in problem
    assert "Direct-to-Consumer Shipping role" in problem
    assert parsed.fields["shipping_address"]["city"] == "Seattle"
    assert parsed.fields["buyer_name"] == parsed.fields["buyer_email"] == ""


def test_an_order_to_ship_missing_only_its_postcode_is_flagged_for_the_postcode():
    payload = copy.deepcopy(example_orders()[0])
    payload["fulfillment"]["fulfillmentStatus"] = "UNSHIPPED"
    payload["recipient"]["deliveryAddress"]["postalCode"] = ""

    [problem] = parse_order(payload).problems

    assert "withheld the recipient's postal code," in problem


@pytest.mark.parametrize("status", ["PENDING", "PENDING_AVAILABILITY"])
def test_a_pending_order_without_personal_data_is_explained_not_flagged(status):
    parsed = parse_order(without_personal_data(status))

    assert parsed.problems == []
    assert "Amazon shares the recipient's name and address once the order is paid." in (
        parsed.notes
    )


def test_a_shipped_order_without_personal_data_is_explained_not_flagged():
    parsed = parse_order(without_personal_data("SHIPPED"))

    assert parsed.problems == []
    [note] = parsed.notes
    assert "name, street, postal code" in note and "Direct-to-Consumer Shipping" in note


def test_a_cancelled_merchant_order_without_an_address_is_not_flagged():
    # ordersV0.json Order.ShippingAddress: only for Unshipped, PartiallyShipped and Shipped.
    payload = copy.deepcopy(example_orders()[0])
    payload["fulfillment"]["fulfillmentStatus"] = "CANCELLED"
    payload.pop("recipient")

    assert parse_order(payload).problems == []


def with_item_breakdown(entry: dict) -> dict:
    """Amazon's example order with one more entry in its first item's proceeds breakdown."""
    payload = copy.deepcopy(example_orders()[0])
    payload["orderItems"][0]["proceeds"]["breakdowns"].append(entry)
    return payload


def test_a_shipping_charge_that_is_not_a_number_is_left_out_and_flagged():
    payload = with_item_breakdown(
        {"type": "SHIPPING", "subtotal": {"amount": "4,99", "currencyCode": "USD"}}
    )

    parsed = parse_order(payload)

    assert parsed.items[0]["shipping_price"] is None
    assert parsed.problems == [
        "Item 12345678901234: the SHIPPING amount '4,99' is not a number; it was left out."
    ]


def test_a_shipping_charge_in_another_currency_is_left_out_and_flagged():
    payload = with_item_breakdown(
        {"type": "SHIPPING", "subtotal": {"amount": "4.99", "currencyCode": "EUR"}}
    )

    parsed = parse_order(payload)

    assert parsed.items[0]["shipping_price"] is None
    assert parsed.problems == [
        "Item 12345678901234: the SHIPPING amount 4.99 EUR is not in the order's currency "
        "USD; it was left out."
    ]


def test_shipping_charges_of_an_item_add_up():
    payload = with_item_breakdown(
        {"type": "SHIPPING", "subtotal": {"amount": "4.99", "currencyCode": "USD"}}
    )
    payload["orderItems"][0]["proceeds"]["breakdowns"].append(
        {"type": "SHIPPING", "subtotal": {"amount": 1, "currencyCode": "USD"}}
    )

    parsed = parse_order(payload)

    assert parsed.items[0]["shipping_price"] == Decimal("5.99")
    assert parsed.problems == []


@pytest.mark.parametrize(
    "shapes",
    [
        {"buyer": "John", "recipient": ["Seattle"]},
        {"buyer": {"buyerName": {"first": "John"}}, "recipient": {"deliveryAddress": "Seattle"}},
        {"proceeds": {"grandTotal": {"amount": "NaN", "currencyCode": "USD"}, "breakdowns": 5}},
    ],
)
def test_odd_buyer_recipient_and_proceeds_shapes_cost_only_their_fields(shapes):
    payload = {**copy.deepcopy(example_orders()[0]), **shapes}

    parsed = parse_order(payload)

    assert parsed.amazon_order_id == payload["orderId"]
    assert isinstance(parsed.fields["buyer_name"], str)
    assert all(isinstance(value, str) for value in parsed.fields["shipping_address"].values())


def test_address_parts_sent_as_numbers_are_kept_as_text_and_others_dropped():
    payload = copy.deepcopy(example_orders()[0])
    address = payload["recipient"]["deliveryAddress"]
    address.update({"postalCode": 98101, "addressLine2": {"floor": 3}, "phone": True})

    parsed = parse_order(payload)

    shipping_address = parsed.fields["shipping_address"]
    assert shipping_address["postalCode"] == "98101"
    assert "addressLine2" not in shipping_address and "phone" not in shipping_address


@pytest.mark.parametrize(
    ("amount", "problem"),
    [
        ("NaN", "The order has no grand total."),
        ("1e20", "The order has no grand total."),
        ("-5.00", "The grand total -5.00 is negative; it was left out."),
    ],
)
def test_a_grand_total_that_cannot_be_money_is_left_out_and_flagged(amount, problem):
    payload = copy.deepcopy(example_orders()[0])
    payload["proceeds"]["grandTotal"]["amount"] = amount

    parsed = parse_order(payload)

    assert parsed.fields["order_total"] is None
    assert problem in parsed.problems
