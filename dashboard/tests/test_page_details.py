"""Small things every page gets right: readable status colours, one date format, a favicon,
Amazon's purchase date on imported orders, a status said once."""

import re
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.staticfiles import finders
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format

from amazon_channel.orders.commerce_import import amazon_order_commerce_follow
from amazon_channel.tests.factories import AmazonOrderFactory, AmazonOrderItemFactory, StoreFactory
from commerce_orders.tests.factories import ProductFactory, placed_order
from dashboard.tests.factories import COMMERCE_PERMISSIONS, user_with_app_permissions

pytestmark = pytest.mark.django_db

CSS = Path(settings.BASE_DIR, "static", "css", "app.css").read_text()
TEMPLATES = Path(settings.BASE_DIR, "templates")
# The backgrounds status text sits on: a panel, and the striped rows of a table.
BACKGROUNDS = ("#ffffff", "#f9f9f9")


def css_color(selector: str) -> str:
    """The colour the last rule naming `selector` gives (later rules win)."""
    rules = re.sub(r"/\*.*?\*/", "", CSS, flags=re.DOTALL)
    colors = []
    for selectors, body in re.findall(r"([^{}]+)\{([^}]*)\}", rules):
        color = re.search(r"(?:^|;)\s*color:\s*(#[0-9a-fA-F]{6})", body)
        if color and selector in [part.strip() for part in selectors.split(",")]:
            colors.append(color.group(1))
    assert colors, f"no colour for {selector}"
    return colors[-1]


def relative_luminance(hex_color: str) -> float:
    channels = [int(hex_color[index : index + 2], 16) / 255 for index in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(foreground: str, background: str) -> float:
    lighter, darker = sorted(
        (relative_luminance(foreground), relative_luminance(background)), reverse=True
    )
    return (lighter + 0.05) / (darker + 0.05)


def test_contrast_is_computed_as_wcag_says():
    assert round(contrast("#b36b00", "#ffffff"), 2) == 4.18  # the Unshipped orange of before
    assert round(contrast("#000000", "#ffffff"), 1) == 21.0


@pytest.mark.parametrize(
    "selector",
    [
        ".status-unshipped",
        ".status-processing",
        ".status-canceled",
        ".status-shipped",
        ".status-new",
        ".status-complete",
        ".status-closed",
        ".status-holded",
    ],
)
def test_status_text_has_at_least_4_5_to_1_contrast(selector):
    color = css_color(selector)

    for background in BACKGROUNDS:
        assert contrast(color, background) >= 4.5, (selector, color, background)


def test_every_template_formats_dates_and_times_one_way():
    formats = {
        match.group(1)
        for path in TEMPLATES.rglob("*.html")
        for match in re.finditer(r'\|date:"([^"]+)"', path.read_text())
    }

    assert formats == {"SHORT_DATETIME_FORMAT"}


def test_the_order_view_and_the_grid_show_the_purchase_date_alike(client):
    client.force_login(user_with_app_permissions("clerk", *COMMERCE_PERMISSIONS))
    order = placed_order()
    shown = date_format(timezone.localtime(order.created_at), "SHORT_DATETIME_FORMAT")

    grid = client.get(reverse("dashboard:commerce_order_list")).content.decode()
    view = client.get(reverse("dashboard:commerce_order_detail", args=[order.pk])).content.decode()

    assert shown in grid
    assert f"<dd>{shown}</dd>" in view


def test_an_order_imported_from_amazon_is_dated_by_its_amazon_purchase_date(client):
    client.force_login(user_with_app_permissions("clerk", *COMMERCE_PERMISSIONS))
    store = StoreFactory(is_import_enabled=True)
    purchased = (timezone.now() - timedelta(days=5)).replace(microsecond=0)
    ProductFactory(sku="MUG-BLUE")
    amazon_order = AmazonOrderFactory(
        store=store,
        purchase_date=purchased,
        order_total=Decimal("29.90"),
        shipping_address={
            "name": "Erika Mustermann",
            "addressLine1": "Heidestraße 17",
            "city": "Köln",
            "postalCode": "51147",
            "countryCode": "DE",
        },
    )
    AmazonOrderItemFactory(order=amazon_order, seller_sku="MUG-BLUE", item_price=Decimal("29.90"))
    newer = placed_order()

    assert amazon_order_commerce_follow(store=store, order=amazon_order), (
        amazon_order.commerce_import_error
    )
    response = client.get(reverse("dashboard:commerce_order_list"))

    commerce_order = amazon_order.commerce_order
    commerce_order.refresh_from_db()
    assert commerce_order.created_at == purchased
    shown = date_format(timezone.localtime(purchased), "SHORT_DATETIME_FORMAT")
    row = response.content.decode().split(f'data-order="{commerce_order.increment_id}"')[1]
    assert shown in row.split("</tr>")[0]
    # Newest purchase first: the store's own order of now, then Amazon's of five days ago.
    assert [order.pk for order in response.context["page"].orders] == [newer.pk, commerce_order.pk]


def test_the_amazon_order_page_says_the_commerce_status_once(merchant_client):
    amazon_order = AmazonOrderFactory()
    amazon_order.commerce_order = placed_order(
        external_channel="amazon", external_order_id=amazon_order.amazon_order_id
    )
    amazon_order.save(update_fields=["commerce_order"])
    commerce_services_invoice(amazon_order.commerce_order)

    content = merchant_client.get(
        reverse("dashboard:order_detail", args=[amazon_order.store_id, amazon_order.pk])
    ).content.decode()

    status = content.split('data-field="commerce-status">')[1].split("</span>")[0]
    assert status == "Processing"
    assert "(processing)" not in content


def commerce_services_invoice(order):
    from commerce_orders.services import invoice_create

    invoice_create(actor=None, order=order)


def test_every_page_links_a_favicon_that_is_served(client, merchant_client):
    login = client.get(reverse("login")).content.decode()
    stores = merchant_client.get(reverse("dashboard:store_list")).content.decode()
    favicon = client.get("/favicon.ico")

    for content in (login, stores):
        link = re.search(r'<link rel="icon" href="([^"]+)" type="image/svg\+xml">', content)
        assert link, "no favicon link"
        assert finders.find(link.group(1).removeprefix(settings.STATIC_URL).lstrip("/"))
    assert favicon.status_code == 301
    assert favicon["Location"] == "/static/img/favicon.svg"
