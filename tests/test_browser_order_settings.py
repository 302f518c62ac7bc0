"""Order Settings in Chromium: the custom processing status shows only with a Custom Order Status,
and is chosen from the existing Commerce statuses."""

import pytest
from playwright.sync_api import expect

from amazon_channel.models import Store
from amazon_channel.tests.factories import StoreFactory
from commerce_orders.tests.factories import CommerceOrderFactory
from dashboard.tests.factories import PASSWORD, user_with_permissions

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def sign_in(page, live_server, username):
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")


def test_the_custom_status_shows_only_when_custom_is_chosen(live_server, page, screenshot):
    CommerceOrderFactory(state="processing", status="packing")
    store = StoreFactory(name="Berlin Shop")
    user_with_permissions("anna", "view_store", "change_store")
    sign_in(page, live_server, "anna")
    errors = []
    page.on(
        "console", lambda message: errors.append(message.text) if message.type == "error" else None
    )

    page.goto(f"{live_server.url}/stores/{store.pk}/settings/")
    custom_status = page.locator("#id_processing_status")
    assert custom_status.is_hidden()
    expect(
        page.locator(".field", has=page.locator("#id_order_status_source")).locator(".help")
    ).to_be_visible()

    page.select_option("#id_order_status_source", Store.OrderStatusSource.CUSTOM)
    expect(custom_status).to_be_visible()
    options = custom_status.locator("option").all_inner_texts()
    assert options == ["Processing", "packing"]
    screenshot("order_settings_custom_status")
    page.select_option("#id_processing_status", "packing")
    page.get_by_role("button", name="Save").click()
    page.wait_for_url(f"{live_server.url}/stores/{store.pk}/")

    store.refresh_from_db()
    assert (store.order_status_source, store.processing_status) == ("custom", "packing")
    page.goto(f"{live_server.url}/stores/{store.pk}/settings/")
    expect(custom_status).to_be_visible()  # Custom saved: its status is shown
    page.select_option("#id_order_status_source", Store.OrderStatusSource.DEFAULT)
    assert custom_status.is_hidden()
    assert errors == []  # the Content-Security-Policy let the script run
