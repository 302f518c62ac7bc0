"""What the sync reads must parse Amazon's own example payloads."""

import copy
import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from amazon_channel.models import (
    AmazonOrder,
    AmazonOrderItem,
    AmazonOrderPackage,
    AmazonOrderStatus,
    FulfillmentChannel,
)
from amazon_channel.spapi.order_payload import (
    ITEM_LENGTHS,
    ORDER_LENGTHS,
    PACKAGE_LENGTHS,
    UnreadableOrder,
    parse_order,
)
from commerce_orders.notes import notes_render

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

    assert notes_render(parsed.problems) == []
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
    assert "Unknown order status 'TELEPORTED'." in notes_render(parsed.problems)


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

    assert notes_render(parsed.problems) == []
    assert notes_render(parsed.notes) == [
        "Amazon gives no prices while the order is pending; they will be read when it is paid."
    ]
    assert parsed.fields["order_total"] is None
    assert all(item["item_price"] is None for item in parsed.items)


def test_an_unshipped_order_without_prices_is_a_problem():
    payload = pending_without_prices("UNSHIPPED")

    parsed = parse_order(payload)

    assert "The order has no grand total." in notes_render(parsed.problems)
    assert notes_render(parsed.notes) == []


def test_an_amazon_fulfilled_order_without_an_address_is_explained_but_not_flagged():
    payload = copy.deepcopy(example_orders()[0])
    payload["fulfillment"]["fulfilledBy"] = "AMAZON"
    payload.pop("recipient")

    parsed = parse_order(payload)

    assert notes_render(parsed.problems) == []
    assert notes_render(parsed.notes) == [
        "Amazon fulfils this order and shares no shipping address."
    ]
    assert parsed.fields["shipping_address"] == {}


def test_a_merchant_fulfilled_order_without_an_address_is_a_problem():
    payload = copy.deepcopy(example_orders()[0])
    payload.pop("recipient")

    parsed = parse_order(payload)

    assert "The order has no shipping address." in notes_render(parsed.problems)
    assert notes_render(parsed.notes) == []


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

    # Kept apart from the other problems: it stands until the address written is complete.
    assert parsed.problems == []
    [problem] = notes_render([parsed.withheld_address_problem])
    assert "withheld the recipient's name, street, postal code" in problem
    assert "Direct-to-Consumer Shipping role" in problem
    assert parsed.fields["shipping_address"]["city"] == "Seattle"
    assert parsed.fields["buyer_name"] == parsed.fields["buyer_email"] == ""


def test_an_order_to_ship_missing_only_its_postcode_is_flagged_for_the_postcode():
    payload = copy.deepcopy(example_orders()[0])
    payload["fulfillment"]["fulfillmentStatus"] = "UNSHIPPED"
    payload["recipient"]["deliveryAddress"]["postalCode"] = ""

    parsed = parse_order(payload)

    assert parsed.problems == []
    [problem] = notes_render([parsed.withheld_address_problem])
    assert "withheld the recipient's postal code," in problem


@pytest.mark.parametrize("status", ["PENDING", "PENDING_AVAILABILITY"])
def test_a_pending_order_without_personal_data_is_explained_not_flagged(status):
    parsed = parse_order(without_personal_data(status))

    assert notes_render(parsed.problems) == []
    assert "Amazon shares the recipient's name and address once the order is paid." in (
        notes_render(parsed.notes)
    )


def test_a_shipped_order_without_personal_data_is_explained_not_flagged():
    parsed = parse_order(without_personal_data("SHIPPED"))

    assert notes_render(parsed.problems) == []
    [note] = notes_render(parsed.notes)
    assert "name, street, postal code" in note and "Direct-to-Consumer Shipping" in note


def test_a_cancelled_merchant_order_without_an_address_is_not_flagged():
    # ordersV0.json Order.ShippingAddress: only for Unshipped, PartiallyShipped and Shipped.
    payload = copy.deepcopy(example_orders()[0])
    payload["fulfillment"]["fulfillmentStatus"] = "CANCELLED"
    payload.pop("recipient")

    assert notes_render(parse_order(payload).problems) == []


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
    assert notes_render(parsed.problems) == [
        "Item 12345678901234: the SHIPPING amount '4,99' is not a number; it was left out."
    ]


def test_a_shipping_charge_in_another_currency_is_left_out_and_flagged():
    payload = with_item_breakdown(
        {"type": "SHIPPING", "subtotal": {"amount": "4.99", "currencyCode": "EUR"}}
    )

    parsed = parse_order(payload)

    assert parsed.items[0]["shipping_price"] is None
    assert notes_render(parsed.problems) == [
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
    assert notes_render(parsed.problems) == []


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
    assert problem in notes_render(parsed.problems)
    # A value that cannot be stored as Amazon sent it makes the order an Error order.
    assert parsed.is_error and parsed.fields["status"] == AmazonOrderStatus.ERROR


# Hostile values: cleaned where they can be, an Error order where they cannot be stored as sent.


def example() -> dict:
    return copy.deepcopy(example_orders()[0])


def test_nul_and_control_characters_are_removed_and_one_line_values_lose_line_breaks():
    payload = example()
    payload["buyer"]["buyerName"] = "John\x00 Smith\x1b"
    payload["recipient"]["deliveryAddress"]["addressLine1"] = "123\tMain\x07 Street"
    payload["orderItems"][0]["product"]["title"] = "Echo\nDot\x7f"

    parsed = parse_order(payload)

    assert not parsed.is_error
    assert parsed.fields["buyer_name"] == "John Smith"
    assert parsed.fields["shipping_address"]["addressLine1"] == "123 Main Street"
    assert parsed.items[0]["title"] == "Echo Dot"


def test_lone_surrogates_are_replaced_and_the_raw_payload_loses_only_nul_and_surrogates():
    payload = example()
    payload["orderItems"][0]["product"]["sellerSku"] = "ECHO\ud800"
    payload["buyer"]["buyerCompanyName"] = "Smith\x00 Industries\x1b"
    payload["extra\x00\udfff"] = ["\x00"]

    parsed = parse_order(payload)

    assert parsed.items[0]["seller_sku"] == "ECHO\ufffd"
    raw = parsed.fields["raw_payload"]
    assert raw["buyer"]["buyerCompanyName"] == "Smith Industries\x1b"
    assert raw["extra\ufffd"] == [""]
    assert raw["orderItems"][0]["product"]["sellerSku"] == "ECHO\ufffd"


def test_a_clean_payload_is_stored_as_the_same_document():
    payload = example()

    assert parse_order(payload).fields["raw_payload"] == payload


def test_the_limits_are_the_models_and_a_sku_is_at_most_amazons_40_characters():
    assert ORDER_LENGTHS["buyer_name"] == AmazonOrder._meta.get_field("buyer_name").max_length
    assert (
        ORDER_LENGTHS["amazon_order_id"]
        == AmazonOrder._meta.get_field("amazon_order_id").max_length
    )
    assert PACKAGE_LENGTHS["carrier"] == AmazonOrderPackage._meta.get_field("carrier").max_length
    assert ITEM_LENGTHS["title"] == AmazonOrderItem._meta.get_field("title").max_length
    assert ITEM_LENGTHS["seller_sku"] == 40


@pytest.mark.parametrize(("length", "is_error"), [(40, False), (41, True)])
def test_a_sku_longer_than_amazons_limit_makes_an_error_order(length, is_error):
    payload = example()
    payload["orderItems"][0]["product"]["sellerSku"] = "S" * length

    parsed = parse_order(payload)

    assert parsed.is_error is is_error
    assert len(parsed.items[0]["seller_sku"]) == min(length, 40)


def test_an_over_long_order_number_is_kept_under_a_key_that_finds_the_same_order_again():
    first, same, other = example(), example(), example()
    first["orderId"] = same["orderId"] = "1" * 10_000
    other["orderId"] = "1" * 9_999 + "2"

    keys = [parse_order(payload).amazon_order_id for payload in (first, same, other)]

    assert keys[0] == keys[1] != keys[2]
    assert all(len(key) == ORDER_LENGTHS["amazon_order_id"] for key in keys)
    parsed = parse_order(first)
    assert parsed.is_error
    [message] = [problem for problem in notes_render(parsed.problems) if "order number" in problem]
    assert "(10000 characters)" in message and "1" * 100 not in message


def test_a_time_without_an_offset_is_read_as_utc():
    payload = example()
    payload["createdTime"] = "2026-11-01T12:00:00"

    parsed = parse_order(payload)

    assert parsed.fields["purchase_date"] == datetime(2026, 11, 1, 12, tzinfo=UTC)
    assert not parsed.is_error


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("createdTime", "0000-01-01T00:00:00Z"),
        ("createdTime", "9999-12-31T23:00:00-05:00"),
        ("createdTime", "2026-02-30T00:00:00Z"),
        ("lastUpdatedTime", "10000-01-01T00:00:00Z"),
        ("lastUpdatedTime", "1970-01-01T00:00:00Z"),
        ("lastUpdatedTime", {"when": "now"}),
    ],
)
def test_an_impossible_order_date_makes_an_error_order_that_a_real_read_overwrites(key, value):
    payload = example()
    payload[key] = value

    parsed = parse_order(payload)

    assert parsed.is_error
    assert any(
        "which is not a possible date" in problem for problem in notes_render(parsed.problems)
    )
    # Stored with the oldest possible update time: any real read of the order is newer.
    real = parse_order(example())
    assert parsed.last_update_date <= real.last_update_date


@pytest.mark.parametrize(
    "amount",
    ["NaN", float("nan"), float("inf"), "-Infinity", "1e30", 1e30, "1e999999999", "12.345", "-1"],
)
def test_an_item_amount_that_cannot_be_money_makes_an_error_order(amount):
    payload = example()
    payload["orderItems"][0]["product"]["price"]["unitPrice"]["amount"] = amount
    for entry in payload["orderItems"][0]["proceeds"]["breakdowns"]:
        if entry["type"] == "ITEM":
            entry["subtotal"]["amount"] = amount

    parsed = parse_order(payload)

    assert parsed.is_error
    assert parsed.items[0]["item_price"] is None


def test_the_same_item_twice_is_kept_once_and_makes_an_error_order():
    payload = example()
    payload["orderItems"].append(copy.deepcopy(payload["orderItems"][0]))

    parsed = parse_order(payload)

    assert parsed.is_error
    item_ids = [item["order_item_id"] for item in parsed.items]
    assert len(item_ids) == len(set(item_ids)) == 2


def test_a_missing_fulfillment_channel_is_a_problem_but_an_unknown_one_an_error():
    missing, unknown = example(), example()
    missing["fulfillment"].pop("fulfilledBy")
    unknown["fulfillment"]["fulfilledBy"] = "DRONE"

    assert "The order has no fulfillment channel." in notes_render(parse_order(missing).problems)
    assert not parse_order(missing).is_error
    assert parse_order(unknown).is_error


def test_a_buyer_name_too_long_is_cut_with_a_note_that_does_not_quote_it():
    payload = example()
    payload["buyer"]["buyerName"] = "Bartholomew " * 30

    parsed = parse_order(payload)

    assert not parsed.is_error
    assert len(parsed.fields["buyer_name"]) == ORDER_LENGTHS["buyer_name"]
    [note] = [note for note in notes_render(parsed.notes) if "buyer's name" in note]
    assert "Bartholomew" not in note and "360 characters" in note


@pytest.mark.parametrize(
    "change",
    [
        lambda payload: payload.update(programs=[{"PRIME": True}]),
        lambda payload: payload["fulfillment"].update(fulfillmentStatus={"status": "SHIPPED"}),
        lambda payload: payload.update(orderItems=5),
        lambda payload: payload["orderItems"][0].update(cancellation=["BUYER"]),
        lambda payload: payload.update(associatedOrders=[None, "x"]),
        lambda payload: payload["packages"][0].update(packageStatus="SHIPPED"),
        lambda payload: payload["orderItems"][0]["product"].update(condition={"conditionType": 1}),
    ],
)
def test_values_of_another_type_never_make_the_parser_raise(change):
    payload = example()
    change(payload)

    parsed = parse_order(payload)

    assert parsed.amazon_order_id == payload["orderId"]
