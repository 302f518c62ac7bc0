"""The merchant's pages in Chromium: store cards to Cancel Order, and what others may not do."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from amazon_channel.models import AmazonOrderCancellation, SyncRun
from amazon_channel.tests.factories import AmazonOrderFactory, AmazonOrderItemFactory, StoreFactory
from dashboard.tests.factories import (
    PASSWORD,
    CancellationFactory,
    SyncRunFactory,
    user_with_permissions,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ALL_PERMISSIONS = (
    "view_store",
    "change_store",
    "sync_store",
    "view_amazonorder",
    "change_amazonorder",
    "cancel_amazonorder",
)
SUCCESS = "The Amazon order has been canceled and the request has been submitted to Amazon."


@pytest.fixture(autouse=True)
def _no_eager_celery(settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False


def sign_in(page, live_server, username):
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")


@pytest.fixture
def shop():
    """A store with a few weeks of orders: an Unshipped one with items, a Pending one."""
    store = StoreFactory(name="Demo Store (DE)", is_import_enabled=True)
    SyncRunFactory(store=store, kind=SyncRun.Kind.SCHEDULED)
    now = timezone.now()
    for days in range(0, 28, 3):
        AmazonOrderFactory(
            store=store,
            status="Shipped",
            purchase_date=now - timedelta(days=days, hours=5),
            order_total=Decimal("19.99") + days,
        )
    unshipped = AmazonOrderFactory(
        store=store,
        amazon_order_id="302-1000001-0000001",
        buyer_name="Erika Mustermann",
        order_total=Decimal("1234.50"),
        purchase_date=now - timedelta(minutes=30),
        shipping_address={
            "name": "Erika Mustermann",
            "addressLine1": "Heidestraße 17",
            "city": "Köln",
            "postalCode": "51147",
            "countryCode": "DE",
        },
    )
    AmazonOrderItemFactory(order=unshipped, title="Blue enamel mug", seller_sku="MUG-BLUE")
    pending = AmazonOrderFactory(
        store=store,
        amazon_order_id="302-1000002-0000002",
        status="Pending",
        order_total=None,
        purchase_date=now - timedelta(minutes=10),
    )
    return store, unshipped, pending


def test_a_merchant_cancels_an_unshipped_order_from_the_store_card(
    live_server, page, screenshot, shop
):
    store, unshipped, _pending = shop
    user_with_permissions("anna", *ALL_PERMISSIONS)
    sign_in(page, live_server, "anna")

    card = page.locator(f"article[data-store='{store.pk}']")
    assert "Demo Store (DE)" in card.inner_text()
    assert card.locator("svg rect").count() == 30
    screenshot("dashboard_store_cards")

    card.get_by_role("link", name="View Store").click()
    page.wait_for_url(f"{live_server.url}/stores/{store.pk}/")
    expect(page.get_by_role("heading", name="Recent Orders")).to_be_visible()
    screenshot("dashboard_store_detail")

    page.get_by_role("link", name="302-1000001-0000001").click()
    expect(page.get_by_role("heading", name="Amazon Order Details")).to_be_visible()
    assert "Blue enamel mug" in page.content()
    screenshot("dashboard_order_detail_unshipped")

    page.get_by_role("link", name="Cancel Order").click()
    page.select_option("#id_reason", "NoInventory")
    screenshot("dashboard_cancel_order")
    page.get_by_role("button", name="Confirm").click()

    page.wait_for_url(f"{live_server.url}/stores/{store.pk}/orders/{unshipped.pk}/")
    assert page.locator(".message.success").inner_text() == SUCCESS
    assert page.locator("[data-field=status]").inner_text() == "Canceled"
    assert page.get_by_role("link", name="Cancel Order").count() == 0
    assert "Cancellation requested" in page.locator("table.history").inner_text()
    screenshot("dashboard_order_canceled")


def test_a_pending_order_shows_no_cancel_order_but_seller_central(
    live_server, page, screenshot, shop
):
    store, _unshipped, pending = shop
    user_with_permissions("anna", *ALL_PERMISSIONS)
    sign_in(page, live_server, "anna")

    page.goto(f"{live_server.url}/stores/{store.pk}/orders/{pending.pk}/")

    assert page.get_by_role("link", name="Cancel Order").count() == 0
    notice = page.locator("[data-notice=seller-central]")
    assert "can only be canceled in Amazon Seller Central" in notice.inner_text()
    link = notice.get_by_role("link", name="Open Amazon Seller Central")
    assert link.get_attribute("href") == "https://sellercentral-europe.amazon.com"
    screenshot("dashboard_order_detail_pending")


def test_a_rejected_cancellation_is_flagged_on_the_card_and_shown_on_the_order(
    live_server, page, screenshot, shop
):
    store, _unshipped, _pending = shop
    rejected = CancellationFactory(
        order__store=store,
        order__amazon_order_id="302-1000003-0000003",
        state=AmazonOrderCancellation.State.REJECTED,
        amazon_message="Error 18028: the order has already shipped.",
    )
    user_with_permissions("anna", *ALL_PERMISSIONS)
    sign_in(page, live_server, "anna")

    card = page.locator(f"article[data-store='{store.pk}']")
    assert "card-flagged" in card.get_attribute("class")
    assert card.locator("[data-count=cancellation-rejected] strong").inner_text() == "1"
    screenshot("dashboard_store_cards_rejected")

    page.goto(f"{live_server.url}/stores/{store.pk}/orders/{rejected.order.pk}/")
    notice = page.locator("[data-notice=cancellation-rejected]")
    assert "Cancellation rejected by Amazon" in notice.inner_text()
    assert "Error 18028: the order has already shipped." in notice.inner_text()
    screenshot("dashboard_order_cancellation_rejected")

    notice.get_by_role("button", name="Mark as reviewed").click()
    page.wait_for_load_state()
    assert "marked as reviewed" in page.locator(".message.success").inner_text()
    page.goto(f"{live_server.url}/")
    card = page.locator(f"article[data-store='{store.pk}']")
    assert card.locator("[data-count=cancellation-rejected] strong").inner_text() == "0"


def test_a_user_without_the_cancel_permission_sees_no_button_and_gets_403(
    live_server, page, screenshot, shop
):
    store, unshipped, _pending = shop
    user_with_permissions("viewer", "view_store", "view_amazonorder")
    sign_in(page, live_server, "viewer")

    page.goto(f"{live_server.url}/stores/{store.pk}/orders/{unshipped.pk}/")
    expect(page.get_by_role("heading", name="Amazon Order Details")).to_be_visible()
    assert page.get_by_role("link", name="Cancel Order").count() == 0
    screenshot("dashboard_order_detail_viewer")

    response = page.goto(f"{live_server.url}/stores/{store.pk}/orders/{unshipped.pk}/cancel/")
    assert response.status == 403


def test_all_orders_with_a_filter_chip(live_server, page, screenshot, shop):
    store, unshipped, _pending = shop
    user_with_permissions("anna", *ALL_PERMISSIONS)
    sign_in(page, live_server, "anna")
    page.goto(f"{live_server.url}/stores/{store.pk}/")
    page.get_by_role("link", name="All Orders").click()

    page.fill("#id_buyer_name", "Erika")
    page.select_option("#id_status", "Unshipped")
    page.get_by_role("button", name="Apply Filters").click()
    page.wait_for_load_state()

    rows = page.locator("table.data-table tbody tr")
    assert rows.count() == 1
    assert unshipped.amazon_order_id in rows.first.inner_text()
    assert page.locator(".chip").count() == 2
    screenshot("dashboard_all_orders_filtered")

    page.locator(".chip[data-filter=status] .chip-remove").click()
    page.wait_for_url(lambda url: "status=" not in url)
    assert page.locator(".chip").count() == 1
    assert "status=" not in page.url
    assert "buyer_name=Erika" in page.url
