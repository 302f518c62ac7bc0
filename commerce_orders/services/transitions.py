"""The order transition check and history row shared by every order service."""

from django.contrib.auth.models import AbstractBaseUser

from commerce_orders.exceptions import OrderItemQuantityInvalid, OrderTransitionError
from commerce_orders.models import (
    ORDER_TRANSITIONS,
    CommerceOrder,
    CommerceOrderEvent,
    CommerceOrderItem,
    OrderAction,
)


def order_lock(*, order: CommerceOrder) -> CommerceOrder:
    """Return a fresh copy of `order` with its row locked until the transaction ends."""
    return CommerceOrder.objects.select_for_update(of=("self",)).get(pk=order.pk)


def order_action_check(*, order: CommerceOrder, action: OrderAction) -> None:
    """Raise OrderTransitionError unless the table allows `action` from the order's state, to any
    target. Services call it before reading quantities, then order_transition_check once they
    know their target."""
    move = ORDER_TRANSITIONS.get(action)
    if move is None or order.state not in move.sources:
        raise OrderTransitionError(
            increment_id=order.increment_id, action=action, state=order.state, target=""
        )


def order_state_set(*, order: CommerceOrder, state: str) -> None:
    """Move `order` to `state` in memory; the status label follows only when the state changes,
    so that a store's custom status survives moves that keep the state."""
    if order.state != state:
        order.state = state
        order.status = state


def order_transition_check(*, order: CommerceOrder, action: OrderAction, target: str) -> None:
    """Raise OrderTransitionError unless the table allows `action` from the order's state to
    `target`. Call it on a locked row (see order_lock)."""
    move = ORDER_TRANSITIONS.get(action)
    if move is None or order.state not in move.sources or target not in move.targets:
        raise OrderTransitionError(
            increment_id=order.increment_id,
            action=action,
            state=order.state,
            target=target,
        )


def order_event_append(
    *,
    order: CommerceOrder,
    actor: AbstractBaseUser | None,
    action: OrderAction,
    old_state: str = "",
    old_status: str = "",
    comment: str = "",
    notes: list[dict] | tuple = (),
    is_customer_notified: bool = False,
    is_visible_on_storefront: bool = False,
) -> CommerceOrderEvent:
    """Append a history row recording `order`'s current state and status as the new ones: what
    the system says in `notes` (commerce_orders.notes), what a person wrote in `comment`."""
    return CommerceOrderEvent.objects.create(
        order=order,
        actor=actor,
        action=action,
        old_state=old_state,
        new_state=order.state,
        old_status=old_status,
        new_status=order.status,
        comment=comment,
        notes=list(notes),
        is_customer_notified=is_customer_notified,
        is_visible_on_storefront=is_visible_on_storefront,
    )


def order_items_requested(
    *, order: CommerceOrder, quantities: dict[int, int]
) -> tuple[list[CommerceOrderItem], list[tuple[CommerceOrderItem, int]]]:
    """Read the locked order's items and pair the requested ones with their quantities.

    Returns (every item of the order, [(item, quantity)] in item primary-key order).
    Raises OrderItemQuantityInvalid for an item id that is not the order's or a quantity that is
    not a positive integer.
    """
    items = list(order.items.order_by("pk"))
    by_id = {item.pk: item for item in items}
    for item_id, quantity in quantities.items():
        item = by_id.get(item_id)
        is_positive_int = (
            isinstance(quantity, int) and not isinstance(quantity, bool) and quantity > 0
        )
        if item is None or not is_positive_int:
            raise OrderItemQuantityInvalid(
                increment_id=order.increment_id,
                order_item_id=item_id,
                sku=item.sku if item is not None else "",
                quantity=quantity,
            )
    requested = [(item, quantities[item.pk]) for item in items if item.pk in quantities]
    return items, requested


def order_is_fulfilled(items: list[CommerceOrderItem]) -> bool:
    """Everything is invoiced and shipped (or canceled, or refunded before it shipped)."""
    return all(item.quantity_to_ship == 0 and item.quantity_to_invoice == 0 for item in items)
