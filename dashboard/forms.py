import datetime
from decimal import Decimal
from typing import ClassVar

from django import forms
from django.db import connection
from django.http import QueryDict
from django.utils.formats import date_format, number_format
from django.utils.translation import gettext_lazy as _

from amazon_channel.models import AdjustmentReason, AmazonOrderStatus, CancelReason, Store
from amazon_channel.orders.commerce_import import CHANNEL
from amazon_channel.orders.commerce_to_amazon import DEFAULT_REFUND_REASON, amazon_order_of
from amazon_channel.selectors import (
    ATTENTION_BUYER_CANCELLATION,
    ATTENTION_CANCELLATION_PENDING,
    ATTENTION_CANCELLATION_REJECTED,
    ATTENTION_IMPORT_ERROR,
    ATTENTION_REFUSED_SHIPMENT,
    ORDER_SORTS,
    InvalidCursor,
    OrderFilters,
    order_cursor_decode,
)
from amazon_channel.spapi.carriers import AMAZON_CARRIER_CHOICES, OTHER_CARRIER
from amazon_channel.spapi.marketplaces import MARKETPLACE_CHOICES, MARKETPLACES
from amazon_channel.stores.services import (
    StoreEndpointRefused,
    store_endpoint_resolve,
    store_token_endpoint_resolve,
)
from commerce_orders.models import CommerceOrder, InvoiceState, OrderState
from commerce_orders.selectors import InvalidCursor as InvalidGridCursor
from commerce_orders.selectors import order_grid_cursor_decode

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
    """Order Settings, as in the Commerce channel. The custom processing status is one of the
    Commerce statuses an order in processing can have (the grid can then find its orders), and
    is asked for only when Order Status is Custom (static/js/order-settings.js hides it else)."""

    is_import_enabled = _boolean_select(_("Import Amazon Orders"), ENABLED_CHOICES)
    is_pending_quantity_reserved = _boolean_select(
        _("Reserve quantity for pending orders"), YES_NO_CHOICES
    )
    processing_status = forms.ChoiceField(
        label=_("Processing status"),
        required=False,
        help_text=_(
            "With a Custom Order Status: the status of imported orders once they are invoiced. "
            "Only existing Commerce statuses can be chosen, so that the Orders grid finds them."
        ),
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
        help_texts: ClassVar[dict] = {
            "customer_creation": _(
                "Guest creates Commerce orders as guest orders; Build new customer account "
                "creates a customer account from the Amazon buyer's details."
            ),
            "order_number_source": _(
                "Commerce order number sequence numbers the imported orders like your other "
                "Commerce orders; Amazon order number uses Amazon's number as the Commerce "
                "order number."
            ),
            "order_status_source": _(
                "Default gives imported orders the Processing status once invoiced; Custom lets "
                "you choose another existing status."
            ),
        }

    def __init__(self, *args, statuses=(), **kwargs):
        """`statuses`: the Commerce statuses in use (order_statuses_in_use); those of another
        state than processing (complete, canceled...) are not offered."""
        super().__init__(*args, **kwargs)
        self.fields["is_import_enabled"].help_text = _(
            "Enabled creates a Commerce order for each Amazon order received, to be managed in "
            "Commerce order processing; Disabled keeps Amazon orders in the channel only."
        )
        self.fields["is_pending_quantity_reserved"].help_text = _(
            "Yes reserves the quantity of Pending Amazon orders in the catalog until Amazon "
            "confirms the payment or the order is canceled."
        )
        custom = [
            (status, status)
            for status in statuses
            if status not in OrderState.values and status.strip()
        ]
        self.fields["processing_status"].choices = [
            (OrderState.PROCESSING.value, OrderState.PROCESSING.label),
            *custom,
        ]
        # What the browser's script toggles (the field is shown when JavaScript does not run).
        self.fields["order_status_source"].widget.attrs["data-toggles-custom-status"] = ""

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("order_status_source") == Store.OrderStatusSource.CUSTOM:
            if not cleaned.get("processing_status") and "processing_status" not in self.errors:
                self.add_error("processing_status", _("Choose the status of imported orders."))
        elif "order_status_source" in cleaned:
            # Default: the Commerce default, whatever the hidden select held.
            cleaned["processing_status"] = OrderState.PROCESSING.value
        return cleaned


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
        help_text=_(
            "Leave empty for Amazon's endpoint of the marketplace's region: its sandbox for a "
            "Sandbox store, production for a Production store."
        ),
    )
    token_endpoint = forms.URLField(
        assume_scheme="https",
        label=_("Token endpoint"),
        required=False,
        help_text=_("Leave empty for Login with Amazon."),
    )

    def clean_seller_id(self):
        return self.cleaned_data["seller_id"].upper()

    def clean(self):
        data = super().clean()
        endpoint, environment = data.get("sp_api_endpoint"), data.get("environment")
        marketplace = MARKETPLACES.get(data.get("marketplace_code") or "")
        # Said beside the fields, before Test connection or Save: the services' own checks.
        if endpoint and environment and marketplace:
            try:
                store_endpoint_resolve(
                    region=marketplace.region, environment=environment, sp_api_endpoint=endpoint
                )
            except StoreEndpointRefused as error:
                self.add_error(error.field_name, error.message)
        if data.get("token_endpoint"):
            try:
                store_token_endpoint_resolve(token_endpoint=data["token_endpoint"])
            except StoreEndpointRefused as error:
                self.add_error(error.field_name, error.message)
        return data

    def connection_arguments(self) -> dict:
        from amazon_channel.stores.services import StoreCredentials

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


class StoreReauthorizeForm(forms.Form):
    """Reauthorize: the refresh token Seller Central gives when the app is authorized again."""

    refresh_token = forms.CharField(
        label=_("New refresh token"),
        max_length=1000,
        strip=True,
        widget=forms.PasswordInput(attrs={"autocomplete": "off"}),
        help_text=_(
            "Authorize the app again in Amazon Seller Central (Apps and Services, Manage Your "
            "Apps) and paste the refresh token it shows."
        ),
    )


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


# A filter date means its whole day in the merchant's time zone: the day after it and the day
# before it must exist in every zone, and no purchase predates 1900 (date.max plus a day, or
# 0001-01-01 east of UTC, overflows).
EARLIEST_FILTER_DATE = datetime.date(1900, 1, 1)
LATEST_FILTER_DATE = datetime.date(9998, 12, 31)


class FilterDateField(forms.DateField):
    """A date filter within EARLIEST_FILTER_DATE and LATEST_FILTER_DATE."""

    widget = forms.DateInput(attrs={"type": "date"})
    default_error_messages = {
        "out_of_range": _("Enter a date from %(earliest)s to %(latest)s."),
    }

    def validate(self, value):
        super().validate(value)
        if value is not None and not EARLIEST_FILTER_DATE <= value <= LATEST_FILTER_DATE:
            raise forms.ValidationError(
                self.error_messages["out_of_range"],
                code="out_of_range",
                params={
                    "earliest": date_format(EARLIEST_FILTER_DATE, "SHORT_DATE_FORMAT"),
                    "latest": date_format(LATEST_FILTER_DATE, "SHORT_DATE_FORMAT"),
                },
            )


class _DefaultsWhenInvalid:
    """A list page's sort and direction: an unknown value is an error beside the form and the
    page is shown with the default, so cleaned_data always has them."""

    defaults: ClassVar[dict[str, str]] = {}

    def _defaults_fill(self, cleaned: dict) -> None:
        for name, default in self.defaults.items():
            if not cleaned.get(name):
                cleaned[name] = default


class _RangesAppliedWhole:
    """A range filter (from / to) applies whole or not at all: when one end is wrong (not a
    date or a number, or beyond the other end), the other end gets an error too, and the form's
    filters leave out both, instead of filtering by half of the range."""

    ranges: ClassVar[tuple[tuple[str, str], ...]] = ()

    def _ranges_check(self) -> None:
        for ends in self.ranges:
            if not any(end in self.errors for end in ends):
                continue
            for end in ends:
                if end not in self.errors and self.data.get(end, "") != "":
                    self.add_error(
                        end, _("Not applied until the other end of the range is corrected.")
                    )


SORT_CHOICES = [
    ("purchase_date", _("Purchase Date")),
    ("order_number", _("Order Number")),
    ("grand_total", _("Grand Total")),
    ("status", _("Status")),
    ("buyer_name", _("Buyer's Name")),
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
    "attention",
)
# The store card's tiles, by the filter they link to.
ATTENTION_CHOICES = [
    ("", _("All orders")),
    (ATTENTION_CANCELLATION_PENDING, _("Cancellation pending")),
    (ATTENTION_CANCELLATION_REJECTED, _("Cancellation rejected")),
    (ATTENTION_BUYER_CANCELLATION, _("Cancellation requested by the buyer")),
    (ATTENTION_REFUSED_SHIPMENT, _("Shipment refused by Amazon")),
    (ATTENTION_IMPORT_ERROR, _("Import errors")),
]


class OrderFilterForm(_RangesAppliedWhole, _DefaultsWhenInvalid, forms.Form):
    """All Orders' GET form: filters, sort and the page cursor. Bad values become field errors;
    sort and direction then fall back to their defaults."""

    defaults = {"sort": "purchase_date", "direction": "desc"}
    ranges = (("purchase_date_from", "purchase_date_to"), ("total_min", "total_max"))

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
        self._defaults_fill(cleaned)
        date_from, date_to = cleaned.get("purchase_date_from"), cleaned.get("purchase_date_to")
        if date_from and date_to and date_from > date_to:
            self.add_error("purchase_date_to", _("The end of the date range is before its start."))
        total_min, total_max = cleaned.get("total_min"), cleaned.get("total_max")
        if total_min is not None and total_max is not None and total_min > total_max:
            self.add_error("total_max", _("The highest total is below the lowest total."))
        self._ranges_check()
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
        if name == "attention":
            return dict(ATTENTION_CHOICES)[value]
        return value


# Commerce orders

COMMERCE_SORT_CHOICES = [
    ("created_at", _("Purchase Date")),
    ("increment_id", _("ID")),
    ("customer_name", _("Customer Name")),
    ("grand_total", _("Grand Total")),
    ("status", _("Status")),
]
COMMERCE_FILTER_FIELDS = (
    "search",
    "status",
    "purchased_from",
    "purchased_to",
    "total_min",
    "total_max",
    "channel",
)
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


class CommerceOrderGridForm(_RangesAppliedWhole, _DefaultsWhenInvalid, forms.Form):
    """The Orders grid's GET form: search, filters, sort and the page cursor (after or before).
    Bad values become field errors; sort and direction then fall back to their defaults."""

    defaults = {"sort": "created_at", "direction": "desc"}
    ranges = (("purchased_from", "purchased_to"), ("total_min", "total_max"))

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
        self._defaults_fill(cleaned)
        date_from, date_to = cleaned.get("purchased_from"), cleaned.get("purchased_to")
        if date_from and date_to and date_from > date_to:
            self.add_error("purchased_to", _("The end of the date range is before its start."))
        total_min, total_max = cleaned.get("total_min"), cleaned.get("total_max")
        if total_min is not None and total_max is not None and total_min > total_max:
            self.add_error("total_max", _("The highest total is below the lowest total."))
        self._ranges_check()
        cleaned["grid_sort"] = self.grid_sort(cleaned)
        for name in ("after", "before"):
            cursor = cleaned.get(name)
            if not cursor:
                continue
            try:
                order_grid_cursor_decode(cursor, sort=cleaned["grid_sort"])
            except InvalidGridCursor:
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
        arguments = {
            name: cleaned[name]
            for name in COMMERCE_FILTER_FIELDS
            if cleaned.get(name) not in (None, "") and name not in self.errors
        }
        arguments["sort"] = cleaned["grid_sort"]
        arguments["after_cursor"] = cleaned.get("after") or None
        arguments["before_cursor"] = cleaned.get("before") or None
        arguments["page_size"] = COMMERCE_PAGE_SIZE
        return arguments

    def chips(self, query: QueryDict) -> list[dict]:
        """One chip per active filter: its label, its value as shown, and the query without it."""
        chips = []
        cleaned = getattr(self, "cleaned_data", {})
        for name in COMMERCE_FILTER_FIELDS:
            value = cleaned.get(name)
            if value in (None, "") or name in self.errors:
                continue
            remaining = query.copy()
            for dropped in (name, "after", "before"):
                remaining.pop(dropped, None)
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
        if name.startswith("purchased"):
            return date_format(value, "SHORT_DATE_FORMAT")
        if name.startswith("total"):
            return number_format(value, decimal_pos=2, use_l10n=True, force_grouping=True)
        if name in ("status", "channel"):
            return str(dict(self.fields[name].choices).get(value, value))
        return value


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
