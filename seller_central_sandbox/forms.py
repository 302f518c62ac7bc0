from datetime import datetime

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from seller_central_sandbox.models import ResultCompression, SellerRole
from seller_central_sandbox.ratelimit import USAGE_PLANS
from seller_central_sandbox.services.notifications import (
    MAX_NOTIFICATION_COPIES,
    MAX_NOTIFICATION_DELAY_SECONDS,
)
from seller_central_sandbox.services.orders import is_within_ten_years
from seller_central_sandbox.services.sellers import (
    MAX_CLOCK_OFFSET_SECONDS,
    MAX_FAULT_COUNT,
    MAX_FAULT_LATENCY_MS,
    MAX_USAGE_PLAN_BURST,
    MAX_USAGE_PLAN_RATE,
    MIN_USAGE_PLAN_RATE,
)


def within_ten_years(value: datetime) -> None:
    if not is_within_ten_years(value):
        raise ValidationError(_("Choose a time within ten years of today."), code="out_of_range")


def now_field() -> forms.DateTimeField:
    # Part of what a seed reproduces: the same seed and time give the same orders and steps.
    return forms.DateTimeField(
        label=_("Current time"),
        required=False,
        validators=[within_ten_years],
        help_text=_(
            "Leave empty to use the current time. The same seed and time give the same result."
        ),
    )


class OrdersGenerateForm(forms.Form):
    count = forms.IntegerField(label=_("Orders"), min_value=1, max_value=1000, initial=10)
    seed = forms.IntegerField(label=_("Seed"), initial=1)
    now = now_field()


class LifecycleForm(forms.Form):
    seed = forms.IntegerField(label=_("Seed"), initial=1)
    now = now_field()


class FaultsForm(forms.Form):
    fail_next = forms.IntegerField(
        label=_("Fail the next N calls"), min_value=0, max_value=MAX_FAULT_COUNT, initial=0
    )
    fail_status = forms.TypedChoiceField(
        label=_("Status of failed calls"), choices=[(500, "500"), (503, "503")], coerce=int
    )
    fail_probability = forms.FloatField(
        label=_("Probability of a failed call"), min_value=0, max_value=1, initial=0
    )
    latency_ms = forms.IntegerField(
        label=_("Added latency (ms)"), min_value=0, max_value=MAX_FAULT_LATENCY_MS, initial=0
    )
    malformed_next = forms.IntegerField(
        label=_("Malformed body for the next N calls"),
        min_value=0,
        max_value=MAX_FAULT_COUNT,
        initial=0,
    )


class TokensForm(forms.Form):
    action = forms.ChoiceField(
        choices=[
            ("revoke", _("Revoke tokens")),
            ("restore", _("Restore authorization")),
            ("expire", _("Expire access tokens")),
            ("refill", _("Refill rate limits")),
        ]
    )


class OrderStepForm(forms.Form):
    step = forms.ChoiceField(
        choices=[
            ("pay", _("Payment authorized")),
            ("ship", _("Amazon ships (AFN)")),
            ("buyer_cancel", _("Buyer cancels")),
            ("request_cancel", _("Buyer requests cancellation")),
        ]
    )


class AmazonBehaviourForm(forms.Form):
    """How Amazon behaves towards this seller's application: its clock, the roles the seller
    granted, its processing reports and the feeds it aborts."""

    clock_offset_seconds = forms.IntegerField(
        label=_("Amazon's clock ahead of this machine (seconds)"),
        min_value=-MAX_CLOCK_OFFSET_SECONDS,
        max_value=MAX_CLOCK_OFFSET_SECONDS,
        initial=0,
        help_text=_("Negative: Amazon's clock is behind. Searches are judged by Amazon's clock."),
    )
    roles = forms.MultipleChoiceField(
        label=_("Roles granted to the application"),
        choices=SellerRole.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    result_compression = forms.ChoiceField(
        label=_("Processing reports"), choices=ResultCompression.choices
    )
    fatal_next = forms.IntegerField(
        label=_("FATAL for the next N feeds"), min_value=0, max_value=MAX_FAULT_COUNT, initial=0
    )
    fatal_applied = forms.IntegerField(
        label=_("Messages applied before FATAL"),
        min_value=0,
        max_value=MAX_FAULT_COUNT,
        initial=1,
    )
    has_fatal_report = forms.BooleanField(
        label=_("FATAL feeds have a processing report"), required=False, initial=True
    )


class NotificationDeliveryForm(forms.Form):
    """How Amazon delivers the seller's notifications to the subscribed queue."""

    copies = forms.IntegerField(
        label=_("Copies of each notification"),
        min_value=1,
        max_value=MAX_NOTIFICATION_COPIES,
        initial=1,
    )
    delay_seconds = forms.IntegerField(
        label=_("Delay before a notification can be received (seconds)"),
        min_value=0,
        max_value=MAX_NOTIFICATION_DELAY_SECONDS,
        initial=0,
    )
    drop_share = forms.FloatField(
        label=_("Share of notifications dropped (0 to 1)"), min_value=0, max_value=1, initial=0
    )
    is_order_swapped = forms.BooleanField(
        label=_("Deliver each pair of notifications the other way round"), required=False
    )
    is_new_order_notified = forms.BooleanField(
        label=_("New orders notify"), required=False, initial=True
    )
    is_body_a_string = forms.BooleanField(
        label=_("Send the body as a JSON string (encoded twice)"), required=False
    )


class UsagePlanForm(forms.Form):
    """A dynamic usage plan: Amazon raises or lowers one operation's limits for the seller."""

    operation = forms.ChoiceField(
        label=_("Operation"), choices=[(name, name) for name in sorted(USAGE_PLANS)]
    )
    rate = forms.DecimalField(
        label=_("Rate (requests per second)"),
        required=False,
        min_value=MIN_USAGE_PLAN_RATE,
        max_value=MAX_USAGE_PLAN_RATE,
        max_digits=12,
        decimal_places=6,
    )
    burst = forms.IntegerField(
        label=_("Burst"), required=False, min_value=1, max_value=MAX_USAGE_PLAN_BURST
    )

    def clean_rate(self):
        rate = self.cleaned_data["rate"]
        # As x-amzn-RateLimit-Limit writes it: no trailing zeros.
        return None if rate is None else format(rate.normalize(), "f")


class IntegrationFeedForm(forms.Form):
    application = forms.CharField(label=_("Application"), max_length=120, initial="ERP")
