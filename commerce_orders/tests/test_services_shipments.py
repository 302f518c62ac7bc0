import pytest

from commerce_orders.exceptions import (
    NothingToShip,
    OrderItemQuantityInvalid,
    OrderTransitionError,
    ShipQuantityExceeded,
)
from commerce_orders.models import OrderAction, OrderState, Shipment
from commerce_orders.services import (
    creditmemo_create,
    invoice_create,
    order_cancel,
    order_hold,
    shipment_create,
)
from commerce_orders.tests.factories import (
    CommerceOrderFactory,
    CommerceOrderItemFactory,
    order_items_by_sku,
    placed_order,
)

pytestmark = pytest.mark.django_db


def ship(order, quantities, **overrides):
    arguments = {"carrier_code": "dhl", "carrier_title": "DHL", "tracking_number": "JD0001"}
    arguments.update(overrides)
    return shipment_create(actor=None, order=order, quantities=quantities, **arguments)


def test_shipping_everything_of_an_invoiced_order_completes_it():
    order = placed_order()
    invoice_create(actor=None, order=order)
    items = order_items_by_sku(order)

    shipment = ship(order, {items["MUG"].pk: 2, items["TEE"].pk: 1}, method="Standard")

    order.refresh_from_db()
    assert shipment.increment_id == "000000001"
    assert (shipment.carrier_code, shipment.carrier_title, shipment.shipping_method) == (
        "dhl",
        "DHL",
        "Standard",
    )
    assert shipment.tracking_number == "JD0001"
    assert shipment.total_quantity == 3
    assert list(shipment.items.values_list("sku", "quantity")) == [("MUG", 2), ("TEE", 1)]
    assert list(order.items.values_list("sku", "quantity_shipped")) == [("MUG", 2), ("TEE", 1)]
    assert (order.state, order.status) == (OrderState.COMPLETE, "complete")
    [event] = order.events.filter(action=OrderAction.SHIP)
    assert (event.old_state, event.new_state) == ("processing", "complete")
    assert event.comment_text == "Shipment #000000001 created, tracking number JD0001 (DHL)."


def test_two_partial_shipments_ship_an_order_and_only_the_last_completes_it():
    order = placed_order()
    invoice_create(actor=None, order=order)
    items = order_items_by_sku(order)

    first = ship(order, {items["MUG"].pk: 1})
    order.refresh_from_db()
    state_after_first = order.state
    second = ship(order, {items["MUG"].pk: 1, items["TEE"].pk: 1}, tracking_number="")

    order.refresh_from_db()
    assert state_after_first == OrderState.PROCESSING
    assert (first.increment_id, second.increment_id) == ("000000001", "000000002")
    assert order.state == OrderState.COMPLETE
    assert list(order.items.values_list("quantity_shipped", flat=True)) == [2, 1]
    assert order.events.filter(action=OrderAction.SHIP).count() == 2
    assert "Shipment #000000002 created." in [event.comment_text for event in order.events.all()]


def test_shipping_everything_before_invoicing_leaves_the_order_processing():
    order = placed_order()
    items = order_items_by_sku(order)

    ship(order, {items["MUG"].pk: 2, items["TEE"].pk: 1})

    order.refresh_from_db()
    assert (order.state, order.status) == (OrderState.PROCESSING, "processing")


def test_invoicing_an_order_shipped_in_full_completes_it():
    order = placed_order()
    items = order_items_by_sku(order)
    ship(order, {items["MUG"].pk: 2, items["TEE"].pk: 1})

    invoice_create(actor=None, order=order)

    order.refresh_from_db()
    assert (order.state, order.status) == (OrderState.COMPLETE, "complete")


def test_a_shipment_keeps_a_custom_status_while_the_state_stays_processing():
    order = placed_order()
    invoice_create(actor=None, order=order, status="amazon_processing")
    items = order_items_by_sku(order)

    ship(order, {items["MUG"].pk: 1})

    order.refresh_from_db()
    assert (order.state, order.status) == (OrderState.PROCESSING, "amazon_processing")


def test_shipping_more_than_is_left_is_refused_with_the_items_numbers():
    order = placed_order()
    invoice_create(actor=None, order=order)
    items = order_items_by_sku(order)
    ship(order, {items["MUG"].pk: 1})

    with pytest.raises(ShipQuantityExceeded) as refused:
        ship(order, {items["MUG"].pk: 2})

    error = refused.value
    assert (error.sku, error.order_item_id, error.quantity_requested) == ("MUG", items["MUG"].pk, 2)
    assert (error.quantity_ordered, error.quantity_shipped, error.quantity_available) == (2, 1, 1)
    assert str(error) == (
        f"Cannot ship 2 of MUG on order #{order.increment_id}: 2 ordered, 1 shipped, "
        "0 refunded, 0 canceled, 1 left to ship."
    )
    assert Shipment.objects.count() == 1
    assert list(order.items.values_list("quantity_shipped", flat=True)) == [1, 0]


def test_a_refused_line_ships_nothing_of_the_other_lines():
    order = placed_order()
    items = order_items_by_sku(order)

    with pytest.raises(ShipQuantityExceeded):
        ship(order, {items["MUG"].pk: 1, items["TEE"].pk: 2})

    assert not Shipment.objects.exists()
    assert list(order.items.values_list("quantity_shipped", flat=True)) == [0, 0]
    order.refresh_from_db()
    assert order.state == OrderState.NEW


def test_canceled_units_cannot_be_shipped():
    order = CommerceOrderFactory(state=OrderState.PROCESSING)
    item = CommerceOrderItemFactory(order=order, quantity_ordered=3, quantity_canceled=2)

    with pytest.raises(ShipQuantityExceeded) as refused:
        ship(order, {item.pk: 2})

    assert (refused.value.quantity_canceled, refused.value.quantity_available) == (2, 1)
    ship(order, {item.pk: 1})


def test_units_refunded_before_they_shipped_are_not_shipped_any_more():
    order = placed_order()
    invoice_create(actor=None, order=order)
    items = order_items_by_sku(order)
    creditmemo_create(actor=None, order=order, quantities={items["MUG"].pk: 1})

    with pytest.raises(ShipQuantityExceeded) as refused:
        ship(order, {items["MUG"].pk: 2})

    assert refused.value.quantity_available == 1


@pytest.mark.parametrize("quantity", [0, -1, True, "1"])
def test_a_quantity_that_is_not_a_positive_integer_is_refused(quantity):
    order = placed_order()
    item = order_items_by_sku(order)["MUG"]

    with pytest.raises(OrderItemQuantityInvalid) as refused:
        ship(order, {item.pk: quantity})

    assert (refused.value.sku, refused.value.quantity) == ("MUG", quantity)
    assert not Shipment.objects.exists()


def test_an_item_of_another_order_is_refused():
    order = placed_order()
    stranger = CommerceOrderItemFactory()

    with pytest.raises(OrderItemQuantityInvalid) as refused:
        ship(order, {stranger.pk: 1})

    assert (refused.value.order_item_id, refused.value.sku) == (stranger.pk, "")


def test_a_shipment_without_lines_is_refused():
    order = placed_order()

    with pytest.raises(NothingToShip):
        ship(order, {})


def test_a_held_order_cannot_be_shipped():
    order = placed_order()
    item = order_items_by_sku(order)["MUG"]
    order_hold(actor=None, order=order)

    with pytest.raises(OrderTransitionError) as refused:
        ship(order, {item.pk: 1})

    assert (refused.value.action, refused.value.state) == (OrderAction.SHIP, OrderState.HOLDED)
    assert not Shipment.objects.exists()


def test_a_canceled_order_cannot_be_shipped():
    order = placed_order()
    item = order_items_by_sku(order)["MUG"]
    order_cancel(actor=None, order=order)

    with pytest.raises(OrderTransitionError):
        ship(order, {item.pk: 1})


@pytest.mark.parametrize("state", [OrderState.COMPLETE, OrderState.CLOSED, OrderState.CANCELED])
def test_shipping_from_a_finished_state_is_refused(state):
    order = CommerceOrderFactory(state=state)
    item = CommerceOrderItemFactory(order=order, quantity_ordered=1)

    with pytest.raises(OrderTransitionError) as refused:
        ship(order, {item.pk: 1})

    assert refused.value.state == state
    item.refresh_from_db()
    assert item.quantity_shipped == 0
