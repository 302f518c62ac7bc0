from datetime import timedelta

from django import template
from django.utils import timezone
from django.utils.formats import date_format, number_format
from django.utils.html import format_html_join
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from amazon_channel.models import AmazonOrderStatus

register = template.Library()

CHART_WIDTH = 300
CHART_HEIGHT = 64
CHART_GAP = 2


@register.filter
def money(value, currency=""):
    """A money amount in the active locale's format, with its currency code: 1.234,50 EUR."""
    if value is None or value == "":
        return ""
    amount = number_format(value, decimal_pos=2, use_l10n=True, force_grouping=True)
    if not currency:
        return amount
    return _("%(amount)s %(currency)s") % {"amount": amount, "currency": currency}


@register.filter
def amazon_status(value):
    """The label of an Amazon order status value (Unshipped, Partially Shipped...)."""
    if value in AmazonOrderStatus.values:
        return AmazonOrderStatus(value).label
    return value


@register.inclusion_tag("partials/order_chart.html")
def order_chart(daily_counts):
    """A bar chart of orders per day (oldest first), drawn as inline SVG on the server.

    The bars are built here rather than in the template: a card has 30 of them, each with a
    translated, localised title, and the template engine would spend most of the page on them.
    """
    days = len(daily_counts)
    highest = max(daily_counts, default=0) or 1
    slot = CHART_WIDTH / max(days, 1)
    first_day = timezone.localdate() - timedelta(days=days - 1)
    bars = []
    for index, count in enumerate(daily_counts):
        height = max(round(count / highest * (CHART_HEIGHT - 4), 1) if count else 0, 1)
        day = date_format(first_day + timedelta(days=index), "SHORT_DATE_FORMAT")
        title = ngettext("%(day)s: %(counter)s order", "%(day)s: %(counter)s orders", count) % {
            "day": day,
            "counter": count,
        }
        bars.append(
            (
                "bar" if count else "bar empty",
                round(index * slot, 1),
                round(CHART_HEIGHT - height, 1),
                round(slot - CHART_GAP, 1),
                height,
                title,
            )
        )
    return {
        "bars": format_html_join(
            "",
            '<rect class="{}" x="{}" y="{}" width="{}" height="{}"><title>{}</title></rect>',
            bars,
        ),
        "total": sum(daily_counts),
        "width": CHART_WIDTH,
        "height": CHART_HEIGHT,
    }


@register.filter
def commerce_status(value):
    """The label of a Commerce order status value (Processing, On Hold...); a custom one as is."""
    from commerce_orders.models import OrderState

    if value in OrderState.values:
        return OrderState(value).label
    return value


@register.filter
def sales_channel(value):
    """Purchased From: the sales channel an order came from, in the merchant's words."""
    from amazon_channel.services.commerce import CHANNEL

    if value == CHANNEL:
        return _("Amazon")
    return value or _("Main Website")


@register.filter
def address_of(order, address_type):
    """The order's billing or shipping address from its prefetched addresses, or None."""
    for address in order.addresses.all():
        if address.address_type == address_type:
            return address
    return None
