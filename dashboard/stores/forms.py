"""The store pages' forms: connect, reauthorize, Order Settings."""

from typing import ClassVar

from django import forms
from django.utils.translation import gettext_lazy as _

from amazon_channel.models import Store
from amazon_channel.spapi.marketplaces import MARKETPLACE_CHOICES, MARKETPLACES
from amazon_channel.stores.services import (
    ORDER_SETTINGS_FIELDS,
    StoreEndpointRefused,
    store_endpoint_resolve,
    store_token_endpoint_resolve,
)
from commerce_orders.models import OrderState

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
        fields = ORDER_SETTINGS_FIELDS
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
