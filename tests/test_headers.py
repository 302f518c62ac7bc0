"""Response headers: a strict Content-Security-Policy on every page (no inline script or style
in any template), and Cache-Control: no-store wherever orders, and so buyers' names and
addresses, are shown or exported."""

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from amazon_channel.models import OutboxMessage
from amazon_channel.orders.commerce_to_amazon import commerce_shipment_create
from amazon_channel.tests.factories import AmazonOrderFactory, StoreFactory
from commerce_orders import services as commerce_services
from commerce_orders.tests.factories import placed_order
from dashboard import urls as dashboard_urls
from tests.helpers import DASHBOARD_PAGES

TEMPLATES_DIR = Path(settings.BASE_DIR) / "templates"
# Every dashboard URL about orders: a store's dashboard (Recent Orders), Amazon orders and
# Commerce orders, pages and actions alike (an action shows its page again on an error).
NEVER_CACHED = {
    "store_detail",
    # Polled for a sync's progress: an answer kept by a cache would never change.
    "store_sync_status",
    *(pattern.name for pattern in dashboard_urls.urlpatterns if "order" in pattern.name),
}
PAGES = DASHBOARD_PAGES


def policy_of(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    return {
        name: values
        for name, *values in (directive.split() for directive in header.split(";") if directive)
    }


@pytest.fixture
def admin_client_(db):
    client = Client()
    client.force_login(get_user_model().objects.create_superuser("root", password="pw-12345"))
    return client


@pytest.fixture
def objects(db):
    """A store with an Amazon order whose Commerce order has a shipment queued for Amazon, and an
    invoiced Commerce order of the store's own (its Ship and Credit Memo pages open)."""
    amazon_order = AmazonOrderFactory(store=StoreFactory(is_import_enabled=True))
    amazon_commerce_order = placed_order(
        external_channel="amazon", external_order_id=amazon_order.amazon_order_id
    )
    amazon_order.commerce_order = amazon_commerce_order
    amazon_order.save(update_fields=["commerce_order"])
    commerce_services.invoice_create(actor=None, order=amazon_commerce_order)
    shipment = commerce_shipment_create(
        actor=None,
        order=amazon_commerce_order,
        quantities={amazon_commerce_order.items.first().pk: 1},
        carrier_code="DHL",
        tracking_number="00340434161094042557",
    )
    message = OutboxMessage.objects.get(key=f"ship:{shipment.pk}")
    own_order = placed_order()
    commerce_services.invoice_create(actor=None, order=own_order)
    return amazon_order, own_order, message, shipment


def url_for(name: str, objects) -> str:
    amazon_order, own_order, message, shipment = objects
    pattern = next(pattern for pattern in dashboard_urls.urlpatterns if pattern.name == name)
    if name in ("commerce_order_amazon_retry", "commerce_order_shipment_correct"):
        order_id = amazon_order.commerce_order_id
    elif name.startswith("commerce_"):
        order_id = own_order.pk
    else:
        order_id = amazon_order.pk
    arguments = {
        "store_id": amazon_order.store_id,
        "order_id": order_id,
        "message_id": message.pk,
        "shipment_id": shipment.pk,
    }
    return reverse(
        f"dashboard:{name}", kwargs={key: arguments[key] for key in pattern.pattern.converters}
    )


# Content-Security-Policy


def test_every_kind_of_page_sends_a_strict_content_security_policy(admin_client_, objects):
    urls = [url_for(name, objects) for name in sorted(PAGES)] + ["/sandbox/", "/admin/"]
    responses = [admin_client_.get(url) for url in urls] + [Client().get(reverse("login"))]

    for url, response in zip([*urls, reverse("login")], responses, strict=True):
        assert response.status_code == 200, url
        policy = policy_of(response)
        assert policy["default-src"] == ["'self'"], url
        assert policy["script-src"] == ["'self'"], url
        assert policy["style-src"] == ["'self'"], url
        assert policy["object-src"] == ["'none'"], url
        assert policy["frame-ancestors"] == ["'none'"], url
        assert policy["form-action"] == ["'self'"], url


INLINE = {
    "an inline script": re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE),
    "an event handler attribute": re.compile(r"<[^>]*\son[a-z]+\s*=", re.IGNORECASE),
    "a style attribute": re.compile(r"<[^>]*\sstyle\s*=", re.IGNORECASE),
    "a style element": re.compile(r"<style[\s>]", re.IGNORECASE),
    "a javascript: URL": re.compile(r"javascript:", re.IGNORECASE),
}


def test_no_template_holds_inline_script_or_style():
    # The policy would block them: script and style come from static/ only.
    templates = sorted(TEMPLATES_DIR.rglob("*.html"))
    assert len(templates) > 20

    found = [
        f"{template.relative_to(TEMPLATES_DIR)}: {kind}"
        for template in templates
        for kind, pattern in INLINE.items()
        if pattern.search(template.read_text())
    ]

    assert found == []


# Cache-Control


@pytest.mark.parametrize("name", sorted(pattern.name for pattern in dashboard_urls.urlpatterns))
def test_urls_about_orders_are_never_stored_by_browsers_or_proxies(admin_client_, objects, name):
    method = admin_client_.get if name in PAGES else admin_client_.post

    response = method(url_for(name, objects))

    # Objects that exist and a method the URL answers: the view itself answered.
    assert response.status_code < 404, response.status_code
    cache_control = response.get("Cache-Control", "")
    if name in NEVER_CACHED:
        assert "no-store" in cache_control and "private" in cache_control
    else:
        assert "no-store" not in cache_control


def test_the_csv_export_is_never_stored(admin_client_, objects):
    _amazon_order, own_order, _message, _shipment = objects

    response = admin_client_.post(
        reverse("dashboard:commerce_order_export"), {"order_ids": [own_order.pk]}
    )

    assert response.status_code == 200
    assert own_order.increment_id in b"".join(response.streaming_content).decode()
    assert "no-store" in response["Cache-Control"]


# In Chromium: the policy blocks nothing the pages need


RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(`${event.violatedDirective} ${event.blockedURI}`);
});
"""


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_chromium_meets_no_policy_violation_and_the_language_menu_still_works(live_server, page):
    get_user_model().objects.create_superuser("anna", password="correct horse battery")
    amazon_order = AmazonOrderFactory(store=StoreFactory(name="Demo Store (DE)"))
    own_order = placed_order()
    commerce_services.invoice_create(actor=None, order=own_order)
    console_errors = []
    page.on(
        "console",
        lambda message: console_errors.append(message.text) if message.type == "error" else None,
    )
    page.add_init_script(RECORD_VIOLATIONS)

    login = page.goto(f"{live_server.url}{reverse('login')}")
    assert "script-src 'self'" in login.headers["content-security-policy"]
    page.fill("#id_username", "anna")
    page.fill("#id_password", "correct horse battery")
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")

    store, order = amazon_order.store_id, amazon_order.pk
    paths = [
        reverse("dashboard:store_list"),
        reverse("dashboard:store_detail", args=[store]),
        reverse("dashboard:store_settings", args=[store]),
        reverse("dashboard:store_sync_log", args=[store]),
        reverse("dashboard:store_connect"),
        reverse("dashboard:order_list", args=[store]),
        reverse("dashboard:order_detail", args=[store, order]),
        reverse("dashboard:order_cancel", args=[store, order]),
        reverse("dashboard:commerce_order_list"),
        reverse("dashboard:commerce_order_detail", args=[own_order.pk]),
        reverse("dashboard:commerce_order_ship", args=[own_order.pk]),
        reverse("dashboard:commerce_order_creditmemo", args=[own_order.pk]),
        "/sandbox/",
        "/admin/",
        "/admin/amazon_channel/store/",
    ]
    for path in paths:
        response = page.goto(f"{live_server.url}{path}")
        assert response.status == 200, path
        assert "content-security-policy" in response.headers, path
        assert page.evaluate("window.__cspViolations") == [], path

    # The language menu submits itself from static/js, not from an inline handler.
    page.goto(f"{live_server.url}{reverse('dashboard:store_list')}")
    with page.expect_navigation():
        page.select_option("#language-select", "de")
    assert page.locator("html").get_attribute("lang") == "de"
    assert page.evaluate("window.__cspViolations") == []
    assert [text for text in console_errors if "Content Security Policy" in text] == []
