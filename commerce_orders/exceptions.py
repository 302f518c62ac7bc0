"""Domain errors of the store's order system; messages are plain words a merchant can read."""

import dataclasses

from django.utils.translation import gettext as _

from commerce_orders.models import OrderAction, OrderState


class CommerceOrderError(Exception):
    """Base class: a move the order system refuses."""


class OrderTransitionError(CommerceOrderError):
    """The transition table does not allow `action` from the order's current state."""

    def __init__(self, *, increment_id: str, action: str, state: str, target: str) -> None:
        self.increment_id = increment_id
        self.action = action  # an OrderAction value
        self.state = state  # the order's OrderState value when refused
        self.target = target  # the OrderState value the service aimed for
        super().__init__(
            _("%(action)s is not allowed on order #%(number)s while it is %(state)s.")
            % {
                "action": OrderAction(action).label,
                "number": increment_id,
                "state": OrderState(state).label,
            }
        )


class NothingToInvoice(CommerceOrderError):
    """Every item of the order is already invoiced or canceled."""

    def __init__(self, *, increment_id: str) -> None:
        self.increment_id = increment_id
        super().__init__(
            _("Order #%(number)s has nothing left to invoice.") % {"number": increment_id}
        )


class OrderNumberInUse(CommerceOrderError):
    """A caller-given order number belongs to another order already."""

    def __init__(self, *, increment_id: str) -> None:
        self.increment_id = increment_id
        super().__init__(_("Order number %(number)s is already in use.") % {"number": increment_id})


@dataclasses.dataclass(frozen=True)
class StockProblem:
    """Why one SKU cannot be sold: `reason` is NOT_IN_CATALOG or OUT_OF_STOCK."""

    NOT_IN_CATALOG = "not_in_catalog"
    OUT_OF_STOCK = "out_of_stock"

    sku: str
    reason: str
    quantity_requested: int
    # Salable quantity at the time of the check; None when the SKU is not in the catalog.
    quantity_available: int | None = None

    @property
    def message(self) -> str:
        if self.reason == self.NOT_IN_CATALOG:
            return _("SKU %(sku)s is not in the catalog") % {"sku": self.sku}
        return _("SKU %(sku)s is out of stock (%(ordered)d ordered, %(available)d available)") % {
            "sku": self.sku,
            "ordered": self.quantity_requested,
            "available": self.quantity_available or 0,
        }


class ProductUnavailable(CommerceOrderError):
    """Some SKUs are not in the catalog or lack salable quantity; nothing was written.

    `problems` holds one StockProblem per such SKU, in the order the SKUs were given.
    """

    def __init__(self, problems: list[StockProblem]) -> None:
        self.problems = tuple(problems)
        super().__init__("; ".join(problem.message for problem in self.problems))
