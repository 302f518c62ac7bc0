import pytest

from commerce_orders.exceptions import OrderTransitionError
from commerce_orders.models import ORDER_TRANSITIONS, OrderAction, OrderState, order_actions_allowed
from commerce_orders.services import order_transition_check
from commerce_orders.tests.factories import CommerceOrderFactory, ProductFactory


def test_closed_and_canceled_orders_only_take_comments_and_closed_ones_emails():
    assert order_actions_allowed(OrderState.CLOSED) == [OrderAction.COMMENT, OrderAction.EMAIL]
    assert order_actions_allowed(OrderState.CANCELED) == [OrderAction.COMMENT]


def test_an_order_on_hold_can_only_be_released_commented_or_emailed():
    assert order_actions_allowed(OrderState.HOLDED) == [
        OrderAction.UNHOLD,
        OrderAction.COMMENT,
        OrderAction.EMAIL,
    ]


def test_no_document_or_cancel_is_allowed_on_hold():
    for action in (
        OrderAction.INVOICE,
        OrderAction.SHIP,
        OrderAction.CREDIT_MEMO,
        OrderAction.CANCEL,
        OrderAction.COMPLETE,
    ):
        assert OrderState.HOLDED not in ORDER_TRANSITIONS[action].sources, action


def test_every_transition_ends_in_a_known_state():
    for move in ORDER_TRANSITIONS.values():
        assert move.sources <= set(OrderState)
        assert move.targets <= set(OrderState)


@pytest.mark.django_db
def test_order_transition_check_refuses_a_target_the_table_does_not_list():
    order = CommerceOrderFactory(state=OrderState.NEW)

    with pytest.raises(OrderTransitionError) as refused:
        order_transition_check(order=order, action=OrderAction.INVOICE, target=OrderState.CLOSED)

    assert refused.value.target == OrderState.CLOSED
    order_transition_check(order=order, action=OrderAction.INVOICE, target=OrderState.PROCESSING)


def test_salable_quantity_is_stock_minus_reserved():
    product = ProductFactory.build(quantity_in_stock=5, quantity_reserved=2)

    assert product.quantity_salable == 3
