"""Domain errors of the store's order system; messages are plain words a merchant can read."""

import dataclasses
from decimal import Decimal

from django.utils.translation import gettext as _

from commerce_orders.models import OrderAction, OrderState
from commerce_orders.notes import note


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


class NothingToShip(CommerceOrderError):
    """A shipment was asked for without any item quantity."""

    def __init__(self, *, increment_id: str) -> None:
        self.increment_id = increment_id
        super().__init__(
            _("A shipment of order #%(number)s needs at least one item to ship.")
            % {"number": increment_id}
        )


class NothingToRefund(CommerceOrderError):
    """Everything paid on the order is refunded already (or nothing was paid)."""

    def __init__(self, *, increment_id: str) -> None:
        self.increment_id = increment_id
        super().__init__(
            _("Order #%(number)s has nothing left to refund.") % {"number": increment_id}
        )


class OrderItemQuantityInvalid(CommerceOrderError):
    """A requested item quantity is not a positive whole number, or the item is not the order's.

    `quantity` is what was asked for; `sku` is "" when `order_item_id` is not an item of the order.
    """

    def __init__(
        self, *, increment_id: str, order_item_id: int, sku: str, quantity: object
    ) -> None:
        self.increment_id = increment_id
        self.order_item_id = order_item_id
        self.sku = sku
        self.quantity = quantity
        if sku:
            message = _(
                "The quantity of %(sku)s on order #%(number)s must be a positive number, "
                "got %(quantity)s."
            ) % {"sku": sku, "number": increment_id, "quantity": quantity}
        else:
            message = _("Item %(item)s is not an item of order #%(number)s.") % {
                "item": order_item_id,
                "number": increment_id,
            }
        super().__init__(message)


class ShipQuantityExceeded(CommerceOrderError):
    """More units of an item than are left to ship: ordered - max(shipped, refunded) - canceled."""

    def __init__(
        self,
        *,
        increment_id: str,
        order_item_id: int,
        sku: str,
        quantity_requested: int,
        quantity_ordered: int,
        quantity_shipped: int,
        quantity_refunded: int,
        quantity_canceled: int,
        quantity_available: int,
    ) -> None:
        self.increment_id = increment_id
        self.order_item_id = order_item_id
        self.sku = sku
        self.quantity_requested = quantity_requested
        self.quantity_ordered = quantity_ordered
        self.quantity_shipped = quantity_shipped
        self.quantity_refunded = quantity_refunded
        self.quantity_canceled = quantity_canceled
        self.quantity_available = quantity_available
        super().__init__(
            _(
                "Cannot ship %(requested)d of %(sku)s on order #%(number)s: %(ordered)d ordered, "
                "%(shipped)d shipped, %(refunded)d refunded, %(canceled)d canceled, "
                "%(available)d left to ship."
            )
            % {
                "requested": quantity_requested,
                "sku": sku,
                "number": increment_id,
                "ordered": quantity_ordered,
                "shipped": quantity_shipped,
                "refunded": quantity_refunded,
                "canceled": quantity_canceled,
                "available": quantity_available,
            }
        )


class RefundQuantityExceeded(CommerceOrderError):
    """More units of an item than are left to refund: invoiced - refunded."""

    def __init__(
        self,
        *,
        increment_id: str,
        order_item_id: int,
        sku: str,
        quantity_requested: int,
        quantity_invoiced: int,
        quantity_refunded: int,
        quantity_available: int,
    ) -> None:
        self.increment_id = increment_id
        self.order_item_id = order_item_id
        self.sku = sku
        self.quantity_requested = quantity_requested
        self.quantity_invoiced = quantity_invoiced
        self.quantity_refunded = quantity_refunded
        self.quantity_available = quantity_available
        super().__init__(
            _(
                "Cannot refund %(requested)d of %(sku)s on order #%(number)s: %(invoiced)d "
                "invoiced, %(refunded)d refunded, %(available)d left to refund."
            )
            % {
                "requested": quantity_requested,
                "sku": sku,
                "number": increment_id,
                "invoiced": quantity_invoiced,
                "refunded": quantity_refunded,
                "available": quantity_available,
            }
        )


class RefundAmountExceeded(CommerceOrderError):
    """A credit memo would refund more than is refundable.

    `part` is SHIPPING (refund shipping above the invoiced shipping not yet refunded) or TOTAL
    (grand total above total paid minus total refunded).
    """

    SHIPPING = "shipping"
    TOTAL = "total"

    def __init__(
        self, *, increment_id: str, part: str, amount_requested: Decimal, amount_available: Decimal
    ) -> None:
        self.increment_id = increment_id
        self.part = part
        self.amount_requested = amount_requested
        self.amount_available = amount_available
        if part == self.SHIPPING:
            message = _(
                "Order #%(number)s: the shipping refund of %(requested)s is more than the "
                "%(available)s of shipping left to refund."
            )
        else:
            message = _(
                "Order #%(number)s: the credit memo total of %(requested)s is more than the "
                "%(available)s left to refund."
            )
        cent = Decimal("0.01")
        super().__init__(
            message
            % {
                "number": increment_id,
                "requested": Decimal(amount_requested).quantize(cent),
                "available": Decimal(amount_available).quantize(cent),
            }
        )


class CreditMemoTotalNotPositive(CommerceOrderError):
    """The credit memo's grand total would be zero or negative (say, a fee above the refund)."""

    def __init__(self, *, increment_id: str, grand_total: Decimal) -> None:
        self.increment_id = increment_id
        self.grand_total = grand_total
        super().__init__(
            _("The credit memo's total must be positive (order #%(number)s, total %(total)s).")
            % {"number": increment_id, "total": grand_total}
        )


class CancelRefused(CommerceOrderError):
    """The order's state allows Cancel but its quantities do not.

    `reason` is INVOICED (something was invoiced: refund it with a credit memo instead),
    SHIPPED (something left the warehouse) or NOTHING_LEFT (every quantity is canceled).
    """

    INVOICED = "invoiced"
    SHIPPED = "shipped"
    NOTHING_LEFT = "nothing_left"

    def __init__(self, *, increment_id: str, reason: str) -> None:
        self.increment_id = increment_id
        self.reason = reason
        messages = {
            self.INVOICED: _(
                "Order #%(number)s cannot be canceled: it has been invoiced. "
                "Create a credit memo instead."
            ),
            self.SHIPPED: _("Order #%(number)s cannot be canceled: items have been shipped."),
            self.NOTHING_LEFT: _("Order #%(number)s has nothing left to cancel."),
        }
        super().__init__(messages[reason] % {"number": increment_id})


class OrderCommentEmpty(CommerceOrderError):
    """A comment without text."""

    def __init__(self, *, increment_id: str) -> None:
        self.increment_id = increment_id
        super().__init__(
            _("Please enter a comment for order #%(number)s.") % {"number": increment_id}
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
    def note(self) -> dict:
        """The problem as a stored note (commerce_orders.notes), shown in the reader's language."""
        if self.reason == self.NOT_IN_CATALOG:
            return note("commerce.sku_not_in_catalog", sku=self.sku)
        return note(
            "commerce.sku_out_of_stock",
            sku=self.sku,
            ordered=self.quantity_requested,
            available=self.quantity_available or 0,
        )

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
