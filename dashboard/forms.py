from django import forms
from django.http import QueryDict
from django.utils.formats import date_format, number_format
from django.utils.translation import gettext_lazy as _

from amazon_channel.marketplaces import MARKETPLACE_CHOICES
from amazon_channel.models import AmazonOrderStatus, CancelReason, Store
from amazon_channel.selectors import (
    ORDER_SORTS,
    InvalidCursor,
    OrderFilters,
    order_cursor_decode,
)

ENABLED_CHOICES = [(True, _("Enabled")), (False, _("Disabled"))]
YES_NO_CHOICES = [(True, _("Yes")), (False, _("No"))]


def _boolean_select(label, choices):
    return forms.TypedChoiceField(
        label=label,
        choices=choices,
        coerce=lambda value: value in (True, "True"),
        widget=forms.Select,
    )


class OrderSettingsForm(forms.ModelForm):
    is_import_enabled = _boolean_select(_("Import Amazon Orders"), ENABLED_CHOICES)
    is_pending_quantity_reserved = _boolean_select(
        _("Reserve quantity for pending orders"), YES_NO_CHOICES
    )

    class Meta:
        model = Store
        fields = (
            "is_import_enabled",
            "customer_creation",
            "order_number_source",
            "is_pending_quantity_reserved",
            "order_status_source",
            "processing_status",
        )


class StoreConnectForm(forms.Form):
    """Connect a store: what store_connect / store_connection_test take."""

    name = forms.CharField(label=_("Store name"), max_length=120)
    marketplace_code = forms.ChoiceField(label=_("Marketplace"), choices=MARKETPLACE_CHOICES)
    seller_id = forms.RegexField(
        label=_("Seller ID"),
        regex=r"^[A-Z0-9]{8,32}$",
        error_messages={"invalid": _("A seller ID has 8 to 32 capital letters and digits.")},
    )
    environment = forms.ChoiceField(label=_("Environment"), choices=Store.Environment.choices)
    lwa_client_id = forms.CharField(label=_("LWA client ID"), max_length=200)
    lwa_client_secret = forms.CharField(
        label=_("LWA client secret"), max_length=200, widget=forms.PasswordInput(render_value=True)
    )
    refresh_token = forms.CharField(
        label=_("Refresh token"), max_length=1000, widget=forms.PasswordInput(render_value=True)
    )
    sp_api_endpoint = forms.URLField(
        assume_scheme="https",
        label=_("SP-API endpoint"),
        required=False,
        help_text=_("Leave empty for Amazon's endpoint of the marketplace's region."),
    )
    token_endpoint = forms.URLField(
        assume_scheme="https",
        label=_("Token endpoint"),
        required=False,
        help_text=_("Leave empty for Login with Amazon."),
    )

    def clean_seller_id(self):
        return self.cleaned_data["seller_id"].upper()

    def connection_arguments(self) -> dict:
        from amazon_channel.services.stores import StoreCredentials

        data = self.cleaned_data
        return {
            "marketplace_code": data["marketplace_code"],
            "seller_id": data["seller_id"],
            "environment": data["environment"],
            "sp_api_endpoint": data["sp_api_endpoint"] or None,
            "token_endpoint": data["token_endpoint"] or None,
            "credentials": StoreCredentials(
                lwa_client_id=data["lwa_client_id"],
                lwa_client_secret=data["lwa_client_secret"],
                refresh_token=data["refresh_token"],
            ),
        }


class ShippingAddressForm(forms.Form):
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
]
DIRECTION_CHOICES = [("desc", _("Descending")), ("asc", _("Ascending"))]
FILTER_FIELDS = (
    "purchase_date_from",
    "purchase_date_to",
    "order_number",
    "buyer_name",
    "total_min",
    "total_max",
    "status",
)


class OrderFilterForm(forms.Form):
    """All Orders' GET form: filters, sort and the page cursor. Bad values become field errors."""

    purchase_date_from = forms.DateField(
        label=_("Purchase date from"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    purchase_date_to = forms.DateField(
        label=_("Purchase date to"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
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
    sort = forms.ChoiceField(label=_("Sort by"), required=False, choices=SORT_CHOICES)
    direction = forms.ChoiceField(label=_("Order"), required=False, choices=DIRECTION_CHOICES)
    cursor = forms.CharField(required=False, widget=forms.HiddenInput)

    def clean_sort(self):
        return self.cleaned_data["sort"] or "purchase_date"

    def clean_direction(self):
        return self.cleaned_data["direction"] or "desc"

    def clean(self):
        cleaned = super().clean()
        date_from, date_to = cleaned.get("purchase_date_from"), cleaned.get("purchase_date_to")
        if date_from and date_to and date_from > date_to:
            self.add_error("purchase_date_to", _("The end of the date range is before its start."))
        total_min, total_max = cleaned.get("total_min"), cleaned.get("total_max")
        if total_min is not None and total_max is not None and total_min > total_max:
            self.add_error("total_max", _("The highest total is below the lowest total."))
        cursor = cleaned.get("cursor")
        cleaned["page_cursor"] = None
        if cursor and cleaned.get("sort") in ORDER_SORTS:
            try:
                cleaned["page_cursor"] = order_cursor_decode(cursor, sort=cleaned["sort"])
            except InvalidCursor:
                self.add_error(
                    "cursor", _("This page link is not valid any more. Showing the first page.")
                )
        return cleaned

    def filters(self) -> OrderFilters:
        """The valid filters; a filter with an error is left out."""
        values = {name: self.cleaned_data.get(name) for name in FILTER_FIELDS}
        return OrderFilters(
            **{
                name: value
                for name, value in values.items()
                if value not in (None, "") and name not in self.errors
            }
        )

    def chips(self, query: QueryDict) -> list[dict]:
        """One chip per active filter: its label, its value as shown, and the query without it."""
        chips = []
        cleaned = getattr(self, "cleaned_data", {})
        for name in FILTER_FIELDS:
            value = cleaned.get(name)
            if value in (None, "") or name in self.errors:
                continue
            remaining = query.copy()
            remaining.pop(name, None)
            remaining.pop("cursor", None)
            chips.append(
                {
                    "name": name,
                    "label": self.fields[name].label,
                    "value": self._chip_value(name, value),
                    "query": remaining.urlencode(),
                }
            )
        return chips

    def _chip_value(self, name, value) -> str:
        if name.startswith("purchase_date"):
            return date_format(value, "SHORT_DATE_FORMAT")
        if name.startswith("total"):
            return number_format(value, decimal_pos=2, use_l10n=True, force_grouping=True)
        if name == "status":
            return AmazonOrderStatus(value).label
        return value
