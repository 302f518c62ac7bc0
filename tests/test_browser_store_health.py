"""Store health where the merchant looks, in Chromium with every real part: a Celery worker on
Redis, PostgreSQL and the Seller Central sandbox over HTTP. Amazon revokes the store's access;
the badge says so, Sync now waits for what it needs, Reauthorize brings the store back; Sync
now's progress and Amazon's confirmation of a cancellation appear without a reload."""

import re
import time

import pytest
from celery.contrib.testing.worker import start_worker
from django.utils import timezone
from playwright.sync_api import expect

from amazon_channel.models import AmazonOrder, AmazonOrderCancellation, SyncRun, SyncState
from amazon_channel.tests.factories import AmazonOrderFactory, StoreFactory
from config.celery import app
from dashboard.tests.factories import PASSWORD, SyncRunFactory, user_with_permissions
from seller_central_sandbox.services.orders import orders_generate
from seller_central_sandbox.services.sellers import (
    FaultSettings,
    seller_create,
    seller_faults_update,
    seller_tokens_revoke,
)
from seller_central_sandbox.testing import TEST_TIME_SCALE
from tests.sync_helpers import minutes_ago, store_for_seller, sync_to_the_end

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
DESKTOP = {"width": 1440, "height": 900}
PHONE = {"width": 390, "height": 844}


def sign_in(page, live_server, username="anna"):
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")


def mark_the_page(page) -> None:
    """A flag in the page's window: gone if the page reloads or navigates."""
    page.evaluate("window.notReloaded = true")


def was_not_reloaded(page) -> bool:
    return page.evaluate("window.notReloaded === true")


def shoot(page, screenshot, name: str) -> None:
    """The page at 1440 px and 390 px wide, into artifacts/health/."""
    for size, suffix in ((DESKTOP, "1440"), (PHONE, "390")):
        page.set_viewport_size(size)
        screenshot(f"health/{name}_{suffix}")
    page.set_viewport_size(DESKTOP)


def sync_now(card) -> None:
    card.locator("summary", has_text="Actions").click()
    card.get_by_role("button", name="Sync now").click()


@pytest.fixture
def seller(sandbox_seller_factory, settings):
    settings.AMAZON_RATE_LIMIT_SCALE = TEST_TIME_SCALE
    settings.AMAZON_RETRY_BASE_SECONDS = 0.05
    settings.AMAZON_FEED_POLL_SECONDS = 0.2
    settings.AMAZON_CLOCK_SKEW_MARGIN_SECONDS = 60
    return sandbox_seller_factory(marketplace_ids=["A1PA6795UKMFR9"])


@pytest.fixture
def worker():
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        yield


@pytest.mark.postgresql
@pytest.mark.redis
def test_revoked_access_shows_on_the_badge_sync_now_waits_and_reauthorize_brings_it_back(
    live_server, page, screenshot, sandbox_server, seller, worker
):
    orders_generate(seller=seller, count=12, seed=71, now=minutes_ago(30))
    store = store_for_seller(sandbox_server, seller, name="Demo Store (DE)")
    sync_to_the_end(store)
    user_with_permissions("anna", *ALL_PERMISSIONS)
    sign_in(page, live_server)
    card = page.locator(f"article[data-store='{store.pk}']")
    assert card.locator("[data-status]").text_content() == "Active"

    # Amazon revokes the app's authorization (the seller withdrew it in Seller Central).
    seller_tokens_revoke(seller=seller)
    mark_the_page(page)
    sync_now(card)

    badge = card.locator("[data-status=needs_reauthorization]")
    badge.wait_for(timeout=30_000)
    assert badge.text_content() == "Needs reauthorization"
    assert "Failed on" in card.locator("[data-sync-result]").inner_text()
    assert was_not_reloaded(page)
    shoot(page, screenshot, "store_card_needs_reauthorization")

    # Sync now says what it waits for, and runs nothing.
    runs = SyncRun.objects.filter(store=store).count()
    sync_now(card)
    card.locator(
        "[data-sync-result]", has_text="Waiting for the store to be reauthorized."
    ).wait_for()
    assert was_not_reloaded(page)
    time.sleep(1)
    assert SyncRun.objects.filter(store=store).count() == runs

    # The seller authorizes the app again: Seller Central shows a new refresh token.
    seller_create(
        seller_id=seller.seller_id,
        client_id=seller.client_id,
        client_secret=seller.client_secret,
        refresh_token=f"{seller.refresh_token}-again",
        marketplace_ids=seller.marketplace_ids,
    )
    card.locator("[data-sync-result]").get_by_role("link", name="Reauthorize").click()
    page.wait_for_url(f"{live_server.url}/stores/{store.pk}/reauthorize/")
    assert "Amazon no longer accepts this store's authorization." in page.inner_text("main")
    shoot(page, screenshot, "store_reauthorize")
    page.fill("#id_refresh_token", f"{seller.refresh_token}-again")
    page.get_by_role("button", name="Save").click()
    page.wait_for_url(re.compile(rf".*/stores/{store.pk}/\?following_sync=\d+$"))
    assert "is reauthorized: a sync has been requested" in page.locator(".message").inner_text()
    # The page follows the sync Reauthorize requested, to its result.
    page.locator("[data-sync-result] [data-sync-state=succeeded]").wait_for(timeout=30_000)
    assert page.locator("h1 [data-status]").text_content() == "Active"
    assert page.locator("table.history tr[data-event=reauthorized]").count() == 1

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        latest = SyncRun.objects.filter(store=store).order_by("pk").last()
        if latest.pk and latest.status == SyncRun.Status.SUCCEEDED and latest.kind == "manual":
            break
        time.sleep(0.2)
    assert latest.status == SyncRun.Status.SUCCEEDED
    store.refresh_from_db()
    assert store.sync_state == SyncState.OK
    page.goto(f"{live_server.url}/")
    assert card.locator("[data-status]").text_content() == "Active"
    shoot(page, screenshot, "store_card_reauthorized")


@pytest.mark.postgresql
@pytest.mark.redis
def test_sync_now_shows_its_progress_and_result_without_a_reload(
    live_server, page, screenshot, sandbox_server, seller, worker
):
    store = store_for_seller(sandbox_server, seller, name="Demo Store (DE)")
    sync_to_the_end(store)
    orders_generate(seller=seller, count=450, seed=72, now=minutes_ago(5))
    # Amazon answers slowly: the sync takes a few seconds, page after page.
    seller_faults_update(seller=seller, faults=FaultSettings(latency_ms=700))
    user_with_permissions("anna", *ALL_PERMISSIONS)
    sign_in(page, live_server)
    page.get_by_role("link", name="View Store").click()
    mark_the_page(page)

    page.locator(".header-actions summary", has_text="Actions").click()
    page.get_by_role("button", name="Sync now").click()

    result = page.locator("[data-sync-result]")
    result.locator("[data-sync-state=running]").wait_for(timeout=30_000)
    assert re.search(r"\d+ pages? read: \d+ new orders, \d+ updated so far\.", result.inner_text())
    shoot(page, screenshot, "store_detail_sync_running")
    result.locator("[data-sync-state=succeeded]").wait_for(timeout=60_000)
    text = result.inner_text()
    assert "450 new orders, 0 updated." in text
    assert "Amazon's last 2 minutes, plus our 60-second clock margin, come with the next sync." in (
        text
    )
    assert was_not_reloaded(page)
    shoot(page, screenshot, "store_detail_sync_succeeded")
    assert AmazonOrder.objects.filter(store=store).count() == 450


@pytest.mark.postgresql
@pytest.mark.redis
def test_amazon_confirmed_the_cancellation_appears_without_a_reload(
    live_server, page, screenshot, sandbox_server, seller, worker
):
    orders_generate(seller=seller, count=15, seed=73, now=minutes_ago(30))
    store = store_for_seller(sandbox_server, seller, name="Demo Store (DE)")
    sync_to_the_end(store)
    order = (
        AmazonOrder.objects.filter(store=store, status="Unshipped", fulfillment_channel="MFN")
        .order_by("-purchase_date")
        .first()
    )
    # Amazon takes a moment to answer, so that the page shows the wait first.
    seller_faults_update(seller=seller, faults=FaultSettings(latency_ms=1500))
    user_with_permissions("anna", *ALL_PERMISSIONS)
    sign_in(page, live_server)
    page.goto(f"{live_server.url}/stores/{store.pk}/orders/{order.pk}/cancel/")
    page.select_option("#id_reason", "NoInventory")
    page.get_by_role("button", name="Confirm").click()
    page.wait_for_url(f"{live_server.url}/stores/{store.pk}/orders/{order.pk}/")

    main = page.inner_text("main")
    assert main.count(SUCCESS) == 1
    assert "Waiting for Amazon to confirm the cancellation." in main
    shoot(page, screenshot, "order_details_cancellation_pending")
    mark_the_page(page)

    confirmed = page.locator("[data-notice=cancellation-confirmed]")
    confirmed.wait_for(timeout=45_000)
    assert confirmed.inner_text() == "Amazon confirmed the cancellation."
    assert page.locator("[data-notice=cancellation-pending]").count() == 0
    assert page.locator("[data-field=status]").inner_text() == "Canceled"
    assert was_not_reloaded(page)
    assert AmazonOrderCancellation.objects.get(order=order).state == "confirmed"
    shoot(page, screenshot, "order_details_cancellation_confirmed")


def test_the_sync_log_fits_its_panel_and_shows_error_messages(
    live_server, page, screenshot, settings
):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    store = StoreFactory(
        name="Demo Store (DE)",
        sync_state=SyncState.NEEDS_REAUTHORIZATION,
        sync_state_message="Amazon rejected the store's credentials (invalid_grant): The request "
        "has an invalid grant parameter : refresh_token",
    )
    SyncRunFactory(store=store, pages=4, orders_created=310, orders_updated=12, throttled_calls=3)
    failure = (
        "Amazon denied access to orders (403): Access to requested resource is denied. The "
        "seller's authorization may lack the Inventory and Order Tracking role, which reading "
        "orders needs: check the roles granted to this app in Seller Central, then authorize "
        "it again."
    )
    SyncRunFactory(store=store, status=SyncRun.Status.FAILED, message=failure)
    user_with_permissions("anna", *ALL_PERMISSIONS)
    page.set_viewport_size(DESKTOP)
    sign_in(page, live_server)

    page.goto(f"{live_server.url}/stores/{store.pk}/sync-log/")
    shoot(page, screenshot, "sync_log")

    panel = page.locator("section.panel", has=page.locator("table.sync-log"))
    sizes = panel.evaluate(
        "panel => ({panel: panel.clientWidth, table: panel.querySelector('table').scrollWidth,"
        " page: document.documentElement.scrollWidth})"
    )
    assert sizes["table"] <= sizes["panel"], sizes
    assert sizes["page"] <= DESKTOP["width"], sizes
    message = page.locator("[data-run-message]", has_text="Access to requested resource")
    expect(message).to_be_visible()
    box = message.bounding_box()
    assert box["x"] + box["width"] <= DESKTOP["width"]
    notice = page.locator("[data-notice=store-sync-state]")
    assert "invalid grant parameter" in notice.inner_text()
    expect(notice.get_by_role("link", name="Reauthorize")).to_be_visible()


def test_a_tile_opens_all_orders_filtered_on_what_it_counts(
    live_server, page, screenshot, settings
):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    store = StoreFactory(name="Demo Store (DE)")
    now = timezone.now()
    AmazonOrderFactory.create_batch(3, store=store, purchase_date=now)
    asked = AmazonOrderFactory(
        store=store,
        amazon_order_id="302-1000009-0000009",
        is_buyer_requested_cancellation=True,
        buyer_cancellation_reason="Found it cheaper",
        purchase_date=now,
    )
    user_with_permissions("anna", *ALL_PERMISSIONS)
    page.set_viewport_size(DESKTOP)
    sign_in(page, live_server)
    card = page.locator(f"article[data-store='{store.pk}']")
    tile = card.locator("[data-count=buyer-cancellation]")
    assert tile.locator("strong").inner_text() == "1"
    shoot(page, screenshot, "store_cards")

    tile.get_by_role("link").click()
    page.wait_for_url(re.compile(r".*/orders/\?attention=buyer_cancellation$"))
    rows = page.locator("table.data-table tbody tr")
    assert rows.count() == 1
    assert asked.amazon_order_id in rows.first.inner_text()
    chip = page.locator(".chip[data-filter=attention]")
    assert "Cancellation requested by the buyer" in chip.inner_text()

    page.goto(f"{live_server.url}/")
    card.locator("[data-link=recent-orders]").click()
    page.wait_for_url(re.compile(r".*/orders/\?.*date_from="))
    assert page.locator("table.data-table tbody tr").count() == 4
    assert page.locator(".chip").count() == 2
