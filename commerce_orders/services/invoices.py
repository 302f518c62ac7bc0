"""Invoices: bill what an order has not billed yet."""

from decimal import Decimal

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import Sum

from commerce_orders.exceptions import NothingToInvoice
from commerce_orders.models import (
    CommerceOrder,
    Invoice,
    InvoiceItem,
    InvoiceState,
    OrderAction,
    OrderState,
)
from commerce_orders.notes import note
from commerce_orders.services.orders import money
from commerce_orders.services.sequences import INVOICE_SEQUENCE, document_number_next
from commerce_orders.services.transitions import (
    order_action_check,
    order_event_append,
    order_lock,
    order_transition_check,
)


def tax_share(*, line_tax: Decimal, quantity_before: int, quantity: int, ordered: int) -> Decimal:
    """The part of a line's tax that `quantity` more units carry after `quantity_before` units.

    Rounded cumulatively, so the invoices (or credit memos) of a line add up to the line's tax."""
    after = money(line_tax * (quantity_before + quantity) / ordered)
    before = money(line_tax * quantity_before / ordered)
    return after - before


def invoice_create(
    *,
    actor: AbstractBaseUser | None,
    order: CommerceOrder,
    capture_offline: bool = True,
    status: str | None = None,
) -> Invoice:
    """Invoice every quantity of `order` not yet invoiced or canceled.

    Guarantees: one Invoice with one InvoiceItem per item that had quantity left, totals from
    those quantities (tax prorated per unit, shipping on the first invoice that reaches it);
    items' quantity_invoiced raised; with `capture_offline` the invoice is paid and the order's
    total_paid grows by its grand total, otherwise the invoice stays open (pending). The order
    moves to state processing with status `status`, else "processing" when it was new, else its
    status stays; but when everything was shipped already (shipped before invoiced), it becomes
    complete (state and status). One history row.
    Raises OrderTransitionError when the order is on hold, canceled, closed or complete;
    NothingToInvoice when every quantity is already invoiced or canceled.
    """
    with transaction.atomic():
        order = order_lock(order=order)
        order_action_check(order=order, action=OrderAction.INVOICE)
        items = [
            (item, item.quantity_ordered - item.quantity_invoiced - item.quantity_canceled)
            for item in order.items.order_by("pk")
        ]
        items = [(item, quantity) for item, quantity in items if quantity > 0]
        if not items:
            raise NothingToInvoice(increment_id=order.increment_id)

        shipping_invoiced = order.invoices.exclude(state=InvoiceState.CANCELED).aggregate(
            total=Sum("shipping_amount")
        )["total"] or Decimal("0.00")
        invoice_items = [
            InvoiceItem(
                order_item=item,
                sku=item.sku,
                name=item.name,
                quantity=quantity,
                price=item.price,
                tax_amount=tax_share(
                    line_tax=item.tax_amount,
                    quantity_before=item.quantity_invoiced,
                    quantity=quantity,
                    ordered=item.quantity_ordered,
                ),
                row_total=money(item.price * quantity),
            )
            for item, quantity in items
        ]
        subtotal = sum((line.row_total for line in invoice_items), Decimal("0.00"))
        tax_amount = sum((line.tax_amount for line in invoice_items), Decimal("0.00"))
        shipping_amount = max(order.shipping_amount - shipping_invoiced, Decimal("0.00"))
        invoice = Invoice.objects.create(
            increment_id=document_number_next(sequence=INVOICE_SEQUENCE, model=Invoice),
            order=order,
            state=InvoiceState.PAID if capture_offline else InvoiceState.OPEN,
            subtotal=subtotal,
            shipping_amount=shipping_amount,
            tax_amount=tax_amount,
            grand_total=subtotal + tax_amount + shipping_amount,
        )
        for line in invoice_items:
            line.invoice = invoice
        InvoiceItem.objects.bulk_create(invoice_items)
        for item, quantity in items:
            item.quantity_invoiced += quantity
            item.save(update_fields=["quantity_invoiced"])

        everything_shipped = all(
            item.quantity_to_ship == 0 and item.quantity_to_invoice == 0
            for item in order.items.all()
        )
        target = OrderState.COMPLETE if everything_shipped else OrderState.PROCESSING
        order_transition_check(order=order, action=OrderAction.INVOICE, target=target)

        old_state, old_status = order.state, order.status
        fields = ["state", "status", "updated_at"]
        if capture_offline:
            order.total_paid += invoice.grand_total
            fields.append("total_paid")
        if target == OrderState.COMPLETE:
            order.state = order.status = OrderState.COMPLETE
        else:
            if status:
                order.status = status
            elif order.state != OrderState.PROCESSING:
                order.status = OrderState.PROCESSING
            order.state = OrderState.PROCESSING
        order.save(update_fields=fields)
        if capture_offline:
            code = "commerce.invoice_captured_offline"
        else:
            code = "commerce.invoice_not_captured"
        order_event_append(
            order=order,
            actor=actor,
            action=OrderAction.INVOICE,
            old_state=old_state,
            old_status=old_status,
            notes=[
                note(
                    code,
                    number=invoice.increment_id,
                    amount=invoice.grand_total,
                    currency=order.currency,
                )
            ],
        )
        return invoice
