"""Emails to buyers, in the language of their marketplace."""

from django.conf import settings
from django.core.mail import send_mail
from django.utils import translation
from django.utils.translation import gettext as _

from amazon_channel.models import AmazonOrder, CancelReason

LANGUAGE_BY_MARKETPLACE = {"DE": "de", "FR": "fr", "IT": "it", "NL": "nl", "BE": "fr"}


def buyer_cancellation_email_send(*, order: AmazonOrder, reason: str) -> bool:
    """Tell the buyer their order was canceled; False when Amazon gave no buyer address."""
    if not order.buyer_email:
        return False
    language = LANGUAGE_BY_MARKETPLACE.get(order.store.marketplace_code, "en")
    with translation.override(language):
        subject = _("Your order %(number)s has been canceled") % {"number": order.amazon_order_id}
        body = _(
            "Hello %(name)s,\n\nyour Amazon order %(number)s from %(store)s has been canceled.\n"
            "Reason for cancellation: %(reason)s.\n\nAny payment will be refunded by Amazon.\n"
        ) % {
            "name": order.buyer_name or _("customer"),
            "number": order.amazon_order_id,
            "store": order.store.name,
            "reason": CancelReason(reason).label,
        }
    send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [order.buyer_email])
    return True
