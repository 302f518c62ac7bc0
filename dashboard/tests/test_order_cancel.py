"""Cancel Order: Reason for cancellation, Confirm, and exactly one cancellation."""

import pytest
from django.urls import reverse

from amazon_channel.models import (
    AmazonOrderCancellation,
    AmazonOrderEvent,
    CancelReason,
    OutboxMessage,
)
from amazon_channel.tests.factories import AmazonOrderFactory, AmazonOrderItemFactory

pytestmark = pytest.mark.django_db

SUCCESS = (
    'class="message success" role="status">The Amazon order has been canceled and the request '
    "has been submitted to Amazon."
)


def cancel_url(order):
    return reverse("dashboard:order_cancel", args=[order.store_id, order.pk])


def test_the_cancel_page_offers_the_ten_reasons_and_changes_nothing(merchant_client):
    order = AmazonOrderFactory(status="Unshipped")

    response = merchant_client.get(cancel_url(order))

    content = response.content.decode()
    assert "Reason for cancellation" in content
    assert "Confirm" in content
    for value, label in CancelReason.choices:
        assert f'value="{value}"' in content
        assert str(label) in content
    assert len(CancelReason.choices) == 10
    order.refresh_from_db()
    assert order.status == "Unshipped"
    assert not AmazonOrderCancellation.objects.exists()


def test_a_buyer_requested_cancellation_preselects_buyer_canceled(merchant_client):
    order = AmazonOrderFactory(
        is_buyer_requested_cancellation=True, buyer_cancellation_reason="Found it cheaper"
    )

    response = merchant_client.get(cancel_url(order))

    assert response.context["form"]["reason"].value() == "BuyerCanceled"
    assert '<option value="BuyerCanceled" selected>' in response.content.decode()
    assert "Found it cheaper" in response.content.decode()


def test_confirm_cancels_once_with_one_event_and_one_outbox_message(merchant_client):
    order = AmazonOrderFactory(status="Unshipped")
    AmazonOrderItemFactory(order=order)

    response = merchant_client.post(cancel_url(order), {"reason": "NoInventory"}, follow=True)

    assert response.redirect_chain[-1][0] == reverse(
        "dashboard:order_detail", args=[order.store_id, order.pk]
    )
    content = response.content.decode()
    assert SUCCESS in content
    assert "Canceled" in content
    order.refresh_from_db()
    assert order.status == "Canceled"
    assert AmazonOrderCancellation.objects.get().reason == "NoInventory"
    assert AmazonOrderEvent.objects.filter(kind="cancel_requested").count() == 1
    assert OutboxMessage.objects.count() == 1


def test_a_second_confirm_gets_the_message_and_creates_nothing(merchant_client):
    order = AmazonOrderFactory(status="Unshipped")
    merchant_client.post(cancel_url(order), {"reason": "NoInventory"}, follow=True)

    response = merchant_client.post(cancel_url(order), {"reason": "BuyerCanceled"}, follow=True)

    assert (
        'class="message error" role="status">The order is already canceled.'
        in response.content.decode()
    )
    assert SUCCESS not in response.content.decode()
    assert AmazonOrderCancellation.objects.count() == 1
    assert AmazonOrderEvent.objects.filter(kind="cancel_requested").count() == 1
    assert OutboxMessage.objects.count() == 1


def test_confirm_without_a_reason_asks_for_one(merchant_client):
    order = AmazonOrderFactory(status="Unshipped")

    response = merchant_client.post(cancel_url(order), {"reason": ""})

    assert response.status_code == 200
    assert "reason" in response.context["form"].errors
    assert not AmazonOrderCancellation.objects.exists()


@pytest.mark.parametrize("status", ["Pending", "Shipped"])
def test_a_pending_or_shipped_order_cannot_be_canceled_here(merchant_client, status):
    order = AmazonOrderFactory(status=status)

    page = merchant_client.get(cancel_url(order)).content.decode()
    response = merchant_client.post(cancel_url(order), {"reason": "NoInventory"}, follow=True)

    assert "Seller Central" in page
    assert '<button type="submit" class="primary">Confirm</button>' not in page
    assert "Seller Central" in response.content.decode()
    order.refresh_from_db()
    assert order.status == status
    assert not AmazonOrderCancellation.objects.exists()
