"""confirmShipment (Orders v0): one package per call, partial then complete shipments."""

import pytest
from sp_api.base.exceptions import SellingApiBadRequestException

from seller_central_sandbox.models import FulfillmentStatus, SandboxOrderItem
from seller_central_sandbox.services.orders import order_items_cancel
from seller_central_sandbox.tests.helpers import (
    orders_client,
    orders_v0_client,
    three_days_ago,
    unshipped_merchant_order,
)

pytestmark = pytest.mark.django_db(transaction=True)


def package(reference: str, items: list[tuple[str, int]]) -> dict:
    return {
        "packageReferenceId": reference,
        "carrierCode": "UPS",
        "carrierName": "UPS",
        "shippingMethod": "UPS Ground",
        "trackingNumber": f"1Z999AA1{reference}",
        "shipDate": "2025-06-01T10:00:00Z",
        "orderItems": [{"orderItemId": item, "quantity": quantity} for item, quantity in items],
    }


def several_units_order(seller):
    for seed in range(100, 400):
        order = unshipped_merchant_order(seller, seed=seed)
        if sum(item.quantity_ordered for item in order.items.all()) >= 2:
            return order
        order.delete()
    raise AssertionError("no MFN order with two units")


def test_shipping_part_then_the_rest_moves_partially_shipped_then_shipped(
    sandbox_seller, sandbox_client_kwargs
):
    order = several_units_order(sandbox_seller)
    items = list(order.items.order_by("pk"))
    first_item = items[0]
    client = orders_v0_client(sandbox_client_kwargs)

    first = client.confirm_shipment(
        order.order_id,
        marketplaceId=order.marketplace_id,
        packageDetail=package("1", [(first_item.order_item_id, 1)]),
    )
    order.refresh_from_db()
    assert first.payload == {"status_code": 204}
    assert order.status == FulfillmentStatus.PARTIALLY_SHIPPED

    rest = [(first_item.order_item_id, first_item.quantity_ordered - 1)] * (
        first_item.quantity_ordered > 1
    ) + [(item.order_item_id, item.quantity_ordered) for item in items[1:]]
    client.confirm_shipment(
        order.order_id, marketplaceId=order.marketplace_id, packageDetail=package("2", rest)
    )
    order.refresh_from_db()
    assert order.status == FulfillmentStatus.SHIPPED

    found = orders_client(sandbox_client_kwargs).search_orders(
        createdAfter=three_days_ago(), includedData=["PACKAGES", "FULFILLMENT"]
    )
    [served] = [o for o in found.payload["orders"] if o["orderId"] == order.order_id]
    assert served["fulfillment"]["fulfillmentStatus"] == "SHIPPED"
    assert [p["packageReferenceId"] for p in served["packages"]] == ["1", "2"]
    assert served["packages"][0]["packageItems"] == [
        {"orderItemId": first_item.order_item_id, "quantity": 1}
    ]


@pytest.mark.parametrize("problem", ["too_many", "unknown_item", "duplicate_package", "cancelled"])
def test_an_impossible_shipment_is_refused_and_changes_nothing(
    sandbox_seller, sandbox_client_kwargs, problem
):
    order = unshipped_merchant_order(sandbox_seller, seed=30)
    item = order.items.order_by("pk").first()
    client = orders_v0_client(sandbox_client_kwargs)
    detail = package("1", [(item.order_item_id, item.quantity_ordered + 1)])
    if problem == "unknown_item":
        detail = package("1", [("00000000000000", 1)])
    elif problem == "duplicate_package":
        client.confirm_shipment(
            order.order_id,
            marketplaceId=order.marketplace_id,
            packageDetail=package("1", [(item.order_item_id, 1)]),
        )
        detail = package("1", [(item.order_item_id, 1)])
    elif problem == "cancelled":
        order_items_cancel(
            seller=sandbox_seller,
            order_id=order.order_id,
            reasons_by_item={},
            default_reason="NoInventory",
        )
        detail = package("1", [(item.order_item_id, 1)])
    before = list(SandboxOrderItem.objects.filter(order=order).values_list("quantity_shipped"))

    with pytest.raises(SellingApiBadRequestException) as refused:
        client.confirm_shipment(
            order.order_id, marketplaceId=order.marketplace_id, packageDetail=detail
        )

    assert refused.value.amzn_code == "InvalidInput"
    after = list(SandboxOrderItem.objects.filter(order=order).values_list("quantity_shipped"))
    assert after == before


@pytest.mark.parametrize(
    "change",
    [
        {"trackingNumber": ""},
        {"trackingNumber": None},
        {"carrierCode": "Other", "carrierName": ""},
        {"carrierCode": "Other", "carrierName": None},
    ],
    ids=["empty tracking", "no tracking", "Other without a name", "Other, no name field"],
)
def test_a_shipment_without_tracking_or_the_carriers_name_is_refused_and_nothing_ships(
    sandbox_seller, sandbox_client_kwargs, change
):
    # ordersV0.json PackageDetail.required lists trackingNumber (models#4329: required, the EU
    # stores included); carrierName is "Required when carrierCode is Other" (docs#772).
    order = unshipped_merchant_order(sandbox_seller, seed=31)
    item = order.items.order_by("pk").first()
    detail = package("1", [(item.order_item_id, 1)])
    detail.update(change)
    detail = {name: value for name, value in detail.items() if value is not None}
    client = orders_v0_client(sandbox_client_kwargs)

    with pytest.raises(SellingApiBadRequestException) as refused:
        client.confirm_shipment(
            order.order_id, marketplaceId=order.marketplace_id, packageDetail=detail
        )

    assert refused.value.amzn_code == "InvalidInput"
    missing = "trackingNumber" if "trackingNumber" in change else "carrierName"
    assert f"packageDetail.{missing} is required" in refused.value.message
    order.refresh_from_db()
    assert order.status == FulfillmentStatus.UNSHIPPED
    assert not order.packages.exists()


def test_a_carrier_named_with_other_is_accepted(sandbox_seller, sandbox_client_kwargs):
    order = unshipped_merchant_order(sandbox_seller, seed=32)
    item = order.items.order_by("pk").first()
    detail = package("1", [(item.order_item_id, item.quantity_ordered)])
    detail.update({"carrierCode": "Other", "carrierName": "Trans-o-Flex"})

    orders_v0_client(sandbox_client_kwargs).confirm_shipment(
        order.order_id, marketplaceId=order.marketplace_id, packageDetail=detail
    )

    assert order.packages.get().carrier_name == "Trans-o-Flex"
