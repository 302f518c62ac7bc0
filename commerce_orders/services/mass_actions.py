"""Mass actions of the orders grid: one service call per order, each in its own transaction."""

import dataclasses
from collections.abc import Callable, Iterable

from django.contrib.auth.models import AbstractBaseUser
from django.utils.translation import gettext as _

from commerce_orders.exceptions import CommerceOrderError
from commerce_orders.models import CommerceOrder, OrderAction
from commerce_orders.services.orders import order_cancel, order_hold, order_unhold

MASS_ACTIONS: dict[OrderAction, Callable[..., CommerceOrder]] = {
    OrderAction.CANCEL: order_cancel,
    OrderAction.HOLD: order_hold,
    OrderAction.UNHOLD: order_unhold,
}


@dataclasses.dataclass
class MassActionResult:
    """`done`: order numbers acted on; `refused`: (order number or id, reason) pairs."""

    done: list[str] = dataclasses.field(default_factory=list)
    refused: list[tuple[str, str]] = dataclasses.field(default_factory=list)


def orders_mass_action(
    *, actor: AbstractBaseUser | None, order_ids: Iterable[int], action: OrderAction | str
) -> MassActionResult:
    """Cancel, hold or unhold the orders `order_ids`, each one on its own.

    Guarantees: orders are taken in primary-key order (so concurrent mass actions lock in one
    order); each goes through its own service (order_cancel / order_hold / order_unhold) in its
    own transaction, so an order is either fully done or untouched; a refusal (any
    CommerceOrderError) is collected with its message and the rest go on. An unknown id is
    refused as "not found". Call it outside a transaction, or the orders commit together.
    Raises ValueError for an action other than cancel, hold or unhold.
    """
    try:
        service = MASS_ACTIONS[OrderAction(action)]
    except (KeyError, ValueError):
        raise ValueError(f"no mass action {action!r}") from None
    wanted = sorted(set(order_ids))
    orders = CommerceOrder.objects.in_bulk(wanted)
    result = MassActionResult()
    for order_id in wanted:
        order = orders.get(order_id)
        if order is None:
            result.refused.append((str(order_id), _("Order not found.")))
            continue
        try:
            service(actor=actor, order=order)
        except CommerceOrderError as error:
            result.refused.append((order.increment_id, str(error)))
        else:
            result.done.append(order.increment_id)
    return result
