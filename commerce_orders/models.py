"""The store's own orders. This app knows nothing about Amazon: a channel is just a name."""

import dataclasses
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from commerce_orders.notes import notes_render


def money_field(verbose_name, **kwargs):
    return models.DecimalField(
        verbose_name, max_digits=14, decimal_places=2, default=Decimal("0.00"), **kwargs
    )


class Product(models.Model):
    sku = models.CharField(_("SKU"), max_length=64, unique=True)
    name = models.CharField(_("name"), max_length=255)
    price = money_field(_("price"))
    quantity_in_stock = models.IntegerField(_("quantity in stock"), default=0)
    # Held for pending channel orders; equals the sum of this product's StockReservation rows and
    # changes only in commerce_orders.services.stock, under this row's lock.
    quantity_reserved = models.PositiveIntegerField(_("quantity reserved"), default=0)

    class Meta:
        ordering = ("sku",)
        verbose_name = _("product")
        verbose_name_plural = _("products")
        constraints = [
            models.CheckConstraint(
                condition=Q(quantity_in_stock__gte=0), name="product_stock_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.sku} {self.name}"

    @property
    def quantity_salable(self) -> int:
        return self.quantity_in_stock - self.quantity_reserved


class Customer(models.Model):
    email = models.EmailField(_("email"), unique=True)
    first_name = models.CharField(_("first name"), max_length=120, blank=True)
    last_name = models.CharField(_("last name"), max_length=120, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ("email",)
        verbose_name = _("customer")
        verbose_name_plural = _("customers")

    def __str__(self) -> str:
        return self.email


class OrderState(models.TextChoices):
    NEW = "new", _("New")
    PROCESSING = "processing", _("Processing")
    COMPLETE = "complete", _("Complete")
    CLOSED = "closed", _("Closed")
    CANCELED = "canceled", _("Canceled")
    HOLDED = "holded", _("On Hold")


class OrderAction(models.TextChoices):
    """What can happen to an order; the history's action column and the transition table's key."""

    PLACE = "place", _("Order Placed")
    INVOICE = "invoice", _("Invoice")
    SHIP = "ship", _("Ship")
    COMPLETE = "complete", _("Complete")
    COMPLETE_AFTER_CHANNEL_CANCELLATION = (
        "channel_cancellation",
        _("Complete after cancellation by the sales channel"),
    )
    HOLD = "hold", _("Hold")
    UNHOLD = "unhold", _("Unhold")
    CANCEL = "cancel", _("Cancel")
    CREDIT_MEMO = "credit_memo", _("Credit Memo")
    COMMENT = "comment", _("Comment")
    EMAIL = "email", _("Send Email")


@dataclasses.dataclass(frozen=True)
class OrderTransition:
    sources: frozenset[OrderState]
    targets: frozenset[OrderState]


def _transition(sources, targets) -> OrderTransition:
    return OrderTransition(frozenset(sources), frozenset(targets))


_S = OrderState
_EVERY_STATE = frozenset(OrderState)
# The one table of allowed order moves: action -> (states it may start from, states it may end in).
# A service picks its target from `targets` (unhold returns to the state held from; a credit memo
# closes the order only when everything invoiced is refunded) and re-checks it under the row lock.
# Quantities decide the rest (order_actions_available): Invoice needs something left to invoice,
# Ship something left to ship, Credit Memo something paid and not refunded, and Cancel an order
# on which nothing was invoiced or shipped yet (an invoiced order is refunded, not canceled).
# Comment and Send Email keep the state: their target is the state they start from.
ORDER_TRANSITIONS: dict[OrderAction, OrderTransition] = {
    # Complete when everything was shipped before it was invoiced, otherwise processing.
    OrderAction.INVOICE: _transition({_S.NEW, _S.PROCESSING}, {_S.PROCESSING, _S.COMPLETE}),
    # Complete once everything is shipped and invoiced, otherwise processing.
    OrderAction.SHIP: _transition({_S.NEW, _S.PROCESSING}, {_S.PROCESSING, _S.COMPLETE}),
    OrderAction.COMPLETE: _transition({_S.PROCESSING}, {_S.COMPLETE}),
    # Adobe's Amazon channel completes (not cancels) an order the channel cancelled after import.
    OrderAction.COMPLETE_AFTER_CHANNEL_CANCELLATION: _transition(
        {_S.NEW, _S.PROCESSING}, {_S.COMPLETE}
    ),
    OrderAction.HOLD: _transition({_S.NEW, _S.PROCESSING}, {_S.HOLDED}),
    OrderAction.UNHOLD: _transition({_S.HOLDED}, {_S.NEW, _S.PROCESSING}),
    OrderAction.CANCEL: _transition({_S.NEW, _S.PROCESSING}, {_S.CANCELED}),
    # Closed when every invoiced unit is refunded; complete when nothing is left to ship.
    OrderAction.CREDIT_MEMO: _transition(
        {_S.PROCESSING, _S.COMPLETE}, {_S.PROCESSING, _S.COMPLETE, _S.CLOSED}
    ),
    OrderAction.COMMENT: _transition(_EVERY_STATE, _EVERY_STATE),
    OrderAction.EMAIL: _transition(_EVERY_STATE - {_S.CANCELED}, _EVERY_STATE - {_S.CANCELED}),
}
del _S, _EVERY_STATE


def order_actions_allowed(state: str) -> list[OrderAction]:
    """The actions the table allows from `state`, for buttons and checks."""
    return [action for action, move in ORDER_TRANSITIONS.items() if state in move.sources]


class CommerceOrder(models.Model):
    increment_id = models.CharField(_("order number"), max_length=32, unique=True)
    state = models.CharField(
        _("state"), max_length=12, choices=OrderState.choices, default=OrderState.NEW
    )
    # The status label shown to merchants; a store may use a custom one for a state.
    # Indexed by commerce_order_status_id (status filter, status sort, statuses in use).
    status = models.CharField(_("status"), max_length=32, default=OrderState.NEW)
    customer = models.ForeignKey(
        Customer,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="orders",
        verbose_name=_("customer"),
    )
    customer_email = models.EmailField(_("customer email"), max_length=255, blank=True)
    customer_name = models.CharField(_("customer name"), max_length=255, blank=True)
    currency = models.CharField(_("currency"), max_length=3)
    payment_method = models.CharField(_("payment method"), max_length=64)
    po_number = models.CharField(_("purchase order number"), max_length=64, blank=True)
    shipping_method = models.CharField(_("shipping method"), max_length=64, blank=True)
    subtotal = money_field(_("subtotal"))
    shipping_amount = money_field(_("shipping & handling"))
    tax_amount = money_field(_("tax"))
    grand_total = money_field(_("grand total"))
    total_paid = money_field(_("total paid"))
    total_refunded = money_field(_("total refunded"))
    # Where the order came from: a sales channel name and its own order id (no foreign key).
    external_channel = models.CharField(_("sales channel"), max_length=32, blank=True)
    external_order_id = models.CharField(_("channel order id"), max_length=64, blank=True)
    # What order_unhold restores, as Commerce's hold_before_state / hold_before_status; blank
    # unless the order is on hold.
    hold_before_state = models.CharField(
        _("state before hold"), max_length=12, choices=OrderState.choices, blank=True
    )
    hold_before_status = models.CharField(_("status before hold"), max_length=32, blank=True)
    # When the buyer placed the order: now for the store's own orders, the channel's purchase
    # date for an imported one (order_create's purchased_at).
    created_at = models.DateTimeField(_("purchase date"), default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ("-created_at", "-id")
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        # The orders grid: keyset pages on (sort key, id), one index per sort the grid offers,
        # in the selector's ORDER BY (read backwards for descending); increment_id is unique, so
        # its unique index serves (increment_id, id). Then the status filter by date.
        indexes = [
            models.Index(fields=("created_at", "id"), name="commerce_order_created_id"),
            models.Index(fields=("grand_total", "id"), name="commerce_order_total_id"),
            models.Index(fields=("customer_name", "id"), name="commerce_order_customer_id"),
            models.Index(fields=("status", "id"), name="commerce_order_status_id"),
            models.Index(fields=("status", "created_at"), name="commerce_order_status_created"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=("external_channel", "external_order_id"),
                condition=~Q(external_order_id=""),
                name="commerce_order_unique_external_order",
            ),
            models.CheckConstraint(
                condition=Q(total_refunded__lte=F("total_paid")),
                name="commerce_order_refund_within_paid",
            ),
        ]

    def __str__(self) -> str:
        return self.increment_id

    @property
    def is_guest(self) -> bool:
        return self.customer_id is None

    @property
    def total_due(self) -> Decimal:
        return self.grand_total - self.total_paid


class OrderAddress(models.Model):
    class AddressType(models.TextChoices):
        BILLING = "billing", _("Billing Address")
        SHIPPING = "shipping", _("Shipping Address")

    order = models.ForeignKey(
        CommerceOrder, on_delete=models.CASCADE, related_name="addresses", verbose_name=_("order")
    )
    address_type = models.CharField(_("type"), max_length=8, choices=AddressType.choices)
    name = models.CharField(_("name"), max_length=255, blank=True)
    street = models.TextField(_("street address"), blank=True)
    city = models.CharField(_("city"), max_length=120, blank=True)
    region = models.CharField(_("state/province"), max_length=120, blank=True)
    postal_code = models.CharField(_("zip/postal code"), max_length=32, blank=True)
    country_code = models.CharField(_("country"), max_length=2, blank=True)
    phone = models.CharField(_("phone number"), max_length=40, blank=True)

    class Meta:
        verbose_name = _("order address")
        verbose_name_plural = _("order addresses")
        constraints = [
            models.UniqueConstraint(
                fields=("order", "address_type"), name="order_address_one_per_type"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_address_type_display()}: {self.name}"


class CommerceOrderItem(models.Model):
    order = models.ForeignKey(
        CommerceOrder, on_delete=models.CASCADE, related_name="items", verbose_name=_("order")
    )
    product = models.ForeignKey(
        Product,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="order_items",
        verbose_name=_("product"),
    )
    sku = models.CharField(_("SKU"), max_length=64)
    name = models.CharField(_("product name"), max_length=500)
    external_item_id = models.CharField(_("channel item id"), max_length=64, blank=True)
    quantity_ordered = models.PositiveIntegerField(_("ordered"))
    quantity_invoiced = models.PositiveIntegerField(_("invoiced"), default=0)
    quantity_shipped = models.PositiveIntegerField(_("shipped"), default=0)
    quantity_refunded = models.PositiveIntegerField(_("refunded"), default=0)
    quantity_canceled = models.PositiveIntegerField(_("canceled"), default=0)
    price = money_field(_("price"))
    tax_amount = money_field(_("tax amount"))
    row_total = money_field(_("row total"))

    class Meta:
        ordering = ("order", "id")
        verbose_name = _("order item")
        verbose_name_plural = _("order items")
        constraints = [
            models.CheckConstraint(
                condition=Q(quantity_invoiced__lte=F("quantity_ordered"))
                & Q(quantity_shipped__lte=F("quantity_ordered"))
                & Q(quantity_refunded__lte=F("quantity_invoiced"))
                & Q(quantity_canceled__lte=F("quantity_ordered")),
                name="order_item_quantities_within_ordered",
            ),
            models.UniqueConstraint(
                fields=("order", "external_item_id"),
                condition=~Q(external_item_id=""),
                name="order_item_unique_external_item",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.sku} x {self.quantity_ordered}"

    @property
    def quantity_to_invoice(self) -> int:
        return max(self.quantity_ordered - self.quantity_invoiced - self.quantity_canceled, 0)

    @property
    def quantity_to_ship(self) -> int:
        # As Commerce: a refunded unit that was never shipped is not shipped any more.
        shipped_or_refunded = max(self.quantity_shipped, self.quantity_refunded)
        return max(self.quantity_ordered - shipped_or_refunded - self.quantity_canceled, 0)

    @property
    def quantity_to_refund(self) -> int:
        return max(self.quantity_invoiced - self.quantity_refunded, 0)


class CommerceOrderEvent(models.Model):
    """Append-only status history and comments: who, what, old -> new, when."""

    order = models.ForeignKey(
        CommerceOrder, on_delete=models.CASCADE, related_name="events", verbose_name=_("order")
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="commerce_order_events",
        verbose_name=_("user"),
    )
    action = models.CharField(_("action"), max_length=32, choices=OrderAction.choices)
    old_state = models.CharField(_("old state"), max_length=12, blank=True)
    new_state = models.CharField(_("new state"), max_length=12, blank=True)
    old_status = models.CharField(_("old status"), max_length=32, blank=True)
    new_status = models.CharField(_("new status"), max_length=32, blank=True)
    # What a person wrote; what the system says is in `notes`, as codes (commerce_orders.notes).
    comment = models.TextField(_("comment"), blank=True)
    notes = models.JSONField(_("notes"), default=list, blank=True)
    is_customer_notified = models.BooleanField(_("customer notified"), default=False)
    is_visible_on_storefront = models.BooleanField(_("visible on storefront"), default=False)
    created_at = models.DateTimeField(_("when"), auto_now_add=True, db_index=True)

    class Meta:
        ordering = ("-created_at", "-id")
        verbose_name = _("order history entry")
        verbose_name_plural = _("order history")

    def __str__(self) -> str:
        return f"{self.order_id} {self.action}"

    @property
    def comment_lines(self) -> list[str]:
        """The system's notes in the reader's language, then the person's comment."""
        lines = notes_render(self.notes)
        if self.comment:
            lines.append(self.comment)
        return lines

    @property
    def comment_text(self) -> str:
        return "\n".join(self.comment_lines)


class CommerceSequence(models.Model):
    """A counter for document numbers (orders, invoices...), incremented under a row lock."""

    name = models.CharField(_("name"), max_length=32, unique=True)
    last_value = models.PositiveBigIntegerField(_("last value"), default=0)

    class Meta:
        ordering = ("name",)
        verbose_name = _("number sequence")
        verbose_name_plural = _("number sequences")

    def __str__(self) -> str:
        return f"{self.name}: {self.last_value}"


class InvoiceState(models.TextChoices):
    OPEN = "open", _("Pending")
    PAID = "paid", _("Paid")
    CANCELED = "canceled", _("Canceled")


class Invoice(models.Model):
    increment_id = models.CharField(_("invoice number"), max_length=32, unique=True)
    order = models.ForeignKey(
        CommerceOrder, on_delete=models.PROTECT, related_name="invoices", verbose_name=_("order")
    )
    state = models.CharField(
        _("status"), max_length=8, choices=InvoiceState.choices, default=InvoiceState.OPEN
    )
    subtotal = money_field(_("subtotal"))
    shipping_amount = money_field(_("shipping & handling"))
    tax_amount = money_field(_("tax"))
    grand_total = money_field(_("grand total"))
    created_at = models.DateTimeField(_("invoice date"), auto_now_add=True, db_index=True)

    class Meta:
        ordering = ("-created_at", "-id")
        verbose_name = _("invoice")
        verbose_name_plural = _("invoices")

    def __str__(self) -> str:
        return self.increment_id


class InvoiceItem(models.Model):
    invoice = models.ForeignKey(
        Invoice, on_delete=models.CASCADE, related_name="items", verbose_name=_("invoice")
    )
    order_item = models.ForeignKey(
        CommerceOrderItem,
        on_delete=models.PROTECT,
        related_name="invoice_items",
        verbose_name=_("order item"),
    )
    sku = models.CharField(_("SKU"), max_length=64)
    name = models.CharField(_("product name"), max_length=500)
    quantity = models.PositiveIntegerField(_("qty invoiced"))
    price = money_field(_("price"))
    tax_amount = money_field(_("tax amount"))
    row_total = money_field(_("row total"))

    class Meta:
        ordering = ("invoice", "id")
        verbose_name = _("invoice item")
        verbose_name_plural = _("invoice items")
        constraints = [
            models.CheckConstraint(
                condition=Q(quantity__gt=0), name="invoice_item_quantity_positive"
            ),
            models.UniqueConstraint(
                fields=("invoice", "order_item"), name="invoice_item_one_per_order_item"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.sku} x {self.quantity}"


class StockReservation(models.Model):
    """Quantity held for a pending order, under a reference derived from that order."""

    product = models.ForeignKey(
        Product, on_delete=models.PROTECT, related_name="reservations", verbose_name=_("product")
    )
    reference = models.CharField(_("reference"), max_length=128, db_index=True)
    quantity = models.PositiveIntegerField(_("quantity"))
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ("reference", "product")
        verbose_name = _("stock reservation")
        verbose_name_plural = _("stock reservations")
        constraints = [
            models.UniqueConstraint(
                fields=("product", "reference"), name="stock_reservation_one_per_product_reference"
            ),
            models.CheckConstraint(
                condition=Q(quantity__gt=0), name="stock_reservation_quantity_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.reference}: {self.product_id} x {self.quantity}"


class Shipment(models.Model):
    """Goods that left the warehouse for an order, with one carrier tracking number."""

    increment_id = models.CharField(_("shipment number"), max_length=32, unique=True)
    order = models.ForeignKey(
        CommerceOrder, on_delete=models.PROTECT, related_name="shipments", verbose_name=_("order")
    )
    carrier_code = models.CharField(_("carrier"), max_length=64)
    carrier_title = models.CharField(_("title"), max_length=255, blank=True)
    shipping_method = models.CharField(_("shipping method"), max_length=128, blank=True)
    tracking_number = models.CharField(_("tracking number"), max_length=128, blank=True)
    total_quantity = models.PositiveIntegerField(_("total qty"), default=0)
    created_at = models.DateTimeField(_("date shipped"), auto_now_add=True, db_index=True)

    class Meta:
        ordering = ("-created_at", "-id")
        verbose_name = _("shipment")
        verbose_name_plural = _("shipments")

    def __str__(self) -> str:
        return self.increment_id


class ShipmentItem(models.Model):
    shipment = models.ForeignKey(
        Shipment, on_delete=models.CASCADE, related_name="items", verbose_name=_("shipment")
    )
    order_item = models.ForeignKey(
        CommerceOrderItem,
        on_delete=models.PROTECT,
        related_name="shipment_items",
        verbose_name=_("order item"),
    )
    sku = models.CharField(_("SKU"), max_length=64)
    name = models.CharField(_("product name"), max_length=500)
    quantity = models.PositiveIntegerField(_("qty shipped"))

    class Meta:
        ordering = ("shipment", "id")
        verbose_name = _("shipment item")
        verbose_name_plural = _("shipment items")
        constraints = [
            models.CheckConstraint(
                condition=Q(quantity__gt=0), name="shipment_item_quantity_positive"
            ),
            models.UniqueConstraint(
                fields=("shipment", "order_item"), name="shipment_item_one_per_order_item"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.sku} x {self.quantity}"


class CreditMemo(models.Model):
    """Money given back on an order: grand total = subtotal + tax + shipping + adjustment refund
    - adjustment fee, always positive."""

    increment_id = models.CharField(_("credit memo number"), max_length=32, unique=True)
    order = models.ForeignKey(
        CommerceOrder,
        on_delete=models.PROTECT,
        related_name="credit_memos",
        verbose_name=_("order"),
    )
    subtotal = money_field(_("subtotal"))
    shipping_amount = money_field(_("refund shipping"))
    tax_amount = money_field(_("tax"))
    adjustment_refund = money_field(_("adjustment refund"))
    adjustment_fee = money_field(_("adjustment fee"))
    grand_total = money_field(_("grand total"))
    comment = models.TextField(_("comment"), blank=True)
    is_returned_to_stock = models.BooleanField(_("returned to stock"), default=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True, db_index=True)

    class Meta:
        ordering = ("-created_at", "-id")
        verbose_name = _("credit memo")
        verbose_name_plural = _("credit memos")
        constraints = [
            models.CheckConstraint(
                condition=Q(grand_total__gt=0), name="credit_memo_grand_total_positive"
            ),
            models.CheckConstraint(
                condition=Q(shipping_amount__gte=0)
                & Q(adjustment_refund__gte=0)
                & Q(adjustment_fee__gte=0),
                name="credit_memo_amounts_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return self.increment_id


class CreditMemoItem(models.Model):
    credit_memo = models.ForeignKey(
        CreditMemo, on_delete=models.CASCADE, related_name="items", verbose_name=_("credit memo")
    )
    order_item = models.ForeignKey(
        CommerceOrderItem,
        on_delete=models.PROTECT,
        related_name="credit_memo_items",
        verbose_name=_("order item"),
    )
    sku = models.CharField(_("SKU"), max_length=64)
    name = models.CharField(_("product name"), max_length=500)
    quantity = models.PositiveIntegerField(_("qty refunded"))
    price = money_field(_("price"))
    tax_amount = money_field(_("tax amount"))
    row_total = money_field(_("row total"))

    class Meta:
        ordering = ("credit_memo", "id")
        verbose_name = _("credit memo item")
        verbose_name_plural = _("credit memo items")
        constraints = [
            models.CheckConstraint(
                condition=Q(quantity__gt=0), name="credit_memo_item_quantity_positive"
            ),
            models.UniqueConstraint(
                fields=("credit_memo", "order_item"), name="credit_memo_item_one_per_order_item"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.sku} x {self.quantity}"
