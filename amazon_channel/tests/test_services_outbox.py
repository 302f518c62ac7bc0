"""The outbox's state rules, one service call at a time (deliveries to the sandbox are tested end
to end in tests/test_commerce_actions_sandbox.py and tests/test_cancel_sandbox.py)."""

import pytest

from amazon_channel.models import AmazonOrderEvent, OutboxMessage
from amazon_channel.outbox.messages import (
    RetryNotAllowed,
    outbox_message_enqueue,
    outbox_message_retry,
    outbox_message_settle,
)
from amazon_channel.tests.factories import AmazonOrderFactory
from commerce_orders.notes import notes_text

pytestmark = pytest.mark.django_db

PACKAGE = {"carrierCode": "DHL", "trackingNumber": "00340434161094042557"}


@pytest.fixture
def merchant(django_user_model):
    return django_user_model.objects.create_user("anna", password="x" * 20)


@pytest.fixture
def order():
    return AmazonOrderFactory()


def message_for(order, *, kind, state, key="message-1", **payload) -> OutboxMessage:
    return OutboxMessage.objects.create(
        store=order.store,
        kind=kind,
        key=key,
        state=state,
        payload={"amazon_order_id": order.amazon_order_id, **payload},
    )


def notes_of(order) -> list[str]:
    return [
        notes_text(event.notes)
        for event in AmazonOrderEvent.objects.filter(order=order).order_by("pk")
    ]


def test_enqueue_writes_one_message_per_key_and_schedules_delivery_once(
    order, django_capture_on_commit_callbacks
):
    arguments = {
        "store": order.store,
        "kind": OutboxMessage.Kind.REFUND_ORDER,
        "key": f"refund:{order.pk}:1",
        "payload": {"amazon_order_id": order.amazon_order_id},
    }

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        first = outbox_message_enqueue(**arguments)
        again = outbox_message_enqueue(**{**arguments, "payload": {"changed": True}})

    assert again.pk == first.pk
    assert again.payload == {"amazon_order_id": order.amazon_order_id}
    assert OutboxMessage.objects.count() == 1
    assert first.state == OutboxMessage.State.PENDING
    assert len(callbacks) == 1


def test_settle_notes_amazons_acceptance_or_refusal_on_the_order(order):
    message = message_for(
        order, kind=OutboxMessage.Kind.CONFIRM_SHIPMENT, state=OutboxMessage.State.DONE
    )

    outbox_message_settle(message=message, problem="")
    outbox_message_settle(message=message, problem="The tracking number is not valid.")

    accepted, refused = notes_of(order)
    assert "accepted" in accepted.lower()
    assert "The tracking number is not valid." in refused


def test_settle_of_a_message_whose_order_is_not_stored_writes_nothing(order):
    message = message_for(
        order, kind=OutboxMessage.Kind.CONFIRM_SHIPMENT, state=OutboxMessage.State.DONE
    )
    message.payload = {"amazon_order_id": "999-0000000-0000000"}

    outbox_message_settle(message=message, problem="")

    assert not AmazonOrderEvent.objects.exists()


@pytest.mark.parametrize(
    "state",
    [
        OutboxMessage.State.PENDING,
        OutboxMessage.State.SENDING,
        OutboxMessage.State.IN_FEED,
        OutboxMessage.State.VERIFYING,
        OutboxMessage.State.DONE,
    ],
)
def test_retry_leaves_a_message_that_has_not_failed_alone(order, merchant, state):
    message = message_for(
        order, kind=OutboxMessage.Kind.CONFIRM_SHIPMENT, state=state, package_detail=PACKAGE
    )

    retried = outbox_message_retry(message=message, actor=merchant)

    assert retried.state == state
    assert not AmazonOrderEvent.objects.exists()


def test_retry_sends_a_failed_message_again_from_the_start(
    order, merchant, django_capture_on_commit_callbacks
):
    message = message_for(
        order,
        kind=OutboxMessage.Kind.CONFIRM_SHIPMENT,
        state=OutboxMessage.State.FAILED,
        package_detail=PACKAGE,
    )
    OutboxMessage.objects.filter(pk=message.pk).update(result="Amazon said no", lease_holder="w1")

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        retried = outbox_message_retry(message=message, actor=merchant)

    retried.refresh_from_db()
    assert retried.state == OutboxMessage.State.PENDING
    assert (retried.result, retried.lease_holder, retried.feed_id) == ("", "", None)
    [event] = AmazonOrderEvent.objects.filter(order=order)
    assert event.actor == merchant
    assert len(callbacks) == 1


def test_retry_refuses_a_failed_shipment_amazon_would_refuse_again(order, merchant):
    message = message_for(
        order,
        kind=OutboxMessage.Kind.CONFIRM_SHIPMENT,
        state=OutboxMessage.State.FAILED,
        package_detail={"carrierCode": "DHL", "trackingNumber": ""},
    )

    with pytest.raises(RetryNotAllowed, match="Correct the shipment"):
        outbox_message_retry(message=message, actor=merchant)

    message.refresh_from_db()
    assert message.state == OutboxMessage.State.FAILED


def test_a_refund_of_unknown_outcome_is_sent_again_only_once_the_merchant_confirms(order, merchant):
    message = message_for(
        order,
        kind=OutboxMessage.Kind.REFUND_ORDER,
        state=OutboxMessage.State.VERIFYING,
        **{OutboxMessage.AWAITING_MERCHANT: True},
    )

    with pytest.raises(RetryNotAllowed, match="Seller Central"):
        outbox_message_retry(message=message, actor=merchant)
    message.refresh_from_db()
    assert message.state == OutboxMessage.State.VERIFYING

    retried = outbox_message_retry(message=message, actor=merchant, is_absence_confirmed=True)

    retried.refresh_from_db()
    assert retried.state == OutboxMessage.State.PENDING
    assert OutboxMessage.AWAITING_MERCHANT not in retried.payload
    assert not retried.is_awaiting_merchant
