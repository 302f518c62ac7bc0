"""POST_PAYMENT_ADJUSTMENT_DATA: refunds of shipped orders, through python-amazon-sp-api."""

import pytest

from seller_central_sandbox.models import SandboxRefund
from seller_central_sandbox.services.orders import ShipmentItem, order_shipment_confirm
from seller_central_sandbox.tests.helpers import (
    processing_report,
    submit_feed,
    unshipped_merchant_order,
    wait_for_feed,
)

pytestmark = pytest.mark.django_db(transaction=True)

FEED_TYPE = "POST_PAYMENT_ADJUSTMENT_DATA"


def adjustment_xml(seller_id, order, *, principal, reason="CustomerReturn", item=None) -> bytes:
    item = item or order.items.first()
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        "<AmazonEnvelope><Header><DocumentVersion>1.01</DocumentVersion>"
        f"<MerchantIdentifier>{seller_id}</MerchantIdentifier></Header>"
        "<MessageType>OrderAdjustment</MessageType>"
        "<Message><MessageID>1</MessageID><OrderAdjustment>"
        f"<AmazonOrderID>{order.order_id}</AmazonOrderID><AdjustedItem>"
        f"<AmazonOrderItemCode>{item.order_item_id}</AmazonOrderItemCode>"
        f"<AdjustmentReason>{reason}</AdjustmentReason><ItemPriceAdjustments>"
        f'<Component><Type>Principal</Type><Amount currency="{order.currency_code}">{principal}'
        "</Amount></Component></ItemPriceAdjustments></AdjustedItem>"
        "</OrderAdjustment></Message></AmazonEnvelope>"
    ).encode()


def shipped_order(seller):
    order = unshipped_merchant_order(seller)
    order_shipment_confirm(
        seller=seller,
        order_id=order.order_id,
        marketplace_id=order.marketplace_id,
        package_reference_id="1",
        carrier_code="UPS",
        tracking_number="1Z1",
        ship_date="2025-06-01T10:00:00Z",
        items=[ShipmentItem(i.order_item_id, i.quantity_ordered) for i in order.items.all()],
    )
    return order


def test_a_refund_of_a_shipped_item_is_recorded(sandbox_seller, sandbox_client_kwargs):
    order = shipped_order(sandbox_seller)
    item = order.items.first()
    content = adjustment_xml(sandbox_seller.seller_id, order, principal=item.unit_price)

    feed = wait_for_feed(
        sandbox_client_kwargs, submit_feed(sandbox_client_kwargs, content, feed_type=FEED_TYPE)
    )

    report = processing_report(sandbox_client_kwargs, feed)
    assert report.findtext(".//MessagesWithError") == "0"
    refund = SandboxRefund.objects.get(order=order)
    assert (refund.item_id, refund.principal, refund.reason) == (
        item.pk,
        item.unit_price,
        "CustomerReturn",
    )


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("too_much", "would exceed"),
        ("bad_reason", "AdjustmentReason 'Whim' is not valid"),
        ("unshipped", "only shipped orders can be refunded"),
    ],
)
def test_a_refund_amazon_cannot_take_gets_an_error_row_and_changes_nothing(
    sandbox_seller, sandbox_client_kwargs, case, expected
):
    order = unshipped_merchant_order(sandbox_seller) if case == "unshipped" else None
    order = order or shipped_order(sandbox_seller)
    item = order.items.first()
    principal = item.unit_price * item.quantity_ordered + 1 if case == "too_much" else "1.00"
    reason = "Whim" if case == "bad_reason" else "CustomerReturn"
    content = adjustment_xml(sandbox_seller.seller_id, order, principal=principal, reason=reason)

    feed = wait_for_feed(
        sandbox_client_kwargs, submit_feed(sandbox_client_kwargs, content, feed_type=FEED_TYPE)
    )

    report = processing_report(sandbox_client_kwargs, feed)
    assert report.findtext(".//MessagesWithError") == "1"
    assert expected in report.findtext(".//ResultDescription")
    assert not SandboxRefund.objects.exists()
