from django import forms
from django.utils.translation import gettext_lazy as _


def now_field() -> forms.DateTimeField:
    # Part of what a seed reproduces: the same seed and time give the same orders and steps.
    return forms.DateTimeField(
        label=_("Current time"),
        required=False,
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
    fail_next = forms.IntegerField(label=_("Fail the next N calls"), min_value=0, initial=0)
    fail_status = forms.TypedChoiceField(
        label=_("Status of failed calls"), choices=[(500, "500"), (503, "503")], coerce=int
    )
    fail_probability = forms.FloatField(
        label=_("Probability of a failed call"), min_value=0, max_value=1, initial=0
    )
    latency_ms = forms.IntegerField(label=_("Added latency (ms)"), min_value=0, initial=0)
    malformed_next = forms.IntegerField(
        label=_("Malformed body for the next N calls"), min_value=0, initial=0
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
