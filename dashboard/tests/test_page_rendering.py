"""The hot pages rendered by Jinja2 write the bytes their Django templates wrote (issue 15).

Their content (All Orders, Amazon Order Details, the store dashboard), the top bar, form
fields, sort headers, chips and notices moved from Django templates to Jinja2
(templates/jinja2/, dashboard/fragments.py). The Django templates as they were are kept in
reference_templates/: each page is rendered both ways, from the same context, for a
merchant, a viewer and a superuser, in each of the five languages, with values that need
escaping, and must be the same to the byte.
"""

from decimal import Decimal
from pathlib import Path

import pytest
from django import forms
from django.conf import settings
from django.forms.renderers import DjangoTemplates
from django.template import Context, Engine
from django.template.backends.django import get_installed_libraries
from django.test.utils import ContextList
from django.urls import reverse
from django.utils import timezone, translation

from amazon_channel.models import AmazonOrderCancellation, AmazonOrderEvent, StoreEvent
from amazon_channel.tests.factories import AmazonOrderFactory, AmazonOrderItemFactory, StoreFactory
from commerce_orders.tests.factories import CommerceOrderFactory, placed_order
from dashboard.amazon_orders.forms import OrderFilterForm, ShippingAddressForm
from dashboard.commerce_orders.forms import CommerceOrderGridForm
from dashboard.fragments import FormRenderer
from dashboard.tests.factories import (
    COMMERCE_PERMISSIONS,
    CancellationFactory,
    SyncRunFactory,
    user_with_app_permissions,
)

pytestmark = pytest.mark.django_db

LANGUAGES = [code for code, _name in settings.LANGUAGES]
REFERENCE_TEMPLATES = Path(__file__).resolve().parent / "reference_templates"
HOSTILE = 'O\'Brien <b>"&amp;" \u202e'


@pytest.fixture
def reference_engine() -> Engine:
    """Django's engine over the reference templates first, then the project's."""
    return Engine(
        dirs=[REFERENCE_TEMPLATES, settings.BASE_DIR / "templates"],
        app_dirs=True,
        libraries=get_installed_libraries(),
    )


@pytest.fixture
def shop():
    """A store with orders in every state the pages show differently, and values that need
    escaping (quotes, markup, ampersands, a bidirectional override)."""
    store = StoreFactory(
        name=f"Shop {HOSTILE}",
        sync_state="needs_reauthorization",
        sync_state_message=f"Token {HOSTILE}",
    )
    SyncRunFactory(store=store)
    AmazonOrderFactory.create_batch(27, store=store)
    quirky = AmazonOrderFactory(
        store=store,
        buyer_name=HOSTILE,
        order_total=Decimal("1234.50"),
        is_buyer_requested_cancellation=True,
        buyer_cancellation_reason=f"Cheaper {HOSTILE}",
        order_notes=[{"text": f"Note {HOSTILE}\nsecond line"}],
        shipping_address={"name": HOSTILE, "addressLine1": "1 <Main> St", "city": "Köln"},
    )
    with_commerce = AmazonOrderFactory(
        store=store,
        commerce_order=CommerceOrderFactory(),
        channel_notes=[{"text": f"Amazon refused {HOSTILE}"}],
    )
    AmazonOrderItemFactory.create_batch(2, order=with_commerce, title=f"Item {HOSTILE}")
    AmazonOrderEvent.objects.create(
        order=with_commerce,
        kind="imported",
        old_status="Pending",
        new_status="Unshipped",
        message=f"Line one {HOSTILE}\nline two",
    )
    fulfilled = AmazonOrderFactory(
        store=store, fulfillment_channel="AFN", status="Shipped", number_of_items_shipped=3
    )
    pending = AmazonOrderFactory(
        store=store, status="Pending", order_total=None, buyer_name="", buyer_email=""
    )
    waiting = CancellationFactory(order__store=store)
    rejected = CancellationFactory(
        order__store=store,
        state=AmazonOrderCancellation.State.REJECTED,
        amazon_message=f"No: {HOSTILE}",
        resolved_at=timezone.now(),
    )
    StoreEvent.objects.create(
        store=store,
        kind=StoreEvent.Kind.SETTINGS_CHANGED,
        changes={"is_import_enabled": [False, True], "name": ["Old <shop>", HOSTILE]},
        message=f"Said {HOSTILE}\nagain",
    )
    StoreFactory(name="Second & 'other'")
    return store, [quirky, with_commerce, fulfilled, pending, waiting.order, rejected.order]


def shop_urls(store, orders) -> list[str]:
    order_list = reverse("dashboard:order_list", args=[store.pk])
    return [
        reverse("dashboard:store_list"),
        reverse("dashboard:store_detail", args=[store.pk]),
        reverse("dashboard:store_detail", args=[store.pk]) + "?following_sync=12",
        order_list,
        order_list + "?sort=buyer_name&direction=asc&status=Unshipped&total_min=1&total_max=5000",
        order_list + "?buyer_name=O%27Brien+%3Cb%3E&purchase_date_from=2020-01-01",
        order_list + "?total_min=abc&purchase_date_to=13/13&sort=nope&direction=up&cursor=zz",
        order_list + "?attention=buyer_cancellation",
        *(reverse("dashboard:order_detail", args=[store.pk, order.pk]) for order in orders),
    ]


def page_context(response) -> Context:
    """The context the page's own template was rendered with (the first one rendered)."""
    context = response.context
    return context[0] if isinstance(context, ContextList) else context


def reference_render(engine: Engine, response, language: str) -> str:
    """The page rendered by its reference Django templates from the context of `response`,
    widgets by Django's default renderer."""
    values = page_context(response).flatten()
    for value in values.values():
        if isinstance(value, forms.BaseForm):
            value.renderer = DjangoTemplates()
    with translation.override(language):
        template = engine.get_template(response.templates[0].name)
        # The page's own values, its CSRF token among them ({% querystring %} reads the request).
        context = Context(values, autoescape=True)
        context.request = values["request"]
        return template.render(context)


def assert_same_page(engine, response, language, url):
    assert response.status_code == 200, url
    expected = reference_render(engine, response, language)
    content = response.content.decode()
    if content != expected:  # The first difference, readable
        at = next(
            (i for i, (a, b) in enumerate(zip(content, expected, strict=False)) if a != b),
            min(len(content), len(expected)),
        )
        raise AssertionError(
            f"{url} ({language}) differs at {at}:\n"
            f"jinja2:    {content[max(at - 120, 0) : at + 120]!r}\n"
            f"reference: {expected[max(at - 120, 0) : at + 120]!r}"
        )


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("user_name", ["merchant", "viewer", "superuser"])
def test_the_hot_pages_write_the_bytes_their_django_templates_wrote(
    client, merchant, viewer, admin_user, reference_engine, shop, user_name, language
):
    # Given a store whose orders need escaping, and a merchant, a viewer or a superuser
    client.force_login({"merchant": merchant, "viewer": viewer, "superuser": admin_user}[user_name])
    store, orders = shop
    urls = shop_urls(store, orders)
    first = client.get(urls[3], HTTP_ACCEPT_LANGUAGE=language)
    urls.append(f"{urls[3]}?cursor={page_context(first)['page'].next_cursor}")

    for url in urls:
        # When a page is rendered (Jinja2)
        response = client.get(url, HTTP_ACCEPT_LANGUAGE=language)

        # Then it is what the Django templates wrote from the same context
        assert_same_page(reference_engine, response, language, url)


def test_the_comparison_fails_when_a_page_differs(admin_client, reference_engine, shop):
    # A stand-in for a fragment that escapes as Jinja2 does by default (&#39;), not as Django
    store, _orders = shop
    response = admin_client.get(reverse("dashboard:order_list", args=[store.pk]))
    assert b"O&#x27;Brien" in response.content
    response.content = response.content.replace(b"O&#x27;Brien", b"O&#39;Brien", 1)

    with pytest.raises(AssertionError, match="differs"):
        assert_same_page(reference_engine, response, "en", "All Orders")


FORMS = [
    (OrderFilterForm, {"buyer_name": HOSTILE, "status": "Unshipped", "total_min": "-1"}),
    (OrderFilterForm, {"purchase_date_from": "2026-02-30", "order_number": "<x>"}),
    (ShippingAddressForm, {"name": HOSTILE, "countryCode": "xyz", "postalCode": "1" * 30}),
    (ShippingAddressForm, {}),
    (CommerceOrderGridForm, {"search": HOSTILE, "status": "processing", "total_max": "1e9"}),
]


@pytest.mark.parametrize("language", ["en", "fr", "de"])
@pytest.mark.parametrize(("form_class", "data"), FORMS)
def test_the_jinja2_widgets_write_what_djangos_widget_templates_write(form_class, data, language):
    with translation.override(language):
        for bound in (True, False):
            arguments = (data,) if bound else ()
            jinja2_form = form_class(*arguments, renderer=FormRenderer())
            django_form = form_class(*arguments, renderer=DjangoTemplates())
            if bound:
                jinja2_form.is_valid(), django_form.is_valid()

            for name in jinja2_form.fields:
                assert str(jinja2_form[name]) == str(django_form[name]), name


def test_the_hot_forms_use_the_jinja2_widgets():
    assert isinstance(OrderFilterForm().renderer, FormRenderer)
    assert isinstance(CommerceOrderGridForm().renderer, FormRenderer)
    assert isinstance(ShippingAddressForm().renderer, FormRenderer)


def test_the_top_bar_of_a_refused_form_keeps_the_forms_page_as_django_wrote_it(
    client, reference_engine
):
    # Given a Ship form posted with a carrier code Commerce does not know (a 400 that shows
    # the form again, at its POST-only URL: the language menu must come back to the form page)
    client.force_login(user_with_app_permissions("clerk", *COMMERCE_PERMISSIONS))
    order = placed_order(external_channel="", external_order_id="")
    save_url = reverse("dashboard:commerce_order_ship_save", args=[order.pk])

    response = client.post(save_url, {"carrier_code": "<nope>"}, HTTP_ACCEPT_LANGUAGE="fr")

    # Then the page names the form's page, and is what the Django base template wrote
    assert response.status_code == 400
    form_page = reverse("dashboard:commerce_order_ship", args=[order.pk])
    assert f'<body data-page-url="{form_page}">' in response.content.decode()
    assert f'<input name="next" type="hidden" value="{form_page}">' in response.content.decode()
    response.status_code = 200  # assert_same_page compares 200 pages
    assert_same_page(reference_engine, response, "fr", save_url)
