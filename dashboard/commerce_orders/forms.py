"""The Commerce order pages' forms: the Orders grid, mass actions, documents, comments."""

from decimal import Decimal
from typing import ClassVar

from django import forms
from django.db import connection
from django.utils.translation import gettext_lazy as _

from amazon_channel.models import AdjustmentReason
from amazon_channel.orders.commerce_import import CHANNEL
from amazon_channel.orders.commerce_to_amazon import DEFAULT_REFUND_REASON, amazon_order_of
from amazon_channel.spapi.carriers import AMAZON_CARRIER_CHOICES, OTHER_CARRIER
from commerce_orders.keyset import InvalidCursor
from commerce_orders.models import CommerceOrder, InvoiceState, OrderState
from commerce_orders.selectors import OrderGridFilterSet, order_grid_cursor_decode
from dashboard.lists import DIRECTION_CHOICES, FilterDateField, ListFilterForm

COMMERCE_SORT_CHOICES = [
    ("created_at", _("Purchase Date")),
    ("increment_id", _("ID")),
    ("customer_name", _("Customer Name")),
    ("grand_total", _("Grand Total")),
    ("status", _("Status")),
]
COMMERCE_FILTER_FIELDS = tuple(OrderGridFilterSet.base_filters)
COMMERCE_PAGE_SIZE = 20
ZERO = Decimal("0.00")
# Amazon's carrier codes (confirmShipment's carrierCode); "Other" takes the carrier's name as title.
CARRIER_CHOICES = [
    ("DHL", "DHL"),
    ("UPS", "UPS"),
    ("FedEx", "FedEx"),
    ("USPS", "USPS"),
    ("Deutsche Post", "Deutsche Post"),
    ("Royal Mail", "Royal Mail"),
    ("La Poste", "La Poste"),
    ("PostNL", "PostNL"),
    ("Poste Italiane", "Poste Italiane"),
    ("Other", _("Other")),
]


SALES_CHANNEL_CHOICES = [("", _("All Sales Channels")), (CHANNEL, _("Amazon"))]


class CommerceOrderGridForm(ListFilterForm):
    """The Orders grid's GET form: search, filters, sort and the page cursor (after or before);
    see ListFilterForm."""

    defaults: ClassVar[dict[str, str]] = {"sort": "created_at", "direction": "desc"}
    filter_fields = COMMERCE_FILTER_FIELDS
    ranges = (("purchased_from", "purchased_to"), ("total_min", "total_max"))
    cursor_fields = ("after", "before")

    search = forms.CharField(
        label=_("Search by keyword"),
        max_length=255,
        required=False,
        widget=forms.TextInput(attrs={"type": "search"}),
        help_text=_("Order number, Amazon order number, customer name or email"),
    )
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=[("", _("Any status")), *OrderState.choices]
    )
    purchased_from = FilterDateField(label=_("Purchase date from"), required=False)
    purchased_to = FilterDateField(label=_("Purchase date to"), required=False)
    total_min = forms.DecimalField(
        label=_("Grand Total from"), required=False, min_value=0, max_digits=14, decimal_places=2
    )
    total_max = forms.DecimalField(
        label=_("Grand Total to"), required=False, min_value=0, max_digits=14, decimal_places=2
    )
    channel = forms.ChoiceField(
        label=_("Purchased From"), required=False, choices=SALES_CHANNEL_CHOICES
    )
    sort = forms.ChoiceField(label=_("Sort by"), required=False, choices=COMMERCE_SORT_CHOICES)
    direction = forms.ChoiceField(label=_("Order"), required=False, choices=DIRECTION_CHOICES)
    after = forms.CharField(required=False, widget=forms.HiddenInput)
    before = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, statuses=(), **kwargs):
        """`statuses`: the statuses in use (order_statuses_in_use), offered after the states'
        own, so that orders with a store's custom status can be found."""
        super().__init__(*args, **kwargs)
        custom = [(status, status) for status in statuses if status not in OrderState.values]
        self.fields["status"].choices = [("", _("Any status")), *OrderState.choices, *custom]

    def clean(self):
        cleaned = super().clean()
        cleaned["grid_sort"] = self.grid_sort(cleaned)
        for name in ("after", "before"):
            cursor = cleaned.get(name)
            if not cursor:
                continue
            try:
                order_grid_cursor_decode(cursor, sort=cleaned["grid_sort"])
            except InvalidCursor:
                cleaned[name] = ""
                self.add_error(
                    name, _("This page link is not valid any more. Showing the first page.")
                )
        if cleaned.get("after") and cleaned.get("before"):
            cleaned["before"] = ""
        return cleaned

    @staticmethod
    def grid_sort(cleaned) -> str:
        """order_grid's sort: the field, "-" in front when descending."""
        field = cleaned["sort"]
        return field if cleaned["direction"] == "asc" else f"-{field}"

    def grid_arguments(self) -> dict:
        """Keyword arguments for order_grid: the valid filters, the sort and the cursor."""
        cleaned = self.cleaned_data
        arguments = self.active_filters()
        arguments["sort"] = cleaned["grid_sort"]
        arguments["after_cursor"] = cleaned.get("after") or None
        arguments["before_cursor"] = cleaned.get("before") or None
        arguments["page_size"] = COMMERCE_PAGE_SIZE
        return arguments


class OrderIdsField(forms.Field):
    """The checked rows of the grid: a list of order ids, each one an id the database can hold
    (an id beyond its integer range fails the query on SQLite, or the export mid-stream)."""

    widget = forms.MultipleHiddenInput
    default_error_messages = {
        "required": _("Please select the orders."),
        "invalid": _("The selection is not valid. Please select the orders again."),
    }

    def to_python(self, value):
        if not value:
            return []
        if not isinstance(value, list | tuple):
            value = [value]
        _lowest, highest = connection.ops.integer_field_range(
            CommerceOrder._meta.pk.get_internal_type()
        )
        try:
            ids = {int(item) for item in value}
        except (TypeError, ValueError):
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid") from None
        if any(not 1 <= order_id <= highest for order_id in ids):
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        return sorted(ids)


class CommerceOrderSelectionForm(forms.Form):
    """Export CSV: the checked orders."""

    order_ids = OrderIdsField()


class CommerceOrderMassActionForm(CommerceOrderSelectionForm):
    """Cancel, Hold or Unhold the checked orders."""

    action = forms.ChoiceField(
        label=_("Actions"),
        choices=[("cancel", _("Cancel")), ("hold", _("Hold")), ("unhold", _("Unhold"))],
    )


class OrderCommentForm(forms.Form):
    comment = forms.CharField(label=_("Comment"), widget=forms.Textarea(attrs={"rows": 3}))
    is_customer_notified = forms.BooleanField(label=_("Notify Customer by Email"), required=False)
    is_visible_on_storefront = forms.BooleanField(label=_("Visible on Storefront"), required=False)


def _quantity_field_name(item) -> str:
    return f"quantity_{item.pk}"


class _ItemQuantitiesForm(forms.Form):
    """One quantity field per order item that has units left; `quantities()` gives the non-zero
    ones by order item id, as the services take them."""

    quantity_label = ""

    def __init__(self, *args, items, **kwargs):
        super().__init__(*args, **kwargs)
        self.item_rows = []
        for item, available in items:
            name = _quantity_field_name(item)
            self.fields[name] = forms.IntegerField(
                label=self.quantity_label % {"sku": item.sku},
                min_value=0,
                max_value=available,
                initial=available,
                widget=forms.NumberInput(attrs={"class": "quantity", "size": 4}),
            )
            self.item_rows.append({"item": item, "available": available, "field": self[name]})

    def quantities(self) -> dict[int, int]:
        return {
            row["item"].pk: self.cleaned_data[row["field"].name]
            for row in self.item_rows
            if self.cleaned_data.get(row["field"].name)
        }


class _AmazonCarrierFields:
    """Carrier and tracking number as Amazon takes them: a carrier of its list, Other with the
    carrier's name, and a tracking number (amazon_channel.spapi.carriers)."""

    def amazon_fields_require(self) -> None:
        self.fields["carrier_code"].choices = AMAZON_CARRIER_CHOICES
        self.fields["carrier_code"].initial = "DHL"
        tracking = self.fields["tracking_number"]
        tracking.required = True
        tracking.help_text = _("Amazon requires a tracking number.")
        tracking.error_messages["required"] = _("Amazon requires a tracking number.")
        self.fields["carrier_title"].help_text = _(
            "The carrier's name, required for Other (a carrier that is not on Amazon's list)."
        )

    def carrier_clean(self, cleaned: dict) -> None:
        if cleaned.get("carrier_code") == OTHER_CARRIER and not cleaned.get("carrier_title"):
            self.add_error("carrier_title", _("Enter the carrier's name for Other."))


class ShipmentForm(_AmazonCarrierFields, _ItemQuantitiesForm):
    """New Shipment: the quantities to ship (all that is left by default) and the tracking.
    For an order from Amazon, the carrier comes from Amazon's list and the tracking number is
    required, as Amazon requires them; the store's own orders keep the Commerce rules."""

    quantity_label = _("Qty to Ship of %(sku)s")

    carrier_code = forms.ChoiceField(label=_("Carrier"), choices=CARRIER_CHOICES)
    carrier_title = forms.CharField(
        label=_("Title"),
        max_length=255,
        required=False,
        help_text=_("The carrier's name, required for Other."),
    )
    method = forms.CharField(label=_("Shipping Method"), max_length=128, required=False)
    tracking_number = forms.CharField(label=_("Tracking Number"), max_length=128, required=False)

    def __init__(self, *args, order, **kwargs):
        items = [(item, item.quantity_to_ship) for item in order.items.all()]
        super().__init__(*args, items=[(item, left) for item, left in items if left > 0], **kwargs)
        # The service's own test: an order linked to an Amazon order (one query, Amazon's only).
        self.is_for_amazon = amazon_order_of(order) is not None
        if self.is_for_amazon:
            self.amazon_fields_require()

    def clean(self):
        cleaned = super().clean()
        self.carrier_clean(cleaned)
        if not self.errors and not self.quantities():
            raise forms.ValidationError(_("Enter a quantity to ship for at least one item."))
        return cleaned


class ShipmentCorrectionForm(_AmazonCarrierFields, forms.Form):
    """Correct and send again: the carrier and tracking number of a shipment Amazon refused."""

    carrier_code = forms.ChoiceField(label=_("Carrier"), choices=AMAZON_CARRIER_CHOICES)
    carrier_title = forms.CharField(label=_("Title"), max_length=255, required=False)
    tracking_number = forms.CharField(label=_("Tracking Number"), max_length=128)

    def __init__(self, *args, shipment=None, **kwargs):
        if shipment is not None and not args and "initial" not in kwargs:
            kwargs["initial"] = {
                "carrier_code": shipment.carrier_code,
                "carrier_title": shipment.carrier_title,
                "tracking_number": shipment.tracking_number,
            }
        kwargs.setdefault("prefix", f"shipment-{shipment.pk}" if shipment is not None else None)
        super().__init__(*args, **kwargs)
        self.amazon_fields_require()

    def clean(self):
        cleaned = super().clean()
        self.carrier_clean(cleaned)
        return cleaned


class CreditMemoForm(_ItemQuantitiesForm):
    """New Credit Memo: the quantities to refund (all refundable by default), Return to Stock,
    shipping and adjustments."""

    quantity_label = _("Qty to Refund of %(sku)s")

    return_to_stock = forms.BooleanField(label=_("Return to Stock"), required=False)
    shipping_refund = forms.DecimalField(
        label=_("Refund Shipping"), min_value=0, max_digits=14, decimal_places=2, initial=0
    )
    adjustment_refund = forms.DecimalField(
        label=_("Adjustment Refund"), min_value=0, max_digits=14, decimal_places=2, initial=0
    )
    adjustment_fee = forms.DecimalField(
        label=_("Adjustment Fee"), min_value=0, max_digits=14, decimal_places=2, initial=0
    )
    comment = forms.CharField(
        label=_("Comment Text"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args, order, **kwargs):
        items = [(item, item.quantity_to_refund) for item in order.items.all()]
        super().__init__(*args, items=[(item, left) for item, left in items if left > 0], **kwargs)
        self.fields["shipping_refund"].initial = self.shipping_left_to_refund(order)
        if order.external_channel == CHANNEL:
            # Amazon's payment adjustment feed says why each refund is made.
            self.fields["adjustment_reason"] = forms.ChoiceField(
                label=_("Reason for refund"),
                choices=AdjustmentReason.choices,
                initial=DEFAULT_REFUND_REASON,
            )

    def refund_arguments(self) -> dict:
        """Keyword arguments for commerce_creditmemo_create, the reason only when asked."""
        data = self.cleaned_data
        arguments = {
            "quantities": self.quantities(),
            "shipping_refund": data["shipping_refund"],
            "adjustment_refund": data["adjustment_refund"],
            "adjustment_fee": data["adjustment_fee"],
            "comment": data["comment"],
            "return_to_stock": data["return_to_stock"],
        }
        if "adjustment_reason" in data:
            arguments["reason"] = data["adjustment_reason"]
        return arguments

    @staticmethod
    def shipping_left_to_refund(order):
        """Invoiced shipping not refunded yet, from the prefetched invoices and credit memos."""
        invoices = [
            invoice for invoice in order.invoices.all() if invoice.state != InvoiceState.CANCELED
        ]
        invoiced = sum((invoice.shipping_amount for invoice in invoices), ZERO)
        refunded = sum((memo.shipping_amount for memo in order.credit_memos.all()), ZERO)
        return max(invoiced - refunded, ZERO)


class AmazonResendForm(forms.Form):
    """Retry of a message to Amazon. For a refund whose outcome Amazon left unknown, the user
    must confirm having checked that Seller Central does not show it (a resend could refund
    twice otherwise)."""

    is_absent_in_seller_central = forms.BooleanField(
        label=_("Seller Central does not show this refund"), required=False
    )
