"""Order View actions of Commerce orders from Amazon, through to the sandbox over real HTTP:
partial shipments, a shipment Amazon refuses and its retry, a credit memo, Cancel."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from amazon_channel.models import AmazonOrder, OutboxMessage
from commerce_orders.models import Product
from commerce_orders.services import invoice_create
from dashboard.tests.factories import COMMERCE_PERMISSIONS, user_with_app_permissions
from seller_central_sandbox.models import SandboxOrder, SandboxPackage, SandboxRefund
from seller_central_sandbox.services.orders import _buyer_cancels, orders_generate
from seller_central_sandbox.testing import TEST_TIME_SCALE
from tests.sync_helpers import deliver_outbox, minutes_ago, store_for_seller, sync_to_the_end

pytestmark = pytest.mark.django_db(transaction=True)

DE = "A1PA6795UKMFR9"


@pytest.fixture
def seller(sandbox_seller_factory, settings):
    settings.AMAZON_RATE_LIMIT_SCALE = TEST_TIME_SCALE
    settings.AMAZON_RETRY_BASE_SECONDS = 0.05
    settings.AMAZON_FEED_POLL_SECONDS = 0.2
    return sandbox_seller_factory(marketplace_ids=[DE])


@pytest.fixture
def synced_store(sandbox_server, seller):
    from tests.test_commerce_import_sandbox import SKUS

    for sku in SKUS:
        Product.objects.create(sku=sku, name=sku, price="10.00", quantity_in_stock=500)
    orders_generate(seller=seller, count=40, seed=33, now=minutes_ago(30))
    store = store_for_seller(sandbox_server, seller, is_import_enabled=True)
    sync_to_the_end(store)
    return store


@pytest.fixture
def clerk_client():
    client = Client()
    client.force_login(
        user_with_app_permissions(
            "clerk",
            *COMMERCE_PERMISSIONS,
            "amazon_channel.view_store",
            "amazon_channel.view_amazonorder",
            "amazon_channel.cancel_amazonorder",
        )
    )
    return client


def unshipped_orders(store, *, units: int = 1) -> list[AmazonOrder]:
    """Unshipped merchant-fulfilled orders with a Commerce order of at least `units` units."""
    orders = (
        AmazonOrder.objects.filter(store=store, status="Unshipped", fulfillment_channel="MFN")
        .exclude(commerce_order=None)
        .select_related("commerce_order")
        .order_by("amazon_order_id")
    )
    return [
        order
        for order in orders
        if sum(item.quantity_ordered for item in order.commerce_order.items.all()) >= units
    ]


def ship(client, commerce_order, quantities: dict, tracking_number: str, carrier="DHL"):
    data = {
        f"quantity_{item.pk}": str(quantities.get(item.pk, 0))
        for item in commerce_order.items.all()
    }
    data.update({"carrier_code": carrier, "method": "Paket", "tracking_number": tracking_number})
    return client.post(reverse("dashboard:commerce_order_ship", args=[commerce_order.pk]), data)


def next_sync(store, amazon_order) -> None:
    """The next sync, once Amazon's change is older than the 2 minutes a sync leaves out (and a
    whole second newer than what we read last: Amazon's dates have whole seconds)."""
    amazon_order.refresh_from_db()
    updated_at = max(minutes_ago(3), amazon_order.last_update_date + timedelta(seconds=1))
    SandboxOrder.objects.filter(order_id=amazon_order.amazon_order_id).update(
        last_updated_time=updated_at
    )
    sync_to_the_end(store)
    amazon_order.refresh_from_db()


def detail(client, commerce_order) -> str:
    response = client.get(reverse("dashboard:commerce_order_detail", args=[commerce_order.pk]))
    assert response.status_code == 200
    return response.content.decode()


def test_two_partial_shipments_reach_amazon_as_two_packages(synced_store, clerk_client):
    amazon_order = unshipped_orders(synced_store, units=2)[0]
    commerce_order = amazon_order.commerce_order
    units = [
        item for item in commerce_order.items.order_by("pk") for _ in range(item.quantity_ordered)
    ]
    first_unit, rest = units[0], units[1:]
    rest_quantities: dict[int, int] = {}
    for item in rest:
        rest_quantities[item.pk] = rest_quantities.get(item.pk, 0) + 1

    first = ship(clerk_client, commerce_order, {first_unit.pk: 1}, "TRACK-ONE")
    assert first.status_code == 302
    deliver_outbox(synced_store)
    assert SandboxPackage.objects.filter(order__order_id=amazon_order.amazon_order_id).count() == 1
    next_sync(synced_store, amazon_order)
    assert amazon_order.status == "PartiallyShipped"

    second = ship(clerk_client, commerce_order, rest_quantities, "TRACK-TWO", carrier="UPS")
    assert second.status_code == 302
    deliver_outbox(synced_store)
    next_sync(synced_store, amazon_order)

    packages = SandboxPackage.objects.filter(order__order_id=amazon_order.amazon_order_id)
    assert sorted(packages.values_list("tracking_number", flat=True)) == ["TRACK-ONE", "TRACK-TWO"]
    assert {package.carrier_code for package in packages} == {"DHL", "UPS"}
    assert SandboxOrder.objects.get(order_id=amazon_order.amazon_order_id).status == "SHIPPED"
    assert amazon_order.status == "Shipped"
    content = detail(clerk_client, commerce_order)
    assert content.count("Confirmed by Amazon") == 2
    assert "TRACK-ONE" in content
    assert "TRACK-TWO" in content


def test_a_shipment_amazon_refuses_is_shown_and_retry_sends_it_again(
    synced_store, seller, clerk_client
):
    amazon_order = unshipped_orders(synced_store)[0]
    commerce_order = amazon_order.commerce_order
    sandbox_order = SandboxOrder.objects.get(order_id=amazon_order.amazon_order_id)
    # The buyer cancels on Amazon before our sync hears of it.
    _buyer_cancels(sandbox_order, reason="Changed my mind", now=minutes_ago(0))
    everything = {item.pk: item.quantity_ordered for item in commerce_order.items.all()}

    ship(clerk_client, commerce_order, everything, "TRACK-REFUSED")
    deliver_outbox(synced_store)

    shipment = commerce_order.shipments.get()
    message = OutboxMessage.objects.get(key=f"ship:{shipment.pk}")
    assert message.state == OutboxMessage.State.FAILED
    assert message.result
    content = detail(clerk_client, commerce_order)
    assert "Amazon refused: " in content
    assert message.result.split(":")[0] in content
    retry_url = reverse(
        "dashboard:commerce_order_amazon_retry", args=[commerce_order.pk, message.pk]
    )
    assert retry_url in content
    amazon_order.refresh_from_db()
    assert "Amazon refused the shipment" in amazon_order.channel_notes
    assert message.result in amazon_order.channel_notes

    response = clerk_client.post(retry_url)

    assert response.status_code == 302
    message.refresh_from_db()
    assert message.state == OutboxMessage.State.PENDING
    assert amazon_order.events.filter(message__startswith="Sending the shipment").count() == 1
    deliver_outbox(synced_store)
    message.refresh_from_db()
    # Sent again, and refused again: the order is still canceled on Amazon.
    assert message.state == OutboxMessage.State.FAILED
    assert (
        amazon_order.events.filter(message__startswith="Amazon refused the shipment").count() == 2
    )


def test_a_credit_memo_of_a_shipped_order_reaches_amazon_as_a_refund(synced_store, clerk_client):
    amazon_order = unshipped_orders(synced_store)[0]
    commerce_order = amazon_order.commerce_order
    if not commerce_order.invoices.exists():
        invoice_create(actor=None, order=commerce_order)
    everything = {item.pk: item.quantity_ordered for item in commerce_order.items.all()}
    ship(clerk_client, commerce_order, everything, "TRACK-SHIPPED")
    deliver_outbox(synced_store)
    item = commerce_order.items.order_by("pk").first()

    response = clerk_client.post(
        reverse("dashboard:commerce_order_creditmemo", args=[commerce_order.pk]),
        {
            **{f"quantity_{line.pk}": "0" for line in commerce_order.items.all()},
            f"quantity_{item.pk}": "1",
            "shipping_refund": "0",
            "adjustment_refund": "1.50",
            "adjustment_fee": "0",
            "comment": "Arrived broken.",
        },
    )
    assert response.status_code == 302
    deliver_outbox(synced_store)

    memo = commerce_order.credit_memos.get()
    refunds = SandboxRefund.objects.filter(order__order_id=amazon_order.amazon_order_id)
    assert refunds.count() == 1
    refund = refunds.get()
    assert refund.item.order_item_id == item.external_item_id
    assert refund.principal == item.price + Decimal("1.50")
    assert refund.tax == memo.tax_amount
    assert refund.reason == "CustomerReturn"
    message = OutboxMessage.objects.get(key=f"refund:{memo.pk}")
    assert message.state == OutboxMessage.State.DONE
    assert "Confirmed by Amazon" in detail(clerk_client, commerce_order)


def test_cancel_of_a_commerce_order_from_amazon_leads_to_amazon_cancel_order(
    synced_store, clerk_client
):
    amazon_order = unshipped_orders(synced_store)[0]
    commerce_order = amazon_order.commerce_order
    cancel_page = reverse("dashboard:order_cancel", args=[synced_store.pk, amazon_order.pk])
    assert cancel_page in detail(clerk_client, commerce_order)

    response = clerk_client.post(
        reverse("dashboard:commerce_order_cancel", args=[commerce_order.pk]), follow=True
    )

    assert response.redirect_chain[0][0] == cancel_page
    assert "Reason for cancellation" in response.content.decode()
    commerce_order.refresh_from_db()
    assert commerce_order.state != "canceled"
    assert not OutboxMessage.objects.filter(kind=OutboxMessage.Kind.CANCEL_ORDER).exists()
