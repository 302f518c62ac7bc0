"""Amazon Order Details: what it shows, when Cancel Order appears, and Save Order."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from amazon_channel.models import (
    AmazonOrderCancellation,
    AmazonOrderEvent,
    AmazonOrderPackage,
)
from amazon_channel.services.order_edits import amazon_order_shipping_address_update
from amazon_channel.tests.factories import (
    AmazonOrderFactory,
    AmazonOrderItemFactory,
    StoreFactory,
)
from commerce_orders.tests.factories import CommerceOrderFactory
from dashboard.tests.factories import CancellationFactory

pytestmark = pytest.mark.django_db

ADDRESS = {
    "name": "Erika Mustermann",
    "addressLine1": "Heidestraße 17",
    "city": "Köln",
    "postalCode": "51147",
    "countryCode": "DE",
}


def detail_url(order):
    return reverse("dashboard:order_detail", args=[order.store_id, order.pk])


def test_the_details_show_items_tracking_commerce_order_and_history(merchant_client, merchant):
    store = StoreFactory(is_import_enabled=True)
    order = AmazonOrderFactory(
        store=store,
        shipping_address=ADDRESS,
        ship_service_level="Std DE Dom",
        latest_ship_date=timezone.now() + timedelta(days=2),
        is_prime=True,
        order_notes="Gift wrap please",
        commerce_order=CommerceOrderFactory(increment_id="000000077"),
    )
    AmazonOrderItemFactory(order=order, title="Blue mug", seller_sku="MUG-BLUE", asin="B000MUG")
    AmazonOrderPackage.objects.create(
        order=order,
        package_reference_id="1",
        carrier="DHL",
        shipping_service="Paket",
        tracking_number="00340434161094042557",
    )
    AmazonOrderEvent.objects.create(
        order=order,
        kind=AmazonOrderEvent.Kind.STATUS_CHANGED,
        actor=merchant,
        old_status="Pending",
        new_status="Unshipped",
    )

    response = merchant_client.get(detail_url(order))

    content = response.content.decode()
    for text in (
        "Amazon Order Details",
        order.amazon_order_id,
        "Heidestraße 17",
        "Std DE Dom",
        "Prime",
        "Gift wrap please",
        "Blue mug",
        "MUG-BLUE",
        "B000MUG",
        "29.90 EUR",
        "DHL",
        "00340434161094042557",
        "000000077",
        reverse("dashboard:commerce_order_detail", args=[order.commerce_order.pk]),
        "merchant",
        "Pending → Unshipped",
        "Cancel Order",
    ):
        assert text in content, text


@pytest.mark.parametrize("order_count", [1, 10])
def test_the_details_use_the_same_queries_however_long_the_history(
    merchant_client, merchant, django_assert_num_queries, order_count
):
    order = AmazonOrderFactory()
    AmazonOrderItemFactory.create_batch(order_count, order=order)
    for _ in range(order_count):
        AmazonOrderEvent.objects.create(order=order, kind="note", actor=merchant)

    # Session, user, permissions (2), store, order, items, packages, events with users.
    with django_assert_num_queries(9):
        merchant_client.get(detail_url(order))


@pytest.mark.parametrize("status", ["Pending", "PendingAvailability", "PartiallyShipped"])
def test_pending_orders_say_to_cancel_in_seller_central_and_show_no_button(merchant_client, status):
    order = AmazonOrderFactory(status=status, store=StoreFactory(marketplace_code="DE"))

    content = merchant_client.get(detail_url(order)).content.decode()

    assert "This order can only be canceled in Amazon Seller Central." in content
    assert "https://sellercentral-europe.amazon.com" in content
    assert "Cancel Order" not in content
    assert reverse("dashboard:order_cancel", args=[order.store_id, order.pk]) not in content


def test_shipped_orders_say_returns_are_handled_in_seller_central(merchant_client):
    order = AmazonOrderFactory(
        status="Shipped", store=StoreFactory(marketplace_code="US", region="NA")
    )

    content = merchant_client.get(detail_url(order)).content.decode()

    assert "returns and exchanges are handled in Amazon Seller Central" in content
    assert "https://sellercentral.amazon.com" in content
    assert "Cancel Order" not in content


def test_a_cancellation_in_progress_is_shown(merchant_client):
    cancellation = CancellationFactory()

    content = merchant_client.get(detail_url(cancellation.order)).content.decode()

    assert (
        "The Amazon order has been canceled and the request has been submitted to Amazon."
        in content
    )
    assert "Cancel Order" not in content


def test_a_rejected_cancellation_is_shown_and_can_be_marked_as_reviewed(merchant_client):
    cancellation = CancellationFactory(
        state=AmazonOrderCancellation.State.REJECTED, amazon_message="Order already shipped."
    )
    order = cancellation.order

    before = merchant_client.get(detail_url(order)).content.decode()
    response = merchant_client.post(
        reverse("dashboard:order_cancellation_acknowledge", args=[order.store_id, order.pk])
    )
    after = merchant_client.get(detail_url(order)).content.decode()

    assert "Cancellation rejected by Amazon" in before
    assert "Order already shipped." in before
    assert "Mark as reviewed" in before
    assert response.status_code == 302
    cancellation.refresh_from_db()
    assert cancellation.is_rejection_acknowledged is True
    assert order.events.filter(kind=AmazonOrderEvent.Kind.NOTE).count() == 1
    assert "Mark as reviewed" not in after


def test_a_buyer_requested_cancellation_is_shown(merchant_client):
    order = AmazonOrderFactory(
        is_buyer_requested_cancellation=True, buyer_cancellation_reason="Ordered twice"
    )

    content = merchant_client.get(detail_url(order)).content.decode()

    assert "The buyer asked to cancel this order." in content
    assert "Ordered twice" in content


def test_save_order_changes_the_address_and_records_who_did_it(merchant_client):
    order = AmazonOrderFactory(shipping_address={**ADDRESS, "companyName": "ACME"})
    url = reverse("dashboard:order_shipping_address_update", args=[order.store_id, order.pk])

    response = merchant_client.post(
        url, {**ADDRESS, "addressLine1": "Domstraße 1", "countryCode": "de"}, follow=True
    )

    order.refresh_from_db()
    assert order.shipping_address == {
        **ADDRESS,
        "addressLine1": "Domstraße 1",
        "companyName": "ACME",
    }
    event = order.events.get()
    assert event.kind == AmazonOrderEvent.Kind.ADDRESS_CHANGED
    assert event.actor.get_username() == "merchant"
    assert "addressLine1" in event.message
    assert "You saved the order." in response.content.decode()
    assert "Shipping address changed" in response.content.decode()


def test_save_order_with_a_missing_street_shows_the_error_and_saves_nothing(merchant_client):
    order = AmazonOrderFactory(shipping_address=ADDRESS)
    url = reverse("dashboard:order_shipping_address_update", args=[order.store_id, order.pk])

    response = merchant_client.post(url, {**ADDRESS, "addressLine1": "", "countryCode": "DEU"})

    assert response.status_code == 400
    assert set(response.context["address_form"].errors) == {"addressLine1", "countryCode"}
    order.refresh_from_db()
    assert order.shipping_address == ADDRESS
    assert not order.events.exists()


def test_saving_the_same_address_records_no_event(merchant):
    order = AmazonOrderFactory(shipping_address=ADDRESS)

    amazon_order_shipping_address_update(order=order, actor=merchant, address=dict(ADDRESS))

    assert not order.events.exists()


def test_the_address_service_refuses_unknown_keys(merchant):
    order = AmazonOrderFactory(shipping_address=ADDRESS)

    with pytest.raises(ValueError, match="unknown address keys"):
        amazon_order_shipping_address_update(
            order=order, actor=merchant, address={"addressLine3": "x"}
        )
