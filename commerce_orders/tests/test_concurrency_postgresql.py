"""Concurrent writers on PostgreSQL: the locks and constraints the services rely on hold."""

import threading
from decimal import Decimal

import pytest
from django.db import close_old_connections, connection

from commerce_orders.exceptions import (
    CancelRefused,
    NothingToInvoice,
    OrderTransitionError,
    ProductUnavailable,
    RefundQuantityExceeded,
    ShipQuantityExceeded,
)
from commerce_orders.models import (
    CommerceOrder,
    CommerceOrderEvent,
    CreditMemo,
    Invoice,
    OrderAction,
    OrderState,
    Product,
    Shipment,
    StockReservation,
)
from commerce_orders.services import (
    OrderLine,
    StockLine,
    creditmemo_create,
    invoice_create,
    order_cancel,
    order_create,
    order_hold,
    sequence_next_value,
    shipment_create,
    stock_reserve,
)
from commerce_orders.tests.factories import ProductFactory, order_create_arguments

pytestmark = [pytest.mark.postgresql, pytest.mark.django_db(transaction=True)]


def run_concurrently(worker, count: int) -> list:
    """Run worker(index) in `count` threads released together; return outcomes or errors."""
    barrier = threading.Barrier(count)
    outcomes: list = []
    lock = threading.Lock()

    def target(index: int):
        try:
            barrier.wait(timeout=10)
            outcome = worker(index)
        except Exception as error:  # noqa: BLE001 - the outcome is what the test asserts
            outcome = error
        finally:
            close_old_connections()
            connection.close()
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=target, args=(index,)) for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(outcomes) == count, "a worker did not finish"
    return outcomes


def line(sku: str, quantity: int = 1) -> OrderLine:
    return OrderLine(sku, sku, quantity, Decimal("10.00"))


def test_the_database_is_postgresql():
    assert connection.vendor == "postgresql"


def test_concurrent_imports_of_one_channel_order_create_exactly_one_order():
    ProductFactory(sku="MUG", quantity_in_stock=10)
    arguments = order_create_arguments(external_order_id="302-1", lines=[line("MUG", 2)])

    outcomes = run_concurrently(lambda _index: order_create(**arguments), 4)

    assert all(isinstance(outcome, CommerceOrder) for outcome in outcomes), outcomes
    assert len({outcome.pk for outcome in outcomes}) == 1
    assert CommerceOrder.objects.count() == 1
    assert CommerceOrderEvent.objects.count() == 1
    assert Product.objects.get(sku="MUG").quantity_in_stock == 8


def test_a_loser_of_the_unique_constraint_race_returns_the_winners_order():
    # Disjoint lines take disjoint product locks, so only the unique constraint decides.
    for sku in ("A", "B", "C", "D"):
        ProductFactory(sku=sku, quantity_in_stock=5)
    skus = ["A", "B", "C", "D"]

    outcomes = run_concurrently(
        lambda index: order_create(
            **order_create_arguments(external_order_id="302-1", lines=[line(skus[index])])
        ),
        4,
    )

    assert all(isinstance(outcome, CommerceOrder) for outcome in outcomes), outcomes
    assert len({outcome.pk for outcome in outcomes}) == 1
    assert CommerceOrder.objects.count() == 1
    [winner] = CommerceOrder.objects.all()
    [winning_sku] = winner.items.values_list("sku", flat=True)
    stock = dict(Product.objects.values_list("sku", "quantity_in_stock"))
    assert stock == {sku: 4 if sku == winning_sku else 5 for sku in skus}


def test_concurrent_creators_of_different_orders_never_share_an_order_number():
    count = 6
    for index in range(count):
        ProductFactory(sku=f"SKU-{index}", quantity_in_stock=1)

    outcomes = run_concurrently(
        lambda index: order_create(**order_create_arguments(lines=[line(f"SKU-{index}")])),
        count,
    )

    assert all(isinstance(outcome, CommerceOrder) for outcome in outcomes), outcomes
    numbers = sorted(CommerceOrder.objects.values_list("increment_id", flat=True))
    assert numbers == [f"{value:09d}" for value in range(1, count + 1)]


def test_concurrent_sequence_readers_get_distinct_consecutive_values():
    outcomes = run_concurrently(lambda _index: sequence_next_value(name="order"), 8)

    assert sorted(outcomes) == list(range(1, 9))


def test_concurrent_orders_for_the_last_unit_sell_it_once():
    ProductFactory(sku="LAST", quantity_in_stock=1)

    outcomes = run_concurrently(
        lambda _index: order_create(**order_create_arguments(lines=[line("LAST")])), 4
    )

    assert sum(isinstance(outcome, CommerceOrder) for outcome in outcomes) == 1
    refusals = [outcome for outcome in outcomes if isinstance(outcome, ProductUnavailable)]
    assert len(refusals) == 3, outcomes
    assert {str(refusal) for refusal in refusals} == {
        "SKU LAST is out of stock (1 ordered, 0 available)"
    }
    assert CommerceOrder.objects.count() == 1
    assert Product.objects.get(sku="LAST").quantity_in_stock == 0


def test_orders_locking_the_same_products_in_opposite_line_order_do_not_deadlock():
    ProductFactory(sku="A", quantity_in_stock=10)
    ProductFactory(sku="B", quantity_in_stock=10)
    line_orders = [[line("A"), line("B")], [line("B"), line("A")]] * 3

    outcomes = run_concurrently(
        lambda index: order_create(**order_create_arguments(lines=line_orders[index])), 6
    )

    assert all(isinstance(outcome, CommerceOrder) for outcome in outcomes), outcomes
    assert dict(Product.objects.values_list("sku", "quantity_in_stock")) == {"A": 4, "B": 4}


def test_concurrent_reservations_of_the_last_units_hold_them_once():
    ProductFactory(sku="LAST", quantity_in_stock=2)

    outcomes = run_concurrently(
        lambda index: stock_reserve(reference=f"amazon:{index}", lines=[StockLine("LAST", 2)]), 4
    )

    assert sum(isinstance(outcome, list) for outcome in outcomes) == 1
    assert sum(isinstance(outcome, ProductUnavailable) for outcome in outcomes) == 3
    assert Product.objects.get(sku="LAST").quantity_reserved == 2
    assert StockReservation.objects.count() == 1


def test_concurrent_reservations_under_one_reference_hold_the_quantity_once():
    ProductFactory(sku="MUG", quantity_in_stock=10)

    outcomes = run_concurrently(
        lambda _index: stock_reserve(reference="amazon:1", lines=[StockLine("MUG", 3)]), 4
    )

    assert all(isinstance(outcome, list) for outcome in outcomes), outcomes
    assert Product.objects.get(sku="MUG").quantity_reserved == 3
    assert StockReservation.objects.get().quantity == 3


def test_concurrent_invoicing_of_one_order_bills_it_once():
    ProductFactory(sku="MUG", quantity_in_stock=10)
    order = order_create(**order_create_arguments(lines=[line("MUG", 2)]))

    outcomes = run_concurrently(lambda _index: invoice_create(actor=None, order=order), 3)

    assert sum(isinstance(outcome, Invoice) for outcome in outcomes) == 1
    assert sum(isinstance(outcome, NothingToInvoice) for outcome in outcomes) == 2
    order.refresh_from_db()
    assert order.total_paid == Decimal("20.00")
    assert Invoice.objects.count() == 1


def test_concurrent_shipments_of_the_last_unshipped_unit_ship_it_once():
    # Not invoiced, so the order stays processing and the quantity check is what refuses.
    ProductFactory(sku="MUG", quantity_in_stock=10)
    order = order_create(**order_create_arguments(lines=[line("MUG", 2)]))
    [item] = order.items.all()
    shipment_create(actor=None, order=order, quantities={item.pk: 1}, carrier_code="dhl")

    outcomes = run_concurrently(
        lambda index: shipment_create(
            actor=None,
            order=order,
            quantities={item.pk: 1},
            carrier_code="dhl",
            tracking_number=f"JD{index}",
        ),
        4,
    )

    assert sum(isinstance(outcome, Shipment) for outcome in outcomes) == 1
    refusals = [outcome for outcome in outcomes if isinstance(outcome, ShipQuantityExceeded)]
    assert len(refusals) == 3, outcomes
    assert {refusal.quantity_available for refusal in refusals} == {0}
    item.refresh_from_db()
    order.refresh_from_db()
    assert item.quantity_shipped == 2
    assert Shipment.objects.count() == 2
    assert order.state == OrderState.PROCESSING
    assert order.events.filter(action=OrderAction.SHIP).count() == 2
    numbers = sorted(Shipment.objects.values_list("increment_id", flat=True))
    assert numbers == ["000000001", "000000002"]


def test_concurrent_credit_memos_beyond_what_is_refundable_refund_once():
    ProductFactory(sku="MUG", quantity_in_stock=10)
    order = order_create(**order_create_arguments(lines=[line("MUG", 3)]))
    invoice_create(actor=None, order=order)
    [item] = order.items.all()

    outcomes = run_concurrently(
        lambda _index: creditmemo_create(actor=None, order=order, quantities={item.pk: 2}), 4
    )

    assert sum(isinstance(outcome, CreditMemo) for outcome in outcomes) == 1
    assert sum(isinstance(outcome, RefundQuantityExceeded) for outcome in outcomes) == 3, outcomes
    item.refresh_from_db()
    order.refresh_from_db()
    assert item.quantity_refunded == 2
    assert order.total_refunded == Decimal("20.00")
    assert CreditMemo.objects.count() == 1
    assert order.state == OrderState.PROCESSING


def test_concurrent_cancel_and_hold_of_one_order_let_exactly_one_win():
    ProductFactory(sku="MUG", quantity_in_stock=10)
    order = order_create(**order_create_arguments(lines=[line("MUG", 2)]))
    actions = [order_cancel, order_hold] * 2

    outcomes = run_concurrently(lambda index: actions[index](actor=None, order=order), 4)

    winners = [outcome for outcome in outcomes if isinstance(outcome, CommerceOrder)]
    assert len(winners) == 1, outcomes
    assert all(
        isinstance(outcome, OrderTransitionError | CancelRefused)
        for outcome in outcomes
        if outcome not in winners
    )
    order.refresh_from_db()
    assert order.state == winners[0].state
    expected_stock = 10 if order.state == OrderState.CANCELED else 8
    assert Product.objects.get(sku="MUG").quantity_in_stock == expected_stock
    assert order.events.exclude(action=OrderAction.PLACE).count() == 1


def test_concurrent_shipments_that_complete_an_order_refuse_the_losers_by_state():
    ProductFactory(sku="MUG", quantity_in_stock=10)
    order = order_create(**order_create_arguments(lines=[line("MUG", 1)]))
    invoice_create(actor=None, order=order)
    [item] = order.items.all()

    outcomes = run_concurrently(
        lambda _index: shipment_create(
            actor=None, order=order, quantities={item.pk: 1}, carrier_code="dhl"
        ),
        3,
    )

    assert sum(isinstance(outcome, Shipment) for outcome in outcomes) == 1
    assert sum(isinstance(outcome, OrderTransitionError) for outcome in outcomes) == 2, outcomes
    order.refresh_from_db()
    assert order.state == OrderState.COMPLETE
    assert Shipment.objects.count() == 1
