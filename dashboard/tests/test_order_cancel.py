"""Cancel Order: Reason for cancellation, Confirm, exactly one cancellation per attempt, and a
new attempt after Amazon rejected one."""

import pytest
from django.urls import reverse

from amazon_channel.models import (
    AmazonOrderCancellation,
    AmazonOrderEvent,
    CancelReason,
    OutboxMessage,
)
from amazon_channel.orders.cancellation import (
    amazon_order_cancel,
    amazon_order_cancellation_acknowledge,
    cancellation_reject,
)
from amazon_channel.tests.factories import AmazonOrderFactory, AmazonOrderItemFactory
from dashboard.tests.factories import CancellationFactory

pytestmark = pytest.mark.django_db

SUCCESS = (
    'class="message success" role="status">The Amazon order has been canceled and the request '
    "has been submitted to Amazon."
)
REVIEW_FIRST = (
    "Amazon rejected the last cancellation of this order: mark it as reviewed, then cancel the "
    "order again."
)


def cancel_url(order):
    return reverse("dashboard:order_cancel", args=[order.store_id, order.pk])


def confirm_url(order):
    return reverse("dashboard:order_cancel_confirm", args=[order.store_id, order.pk])


def detail_url(order):
    return reverse("dashboard:order_detail", args=[order.store_id, order.pk])


def review_url(order):
    return reverse("dashboard:order_cancellation_acknowledge", args=[order.store_id, order.pk])


def rejected_by_amazon(order, merchant, *, message="Temporary problem, try again later."):
    """Cancel Order, then Amazon's report rejecting it (the order is Unshipped again)."""
    cancellation = amazon_order_cancel(order=order, actor=merchant, reason="NoInventory")
    cancellation_reject(cancellation=cancellation, amazon_message=message)
    order.refresh_from_db()
    assert order.status == "Unshipped"
    return cancellation


def test_the_cancel_page_offers_the_ten_reasons_and_changes_nothing(merchant_client):
    order = AmazonOrderFactory(status="Unshipped")

    response = merchant_client.get(cancel_url(order))

    content = response.content.decode()
    assert "Reason for cancellation" in content
    assert f'action="{confirm_url(order)}"' in content
    assert 'form="cancel-order">Confirm</button>' in content
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

    response = merchant_client.post(confirm_url(order), {"reason": "NoInventory"}, follow=True)

    assert response.redirect_chain[-1][0] == detail_url(order)
    content = response.content.decode()
    assert SUCCESS in content
    assert "Canceled" in content
    order.refresh_from_db()
    assert order.status == "Canceled"
    assert AmazonOrderCancellation.objects.get().reason == "NoInventory"
    assert AmazonOrderEvent.objects.filter(kind="cancel_requested").count() == 1
    assert list(OutboxMessage.objects.values_list("key", flat=True)) == [f"cancel:{order.pk}"]


def test_a_second_confirm_gets_the_message_and_creates_nothing(merchant_client):
    order = AmazonOrderFactory(status="Unshipped")
    merchant_client.post(confirm_url(order), {"reason": "NoInventory"}, follow=True)

    response = merchant_client.post(confirm_url(order), {"reason": "BuyerCanceled"}, follow=True)

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

    response = merchant_client.post(confirm_url(order), {"reason": ""})

    assert response.status_code == 200
    assert "reason" in response.context["form"].errors
    assert not AmazonOrderCancellation.objects.exists()


@pytest.mark.parametrize("status", ["Pending", "Shipped"])
def test_a_pending_or_shipped_order_cannot_be_canceled_here(merchant_client, status):
    order = AmazonOrderFactory(status=status)

    page = merchant_client.get(cancel_url(order)).content.decode()
    response = merchant_client.post(confirm_url(order), {"reason": "NoInventory"}, follow=True)

    assert "Seller Central" in page
    assert confirm_url(order) not in page
    assert 'form="cancel-order"' not in page
    assert "Seller Central" in response.content.decode()
    order.refresh_from_db()
    assert order.status == status
    assert not AmazonOrderCancellation.objects.exists()


def test_after_a_reviewed_rejection_the_order_can_be_canceled_once_more(merchant_client, merchant):
    # Given a cancellation Amazon rejected, the order still Unshipped, and the rejection reviewed
    order = AmazonOrderFactory(status="Unshipped")
    AmazonOrderItemFactory(order=order)
    cancellation = rejected_by_amazon(order, merchant)
    merchant_client.post(review_url(order))
    detail = merchant_client.get(detail_url(order)).content.decode()
    page = merchant_client.get(cancel_url(order)).content.decode()

    # When the merchant confirms Cancel Order again, then once more (a double click)
    response = merchant_client.post(confirm_url(order), {"reason": "BuyerCanceled"}, follow=True)
    again = merchant_client.post(confirm_url(order), {"reason": "NoInventory"}, follow=True)

    # Then the order page offered Cancel Order, the cancel page showed Amazon's earlier answer,
    # and exactly one new attempt exists: the same cancellation, one new message, one new event
    assert cancel_url(order) in detail
    assert "Temporary problem, try again later." in page
    assert f'action="{confirm_url(order)}"' in page
    assert response.status_code == again.status_code == 200
    assert SUCCESS in response.content.decode()
    assert "The cancellation of this order is waiting for Amazon&#x27;s answer." not in (
        response.content.decode()
    )
    assert SUCCESS not in again.content.decode()
    assert "The order is already canceled." in again.content.decode()
    order.refresh_from_db()
    assert order.status == "Canceled"
    retried = AmazonOrderCancellation.objects.get()
    assert retried.pk == cancellation.pk
    assert retried.state == AmazonOrderCancellation.State.PENDING
    assert retried.reason == "BuyerCanceled"
    assert retried.amazon_message == ""
    assert retried.is_rejection_acknowledged is False
    messages = list(OutboxMessage.objects.order_by("pk"))
    assert [message.key for message in messages] == [f"cancel:{order.pk}", f"cancel:{order.pk}:2"]
    assert retried.outbox_message == messages[1]
    assert messages[1].state == OutboxMessage.State.PENDING
    assert messages[1].payload["reason"] == "BuyerCanceled"
    requested = order.events.filter(kind=AmazonOrderEvent.Kind.CANCEL_REQUESTED)
    assert requested.count() == 2
    latest = requested.order_by("-pk").first()
    assert latest.actor == merchant
    assert (latest.old_status, latest.new_status) == ("Unshipped", "Canceled")
    assert latest.message_text == "Buyer canceled"


def test_a_second_rejection_then_review_allows_a_third_attempt_with_its_own_key(merchant):
    order = AmazonOrderFactory(status="Unshipped")
    for _ in range(2):
        cancellation = rejected_by_amazon(order, merchant)
        amazon_order_cancellation_acknowledge(cancellation=cancellation, actor=merchant)

    amazon_order_cancel(order=order, actor=merchant, reason="GeneralAdjustment")

    assert list(OutboxMessage.objects.order_by("pk").values_list("key", flat=True)) == [
        f"cancel:{order.pk}",
        f"cancel:{order.pk}:2",
        f"cancel:{order.pk}:3",
    ]
    assert AmazonOrderCancellation.objects.get().outbox_message.key == f"cancel:{order.pk}:3"


def test_a_rejection_nobody_reviewed_keeps_cancel_order_closed(merchant_client, merchant):
    order = AmazonOrderFactory(status="Unshipped")
    rejected_by_amazon(order, merchant, message="Amazon could not process the request.")

    detail = merchant_client.get(detail_url(order)).content.decode()
    page = merchant_client.get(cancel_url(order)).content.decode()
    response = merchant_client.post(confirm_url(order), {"reason": "NoInventory"}, follow=True)

    assert "Cancellation rejected by Amazon" in detail
    assert "Amazon could not process the request." in detail
    assert REVIEW_FIRST in detail
    assert cancel_url(order) not in detail
    assert confirm_url(order) not in page
    assert response.status_code == 200
    assert REVIEW_FIRST in response.content.decode()
    order.refresh_from_db()
    assert order.status == "Unshipped"
    assert OutboxMessage.objects.count() == 1
    assert AmazonOrderEvent.objects.filter(kind="cancel_requested").count() == 1


@pytest.mark.parametrize(
    ("state", "refusal"),
    [
        (
            AmazonOrderCancellation.State.PENDING,
            "The cancellation of this order is waiting for Amazon&#x27;s answer.",
        ),
        (
            AmazonOrderCancellation.State.CONFIRMED,
            "Amazon has already confirmed the cancellation of this order.",
        ),
    ],
)
def test_a_cancellation_waiting_or_confirmed_refuses_another_even_if_the_order_looks_unshipped(
    merchant_client, state, refusal
):
    # Given an order whose status says Unshipped (an edit in the admin, say) beside a live
    # cancellation, keyed as Cancel Order keys the first attempt
    order = AmazonOrderFactory(status="Unshipped")
    CancellationFactory(order=order, state=state, outbox_message__key=f"cancel:{order.pk}")

    detail = merchant_client.get(detail_url(order)).content.decode()
    response = merchant_client.post(confirm_url(order), {"reason": "NoInventory"}, follow=True)

    assert cancel_url(order) not in detail
    assert response.status_code == 200
    assert refusal in response.content.decode()
    assert AmazonOrderCancellation.objects.get().state == state
    assert OutboxMessage.objects.count() == 1
    assert not AmazonOrderEvent.objects.filter(kind="cancel_requested").exists()
