from decimal import Decimal

import pytest

from commerce_orders.exceptions import (
    CreditMemoTotalNotPositive,
    NothingToRefund,
    OrderItemQuantityInvalid,
    OrderTransitionError,
    RefundAmountExceeded,
    RefundQuantityExceeded,
)
from commerce_orders.models import CreditMemo, OrderAction, OrderState, Product
from commerce_orders.services import (
    creditmemo_create,
    invoice_create,
    order_cancel,
    order_hold,
    shipment_create,
)
from commerce_orders.tests.factories import order_items_by_sku, placed_order

pytestmark = pytest.mark.django_db


def invoiced_order(**overrides):
    order = placed_order(**overrides)
    invoice_create(actor=None, order=order)
    order.refresh_from_db()
    return order, order_items_by_sku(order)


def refund(order, quantities, **overrides):
    return creditmemo_create(actor=None, order=order, quantities=quantities, **overrides)


def test_a_credit_memo_refunds_units_with_their_share_of_the_line_tax():
    order, items = invoiced_order()

    memo = refund(order, {items["MUG"].pk: 1}, comment="Broken in transit")

    order.refresh_from_db()
    assert memo.increment_id == "000000001"
    assert (memo.subtotal, memo.tax_amount, memo.shipping_amount) == (
        Decimal("12.50"),
        Decimal("2.38"),
        Decimal("0.00"),
    )
    assert memo.grand_total == Decimal("14.88")
    assert memo.comment == "Broken in transit"
    assert list(memo.items.values_list("sku", "quantity", "price", "tax_amount", "row_total")) == [
        ("MUG", 1, Decimal("12.50"), Decimal("2.38"), Decimal("12.50"))
    ]
    assert list(order.items.values_list("sku", "quantity_refunded")) == [("MUG", 1), ("TEE", 0)]
    assert order.total_refunded == Decimal("14.88")
    assert order.state == OrderState.PROCESSING
    [event] = order.events.filter(action=OrderAction.CREDIT_MEMO)
    assert event.comment == "Broken in transit"
    assert event.comment_lines == [
        "Credit Memo #000000001 created. We refunded 14.88 EUR offline.",
        "Broken in transit",
    ]


def test_the_credit_memos_of_a_line_add_up_to_its_tax():
    order, items = invoiced_order()

    first = refund(order, {items["MUG"].pk: 1})
    second = refund(order, {items["MUG"].pk: 1})

    assert (first.tax_amount, second.tax_amount) == (Decimal("2.38"), Decimal("2.37"))
    assert first.tax_amount + second.tax_amount == items["MUG"].tax_amount


def test_refunding_everything_invoiced_closes_the_order():
    order, items = invoiced_order()

    memo = refund(order, {items["MUG"].pk: 2, items["TEE"].pk: 1}, shipping_refund=Decimal("4.99"))

    order.refresh_from_db()
    assert memo.grand_total == Decimal("58.54") == order.total_paid
    assert order.total_refunded == Decimal("58.54")
    assert (order.state, order.status) == (OrderState.CLOSED, "closed")
    event = order.events.get(action=OrderAction.CREDIT_MEMO)
    assert (event.old_state, event.new_state) == ("processing", "closed")


def test_refunding_every_unit_closes_the_order_even_with_shipping_kept():
    order, items = invoiced_order()

    refund(order, {items["MUG"].pk: 2, items["TEE"].pk: 1})

    order.refresh_from_db()
    assert order.state == OrderState.CLOSED
    assert order.total_refunded == Decimal("53.55")


def test_a_partial_refund_of_a_complete_order_keeps_it_complete():
    order, items = invoiced_order()
    shipment_create(
        actor=None,
        order=order,
        quantities={items["MUG"].pk: 2, items["TEE"].pk: 1},
        carrier_code="dhl",
    )

    refund(order, {items["TEE"].pk: 1})

    order.refresh_from_db()
    assert (order.state, order.status) == (OrderState.COMPLETE, "complete")


def test_refunding_the_units_not_shipped_completes_the_order():
    order, items = invoiced_order()
    shipment_create(actor=None, order=order, quantities={items["TEE"].pk: 1}, carrier_code="dhl")

    refund(order, {items["MUG"].pk: 2})

    order.refresh_from_db()
    assert order.state == OrderState.COMPLETE


def test_adjustments_add_to_and_take_from_the_total():
    order, items = invoiced_order()

    memo = refund(
        order,
        {items["TEE"].pk: 1},
        adjustment_refund=Decimal("1.00"),
        adjustment_fee=Decimal("2.00"),
    )

    assert (memo.adjustment_refund, memo.adjustment_fee) == (Decimal("1.00"), Decimal("2.00"))
    assert memo.grand_total == Decimal("22.80")


def test_a_shipping_only_credit_memo_refunds_the_shipping():
    order, _items = invoiced_order()

    memo = refund(order, {}, shipping_refund=Decimal("4.99"))

    order.refresh_from_db()
    assert memo.grand_total == Decimal("4.99")
    assert not memo.items.exists()
    assert order.state == OrderState.PROCESSING


def test_refunding_more_units_than_invoiced_is_refused_with_the_numbers():
    order, items = invoiced_order()
    refund(order, {items["MUG"].pk: 1})

    with pytest.raises(RefundQuantityExceeded) as refused:
        refund(order, {items["MUG"].pk: 2})

    error = refused.value
    assert (error.sku, error.quantity_requested, error.quantity_available) == ("MUG", 2, 1)
    assert (error.quantity_invoiced, error.quantity_refunded) == (2, 1)
    assert "2 invoiced, 1 refunded, 1 left to refund" in str(error)
    assert CreditMemo.objects.count() == 1


def test_refunding_more_shipping_than_invoiced_is_refused():
    order, items = invoiced_order()
    refund(order, {}, shipping_refund=Decimal("2.00"))

    with pytest.raises(RefundAmountExceeded) as refused:
        refund(order, {items["TEE"].pk: 1}, shipping_refund=Decimal("3.00"))

    assert refused.value.part == RefundAmountExceeded.SHIPPING
    assert refused.value.amount_available == Decimal("2.99")


def test_refunding_more_than_was_paid_is_refused():
    order, items = invoiced_order()

    with pytest.raises(RefundAmountExceeded) as refused:
        refund(
            order,
            {items["MUG"].pk: 2, items["TEE"].pk: 1},
            shipping_refund=Decimal("4.99"),
            adjustment_refund=Decimal("0.01"),
        )

    assert refused.value.part == RefundAmountExceeded.TOTAL
    assert (refused.value.amount_requested, refused.value.amount_available) == (
        Decimal("58.55"),
        Decimal("58.54"),
    )
    order.refresh_from_db()
    assert order.total_refunded == Decimal("0.00")
    assert list(order.items.values_list("quantity_refunded", flat=True)) == [0, 0]


def test_once_the_paid_amount_is_refunded_nothing_is_left_to_refund():
    order, items = invoiced_order()
    refund(order, {items["MUG"].pk: 1}, adjustment_refund=Decimal("43.66"))
    order.refresh_from_db()
    assert order.total_refunded == order.total_paid

    with pytest.raises(NothingToRefund):
        refund(order, {items["MUG"].pk: 1})


def test_an_order_invoiced_but_not_paid_has_nothing_to_refund():
    order = placed_order()
    invoice_create(actor=None, order=order, capture_offline=False)
    item = order_items_by_sku(order)["MUG"]

    with pytest.raises(NothingToRefund):
        refund(order, {item.pk: 1})


def test_a_fee_above_the_refund_is_refused():
    order, items = invoiced_order()

    with pytest.raises(CreditMemoTotalNotPositive) as refused:
        refund(order, {items["TEE"].pk: 1}, adjustment_fee=Decimal("23.80"))

    assert refused.value.grand_total == Decimal("0.00")


def test_an_empty_credit_memo_is_refused():
    order, _items = invoiced_order()

    with pytest.raises(CreditMemoTotalNotPositive):
        refund(order, {})


def test_a_negative_amount_is_a_programming_error():
    order, _items = invoiced_order()

    with pytest.raises(ValueError, match="negative"):
        refund(order, {}, shipping_refund=Decimal("-1"))


def test_a_zero_quantity_is_refused():
    order, items = invoiced_order()

    with pytest.raises(OrderItemQuantityInvalid):
        refund(order, {items["MUG"].pk: 0})


def test_return_to_stock_puts_the_refunded_units_back():
    order, items = invoiced_order()

    memo = refund(order, {items["MUG"].pk: 2}, return_to_stock=True)

    assert memo.is_returned_to_stock
    assert Product.objects.get(sku="MUG").quantity_in_stock == 10
    assert Product.objects.get(sku="TEE").quantity_in_stock == 9
    assert "returned to stock" in order.events.get(action=OrderAction.CREDIT_MEMO).comment_text


def test_without_return_to_stock_the_stock_stays():
    order, items = invoiced_order()

    memo = refund(order, {items["MUG"].pk: 2})

    assert not memo.is_returned_to_stock
    assert Product.objects.get(sku="MUG").quantity_in_stock == 8


def test_a_held_order_gets_no_credit_memo():
    order, items = invoiced_order()
    order_hold(actor=None, order=order)

    with pytest.raises(OrderTransitionError) as refused:
        refund(order, {items["MUG"].pk: 1})

    assert refused.value.state == OrderState.HOLDED
    assert not CreditMemo.objects.exists()


def test_a_new_order_gets_no_credit_memo():
    order = placed_order()
    item = order_items_by_sku(order)["MUG"]

    with pytest.raises(OrderTransitionError):
        refund(order, {item.pk: 1})


def test_canceled_and_closed_orders_get_no_credit_memo():
    canceled = placed_order()
    order_cancel(actor=None, order=canceled)
    closed, items = invoiced_order(external_order_id="302-closed")
    refund(closed, {items["MUG"].pk: 2, items["TEE"].pk: 1})

    for order in (canceled, closed):
        with pytest.raises(OrderTransitionError):
            refund(order, {}, shipping_refund=Decimal("1.00"))


def test_a_refunded_unit_counts_as_the_shipped_one_when_some_were_shipped():
    # As Commerce: left to ship = ordered - max(shipped, refunded) - canceled.
    order, items = invoiced_order()
    shipment_create(
        actor=None,
        order=order,
        quantities={items["MUG"].pk: 1, items["TEE"].pk: 1},
        carrier_code="dhl",
    )

    refund(order, {items["MUG"].pk: 1})

    order.refresh_from_db()
    assert order.state == OrderState.PROCESSING
    assert order.items.get(sku="MUG").quantity_to_ship == 1
