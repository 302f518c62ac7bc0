from datetime import UTC, date, timedelta
from functools import lru_cache
from types import SimpleNamespace
from urllib.parse import urlencode

from django import template
from django.conf import settings
from django.middleware.csrf import get_token
from django.template.defaulttags import querystring as django_querystring
from django.templatetags.static import static
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils import timezone
from django.utils.formats import date_format, localize, number_format
from django.utils.html import escape, format_html
from django.utils.safestring import mark_safe
from django.utils.translation import get_language, get_language_info, ngettext
from django.utils.translation import gettext as _

from amazon_channel.fields import EncryptedTextField
from amazon_channel.models import AmazonOrderStatus, Store
from amazon_channel.selectors import last_days_range
from amazon_channel.stores.changes import store_state_key
from commerce_orders.notes import notes_text as notes_text_of
from commerce_orders.notes import sentence_render
from dashboard import fragments

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


def order_chart(daily_counts, total=None, list_url=""):
    """A bar chart of orders per day (oldest first, UTC days), drawn as inline SVG on the server
    (partials/order_chart.html). `total` (else the bars' sum) is linked to `list_url`, the list
    of the orders it counts."""
    first_day = timezone.now().astimezone(UTC).date() - timedelta(days=len(daily_counts) - 1)
    total = sum(daily_counts) if total is None else total
    return {
        # What {% blocktranslate count counter=total %} wrote: the translation as it is (ours),
        # the number localized and escaped.
        "caption": mark_safe(  # noqa: S308
            ngettext(
                "%(counter)s order in the last 30 days",
                "%(counter)s orders in the last 30 days",
                total,
            )
            % {"counter": escape(localize(total))}
        ),
        "bars": _chart_bars(tuple(daily_counts), first_day, get_language()),
        "total": total,
        "list_url": list_url,
        "width": CHART_WIDTH,
        "height": CHART_HEIGHT,
    }


# Stand-ins for a URL's integer arguments: reversed once, then replaced by the real values.
_URL_ARGUMENT_STAND_IN = 987654320


@lru_cache(maxsize=128)
def _url_format(view_name: str, argument_count: int, script_prefix: str, urlconf) -> str:
    """The URL of `view_name` as a str.format template with one field per integer argument."""
    stand_ins = [str(_URL_ARGUMENT_STAND_IN + index) for index in range(argument_count)]
    url = reverse(view_name, args=stand_ins).replace("{", "{{").replace("}", "}}")
    for index, stand_in in enumerate(stand_ins):
        if url.count(stand_in) != 1:
            raise ValueError(f"{view_name}: cannot make a URL template of {url}")
        url = url.replace(stand_in, f"{{{index}}}")
    return url


def url_of(view_name: str, *ids: int) -> str:
    """reverse(view_name, args=ids) for integer ids (primary keys), without matching the URL
    patterns each time: a list page links every row, and reverse() was a tenth of its time."""
    return _url_format(view_name, len(ids), get_script_prefix(), get_urlconf()).format(
        *(int(value) for value in ids)
    )


@register.simple_tag
def id_url(view_name, *ids) -> str:
    """{% url %} for URLs whose arguments are all integer ids, computed from a cached template."""
    return url_of(view_name, *ids)


@lru_cache(maxsize=64)
def _choice_labels(model, field_name: str) -> dict:
    return dict(model._meta.get_field(field_name).flatchoices)


@register.filter
def choice_label(instance, field_name):
    """What instance.get_<field_name>_display() gives, from a dict made once per field:
    Django's version rebuilds and hashes the field's choices (lazy translations) every call."""
    value = getattr(instance, field_name)
    return _choice_labels(type(instance), field_name).get(value, value)


@lru_cache(maxsize=1)
def _fragments():
    return fragments.environment(
        filters={
            "money": money,
            "notes_text": notes_text,
            "choice_label": choice_label,
            "grouped": grouped,
            "amazon_status": amazon_status,
            "commerce_status": commerce_status,
            "sentence_translated": sentence_translated,
        },
        globals={
            "id_url": url_of,
            "url": url_of,
            "static": static,
            "querystring": querystring,
            "languages": languages,
            "match_count_text": match_count_text,
            "amazon_fulfilment_text": amazon_fulfilment_text,
            "attention_url": attention_url,
            "recent_orders_url": recent_orders_url,
            "order_chart": order_chart,
            "order_rows_kept": order_rows_kept,
        },
    )


def _csrf_input(context) -> str:
    """What {% csrf_token %} writes, from the same token (one per request)."""
    token = context.get("csrf_token")
    if not token or token == "NOTPROVIDED":  # noqa: S105 - CsrfTokenNode's marker, no secret
        return ""
    return format_html('<input type="hidden" name="csrfmiddlewaretoken" value="{}">', token)


def request_fragment_render(request, template_name: str, context: dict):
    """A fragment of templates/jinja2/ for a view that answers it alone (JSON), with what a
    page gives its fragments: the request, its user and the CSRF input."""
    return fragments.fragment_render(
        _fragments(),
        template_name,
        {
            "request": request,
            "user": request.user,
            "csrf_input": _csrf_input({"csrf_token": get_token(request)}),
            **context,
        },
    )


def store_fragment_render(template_name: str, context: dict):
    """A store's fragment of templates/jinja2/partials/ (status, last sync, tiles, actions,
    cards) as safe HTML, for a view that answers a fragment alone."""
    return fragments.fragment_render(_fragments(), template_name, context)


def _store_fragment_context(context, values: dict) -> dict:
    request = context.get("request")
    user = getattr(request, "user", None)
    return {
        "store": context.get("store"),
        "can_change_store": bool(user and user.has_perm("amazon_channel.change_store")),
        "can_sync_store": bool(user and user.has_perm("amazon_channel.sync_store")),
        "next_path": request.get_full_path() if request is not None else "",
        "csrf_input": _csrf_input(context),
        **values,
    }


@register.simple_tag(takes_context=True)
def store_fragment(context, template_name, **values):
    """A store's fragment rendered by Jinja2 (the cards page spent most of its time in these
    templates): `store` from the page, the user's store permissions read once, the CSRF token
    and the page to come back to; `values` add to or replace them."""
    return store_fragment_render(template_name, _store_fragment_context(context, values))


# A store's values the cards do not show, left out of their key: the credentials (an
# encrypted value's object differs on every read, and reading it would decrypt it).
_CARD_KEY_SKIPPED = {
    model_field.attname
    for model_field in Store._meta.concrete_fields
    if isinstance(model_field, EncryptedTextField)
} | {"_state"}


def _store_card_values(store) -> list:
    """Every value the store object holds, its fields and what the selectors attached (counts,
    chart, last sync...): what its card can show."""
    return [item for item in store.__dict__.items() if item[0] not in _CARD_KEY_SKIPPED]


@register.simple_tag(takes_context=True)
def store_cards(context, stores):
    """The store cards, rendered once per process for the same inputs (a page of ten cards
    spent half its time rendering them): the key is every value of every store, the user's
    store permissions, the page to come back to, the time zone and its day and UTC's (the
    chart's days); the language is added by fragment_render_cached, and each request gets its
    own CSRF input."""
    fragment_context = _store_fragment_context(context, {"stores": stores})
    key = repr(
        (
            [_store_card_values(store) for store in stores],
            fragment_context["can_change_store"],
            fragment_context["can_sync_store"],
            fragment_context["next_path"],
            timezone.get_current_timezone_name(),
            timezone.localdate(),
            timezone.now().astimezone(UTC).date(),
        )
    )
    return fragments.fragment_render_cached(
        _fragments(), "partials/store_cards.html", fragment_context, key=key
    )


@register.simple_tag(takes_context=True)
def page_fragment(context, template_name, **values):
    """A part of a page rendered by Jinja2 (templates/jinja2/<template_name>) with the Django
    template's whole context (request, user, perms, the view's values), the CSRF input and
    `values`: the page's own template is then a frame of a few nodes, which Django's engine
    renders in a fraction of the time the whole page took (dashboard/fragments.py)."""
    page_context = context.flatten()
    page_context["csrf_input"] = _csrf_input(context)
    page_context.update(values)
    return fragments.fragment_render(_fragments(), template_name, page_context)


def match_count_text(page) -> str:
    """All Orders' "N orders found", as its {% blocktranslate count %} wrote it."""
    shown = escape(grouped(page.match_count))
    if page.is_count_capped:
        return mark_safe(_("More than %(shown)s orders found") % {"shown": shown})  # noqa: S308
    return mark_safe(  # noqa: S308 - our translation, the number escaped
        ngettext("%(shown)s order found", "%(shown)s orders found", page.match_count)
        % {"shown": shown}
    )


def amazon_fulfilment_text(order) -> str:
    """Amazon Order Details' line on an order Amazon fulfils and has shipped, as its
    {% blocktranslate count %} wrote it."""
    items = order.number_of_items_shipped
    return mark_safe(  # noqa: S308 - our translation, the values escaped
        ngettext(
            "Fulfilled by Amazon: Amazon reports %(items)s item shipped (Amazon's last update: "
            "%(date)s).",
            "Fulfilled by Amazon: Amazon reports %(items)s items shipped (Amazon's last update: "
            "%(date)s).",
            items,
        )
        % {
            "items": escape(localize(items)),
            "date": escape(fragments.date(order.last_update_date, "SHORT_DATETIME_FORMAT")),
        }
    )


def querystring(request, **changes) -> str:
    """{% querystring %}: the request's query with `changes` (None removes a key)."""
    return django_querystring(SimpleNamespace(request=request), **changes)


@lru_cache(maxsize=8)
def _languages(codes: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    return tuple((code, get_language_info(code)["name_local"]) for code in codes)


def languages() -> tuple[tuple[str, str], ...]:
    """(code, name in its own language) of each of settings.LANGUAGES, as
    {% get_language_info_list %} gives them (the same in every language)."""
    return _languages(tuple(code for code, _name in settings.LANGUAGES))


@register.simple_tag
def order_rows(orders, store):
    """The rows of an order table (All Orders, Recent Orders), rendered by Jinja2: the Django
    template of a row cost more than its data (dashboard/fragments.py)."""
    return fragments.fragment_render(
        _fragments(), "partials/order_rows.html", {"orders": orders, "store": store}
    )


def order_rows_kept(orders, store, variant: str):
    """order_rows, rendered once per process for the store's state (store_state_key: its mark
    as the selectors that read the orders under it read it) and `variant`, what chose the
    orders (Recent Orders, or All Orders' query string). A row shows its order, cancellation
    and Commerce order number (which never changes), the store's id and Import Amazon Orders:
    the rest of the key; the language is fragment_render_cached's. Without a mark, rendered
    each time."""
    context = {"orders": orders, "store": store}
    state = store_state_key(store)
    if state is None:
        return fragments.fragment_render(_fragments(), "partials/order_rows.html", context)
    key = f"{state}:{store.is_import_enabled}:{timezone.get_current_timezone_name()}:{variant}"
    return fragments.fragment_render_cached(
        _fragments(), "partials/order_rows.html", {**context, "csrf_input": ""}, key=key
    )


@lru_cache(maxsize=64)
def _query_string(items: tuple[tuple[str, str], ...]) -> str:
    # A page of cards links the same few filters from every card.
    return urlencode(items)


def recent_orders_url(store) -> str:
    """All Orders of the store filtered on the days the card's "in the last 30 days" counts."""
    first_day, last_day = last_days_range()
    query = _query_string(
        (("purchase_date_from", first_day.isoformat()), ("purchase_date_to", last_day.isoformat()))
    )
    return f"{url_of('dashboard:order_list', store.pk)}?{query}"


def attention_url(store, **filters) -> str:
    """All Orders of the store with the filters of a card's tile (status=..., attention=...)."""
    return f"{url_of('dashboard:order_list', store.pk)}?{_query_string(tuple(filters.items()))}"


@lru_cache(maxsize=512)
def _chart_bars(daily_counts: tuple[int, ...], first_day: date, language: str) -> str:
    """The bars of a chart, each with a translated, localised title.

    Built here rather than in the template, which would spend most of a page of cards on
    hundreds of bars; and kept, since a card's chart changes only when its counts or the day
    do. `language` is the active language, part of the key because the titles depend on it.
    """
    days = len(daily_counts)
    highest = max(daily_counts, default=0) or 1
    slot = CHART_WIDTH / max(days, 1)
    width = round(slot - CHART_GAP, 1)
    rects = []
    for index, count in enumerate(daily_counts):
        height = max(round(count / highest * (CHART_HEIGHT - 4), 1) if count else 0, 1)
        label = date_format(first_day + timedelta(days=index), "SHORT_DATE_FORMAT")
        title = ngettext("%(day)s: %(counter)s order", "%(day)s: %(counter)s orders", count) % {
            "day": label,
            "counter": count,
        }
        rects.append(
            f'<rect class="{"bar" if count else "bar empty"}" x="{round(index * slot, 1)}" '
            f'y="{round(CHART_HEIGHT - height, 1)}" width="{width}" height="{height}">'
            f"<title>{escape(title)}</title></rect>"
        )
    # Numbers we computed and escaped titles only.
    return mark_safe("".join(rects))  # noqa: S308


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
    from amazon_channel.orders.commerce_import import CHANNEL

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


@register.filter
def grouped(value):
    """A whole number with the active locale's thousands separator: 10,000 or 10.000."""
    return number_format(value, use_l10n=True, force_grouping=True)


@register.filter
def notes_text(entries) -> str:
    """Stored notes (commerce_orders.notes) in the reader's language, one a line."""
    return notes_text_of(entries)


@register.filter
def sentence_translated(text) -> str:
    """A text stored as it was written (Amazon's answer to a message, which may be one of our
    own sentences about it): one of ours in the reader's language, Amazon's words as they are."""
    return sentence_render(text)
