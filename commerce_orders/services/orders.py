"""Order creation and the order transitions that are not documents of their own."""

import dataclasses
import datetime
from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from commerce_orders.exceptions import CancelRefused, OrderNumberInUse
from commerce_orders.models import (
    CommerceOrder,
    CommerceOrderItem,
    Customer,
    OrderAction,
    OrderAddress,
    OrderState,
)
from commerce_orders.notes import note
from commerce_orders.services.sequences import ORDER_SEQUENCE, document_number_next
from commerce_orders.services.stock import (
    order_stock_reference,
    products_lock,
    quantities_by_sku,
    reserved_under,
    salable_check,
    stock_deduct,
    stock_return,
)
from commerce_orders.services.transitions import (
    order_event_append,
    order_lock,
    order_transition_check,
)

CENT = Decimal("0.01")


def money(amount: Decimal) -> Decimal:
    return Decimal(amount).quantize(CENT, rounding=ROUND_HALF_UP)


@dataclasses.dataclass(frozen=True)
class OrderLine:
    """One ordered line: `price` is the unit price before tax, `tax_amount` the whole line's tax."""

    sku: str
    name: str
    quantity: int
    price: Decimal
    tax_amount: Decimal = Decimal("0.00")
    external_item_id: str = ""

    def __post_init__(self) -> None:
        if not self.sku:
            raise ValueError("an order line needs a SKU")
        if self.quantity <= 0:
            raise ValueError(f"quantity must be positive, got {self.quantity} for {self.sku}")
        if self.price < 0 or self.tax_amount < 0:
            raise ValueError(f"price and tax must not be negative for {self.sku}")


@dataclasses.dataclass(frozen=True)
class AddressData:
    name: str = ""
    street: str = ""
    city: str = ""
    region: str = ""
    postal_code: str = ""
    country_code: str = ""
    phone: str = ""


def _external_order(*, external_channel: str, external_order_id: str) -> CommerceOrder | None:
    if not external_order_id:
        return None
    return CommerceOrder.objects.filter(
        external_channel=external_channel, external_order_id=external_order_id
    ).first()


def _customer_for(*, email: str, name: str) -> Customer:
    first_name, _space, last_name = name.strip().rpartition(" ")
    if not first_name:
        first_name, last_name = last_name, ""
    # get_or_create retries the read after a losing insert, so two orders of a new buyer share one.
    customer, _created = Customer.objects.get_or_create(
        email__iexact=email,
        defaults={"email": email, "first_name": first_name[:120], "last_name": last_name[:120]},
    )
    return customer


def _validate_lines(lines: Sequence[OrderLine]) -> None:
    if not lines:
        raise ValueError("an order needs at least one line")
    item_ids = [line.external_item_id for line in lines if line.external_item_id]
    if len(item_ids) != len(set(item_ids)):
        raise ValueError("external item ids must be unique within an order")


def order_create(
    *,
    actor: AbstractBaseUser | None,
    external_channel: str,
    external_order_id: str,
    increment_id: str | None,
    customer_email: str,
    customer_name: str,
    create_customer_account: bool,
    currency: str,
    lines: Sequence[OrderLine],
    billing_address: AddressData,
    shipping_address: AddressData,
    payment_method: str,
    po_number: str,
    shipping_method: str,
    shipping_amount: Decimal,
    status: str | None = None,
    purchased_at: datetime.datetime | None = None,
) -> CommerceOrder:
    """Create a new Commerce order with its items, both addresses and a history row.

    Guarantees:
    - idempotent on (external_channel, external_order_id): when that order exists, it is returned
      and nothing is written, also when two callers race (the loser returns the winner's order);
    - all or nothing: every SKU is in the catalog with enough salable quantity (counting what is
      reserved under order_stock_reference() for this order), stock is deducted and that
      reservation released, in one transaction, product rows locked in primary-key order;
    - the order number is `increment_id` when given, else the next number of the order sequence;
    - with `create_customer_account`, the order belongs to the customer with that email, created
      when missing; otherwise it is a guest order;
    - subtotal = sum(unit price x quantity), tax = sum(line tax), grand total = subtotal + tax +
      shipping; state "new", status `status` or "new";
    - its purchase date (created_at) is `purchased_at` (a sales channel's own date), else now.
    Raises ProductUnavailable (with .problems) when a SKU is missing or short, OrderNumberInUse
    when a given increment_id belongs to another order, ValueError on malformed input.
    """
    _validate_lines(lines)
    if create_customer_account and not customer_email:
        raise ValueError("a customer account needs an email address")
    existing = _external_order(
        external_channel=external_channel, external_order_id=external_order_id
    )
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            return _order_create_locked(
                actor=actor,
                external_channel=external_channel,
                external_order_id=external_order_id,
                increment_id=increment_id,
                customer_email=customer_email,
                customer_name=customer_name,
                create_customer_account=create_customer_account,
                currency=currency,
                lines=lines,
                billing_address=billing_address,
                shipping_address=shipping_address,
                payment_method=payment_method,
                po_number=po_number,
                shipping_method=shipping_method,
                shipping_amount=shipping_amount,
                status=status,
                purchased_at=purchased_at,
            )
    except IntegrityError:
        # A concurrent creator of the same channel order committed first: its order is the one.
        winner = _external_order(
            external_channel=external_channel, external_order_id=external_order_id
        )
        if winner is not None:
            return winner
        if increment_id and CommerceOrder.objects.filter(increment_id=increment_id).exists():
            raise OrderNumberInUse(increment_id=increment_id) from None
        raise


def _order_create_locked(
    *,
    actor,
    external_channel,
    external_order_id,
    increment_id,
    customer_email,
    customer_name,
    create_customer_account,
    currency,
    lines,
    billing_address,
    shipping_address,
    payment_method,
    po_number,
    shipping_method,
    shipping_amount,
    status,
    purchased_at,
) -> CommerceOrder:
    reference = (
        order_stock_reference(
            external_channel=external_channel, external_order_id=external_order_id
        )
        if external_order_id
        else ""
    )
    wanted = quantities_by_sku(lines)
    products = products_lock(skus=wanted, reference=reference)
    # Creators of one channel order queue on the same product locks: the later one finds the order.
    existing = _external_order(
        external_channel=external_channel, external_order_id=external_order_id
    )
    if existing is not None:
        return existing
    held = reserved_under(reference=reference, products=products.values())
    salable_check(wanted=wanted, products=products, held=held)

    if increment_id:
        if CommerceOrder.objects.filter(increment_id=increment_id).exists():
            raise OrderNumberInUse(increment_id=increment_id)
    else:
        increment_id = document_number_next(sequence=ORDER_SEQUENCE, model=CommerceOrder)
    customer = (
        _customer_for(email=customer_email, name=customer_name) if create_customer_account else None
    )
    subtotal = money(sum((line.price * line.quantity for line in lines), Decimal(0)))
    tax_amount = money(sum((line.tax_amount for line in lines), Decimal(0)))
    shipping_amount = money(shipping_amount)
    order = CommerceOrder.objects.create(
        increment_id=increment_id,
        state=OrderState.NEW,
        status=status or OrderState.NEW,
        customer=customer,
        customer_email=customer_email,
        customer_name=customer_name,
        currency=currency,
        payment_method=payment_method,
        po_number=po_number,
        shipping_method=shipping_method,
        subtotal=subtotal,
        shipping_amount=shipping_amount,
        tax_amount=tax_amount,
        grand_total=subtotal + tax_amount + shipping_amount,
        external_channel=external_channel,
        external_order_id=external_order_id,
        created_at=purchased_at or timezone.now(),
    )
    OrderAddress.objects.bulk_create(
        [
            OrderAddress(order=order, address_type=address_type, **dataclasses.asdict(address))
            for address_type, address in (
                (OrderAddress.AddressType.BILLING, billing_address),
                (OrderAddress.AddressType.SHIPPING, shipping_address),
            )
        ]
    )
    CommerceOrderItem.objects.bulk_create(
        [
            CommerceOrderItem(
                order=order,
                product=products[line.sku],
                sku=line.sku,
                name=line.name,
                external_item_id=line.external_item_id,
                quantity_ordered=line.quantity,
                price=money(line.price),
                tax_amount=money(line.tax_amount),
                row_total=money(line.price * line.quantity),
            )
            for line in lines
        ]
    )
    stock_deduct(wanted=wanted, products=products, held=held)
    order_event_append(
        order=order,
        actor=actor,
        action=OrderAction.PLACE,
        notes=[
            note(
                "commerce.order_placed",
                channel=external_channel,
                external_id=external_order_id,
            )
        ]
        if external_order_id
        else [],
    )
    return order


def order_complete(
    *,
    actor: AbstractBaseUser | None,
    order: CommerceOrder,
    comment: str = "",
    notes: Sequence[dict] = (),
) -> CommerceOrder:
    """Move a processing order to complete, as when the sales channel reports it shipped.

    Guarantees: state and status "complete"; every item's quantity not canceled counts as
    shipped; one history row with `comment` (a person's words) and `notes` (the system's, see
    commerce_orders.notes). Returns the updated order.
    Raises OrderTransitionError unless the order is processing.
    """
    with transaction.atomic():
        order = order_lock(order=order)
        order_transition_check(order=order, action=OrderAction.COMPLETE, target=OrderState.COMPLETE)
        for item in order.items.order_by("pk"):
            shippable = item.quantity_ordered - item.quantity_canceled
            if item.quantity_shipped < shippable:
                item.quantity_shipped = shippable
                item.save(update_fields=["quantity_shipped"])
        old_state, old_status = order.state, order.status
        order.state = order.status = OrderState.COMPLETE
        order.save(update_fields=["state", "status", "updated_at"])
        order_event_append(
            order=order,
            actor=actor,
            action=OrderAction.COMPLETE,
            old_state=old_state,
            old_status=old_status,
            comment=comment,
            notes=notes,
        )
        return order


def order_complete_after_channel_cancellation(
    *, actor: AbstractBaseUser | None, order: CommerceOrder, reason: str | dict
) -> CommerceOrder:
    """Settle an order that its sales channel cancelled after it was created here.

    As Adobe's Amazon channel does, the order becomes complete (not canceled): every item's
    quantity not shipped becomes canceled, those units go back into stock, and a history row
    gives `reason` (the channel's words, or a note). Returns the updated order.
    Raises OrderTransitionError unless the order is new or processing.
    """
    with transaction.atomic():
        order = order_lock(order=order)
        order_transition_check(
            order=order,
            action=OrderAction.COMPLETE_AFTER_CHANNEL_CANCELLATION,
            target=OrderState.COMPLETE,
        )
        returned: dict[int, int] = {}
        for item in order.items.order_by("pk"):
            newly_canceled = item.quantity_ordered - item.quantity_shipped - item.quantity_canceled
            if newly_canceled <= 0:
                continue
            item.quantity_canceled += newly_canceled
            item.save(update_fields=["quantity_canceled"])
            if item.product_id is not None:
                returned[item.product_id] = returned.get(item.product_id, 0) + newly_canceled
        stock_return(quantities=returned)
        old_state, old_status = order.state, order.status
        order.state = order.status = OrderState.COMPLETE
        order.save(update_fields=["state", "status", "updated_at"])
        order_event_append(
            order=order,
            actor=actor,
            action=OrderAction.COMPLETE_AFTER_CHANNEL_CANCELLATION,
            old_state=old_state,
            old_status=old_status,
            notes=[note("commerce.canceled_by_channel", reason=reason)],
        )
        return order


def order_hold(*, actor: AbstractBaseUser | None, order: CommerceOrder) -> CommerceOrder:
    """Put `order` on hold: it then accepts no invoice, shipment, credit memo or cancel.

    Guarantees: the state and status it had are kept in hold_before_state / hold_before_status
    for order_unhold; state and status become "holded"; one history row. Returns the order.
    Raises OrderTransitionError unless the order is new or processing.
    """
    with transaction.atomic():
        order = order_lock(order=order)
        order_transition_check(order=order, action=OrderAction.HOLD, target=OrderState.HOLDED)
        old_state, old_status = order.state, order.status
        order.hold_before_state, order.hold_before_status = old_state, old_status
        order.state = order.status = OrderState.HOLDED
        order.save(
            update_fields=[
                "state",
                "status",
                "hold_before_state",
                "hold_before_status",
                "updated_at",
            ]
        )
        order_event_append(
            order=order,
            actor=actor,
            action=OrderAction.HOLD,
            old_state=old_state,
            old_status=old_status,
            notes=[note("commerce.hold")],
        )
        return order


def order_unhold(*, actor: AbstractBaseUser | None, order: CommerceOrder) -> CommerceOrder:
    """Release `order` from hold, back to the state and status it had before order_hold.

    Guarantees: state and status restored from hold_before_state / hold_before_status (an order
    put on hold some other way, without them, returns to processing when anything was invoiced
    or shipped, else to new); those fields are cleared; one history row. Returns the order.
    Raises OrderTransitionError unless the order is on hold.
    """
    with transaction.atomic():
        order = order_lock(order=order)
        target = order.hold_before_state
        if not target and order.state == OrderState.HOLDED:
            is_started = order.items.filter(
                Q(quantity_invoiced__gt=0) | Q(quantity_shipped__gt=0)
            ).exists()
            target = OrderState.PROCESSING if is_started else OrderState.NEW
        order_transition_check(order=order, action=OrderAction.UNHOLD, target=target)
        old_state, old_status = order.state, order.status
        order.state = target
        order.status = order.hold_before_status or target
        order.hold_before_state = order.hold_before_status = ""
        order.save(
            update_fields=[
                "state",
                "status",
                "hold_before_state",
                "hold_before_status",
                "updated_at",
            ]
        )
        order_event_append(
            order=order,
            actor=actor,
            action=OrderAction.UNHOLD,
            old_state=old_state,
            old_status=old_status,
            notes=[note("commerce.unhold")],
        )
        return order


def order_cancel(
    *, actor: AbstractBaseUser | None, order: CommerceOrder, comment: str = ""
) -> CommerceOrder:
    """Cancel an order on which nothing was invoiced or shipped yet.

    The rule (Commerce cancels only what is not invoiced; since an invoice here bills every
    quantity at once, that means an order not invoiced at all): Cancel is allowed from new or
    processing when no item has an invoiced or shipped unit. An invoiced order is refunded with
    a credit memo instead, which closes it.
    Guarantees: every item's quantity not yet canceled becomes canceled and goes back into the
    catalog's stock; state and status "canceled"; one history row carrying `comment`. Returns the
    order.
    Raises OrderTransitionError when the order is on hold, complete, closed or canceled;
    CancelRefused (reason INVOICED, SHIPPED or NOTHING_LEFT) when its quantities forbid it.
    """
    with transaction.atomic():
        order = order_lock(order=order)
        order_transition_check(order=order, action=OrderAction.CANCEL, target=OrderState.CANCELED)
        items = list(order.items.order_by("pk"))
        if any(item.quantity_invoiced for item in items):
            raise CancelRefused(increment_id=order.increment_id, reason=CancelRefused.INVOICED)
        if any(item.quantity_shipped for item in items):
            raise CancelRefused(increment_id=order.increment_id, reason=CancelRefused.SHIPPED)
        returned: dict[int, int] = {}
        canceled_count = 0
        for item in items:
            newly_canceled = item.quantity_ordered - item.quantity_canceled
            if newly_canceled <= 0:
                continue
            canceled_count += newly_canceled
            item.quantity_canceled += newly_canceled
            item.save(update_fields=["quantity_canceled"])
            if item.product_id is not None:
                returned[item.product_id] = returned.get(item.product_id, 0) + newly_canceled
        if not canceled_count:
            raise CancelRefused(increment_id=order.increment_id, reason=CancelRefused.NOTHING_LEFT)
        stock_return(quantities=returned)
        old_state, old_status = order.state, order.status
        order.state = order.status = OrderState.CANCELED
        order.save(update_fields=["state", "status", "updated_at"])
        order_event_append(
            order=order,
            actor=actor,
            action=OrderAction.CANCEL,
            old_state=old_state,
            old_status=old_status,
            comment=comment,
            notes=[note("commerce.order_canceled")],
        )
        return order
