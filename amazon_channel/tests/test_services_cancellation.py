"""The cancellation's state rules, one service call at a time (the sandbox's end-to-end runs are
in tests/test_cancel_sandbox.py)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from amazon_channel.models import (
    AmazonOrderCancellation,
    AmazonOrderEvent,
    AmazonOrderStatus,
    CancelReason,
    OutboxMessage,
)
from amazon_channel.orders.cancellation import (
    CancellationNotAllowed,
    amazon_order_cancel,
    amazon_order_cancellation_acknowledge,
    cancellation_buyer_email_send,
    cancellation_confirm,
    cancellation_reject,
    cancellations_with_buyer_email_lost,
)
from amazon_channel.tests.factories import AmazonOrderFactory, AmazonOrderItemFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def merchant(django_user_model):
    return django_user_model.objects.create_user("anna", password="x" * 20)


@pytest.fixture
def order():
    order = AmazonOrderFactory(status=AmazonOrderStatus.UNSHIPPED, fulfillment_channel="MFN")
    AmazonOrderItemFactory(order=order, order_item_id="11111111111111")
    return order


def events(order, kind):
    return list(AmazonOrderEvent.objects.filter(order=order, kind=kind).order_by("pk"))


def test_cancel_marks_the_order_canceled_and_queues_one_message_under_the_orders_key(
    order, merchant, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        cancellation = amazon_order_cancel(
            order=order, actor=merchant, reason=CancelReason.NO_INVENTORY
        )

    order.refresh_from_db()
    assert order.status == AmazonOrderStatus.CANCELED
    assert cancellation.state == AmazonOrderCancellation.State.PENDING
    message = OutboxMessage.objects.get()
    assert message == cancellation.outbox_message
    assert (message.kind, message.key) == (OutboxMessage.Kind.CANCEL_ORDER, f"cancel:{order.pk}")
    assert message.payload == {
        "amazon_order_id": order.amazon_order_id,
        "reason": "NoInventory",
        "order_item_ids": ["11111111111111"],
    }
    [requested] = events(order, AmazonOrderEvent.Kind.CANCEL_REQUESTED)
    assert (requested.old_status, requested.new_status) == ("Unshipped", "Canceled")
    assert requested.actor == merchant
    assert len(callbacks) == 1  # the delivery, once the transaction commits


def test_a_reason_amazon_does_not_know_is_refused_before_anything_is_written(order, merchant):
    with pytest.raises(ValueError, match="unknown cancel reason"):
        amazon_order_cancel(order=order, actor=merchant, reason="Changed my mind")

    order.refresh_from_db()
    assert order.status == AmazonOrderStatus.UNSHIPPED
    assert not OutboxMessage.objects.exists()
    assert not AmazonOrderCancellation.objects.exists()


def test_a_second_cancel_while_amazon_has_not_answered_is_refused(order, merchant):
    amazon_order_cancel(order=order, actor=merchant, reason=CancelReason.NO_INVENTORY)

    with pytest.raises(CancellationNotAllowed, match="already canceled"):
        amazon_order_cancel(order=order, actor=merchant, reason=CancelReason.CUSTOMER_EXCHANGE)

    assert OutboxMessage.objects.count() == 1
    assert len(events(order, AmazonOrderEvent.Kind.CANCEL_REQUESTED)) == 1


@pytest.mark.parametrize(
    ("status", "channel"),
    [
        (AmazonOrderStatus.SHIPPED, "MFN"),
        (AmazonOrderStatus.PENDING, "MFN"),
        (AmazonOrderStatus.UNSHIPPED, "AFN"),
    ],
)
def test_only_an_unshipped_merchant_fulfilled_order_may_be_canceled(status, channel, merchant):
    order = AmazonOrderFactory(status=status, fulfillment_channel=channel)

    with pytest.raises(CancellationNotAllowed):
        amazon_order_cancel(order=order, actor=merchant, reason=CancelReason.NO_INVENTORY)

    order.refresh_from_db()
    assert order.status == status
    assert not OutboxMessage.objects.exists()


def test_confirm_completes_a_pending_cancellation_once(order, merchant):
    cancellation = amazon_order_cancel(
        order=order, actor=merchant, reason=CancelReason.NO_INVENTORY
    )

    cancellation_confirm(cancellation=cancellation)
    cancellation_confirm(cancellation=cancellation)  # a report read twice

    cancellation.refresh_from_db()
    assert cancellation.state == AmazonOrderCancellation.State.CONFIRMED
    assert cancellation.resolved_at is not None
    assert len(events(order, AmazonOrderEvent.Kind.CANCEL_CONFIRMED)) == 1


def test_confirm_leaves_a_rejected_cancellation_rejected(order, merchant):
    cancellation = amazon_order_cancel(
        order=order, actor=merchant, reason=CancelReason.NO_INVENTORY
    )
    cancellation_reject(cancellation=cancellation, amazon_message="Already shipped.")

    cancellation_confirm(cancellation=cancellation)

    cancellation.refresh_from_db()
    order.refresh_from_db()
    assert cancellation.state == AmazonOrderCancellation.State.REJECTED
    assert order.status == AmazonOrderStatus.UNSHIPPED
    assert events(order, AmazonOrderEvent.Kind.CANCEL_CONFIRMED) == []


def test_reject_gives_the_order_back_its_status_from_before_cancel_order(order, merchant):
    cancellation = amazon_order_cancel(
        order=order, actor=merchant, reason=CancelReason.NO_INVENTORY
    )

    cancellation_reject(cancellation=cancellation, amazon_message="Already shipped.")
    cancellation_reject(cancellation=cancellation, amazon_message="Again.")  # no-op

    cancellation.refresh_from_db()
    order.refresh_from_db()
    assert cancellation.state == AmazonOrderCancellation.State.REJECTED
    assert cancellation.amazon_message == "Already shipped."
    assert order.status == AmazonOrderStatus.UNSHIPPED
    [rejected] = events(order, AmazonOrderEvent.Kind.CANCEL_REJECTED)
    assert (rejected.old_status, rejected.new_status) == ("Canceled", "Unshipped")


def test_reject_leaves_a_confirmed_cancellation_confirmed(order, merchant):
    cancellation = amazon_order_cancel(
        order=order, actor=merchant, reason=CancelReason.NO_INVENTORY
    )
    cancellation_confirm(cancellation=cancellation)

    cancellation_reject(cancellation=cancellation, amazon_message="Too late.")

    cancellation.refresh_from_db()
    order.refresh_from_db()
    assert cancellation.state == AmazonOrderCancellation.State.CONFIRMED
    assert order.status == AmazonOrderStatus.CANCELED
    assert events(order, AmazonOrderEvent.Kind.CANCEL_REJECTED) == []


def test_a_rejection_must_be_reviewed_before_the_order_is_canceled_again(order, merchant):
    first = amazon_order_cancel(order=order, actor=merchant, reason=CancelReason.NO_INVENTORY)
    cancellation_reject(cancellation=first, amazon_message="Already shipped.")

    with pytest.raises(CancellationNotAllowed, match="mark it as reviewed"):
        amazon_order_cancel(order=order, actor=merchant, reason=CancelReason.NO_INVENTORY)

    amazon_order_cancellation_acknowledge(cancellation=first, actor=merchant)
    amazon_order_cancellation_acknowledge(cancellation=first, actor=merchant)  # idempotent
    second = amazon_order_cancel(order=order, actor=merchant, reason=CancelReason.CUSTOMER_EXCHANGE)

    # The same record follows the new attempt, under the next attempt's key.
    assert second.pk == first.pk
    assert second.state == AmazonOrderCancellation.State.PENDING
    assert (second.reason, second.amazon_message, second.is_rejection_acknowledged) == (
        "CustomerExchange",
        "",
        False,
    )
    assert sorted(OutboxMessage.objects.values_list("key", flat=True)) == [
        f"cancel:{order.pk}",
        f"cancel:{order.pk}:2",
    ]
    assert second.outbox_message.key == f"cancel:{order.pk}:2"
    assert len(events(order, AmazonOrderEvent.Kind.NOTE)) == 1  # the review, noted once


def test_a_confirmed_cancellation_queues_its_buyer_email_as_a_task_of_its_own(
    order, merchant, django_capture_on_commit_callbacks, mailoutbox
):
    cancellation = amazon_order_cancel(
        order=order, actor=merchant, reason=CancelReason.NO_INVENTORY
    )

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        cancellation_confirm(cancellation=cancellation)

    # Nothing is sent in the confirmation's transaction nor after it: one task is queued
    cancellation.refresh_from_db()
    assert cancellation.buyer_email_due_at is not None
    assert cancellation.buyer_emailed_at is None
    assert mailoutbox == []
    assert len(callbacks) == 1


def test_a_buyer_email_whose_task_was_lost_is_found_by_the_sweep_and_sent_once(
    order, merchant, mailoutbox
):
    cancellation = amazon_order_cancel(
        order=order, actor=merchant, reason=CancelReason.NO_INVENTORY
    )
    cancellation_confirm(cancellation=cancellation)
    lost_after = timedelta(minutes=5)
    # A task due now is alive: the sweep leaves it alone
    assert cancellations_with_buyer_email_lost(lost_after=lost_after) == []

    # Given its task was lost (due 10 minutes ago, never sent)
    AmazonOrderCancellation.objects.filter(pk=cancellation.pk).update(
        buyer_email_due_at=timezone.now() - timedelta(minutes=10)
    )
    assert cancellations_with_buyer_email_lost(lost_after=lost_after) == [cancellation.pk]

    # When the restarted task runs twice (a broker may deliver twice)
    assert cancellation_buyer_email_send(cancellation_id=cancellation.pk) == 0
    assert cancellation_buyer_email_send(cancellation_id=cancellation.pk) == 0

    # Then the buyer got one e-mail, recorded as sent, and the sweep has nothing left
    assert [message.to for message in mailoutbox] == [[order.buyer_email]]
    cancellation.refresh_from_db()
    assert cancellation.buyer_emailed_at is not None
    assert (cancellation.buyer_email_due_at, cancellation.buyer_email_attempts) == (None, 1)
    assert cancellations_with_buyer_email_lost(lost_after=lost_after) == []
