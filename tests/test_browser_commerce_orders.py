"""The Commerce Orders grid and Order View in Chromium: an order from Amazon, its Amazon links,
and a shipment with tracking made through the Ship form."""

from pathlib import Path

import pytest
from playwright.sync_api import expect

from amazon_channel.models import OutboxMessage
from amazon_channel.tests.factories import AmazonOrderFactory, StoreFactory
from commerce_orders.notes import notes_text
from commerce_orders.tests.factories import placed_order
from dashboard.tests.factories import (
    COMMERCE_PERMISSIONS,
    PASSWORD,
    user_with_app_permissions,
)
from tests.sync_helpers import shipment_made_before_tracking_was_required

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ARTIFACTS_DIR = Path(__file__).resolve().parent.parent / "artifacts"
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
    expect(page.locator("li.chip[data-filter=search]")).to_be_visible()
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

    # Shipped: Cancel Order is no longer offered (issue 13), the link only views the order.
    assert view_or_cancel.count() == 0
    amazon.get_by_role("link", name="View Amazon Order").click()
    page.wait_for_url(f"{live_server.url}/stores/{amazon_order.store_id}/orders/{amazon_order.pk}/")
    expect(page.get_by_role("heading", name="Amazon Order Details")).to_be_visible()
    commerce_link = page.get_by_role("link", name=order.increment_id)
    assert commerce_link.get_attribute("href") == f"/commerce/orders/{order.pk}/"


def test_a_shipment_amazon_refused_shows_on_the_amazon_order_and_is_retried_from_the_order_view(
    live_server, page, screenshot, amazon_order
):
    from amazon_channel.orders.commerce_to_amazon import commerce_shipment_create
    from amazon_channel.outbox.messages import outbox_message_settle

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


def shots(page, name: str) -> None:
    """Full-page screenshots at 1440 and 390 px wide, under artifacts/ship/."""
    directory = ARTIFACTS_DIR / "ship"
    directory.mkdir(parents=True, exist_ok=True)
    for width, height in ((1440, 900), (390, 844)):
        page.set_viewport_size({"width": width, "height": height})
        page.screenshot(path=str(directory / f"{name}_{width}.png"), full_page=True)
    page.set_viewport_size({"width": 1440, "height": 900})


def test_submit_shipment_of_an_amazon_order_asks_for_tracking_and_amazons_carrier(
    live_server, page, amazon_order
):
    order = amazon_order.commerce_order
    user_with_app_permissions("anna", *COMMERCE_PERMISSIONS, *AMAZON_PERMISSIONS)
    sign_in(page, live_server, "anna")
    page.goto(f"{live_server.url}/commerce/orders/{order.pk}/ship/")
    carriers = page.locator("#id_carrier_code option").all_inner_texts()
    assert "Hermes Logistik Gruppe" in carriers
    assert "PostNL" not in carriers  # not on Amazon's list: Other with its name
    assert "Other (enter the carrier's name)" in carriers
    assert page.locator("#id_tracking_number").get_attribute("required") is not None
    shots(page, "ship_form_amazon")

    # The browser's own check aside, the server refuses a shipment without tracking.
    page.evaluate("document.querySelector('#id_tracking_number').removeAttribute('required')")
    page.select_option("#id_carrier_code", "Other")
    page.get_by_role("button", name="Submit Shipment").click()

    # The form comes back with its errors; the address bar shows the form's page again
    # (static/js/page-url.js), so wait for the errors rather than for a URL.
    page.wait_for_selector(".field-error")
    page.wait_for_function(f"location.pathname === '/commerce/orders/{order.pk}/ship/'")
    errors = page.locator(".field-error").all_inner_texts()
    assert "Amazon requires a tracking number." in errors
    assert "Enter the carrier's name for Other." in errors
    assert not order.shipments.exists()
    shots(page, "ship_form_amazon_errors")

    page.select_option("#id_carrier_code", "Other")
    page.fill("#id_carrier_title", "Trans-o-Flex")
    page.fill("#id_tracking_number", "TOF-000123")
    page.get_by_role("button", name="Submit Shipment").click()
    page.wait_for_url(f"{live_server.url}/commerce/orders/{order.pk}/")
    assert page.locator(".message.success").inner_text() == "The shipment has been created."
    message = OutboxMessage.objects.get(kind=OutboxMessage.Kind.CONFIRM_SHIPMENT)
    package = message.payload["package_detail"]
    assert (package["carrierCode"], package["carrierName"], package["trackingNumber"]) == (
        "Other",
        "Trans-o-Flex",
        "TOF-000123",
    )


def refused_for_want_of_tracking(amazon_order) -> tuple:
    """A shipment queued without tracking (as before Amazon's requirements were checked), then
    refused by Amazon as the sandbox refuses it: (shipment, its message, Amazon's words)."""
    from amazon_channel.outbox.messages import outbox_message_settle

    message = shipment_made_before_tracking_was_required(amazon_order)
    shipment = amazon_order.commerce_order.shipments.get()
    reason = "packageDetail.trackingNumber is required."
    OutboxMessage.objects.filter(pk=message.pk).update(state="failed", result=reason)
    message.refresh_from_db()
    outbox_message_settle(message=message, problem=reason)
    return shipment, message, reason


def test_a_shipment_amazon_refused_is_counted_shown_corrected_and_sent_again(
    live_server, page, amazon_order
):
    order = amazon_order.commerce_order
    shipment, message, reason = refused_for_want_of_tracking(amazon_order)
    user_with_app_permissions("anna", *COMMERCE_PERMISSIONS, *AMAZON_PERMISSIONS)
    sign_in(page, live_server, "anna")

    tile = page.locator(f"[data-store='{amazon_order.store_id}'] [data-count=refused-shipments]")
    assert tile.inner_text() == "1 Refused shipments"
    shots(page, "store_card_refused_shipment")
    page.goto(f"{live_server.url}/stores/{amazon_order.store_id}/orders/{amazon_order.pk}/")
    notes = page.locator("[data-field=order-notes]")
    assert f"Amazon refused the shipment #{shipment.increment_id}: {reason}" in notes.inner_text()
    shots(page, "amazon_order_refused_shipment")
    notes.locator("[data-link=amazon-retry]").click()

    page.wait_for_url(f"{live_server.url}/commerce/orders/{order.pk}/")
    row = page.locator(f"tr[data-shipment='{shipment.increment_id}']")
    assert f"Amazon refused: {reason}" in row.inner_text()
    assert "Amazon requires a tracking number." in row.inner_text()
    assert row.get_by_role("button", name="Retry").count() == 0
    correction = row.locator("[data-form=shipment-correction]")
    assert correction.get_attribute("open") is not None
    shots(page, "commerce_order_refused_shipment")
    prefix = f"#id_shipment-{shipment.pk}"
    correction.locator(f"{prefix}-carrier_code").select_option("UPS")
    correction.locator(f"{prefix}-tracking_number").fill("1Z999AA10123456784")
    correction.get_by_role("button", name="Send to Amazon again").click()

    page.wait_for_url(f"{live_server.url}/commerce/orders/{order.pk}/")
    assert page.locator(".message.success").inner_text() == (
        "The corrected shipment will be sent to Amazon again."
    )
    row = page.locator(f"tr[data-shipment='{shipment.increment_id}']")
    assert row.locator("[data-amazon-state=sent]").inner_text() == "Sent to Amazon"
    assert row.locator("[data-field=tracking]").inner_text() == "1Z999AA10123456784"
    message.refresh_from_db()
    assert message.state == OutboxMessage.State.PENDING
    assert message.payload["package_detail"]["trackingNumber"] == "1Z999AA10123456784"
    assert message.payload["package_detail"]["carrierCode"] == "UPS"
    shots(page, "commerce_order_corrected_shipment")
    page.goto(f"{live_server.url}/")
    assert page.locator("[data-count=refused-shipments]").first.inner_text() == (
        "0 Refused shipments"
    )


def test_cancel_order_is_not_offered_while_a_shipment_is_on_its_way_and_says_why(
    live_server, page, amazon_order
):
    order = amazon_order.commerce_order
    user_with_app_permissions("anna", *COMMERCE_PERMISSIONS, *AMAZON_PERMISSIONS)
    sign_in(page, live_server, "anna")
    page.goto(f"{live_server.url}/stores/{amazon_order.store_id}/orders/{amazon_order.pk}/")
    assert page.get_by_role("link", name="Cancel Order").count() == 1

    page.goto(f"{live_server.url}/commerce/orders/{order.pk}/ship/")
    page.select_option("#id_carrier_code", "DHL")
    page.fill("#id_tracking_number", "00340434161094042557")
    page.get_by_role("button", name="Submit Shipment").click()
    page.wait_for_url(f"{live_server.url}/commerce/orders/{order.pk}/")

    why = "A shipment of this order is on its way to Amazon"
    amazon = page.locator("[data-section=payment-shipping]")
    assert why in amazon.locator("[data-field=amazon-cancel-refusal]").inner_text()
    assert amazon.get_by_role("link", name="View or Cancel Amazon Order").count() == 0
    shots(page, "commerce_order_cancel_not_available")
    amazon.get_by_role("link", name="View Amazon Order").click()
    page.wait_for_url(f"{live_server.url}/stores/{amazon_order.store_id}/orders/{amazon_order.pk}/")
    assert page.get_by_role("link", name="Cancel Order").count() == 0
    assert why in page.locator("[data-notice=seller-central]").inner_text()
    shots(page, "amazon_order_cancel_not_available")

    # A Cancel Order page left open in another tab is refused too.
    page.goto(f"{live_server.url}/stores/{amazon_order.store_id}/orders/{amazon_order.pk}/cancel/")
    assert why in page.content()
    amazon_order.refresh_from_db()
    assert amazon_order.status == "Unshipped"


def test_a_shipped_fba_order_says_what_amazon_says_and_offers_no_address_edit(live_server, page):
    store = StoreFactory(name="Demo Store (DE)")
    fba = AmazonOrderFactory(
        store=store,
        amazon_order_id="302-4000002-0000002",
        fulfillment_channel="AFN",
        status="Shipped",
        ship_service_level="Expedited",
        number_of_items_shipped=1,
        number_of_items_unshipped=0,
        shipping_address={"city": "Köln", "countryCode": "DE"},
    )
    user_with_app_permissions(
        "anna", *AMAZON_PERMISSIONS, "amazon_channel.change_amazonorder", *COMMERCE_PERMISSIONS
    )
    sign_in(page, live_server, "anna")

    page.goto(f"{live_server.url}/stores/{store.pk}/orders/{fba.pk}/")

    tracking = page.locator("[data-field=amazon-fulfilment]")
    assert tracking.inner_text().startswith("Fulfilled by Amazon: Amazon reports 1 item shipped")
    assert "Ship service level: Expedited." in tracking.inner_text()
    assert "No package has shipped yet." not in page.content()
    assert page.get_by_text("Edit shipping address").count() == 0
    shots(page, "amazon_order_fba_shipped")


def test_amazons_refusal_of_a_shipment_shows_on_the_open_order_view_without_a_reload(
    live_server, page, amazon_order
):
    from amazon_channel.outbox.messages import outbox_message_settle

    order = amazon_order.commerce_order
    user_with_app_permissions("anna", *COMMERCE_PERMISSIONS, *AMAZON_PERMISSIONS)
    sign_in(page, live_server, "anna")
    page.goto(f"{live_server.url}/commerce/orders/{order.pk}/ship/")
    page.select_option("#id_carrier_code", "DHL")
    page.fill("#id_tracking_number", "00340434161094042557")
    page.get_by_role("button", name="Submit Shipment").click()
    page.wait_for_url(f"{live_server.url}/commerce/orders/{order.pk}/")
    shipment = order.shipments.get()
    row = page.locator(f"tr[data-shipment='{shipment.increment_id}']")
    assert row.locator("[data-amazon-state=sent]").inner_text() == "Sent to Amazon"
    page.evaluate("window.stillTheSamePage = true")

    # The worker's answer from Amazon, while the merchant looks at the page.
    message = OutboxMessage.objects.get(key=f"ship:{shipment.pk}")
    reason = "Order 302-4000001-0000001 is CANCELLED: only unshipped orders can be shipped."
    OutboxMessage.objects.filter(pk=message.pk).update(state="failed", result=reason)
    message.refresh_from_db()
    outbox_message_settle(message=message, problem=reason)

    page.wait_for_selector(
        f"tr[data-shipment='{shipment.increment_id}'] [data-amazon-state=unsent]", timeout=20_000
    )
    assert page.evaluate("window.stillTheSamePage") is True
    assert f"Amazon refused: {reason}" in row.inner_text()
    assert row.locator("[data-form=shipment-correction]").count() == 1
    notes = page.locator("[data-field=amazon-notes]")
    assert f"Amazon refused the shipment #{shipment.increment_id}" in notes.inner_text()
    shots(page, "commerce_order_refusal_live")
