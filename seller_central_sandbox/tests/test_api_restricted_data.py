"""What an application may read of a seller's orders, by the roles the seller granted it and by
the order's status, over real HTTP.

Amazon's rules: "Access Orders PII" (https://developer-docs.amazon.com/sp-api/docs/access-orders-pii)
lists the buyer's personal data (buyerName, buyerEmail, giftMessage, the recipient's name,
address lines, postalCode, phone, extendedFields), shared only with the restricted
Direct-to-Consumer Shipping role and only for UNSHIPPED, PARTIALLY_SHIPPED or SHIPPED orders;
ordersV0.json says the same of ShippingAddress and BuyerInfo. Reading orders at all needs one of
the documented roles, else 403 Unauthorized "Access to requested resource is denied."
(amzn/selling-partner-api-models#909, #5319).
"""

from datetime import timedelta

import pytest
from django.utils import timezone
from sp_api.base.exceptions import SellingApiForbiddenException

from seller_central_sandbox.models import SellerRole
from seller_central_sandbox.services.sellers import SandboxError, seller_roles_set
from seller_central_sandbox.testing import order_in_status
from seller_central_sandbox.tests.helpers import (
    minutes_ago,
    orders_client,
    orders_v0_client,
    three_days_ago,
)

TRACKING = SellerRole.INVENTORY_AND_ORDER_TRACKING.value
RESTRICTED = SellerRole.DIRECT_TO_CONSUMER_SHIPPING.value
PERSONAL_ADDRESS = {"name", "addressLine1", "postalCode", "phone"}
SECTIONS = ["BUYER", "RECIPIENT", "FULFILLMENT"]


def placed(seller, status: str, *, seed: int = 40, fulfilled_by: str = "MERCHANT"):
    """A merchant-fulfilled order in `status` with every kind of personal data to withhold:
    the buyer, a full address with a phone, a gift message."""
    order = order_in_status(
        seller=seller, status=status, fulfilled_by=fulfilled_by, seed=seed, now=minutes_ago(30)
    )
    details = dict(order.details)
    if details.get("address"):
        details["address"] = {**details["address"], "phone": "+49 30 1234567"}
    details["deliverByWindow"] = {
        "earliestDateTime": (timezone.now() + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "latestDateTime": (timezone.now() + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    order.details = details
    order.save(update_fields=["details"])
    order.items.update(gift_message="Happy birthday!", gift_wrap_level="STANDARD")
    return order


def served(kwargs, order) -> dict:
    return orders_client(kwargs).get_order(order.order_id, includedData=SECTIONS).payload["order"]


def searched(kwargs, order) -> dict:
    response = orders_client(kwargs).search_orders(
        createdAfter=three_days_ago(), includedData=SECTIONS
    )
    [found] = [o for o in response.payload["orders"] if o["orderId"] == order.order_id]
    return found


def gift_option(order: dict) -> dict:
    return order["orderItems"][0]["fulfillment"]["packing"]["giftOption"]


pytestmark = pytest.mark.django_db(transaction=True)


def test_without_the_restricted_role_amazon_omits_the_buyers_personal_data_not_the_city(
    sandbox_seller, sandbox_client_kwargs
):
    seller_roles_set(seller=sandbox_seller, roles=[TRACKING])
    order = placed(sandbox_seller, "UNSHIPPED")

    for answer in (served(sandbox_client_kwargs, order), searched(sandbox_client_kwargs, order)):
        address = answer["recipient"]["deliveryAddress"]
        assert PERSONAL_ADDRESS.isdisjoint(address)
        assert {"city", "stateOrRegion", "countryCode"} <= set(address)
        assert {"buyerName", "buyerEmail"}.isdisjoint(answer["buyer"])
        assert gift_option(answer) == {"giftWrapLevel": "STANDARD"}


def test_with_the_restricted_role_an_order_to_ship_comes_with_the_personal_data(
    sandbox_seller, sandbox_client_kwargs
):
    order = placed(sandbox_seller, "UNSHIPPED")

    answer = served(sandbox_client_kwargs, order)

    assert set(answer["recipient"]["deliveryAddress"]) >= PERSONAL_ADDRESS
    assert answer["buyer"]["buyerName"] and answer["buyer"]["buyerEmail"]
    assert gift_option(answer)["giftMessage"] == "Happy birthday!"


@pytest.mark.parametrize(
    ("status", "is_shared"),
    [
        ("PENDING", False),
        ("PENDING_AVAILABILITY", False),
        ("UNSHIPPED", True),
        ("PARTIALLY_SHIPPED", True),
        ("SHIPPED", True),
        ("CANCELLED", False),
    ],
)
def test_even_with_the_role_personal_data_comes_only_for_orders_to_ship_or_shipped(
    sandbox_seller, sandbox_client_kwargs, status, is_shared
):
    order = placed(sandbox_seller, status)

    answer = served(sandbox_client_kwargs, order)

    address = answer["recipient"]["deliveryAddress"]
    assert (set(address) >= PERSONAL_ADDRESS) is is_shared
    assert PERSONAL_ADDRESS.isdisjoint(address) is not is_shared
    assert ("buyerName" in answer["buyer"]) is is_shared
    assert address["city"] and address["countryCode"]


def test_the_phone_of_a_shipped_order_past_its_latest_delivery_date_is_suppressed(
    sandbox_seller, sandbox_client_kwargs
):
    # CustomerAddress.phone: suppressed for shipped FBM orders past the latest delivery date.
    order = placed(sandbox_seller, "SHIPPED")
    order.details = {
        **order.details,
        "deliverByWindow": {
            "earliestDateTime": "2025-01-01T00:00:00Z",
            "latestDateTime": "2025-01-03T00:00:00Z",
        },
    }
    order.save(update_fields=["details"])

    address = served(sandbox_client_kwargs, order)["recipient"]["deliveryAddress"]

    assert "phone" not in address
    assert address["name"] and address["addressLine1"] and address["postalCode"]


def test_an_application_without_an_order_role_is_refused_as_amazon_refuses(
    sandbox_seller, sandbox_client_kwargs
):
    order = placed(sandbox_seller, "UNSHIPPED")
    seller_roles_set(seller=sandbox_seller, roles=[])

    refusals = []
    for call in (
        lambda: orders_client(sandbox_client_kwargs).search_orders(createdAfter=three_days_ago()),
        lambda: orders_client(sandbox_client_kwargs).get_order(order.order_id),
        lambda: orders_v0_client(sandbox_client_kwargs).get_orders(CreatedAfter=three_days_ago()),
        lambda: orders_v0_client(sandbox_client_kwargs).get_order_address(order.order_id),
    ):
        with pytest.raises(SellingApiForbiddenException) as refused:
            call()
        refusals.append((refused.value.amzn_code, refused.value.message))

    assert set(refusals) == {("Unauthorized", "Access to requested resource is denied.")}


def test_the_restricted_role_alone_reads_orders_2026_but_not_orders_v0(
    sandbox_seller, sandbox_client_kwargs
):
    order = placed(sandbox_seller, "UNSHIPPED")
    seller_roles_set(seller=sandbox_seller, roles=[RESTRICTED])

    answer = served(sandbox_client_kwargs, order)

    assert answer["recipient"]["deliveryAddress"]["addressLine1"]
    with pytest.raises(SellingApiForbiddenException):
        orders_v0_client(sandbox_client_kwargs).get_orders(CreatedAfter=three_days_ago())


def test_a_role_granted_or_withdrawn_counts_from_the_next_call(
    sandbox_seller, sandbox_client_kwargs
):
    order = placed(sandbox_seller, "UNSHIPPED")
    assert "name" in served(sandbox_client_kwargs, order)["recipient"]["deliveryAddress"]

    seller_roles_set(seller=sandbox_seller, roles=[TRACKING])
    assert "name" not in served(sandbox_client_kwargs, order)["recipient"]["deliveryAddress"]

    seller_roles_set(seller=sandbox_seller, roles=[RESTRICTED, TRACKING])
    assert "name" in served(sandbox_client_kwargs, order)["recipient"]["deliveryAddress"]


def test_v0_shares_the_address_of_orders_to_ship_and_its_restricted_parts_with_the_role(
    sandbox_seller, sandbox_client_kwargs
):
    to_ship = placed(sandbox_seller, "UNSHIPPED", seed=41)
    pending = placed(sandbox_seller, "PENDING", seed=42)
    client = orders_v0_client(sandbox_client_kwargs)
    full = client.get_order_address(to_ship.order_id).payload["ShippingAddress"]
    assert {"Name", "AddressLine1", "Phone", "AddressType"} <= set(full)
    assert "ShippingAddress" not in client.get_order_address(pending.order_id).payload
    assert "ShippingAddress" not in client.get_order(pending.order_id).payload
    assert "BuyerName" not in client.get_order_buyer_info(pending.order_id).payload

    seller_roles_set(seller=sandbox_seller, roles=[TRACKING])

    address = client.get_order_address(to_ship.order_id).payload["ShippingAddress"]
    assert {"Name", "AddressLine1", "Phone", "AddressType"}.isdisjoint(address)
    assert address["City"] and address["PostalCode"] and address["CountryCode"]
    assert client.get_order_buyer_info(to_ship.order_id).payload == {
        "AmazonOrderId": to_ship.order_id
    }
    assert "BuyerInfo" not in client.get_order(to_ship.order_id).payload
    items = client.get_order_items(to_ship.order_id).payload["OrderItems"]
    assert all("GiftMessageText" not in item["BuyerInfo"] for item in items)


@pytest.mark.django_db
def test_an_unknown_role_is_refused(sandbox_seller):
    with pytest.raises(SandboxError):
        seller_roles_set(seller=sandbox_seller, roles=[TRACKING, "EVERYTHING"])

    sandbox_seller.refresh_from_db()
    assert sandbox_seller.roles == [TRACKING, RESTRICTED]
