"""Every merchant page in Chromium at 1440 and 390 px, with long real-world values: nothing is
wider than the window (tables scroll inside their panels, the top bar wraps), and each page is
saved as artifacts/screens/<page>-<width>.png."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone

from amazon_channel.models import AmazonOrderEvent, AmazonOrderPackage, StoreEvent, SyncRun
from amazon_channel.tests.factories import AmazonOrderFactory, AmazonOrderItemFactory, StoreFactory
from commerce_orders.services import invoice_create
from commerce_orders.tests.factories import placed_order
from conftest import ARTIFACTS_DIR
from dashboard.tests.factories import PASSWORD, CancellationFactory, SyncRunFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENS_DIR = ARTIFACTS_DIR / "screens"
WIDTHS = (1440, 390)

LONG_STORE_NAME = "Haushaltswaren Müller & Söhne Großhandel GmbH \u2013 Amazon.de Marktplatz (DE)"
LONG_BUYER = "Maximiliane-Alexandra von Hohenzollern-Sigmaringen-Württemberg"
LONG_EMAIL = "maximiliane.alexandra.vonhohenzollernsigmaringenwuerttemberg@marketplace.amazon.de"
LONG_TITLE = (
    "Emaille-Becher Blau 500 ml, spülmaschinenfest, mit Edelstahlrand, handbemalt, "
    "Limitierte Ausgabe 2026 \u2013 Geschenkset mit Untersetzer und Geschenkverpackung"
)
LONG_SKU = "MUG-BLUE-ENAMEL-500ML-LIMITED-EDITION-2026-GIFTSET"
LONG_STREET = "Kurfürstendammstraße 123, Hinterhaus, 4. Obergeschoss links, c/o Kanzlei Schmidt"
LONG_ERROR = (
    "Amazon denied access (Unauthorized): Access to requested resource is denied. "
    "The refresh token Atzr|IwEBIPmA5cQ0Jn6RzWb8Zx1YsYkqR3pVh9q2o7KuT0cLmXnBvA4sD6fG8hJ1kL3z "
    "was revoked by the seller in Seller Central."
)


@pytest.fixture(autouse=True)
def _no_eager_celery(settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False


@pytest.fixture
def pages(sandbox_seller_factory):
    """A store with every kind of order and long values everywhere; the URL of each page."""
    get_user_model().objects.create_superuser("owner", "owner@example.com", PASSWORD)
    store = StoreFactory(name=LONG_STORE_NAME, is_import_enabled=True)
    now = timezone.now()
    for index in range(12):
        SyncRunFactory(
            store=store,
            kind=SyncRun.Kind.SCHEDULED,
            pages=index,
            orders_created=1234 * index,
            orders_updated=98765,
        )
    SyncRunFactory(
        store=store, status=SyncRun.Status.FAILED, message=LONG_ERROR, kind=SyncRun.Kind.MANUAL
    )
    StoreEvent.objects.create(
        store=store, kind=StoreEvent.Kind.SETTINGS_CHANGED, message=LONG_ERROR
    )
    for days in range(0, 28, 2):
        AmazonOrderFactory(
            store=store,
            status="Shipped",
            buyer_name="Jürgen Müller-Lüdenscheidt",
            purchase_date=now - timedelta(days=days, hours=5),
            order_total=Decimal("1234567.89") + days,
        )
    unshipped = AmazonOrderFactory(
        store=store,
        amazon_order_id="302-1000001-0000001",
        buyer_name=LONG_BUYER,
        buyer_email=LONG_EMAIL,
        order_total=Decimal("1234.50"),
        purchase_date=now - timedelta(minutes=30),
        order_notes=LONG_ERROR,
        shipping_address={
            "name": LONG_BUYER,
            "addressLine1": LONG_STREET,
            "addressLine2": LONG_STREET,
            "city": "Garmisch-Partenkirchen",
            "postalCode": "82467",
            "countryCode": "DE",
            "phone": "+49 8821 123456789",
        },
    )
    AmazonOrderItemFactory(
        order=unshipped, title=LONG_TITLE, seller_sku=LONG_SKU, quantity_ordered=3
    )
    AmazonOrderEvent.objects.create(
        order=unshipped, kind=AmazonOrderEvent.Kind.NOTE, message=LONG_ERROR
    )
    shipped = AmazonOrderFactory(store=store, status="Shipped", buyer_name=LONG_BUYER)
    AmazonOrderPackage.objects.create(
        order=shipped,
        package_reference_id="1",
        carrier="Deutsche Post DHL Paket International",
        shipping_service="Warenpost International Premium mit Sendungsverfolgung",
        tracking_number="JJD000390007880000123456789012345",
        ship_time=now,
    )
    CancellationFactory(order__store=store, order__buyer_name=LONG_BUYER)
    AmazonOrderFactory(store=store, status="Pending", order_total=None, buyer_name="")
    commerce_order = placed_order(
        external_channel="amazon",
        external_order_id=unshipped.amazon_order_id,
        customer_name=LONG_BUYER,
        customer_email=LONG_EMAIL,
        po_number=unshipped.amazon_order_id,
    )
    invoice_create(actor=None, order=commerce_order)
    unshipped.commerce_order = commerce_order
    unshipped.save(update_fields=["commerce_order"])
    own_order = placed_order(customer_name=LONG_BUYER, customer_email=LONG_EMAIL)
    invoice_create(actor=None, order=own_order)
    seller = sandbox_seller_factory(seller_id="A1LONGSELLERID0000000000000001")
    from seller_central_sandbox.services.orders import orders_generate

    orders_generate(seller=seller, count=6, seed=3)

    store_args = [store.pk]
    order_args = [store.pk, unshipped.pk]
    return {
        "login": "/accounts/login/",
        "stores": reverse("dashboard:store_list"),
        "store-dashboard": reverse("dashboard:store_detail", args=store_args),
        "all-orders": reverse("dashboard:order_list", args=store_args),
        "amazon-order-details": reverse("dashboard:order_detail", args=order_args),
        "cancel-order": reverse("dashboard:order_cancel", args=order_args),
        "order-settings": reverse("dashboard:store_settings", args=store_args),
        "sync-log": reverse("dashboard:store_sync_log", args=store_args),
        "add-store": reverse("dashboard:store_connect"),
        "commerce-grid": reverse("dashboard:commerce_order_list"),
        "commerce-order-view": reverse("dashboard:commerce_order_detail", args=[commerce_order.pk]),
        "commerce-ship": reverse("dashboard:commerce_order_ship", args=[commerce_order.pk]),
        "commerce-credit-memo": reverse("dashboard:commerce_order_creditmemo", args=[own_order.pk]),
        "sandbox-sellers": reverse("seller_central_sandbox:seller_list"),
        "sandbox-seller": reverse("seller_central_sandbox:seller_detail", args=[seller.seller_id]),
    }


def sign_in(page, live_server):
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", "owner")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")


def overflow(page) -> dict:
    """How wide the document and the top bar are, against the window."""
    return page.evaluate(
        """() => {
            const topbar = document.querySelector('.topbar');
            return {
                window: window.innerWidth,
                document: document.documentElement.scrollWidth,
                topbar: topbar ? topbar.scrollWidth : 0,
                topbarBox: topbar ? topbar.clientWidth : 0,
            };
        }"""
    )


@pytest.mark.parametrize("width", WIDTHS)
def test_no_page_is_wider_than_the_window(live_server, browser, pages, width):
    SCREENS_DIR.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(locale="en-US", viewport={"width": width, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    failed_responses = []
    page.on(
        "response",
        lambda response: (
            failed_responses.append((response.status, response.url))
            if response.status >= 400
            else None
        ),
    )
    too_wide = {}
    try:
        for name, path in pages.items():
            if name == "login":
                page.goto(f"{live_server.url}{path}")
            else:
                if name == "stores":
                    sign_in(page, live_server)
                response = page.goto(f"{live_server.url}{path}")
                assert response.status == 200, (name, response.status)
            page.screenshot(path=str(SCREENS_DIR / f"{name}-{width}.png"), full_page=True)
            sizes = overflow(page)
            if sizes["document"] > sizes["window"] or sizes["topbar"] > sizes["topbarBox"]:
                too_wide[name] = sizes
    finally:
        context.close()

    assert too_wide == {}
    assert failed_responses == []


def test_a_failed_runs_message_reads_whole_on_a_phone(live_server, browser):
    """At 390 px the sync log is a list of runs, not a table that scrolls sideways: the message
    of a failed run (why the sync stopped) lies inside the window, in the merchant's language."""
    get_user_model().objects.create_superuser("owner", "owner@example.com", PASSWORD)
    store = StoreFactory(name=LONG_STORE_NAME)
    SyncRunFactory(store=store, kind=SyncRun.Kind.SCHEDULED, orders_skipped=2)
    SyncRunFactory(
        store=store, status=SyncRun.Status.FAILED, message=LONG_ERROR, kind=SyncRun.Kind.MANUAL
    )
    context = browser.new_context(locale="de-DE", viewport={"width": 390, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        sign_in(page, live_server)
        page.goto(f"{live_server.url}{reverse('dashboard:store_sync_log', args=[store.pk])}")
        boxes = page.locator("[data-run-message]").evaluate_all(
            "els => els.map(el => { const box = el.getBoundingClientRect();"
            " return [box.left, box.right, el.innerText]; })"
        )
        width = page.evaluate("window.innerWidth")
    finally:
        context.close()

    assert len(boxes) == 2
    for left, right, text in boxes:
        assert left >= 0 and right <= width, text
    assert any("Amazon hat den Zugriff verweigert (Unauthorized)" in text for *_, text in boxes)
    assert any("2 Bestellungen ohne ID oder Datumsangaben" in text for *_, text in boxes)
