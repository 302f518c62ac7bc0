from decimal import Decimal

import pytest

from commerce_orders.exceptions import NothingToInvoice, OrderTransitionError
from commerce_orders.models import Invoice, InvoiceState, OrderAction, OrderState
from commerce_orders.services import OrderLine, invoice_create, order_create
from commerce_orders.tests.factories import (
    CommerceOrderFactory,
    CommerceOrderItemFactory,
    ProductFactory,
    order_create_arguments,
)

pytestmark = pytest.mark.django_db


def placed_order(**overrides):
    ProductFactory(sku="MUG")
    ProductFactory(sku="TEE")
    lines = [
        OrderLine("MUG", "Mug", 2, Decimal("12.50"), Decimal("4.75"), "item-a"),
        OrderLine("TEE", "Tee", 1, Decimal("20.00"), Decimal("3.80"), "item-b"),
    ]
    return order_create(
        **order_create_arguments(lines=lines, shipping_amount=Decimal("4.99"), **overrides)
    )


def test_invoice_create_bills_every_item_and_moves_the_order_to_processing():
    order = placed_order()

    invoice = invoice_create(actor=None, order=order)

    order.refresh_from_db()
    assert invoice.increment_id == "000000001"
    assert invoice.state == InvoiceState.PAID
    assert (invoice.subtotal, invoice.tax_amount, invoice.shipping_amount) == (
        Decimal("45.00"),
        Decimal("8.55"),
        Decimal("4.99"),
    )
    assert invoice.grand_total == order.grand_total == Decimal("58.54")
    assert list(invoice.items.values_list("sku", "quantity", "row_total", "tax_amount")) == [
        ("MUG", 2, Decimal("25.00"), Decimal("4.75")),
        ("TEE", 1, Decimal("20.00"), Decimal("3.80")),
    ]
    assert list(order.items.values_list("quantity_invoiced", flat=True)) == [2, 1]
    assert order.total_paid == Decimal("58.54")
    assert order.total_due == Decimal("0.00")
    assert (order.state, order.status) == (OrderState.PROCESSING, "processing")
    event = order.events.get(action=OrderAction.INVOICE)
    assert (event.old_state, event.new_state) == ("new", "processing")
    assert "Invoice #000000001 created" in event.comment_text


def test_invoice_create_sets_the_callers_status_label():
    order = placed_order()

    invoice_create(actor=None, order=order, status="amazon_processing")

    order.refresh_from_db()
    assert (order.state, order.status) == (OrderState.PROCESSING, "amazon_processing")


def test_invoice_create_without_capture_leaves_the_invoice_open_and_nothing_paid():
    order = placed_order()

    invoice = invoice_create(actor=None, order=order, capture_offline=False)

    order.refresh_from_db()
    assert invoice.state == InvoiceState.OPEN
    assert order.total_paid == Decimal("0.00")
    assert order.state == OrderState.PROCESSING


def test_invoice_create_refuses_an_order_with_nothing_left_to_invoice():
    order = placed_order()
    invoice_create(actor=None, order=order)

    with pytest.raises(NothingToInvoice) as refused:
        invoice_create(actor=None, order=order)

    assert refused.value.increment_id == order.increment_id
    assert Invoice.objects.count() == 1


def test_invoice_create_bills_only_what_is_neither_invoiced_nor_canceled():
    order = CommerceOrderFactory(state=OrderState.PROCESSING, status="processing")
    item = CommerceOrderItemFactory(
        order=order,
        quantity_ordered=3,
        quantity_invoiced=1,
        quantity_canceled=1,
        price=Decimal("10.00"),
        tax_amount=Decimal("1.00"),
    )

    invoice = invoice_create(actor=None, order=order)

    [line] = invoice.items.all()
    # 1.00 of tax over 3 units: a third (0.33) went on the first invoice, 0.34 comes now.
    assert (line.quantity, line.row_total, line.tax_amount) == (
        1,
        Decimal("10.00"),
        Decimal("0.34"),
    )
    item.refresh_from_db()
    assert item.quantity_invoiced == 2
    order.refresh_from_db()
    assert order.status == "processing"


def test_invoice_create_puts_shipping_on_the_first_invoice_only():
    order = CommerceOrderFactory(shipping_amount=Decimal("5.00"))
    item = CommerceOrderItemFactory(order=order, quantity_ordered=2)
    first = invoice_create(actor=None, order=order)
    item.quantity_ordered = 3  # a later item quantity, as a partial invoice would leave
    item.save()

    second = invoice_create(actor=None, order=order)

    assert (first.shipping_amount, second.shipping_amount) == (Decimal("5.00"), Decimal("0.00"))


def test_invoices_are_numbered_from_their_own_sequence():
    first = invoice_create(actor=None, order=placed_order())
    ProductFactory(sku="CAP")
    second = invoice_create(
        actor=None,
        order=order_create(
            **order_create_arguments(lines=[OrderLine("CAP", "Cap", 1, Decimal("5.00"))])
        ),
    )

    assert (first.increment_id, second.increment_id) == ("000000001", "000000002")


@pytest.mark.parametrize(
    "state", [OrderState.HOLDED, OrderState.CANCELED, OrderState.CLOSED, OrderState.COMPLETE]
)
def test_invoice_create_is_refused_on_hold_canceled_closed_or_complete(state):
    order = CommerceOrderFactory(state=state, status=state)
    item = CommerceOrderItemFactory(order=order)

    with pytest.raises(OrderTransitionError) as refused:
        invoice_create(actor=None, order=order)

    assert (refused.value.state, refused.value.action) == (state, OrderAction.INVOICE)
    assert str(refused.value) == (
        f"Invoice is not allowed on order #{order.increment_id} while it is {state.label}."
    )
    assert not Invoice.objects.exists()
    item.refresh_from_db()
    order.refresh_from_db()
    assert (item.quantity_invoiced, order.total_paid, order.state) == (0, Decimal("0"), state)
