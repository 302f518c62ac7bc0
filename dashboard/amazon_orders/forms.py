"""Amazon order pages' forms: All Orders' filters, the shipping address, Cancel Order."""

from typing import ClassVar

from django import forms
from django.utils.translation import gettext_lazy as _

from amazon_channel.models import AmazonOrderStatus, CancelReason
from amazon_channel.selectors import (
    ATTENTION_BUYER_CANCELLATION,
    ATTENTION_CANCELLATION_PENDING,
    ATTENTION_CANCELLATION_REJECTED,
    ATTENTION_IMPORT_ERROR,
    ATTENTION_REFUSED_SHIPMENT,
    ORDER_SORTS,
    AmazonOrderFilterSet,
    OrderFilters,
    order_cursor_decode,
)
from commerce_orders.keyset import InvalidCursor
from dashboard.fragments import FormRenderer
from dashboard.lists import DIRECTION_CHOICES, FilterDateField, ListFilterForm


class ShippingAddressForm(forms.Form):
    default_renderer = FormRenderer()
    # Field names are the keys of Amazon's address (AmazonOrder.shipping_address).
    name = forms.CharField(label=_("Name"), max_length=255, required=False)
    addressLine1 = forms.CharField(label=_("Street address"), max_length=255)
    addressLine2 = forms.CharField(
        label=_("Street address, line 2"), max_length=255, required=False
    )
    city = forms.CharField(label=_("City"), max_length=120)
    stateOrRegion = forms.CharField(label=_("State/Province"), max_length=120, required=False)
    postalCode = forms.CharField(label=_("Zip/Postal Code"), max_length=20)
    countryCode = forms.RegexField(
        label=_("Country code"),
        regex=r"^[A-Za-z]{2}$",
        error_messages={"invalid": _("Enter a two-letter country code, such as DE.")},
    )
    phone = forms.CharField(label=_("Phone number"), max_length=40, required=False)

    def clean_countryCode(self):
        return self.cleaned_data["countryCode"].upper()


class CancelOrderForm(forms.Form):
    reason = forms.ChoiceField(
        label=_("Reason for cancellation"),
        choices=[("", _("Please select")), *CancelReason.choices],
    )

    @classmethod
    def for_order(cls, order) -> "CancelOrderForm":
        """An unbound form; Buyer canceled is preselected when the buyer asked to cancel."""
        if order.is_buyer_requested_cancellation:
            return cls(initial={"reason": CancelReason.BUYER_CANCELED})
        return cls()


SORT_CHOICES = [
    ("purchase_date", _("Purchase Date")),
    ("order_number", _("Order Number")),
    ("grand_total", _("Grand Total")),
    ("status", _("Status")),
    ("buyer_name", _("Buyer's Name")),
]
FILTER_FIELDS = tuple(AmazonOrderFilterSet.base_filters)
# The store card's tiles, by the filter they link to.
ATTENTION_CHOICES = [
    ("", _("All orders")),
    (ATTENTION_CANCELLATION_PENDING, _("Cancellation pending")),
    (ATTENTION_CANCELLATION_REJECTED, _("Cancellation rejected")),
    (ATTENTION_BUYER_CANCELLATION, _("Cancellation requested by the buyer")),
    (ATTENTION_REFUSED_SHIPMENT, _("Shipment refused by Amazon")),
    (ATTENTION_IMPORT_ERROR, _("Import errors")),
]


class OrderFilterForm(ListFilterForm):
    """All Orders' GET form: filters, sort and the page cursor (see ListFilterForm)."""

    defaults: ClassVar[dict[str, str]] = {"sort": "purchase_date", "direction": "desc"}
    filter_fields = FILTER_FIELDS
    ranges = (("purchase_date_from", "purchase_date_to"), ("total_min", "total_max"))
    cursor_fields = ("cursor",)

    purchase_date_from = FilterDateField(label=_("Purchase date from"), required=False)
    purchase_date_to = FilterDateField(label=_("Purchase date to"), required=False)
    order_number = forms.CharField(label=_("Order Number"), max_length=32, required=False)
    buyer_name = forms.CharField(label=_("Buyer's Name"), max_length=255, required=False)
    total_min = forms.DecimalField(
        label=_("Grand Total from"), required=False, min_value=0, max_digits=14, decimal_places=2
    )
    total_max = forms.DecimalField(
        label=_("Grand Total to"), required=False, min_value=0, max_digits=14, decimal_places=2
    )
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("", _("Any status")), *AmazonOrderStatus.choices],
    )
    attention = forms.ChoiceField(
        label=_("Needs attention"), required=False, choices=ATTENTION_CHOICES
    )
    sort = forms.ChoiceField(label=_("Sort by"), required=False, choices=SORT_CHOICES)
    direction = forms.ChoiceField(label=_("Order"), required=False, choices=DIRECTION_CHOICES)
    cursor = forms.CharField(required=False, widget=forms.HiddenInput)

    def clean(self):
        cleaned = super().clean()
        cursor = cleaned.get("cursor")
        cleaned["page_cursor"] = None
        if cursor and cleaned["sort"] in ORDER_SORTS:
            try:
                cleaned["page_cursor"] = order_cursor_decode(cursor, sort=cleaned["sort"])
            except InvalidCursor:
                self.add_error(
                    "cursor", _("This page link is not valid any more. Showing the first page.")
                )
        return cleaned

    def filters(self) -> OrderFilters:
        """The valid filters; a filter with an error is left out."""
        return OrderFilters(**self.active_filters())
