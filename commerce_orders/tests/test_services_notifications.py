import pytest
from django.contrib.auth import get_user_model
from django.db import transaction

from commerce_orders.exceptions import OrderCommentEmpty, OrderTransitionError
from commerce_orders.models import CommerceOrderEvent, OrderAction, OrderState
from commerce_orders.services import order_cancel, order_comment_add, order_email_send
from commerce_orders.tests.factories import CommerceOrderFactory, placed_order

pytestmark = pytest.mark.django_db


def test_a_comment_is_added_to_the_history_without_changing_the_state(mailoutbox):
    order = placed_order()
    merchant = get_user_model().objects.create_user("merchant")

    event = order_comment_add(
        actor=merchant,
        order=order,
        comment="  Called the customer.  ",
        is_visible_on_storefront=True,
    )

    order.refresh_from_db()
    assert (event.action, event.comment, event.actor) == (
        OrderAction.COMMENT,
        "Called the customer.",
        merchant,
    )
    assert (event.old_state, event.new_state, order.state) == ("new", "new", OrderState.NEW)
    assert event.is_visible_on_storefront
    assert not event.is_customer_notified
    assert mailoutbox == []


def test_a_comment_that_notifies_the_customer_is_emailed_after_commit(
    mailoutbox, django_capture_on_commit_callbacks
):
    order = placed_order(customer_email="erika@example.com")

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        event = order_comment_add(
            actor=None, order=order, comment="Your parcel left today.", is_customer_notified=True
        )
    assert mailoutbox == []
    for callback in callbacks:
        callback()

    assert event.is_customer_notified
    [message] = mailoutbox
    assert message.to == ["erika@example.com"]
    assert message.subject == f"Update to your order #{order.increment_id}"
    assert "Your parcel left today." in message.body


def test_a_comment_cannot_notify_a_customer_without_email(
    mailoutbox, django_capture_on_commit_callbacks
):
    order = placed_order(customer_email="")

    with django_capture_on_commit_callbacks(execute=True):
        event = order_comment_add(
            actor=None, order=order, comment="No address.", is_customer_notified=True
        )

    assert not event.is_customer_notified
    assert mailoutbox == []


def test_a_blank_comment_is_refused():
    order = placed_order()

    with pytest.raises(OrderCommentEmpty):
        order_comment_add(actor=None, order=order, comment="   ")

    assert not order.events.filter(action=OrderAction.COMMENT).exists()


@pytest.mark.parametrize(
    "state", [OrderState.HOLDED, OrderState.COMPLETE, OrderState.CLOSED, OrderState.CANCELED]
)
def test_comments_are_allowed_in_every_state(state):
    order = CommerceOrderFactory(state=state, status=state)

    event = order_comment_add(actor=None, order=order, comment="Noted.")

    assert (event.old_state, event.new_state) == (state, state)


def test_send_email_sends_the_order_confirmation_after_commit(
    mailoutbox, django_capture_on_commit_callbacks
):
    order = placed_order(customer_email="erika@example.com", customer_name="Erika Mustermann")

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        is_sent = order_email_send(actor=None, order=order)

    assert is_sent is True
    assert len(callbacks) == 1
    [message] = mailoutbox
    assert message.to == ["erika@example.com"]
    assert message.subject == f"Your order #{order.increment_id}"
    assert "Hello Erika Mustermann," in message.body
    assert "2 x Mug (MUG): 25.00 EUR" in message.body
    assert "Grand Total: 58.54 EUR" in message.body
    event = order.events.get(action=OrderAction.EMAIL)
    assert event.is_customer_notified
    assert event.comment_text == "The order confirmation email was sent to erika@example.com."


def test_send_email_without_a_customer_email_sends_nothing_and_returns_false(
    mailoutbox, django_capture_on_commit_callbacks
):
    order = placed_order(customer_email="")

    with django_capture_on_commit_callbacks(execute=True):
        is_sent = order_email_send(actor=None, order=order)

    assert is_sent is False
    assert mailoutbox == []
    assert not order.events.filter(action=OrderAction.EMAIL).exists()


def test_send_email_rolled_back_sends_nothing(mailoutbox, django_capture_on_commit_callbacks):
    order = placed_order(customer_email="erika@example.com")

    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        order_email_send(actor=None, order=order)
        raise RuntimeError("the caller failed")

    assert callbacks == []
    assert mailoutbox == []
    assert not CommerceOrderEvent.objects.filter(action=OrderAction.EMAIL).exists()


def test_send_email_is_refused_for_a_canceled_order(mailoutbox):
    order = placed_order(customer_email="erika@example.com")
    order_cancel(actor=None, order=order)

    with pytest.raises(OrderTransitionError):
        order_email_send(actor=None, order=order)
