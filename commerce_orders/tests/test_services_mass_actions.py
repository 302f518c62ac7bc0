import pytest

from commerce_orders.models import OrderAction, OrderState
from commerce_orders.services import invoice_create, order_hold, orders_mass_action
from commerce_orders.tests.factories import placed_order

pytestmark = pytest.mark.django_db


def three_orders():
    fresh = placed_order(external_order_id="302-1")
    invoiced = placed_order(external_order_id="302-2")
    invoice_create(actor=None, order=invoiced)
    held = placed_order(external_order_id="302-3")
    order_hold(actor=None, order=held)
    return fresh, invoiced, held


def states(*orders):
    for order in orders:
        order.refresh_from_db()
    return [order.state for order in orders]


def test_mass_cancel_cancels_what_it_may_and_lists_the_refusals_with_reasons():
    fresh, invoiced, held = three_orders()

    result = orders_mass_action(
        actor=None, order_ids=[held.pk, invoiced.pk, fresh.pk], action=OrderAction.CANCEL
    )

    assert result.done == [fresh.increment_id]
    assert result.refused == [
        (
            invoiced.increment_id,
            f"Order #{invoiced.increment_id} cannot be canceled: it has been invoiced. "
            "Create a credit memo instead.",
        ),
        (
            held.increment_id,
            f"Cancel is not allowed on order #{held.increment_id} while it is On Hold.",
        ),
    ]
    assert states(fresh, invoiced, held) == [
        OrderState.CANCELED,
        OrderState.PROCESSING,
        OrderState.HOLDED,
    ]
    assert list(fresh.items.values_list("quantity_canceled", flat=True)) == [2, 1]
    assert list(invoiced.items.values_list("quantity_canceled", flat=True)) == [0, 0]


def test_mass_hold_holds_the_open_orders_and_refuses_the_held_one():
    fresh, invoiced, held = three_orders()

    result = orders_mass_action(
        actor=None, order_ids=[fresh.pk, invoiced.pk, held.pk], action="hold"
    )

    assert result.done == [fresh.increment_id, invoiced.increment_id]
    assert [number for number, _reason in result.refused] == [held.increment_id]
    assert states(fresh, invoiced, held) == [OrderState.HOLDED] * 3
    assert invoiced.hold_before_state == OrderState.PROCESSING


def test_mass_unhold_releases_only_the_held_order():
    fresh, invoiced, held = three_orders()

    result = orders_mass_action(
        actor=None, order_ids=[fresh.pk, invoiced.pk, held.pk], action=OrderAction.UNHOLD
    )

    assert result.done == [held.increment_id]
    assert len(result.refused) == 2
    assert states(fresh, invoiced, held) == [
        OrderState.NEW,
        OrderState.PROCESSING,
        OrderState.NEW,
    ]


def test_an_unknown_order_id_is_refused_as_not_found():
    fresh = placed_order()

    result = orders_mass_action(actor=None, order_ids=[fresh.pk, 999_999], action="hold")

    assert result.done == [fresh.increment_id]
    assert result.refused == [("999999", "Order not found.")]


@pytest.mark.parametrize("action", [OrderAction.INVOICE, "delete"])
def test_an_action_that_is_not_a_mass_action_is_a_programming_error(action):
    with pytest.raises(ValueError, match="no mass action"):
        orders_mass_action(actor=None, order_ids=[], action=action)
