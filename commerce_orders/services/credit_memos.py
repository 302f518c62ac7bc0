"""Credit memos: give back money for what an order was invoiced and paid."""

from decimal import Decimal

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import Sum

from commerce_orders.exceptions import (
    CreditMemoTotalNotPositive,
    NothingToRefund,
    RefundAmountExceeded,
    RefundQuantityExceeded,
)
from commerce_orders.models import (
    CommerceOrder,
    CreditMemo,
    CreditMemoItem,
    InvoiceState,
    OrderAction,
    OrderState,
)
from commerce_orders.notes import note
from commerce_orders.services.invoices import tax_share
from commerce_orders.services.orders import money
from commerce_orders.services.sequences import CREDIT_MEMO_SEQUENCE, document_number_next
from commerce_orders.services.stock import stock_return
from commerce_orders.services.transitions import (
    order_action_check,
    order_event_append,
    order_is_fulfilled,
    order_items_requested,
    order_lock,
    order_state_set,
    order_transition_check,
)

ZERO = Decimal("0.00")


def _shipping_left_to_refund(order: CommerceOrder) -> Decimal:
    invoiced = (
        order.invoices.exclude(state=InvoiceState.CANCELED).aggregate(total=Sum("shipping_amount"))[
            "total"
        ]
        or ZERO
    )
    refunded = order.credit_memos.aggregate(total=Sum("shipping_amount"))["total"] or ZERO
    return max(invoiced - refunded, ZERO)


def creditmemo_create(
    *,
    actor: AbstractBaseUser | None,
    order: CommerceOrder,
    quantities: dict[int, int],
    shipping_refund: Decimal = Decimal(0),
    adjustment_refund: Decimal = Decimal(0),
    adjustment_fee: Decimal = Decimal(0),
    comment: str = "",
    return_to_stock: bool = False,
) -> CreditMemo:
    """Refund `quantities` (order item id -> units) of `order`, plus shipping and adjustments.

    Guarantees: one CreditMemo numbered from the credit memo sequence with one CreditMemoItem per
    requested item; row totals are price x units, tax is the line's tax prorated per unit and
    rounded cumulatively (as invoices do); grand total = subtotal + tax + shipping refund +
    adjustment refund - adjustment fee. Never more of an item than invoiced - refunded, never
    more shipping than invoiced shipping not yet refunded, and the order's total_refunded never
    above total_paid. Items' quantity_refunded and the order's total_refunded are raised; with
    `return_to_stock` the refunded units go back into the catalog's stock. The order becomes
    closed when every invoiced unit is refunded (and nothing is left to invoice); else complete
    when nothing is left to ship or invoice; else it stays processing. One history row. All or
    nothing, under the order's row lock, so concurrent credit memos never refund twice.
    `quantities` may be empty for a shipping or adjustment refund only.
    Raises OrderTransitionError when the order is new, on hold, canceled or closed;
    NothingToRefund when total_paid - total_refunded is zero; OrderItemQuantityInvalid for a
    foreign item id or a quantity that is not a positive integer; RefundQuantityExceeded (with
    the item's numbers); RefundAmountExceeded (part SHIPPING or TOTAL);
    CreditMemoTotalNotPositive when the grand total would be zero or less; ValueError when an
    amount is negative.
    """
    shipping_refund, adjustment_refund, adjustment_fee = (
        money(amount) for amount in (shipping_refund, adjustment_refund, adjustment_fee)
    )
    if min(shipping_refund, adjustment_refund, adjustment_fee) < 0:
        raise ValueError("refund amounts and the adjustment fee must not be negative")
    with transaction.atomic():
        order = order_lock(order=order)
        order_action_check(order=order, action=OrderAction.CREDIT_MEMO)
        amount_left = order.total_paid - order.total_refunded
        if amount_left <= 0:
            raise NothingToRefund(increment_id=order.increment_id)
        items, requested = order_items_requested(order=order, quantities=quantities)
        for item, quantity in requested:
            if quantity > item.quantity_to_refund:
                raise RefundQuantityExceeded(
                    increment_id=order.increment_id,
                    order_item_id=item.pk,
                    sku=item.sku,
                    quantity_requested=quantity,
                    quantity_invoiced=item.quantity_invoiced,
                    quantity_refunded=item.quantity_refunded,
                    quantity_available=item.quantity_to_refund,
                )
        if shipping_refund:
            shipping_left = _shipping_left_to_refund(order)
            if shipping_refund > shipping_left:
                raise RefundAmountExceeded(
                    increment_id=order.increment_id,
                    part=RefundAmountExceeded.SHIPPING,
                    amount_requested=shipping_refund,
                    amount_available=shipping_left,
                )

        memo_items = [
            CreditMemoItem(
                order_item=item,
                sku=item.sku,
                name=item.name,
                quantity=quantity,
                price=item.price,
                tax_amount=tax_share(
                    line_tax=item.tax_amount,
                    quantity_before=item.quantity_refunded,
                    quantity=quantity,
                    ordered=item.quantity_ordered,
                ),
                row_total=money(item.price * quantity),
            )
            for item, quantity in requested
        ]
        subtotal = sum((line.row_total for line in memo_items), ZERO)
        tax_amount = sum((line.tax_amount for line in memo_items), ZERO)
        grand_total = subtotal + tax_amount + shipping_refund + adjustment_refund - adjustment_fee
        if grand_total <= 0:
            raise CreditMemoTotalNotPositive(
                increment_id=order.increment_id, grand_total=grand_total
            )
        if grand_total > amount_left:
            raise RefundAmountExceeded(
                increment_id=order.increment_id,
                part=RefundAmountExceeded.TOTAL,
                amount_requested=grand_total,
                amount_available=amount_left,
            )

        for item, quantity in requested:
            item.quantity_refunded += quantity
        if all(item.quantity_to_refund == 0 and item.quantity_to_invoice == 0 for item in items):
            target = OrderState.CLOSED
        elif order_is_fulfilled(items):
            target = OrderState.COMPLETE
        else:
            target = OrderState.PROCESSING
        order_transition_check(order=order, action=OrderAction.CREDIT_MEMO, target=target)

        memo = CreditMemo.objects.create(
            increment_id=document_number_next(sequence=CREDIT_MEMO_SEQUENCE, model=CreditMemo),
            order=order,
            subtotal=subtotal,
            shipping_amount=shipping_refund,
            tax_amount=tax_amount,
            adjustment_refund=adjustment_refund,
            adjustment_fee=adjustment_fee,
            grand_total=grand_total,
            comment=comment,
            is_returned_to_stock=return_to_stock and bool(requested),
        )
        for line in memo_items:
            line.credit_memo = memo
        CreditMemoItem.objects.bulk_create(memo_items)
        returned: dict[int, int] = {}
        for item, quantity in requested:
            item.save(update_fields=["quantity_refunded"])
            if item.product_id is not None:
                returned[item.product_id] = returned.get(item.product_id, 0) + quantity
        if return_to_stock:
            stock_return(quantities=returned)

        old_state, old_status = order.state, order.status
        order.total_refunded += grand_total
        order_state_set(order=order, state=target)
        order.save(update_fields=["state", "status", "total_refunded", "updated_at"])
        notes = [
            note(
                "commerce.credit_memo_created",
                number=memo.increment_id,
                amount=grand_total,
                currency=order.currency,
            )
        ]
        if return_to_stock and returned:
            notes.append(note("commerce.refunded_items_returned"))
        order_event_append(
            order=order,
            actor=actor,
            action=OrderAction.CREDIT_MEMO,
            old_state=old_state,
            old_status=old_status,
            comment=comment,
            notes=notes,
        )
        return memo
