"""The Commerce Orders grid and Order View in Chromium: an order from Amazon, its Amazon links,
and a shipment with tracking made through the Ship form."""

import pytest

from amazon_channel.models import OutboxMessage
from amazon_channel.tests.factories import AmazonOrderFactory, StoreFactory
from commerce_orders.notes import notes_text
from commerce_orders.tests.factories import placed_order
from dashboard.tests.factories import (
    COMMERCE_PERMISSIONS,
    PASSWORD,
    user_with_app_permissions,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

AMAZON_PERMISSIONS = (
    "amazon_channel.view_store",
    "amazon_channel.view_amazonorder",
    "amazon_channel.cancel_amazonorder",
)


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
def amazon_order():
    store = StoreFactory(name="Demo Store (DE)", is_import_enabled=True)
    amazon_order = AmazonOrderFactory(store=store, amazon_order_id="302-4000001-0000001")
    amazon_order.commerce_order = placed_order(
        external_channel="amazon",
        external_order_id=amazon_order.amazon_order_id,
        customer_name="Erika Mustermann",
        payment_method="Amazon Channel Payment",
        po_number=amazon_order.amazon_order_id,
    )
    amazon_order.save(update_fields=["commerce_order"])
    return amazon_order


def test_a_merchant_ships_an_amazon_order_from_the_order_view(
    live_server, page, screenshot, amazon_order
):
    order = amazon_order.commerce_order
    user_with_app_permissions("anna", *COMMERCE_PERMISSIONS, *AMAZON_PERMISSIONS)
    sign_in(page, live_server, "anna")

    page.get_by_role("link", name="Orders", exact=True).click()
    page.wait_for_url(f"{live_server.url}/commerce/orders/")
    page.fill("#id_search", "4000001")
    page.get_by_role("button", name="Apply Filters").click()
    assert page.locator("li.chip[data-filter=search]").is_visible()
    assert page.locator("tbody tr[data-order]").count() == 1
    screenshot("commerce_order_grid")

    page.get_by_role("link", name=order.increment_id).click()
    page.wait_for_url(f"{live_server.url}/commerce/orders/{order.pk}/")
    assert page.locator("h1").inner_text() == f"Order #{order.increment_id}"
    amazon = page.locator("[data-section=amazon-order]")
    assert "302-4000001-0000001" in amazon.inner_text()
    view_or_cancel = amazon.get_by_role("link", name="View or Cancel Amazon Order")
    assert view_or_cancel.get_attribute("href") == (
        f"/stores/{amazon_order.store_id}/orders/{amazon_order.pk}/"
    )
    all_orders = amazon.get_by_role("link", name="View all Amazon Orders")
    assert all_orders.get_attribute("href") == f"/stores/{amazon_order.store_id}/orders/"
    screenshot("commerce_order_view_amazon")

    page.locator("[data-action=ship]").click()
    page.wait_for_url(f"{live_server.url}/commerce/orders/{order.pk}/ship/")
    mug = order.items.get(sku="MUG")
    tee = order.items.get(sku="TEE")
    assert page.input_value(f"#id_quantity_{mug.pk}") == "2"
    page.fill(f"#id_quantity_{tee.pk}", "0")
    page.select_option("#id_carrier_code", "DHL")
    page.fill("#id_method", "Paket")
    page.fill("#id_tracking_number", "00340434161094042557")
    screenshot("commerce_order_ship_form")
    page.get_by_role("button", name="Submit Shipment").click()

    page.wait_for_url(f"{live_server.url}/commerce/orders/{order.pk}/")
    assert page.locator(".message.success").inner_text() == "The shipment has been created."
    shipments = page.locator("[data-section=shipments]")
    assert "00340434161094042557" in shipments.inner_text()
    assert "Sent to Amazon" in shipments.inner_text()
    items = page.locator("[data-section=items]")
    assert items.locator("tr[data-item=MUG] [data-qty=shipped]").inner_text() == "2"
    assert items.locator("tr[data-item=TEE] [data-qty=shipped]").inner_text() == "0"
    assert OutboxMessage.objects.filter(kind=OutboxMessage.Kind.CONFIRM_SHIPMENT).count() == 1
    screenshot("commerce_order_view_shipped")

    view_or_cancel.click()
    page.wait_for_url(f"{live_server.url}/stores/{amazon_order.store_id}/orders/{amazon_order.pk}/")
    assert page.get_by_role("heading", name="Amazon Order Details").is_visible()
    commerce_link = page.get_by_role("link", name=order.increment_id)
    assert commerce_link.get_attribute("href") == f"/commerce/orders/{order.pk}/"


def test_a_shipment_amazon_refused_shows_on_the_amazon_order_and_is_retried_from_the_order_view(
    live_server, page, screenshot, amazon_order
):
    from amazon_channel.services.commerce_actions import commerce_shipment_create
    from amazon_channel.services.outbox import outbox_message_settle

    order = amazon_order.commerce_order
    shipment = commerce_shipment_create(
        actor=None,
        order=order,
        quantities={item.pk: item.quantity_ordered for item in order.items.all()},
        carrier_code="DHL",
        tracking_number="00340434161094042557",
    )
    message = OutboxMessage.objects.get(key=f"ship:{shipment.pk}")
    reason = "Order 302-4000001-0000001 is CANCELLED: only unshipped orders can be shipped."
    # What the delivery does with Amazon's 400: the message fails and the order is told.
    OutboxMessage.objects.filter(pk=message.pk).update(state="failed", result=reason)
    message.refresh_from_db()
    outbox_message_settle(message=message, problem=reason)
    user_with_app_permissions("anna", *COMMERCE_PERMISSIONS, *AMAZON_PERMISSIONS)
    sign_in(page, live_server, "anna")

    page.goto(f"{live_server.url}/stores/{amazon_order.store_id}/orders/{amazon_order.pk}/")
    notes = page.locator("[data-field=order-notes]")
    assert f"Amazon refused the shipment #{shipment.increment_id}: {reason}" in notes.inner_text()
    screenshot("amazon_order_refused_shipment_notes")
    notes.locator("[data-link=amazon-retry]").click()

    page.wait_for_url(f"{live_server.url}/commerce/orders/{order.pk}/")
    row = page.locator(f"tr[data-shipment='{shipment.increment_id}']")
    assert row.locator("[data-amazon-state=unsent]").inner_text() == "Not sent to Amazon"
    assert f"Amazon refused: {reason}" in row.inner_text()
    screenshot("commerce_order_unsent_shipment")
    row.get_by_role("button", name="Retry").click()

    page.wait_for_url(f"{live_server.url}/commerce/orders/{order.pk}/")
    assert page.locator(".message.success").inner_text() == (
        "The message will be sent to Amazon again."
    )
    assert row.locator("[data-amazon-state=sent]").inner_text() == "Sent to Amazon"
    message.refresh_from_db()
    assert message.state == OutboxMessage.State.PENDING
    amazon_order.refresh_from_db()
    assert notes_text(amazon_order.channel_notes) == ""
