"""The order transition check and history row shared by every order service."""

from django.contrib.auth.models import AbstractBaseUser

from commerce_orders.exceptions import OrderTransitionError
from commerce_orders.models import (
    ORDER_TRANSITIONS,
    CommerceOrder,
    CommerceOrderEvent,
    OrderAction,
)


def order_lock(*, order: CommerceOrder) -> CommerceOrder:
    """Return a fresh copy of `order` with its row locked until the transaction ends."""
    return CommerceOrder.objects.select_for_update(of=("self",)).get(pk=order.pk)


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
) -> CommerceOrderEvent:
    """Append a history row recording `order`'s current state and status as the new ones."""
    return CommerceOrderEvent.objects.create(
        order=order,
        actor=actor,
        action=action,
        old_state=old_state,
        new_state=order.state,
        old_status=old_status,
        new_status=order.status,
        comment=comment,
    )
