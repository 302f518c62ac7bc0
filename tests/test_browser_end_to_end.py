"""End to end, with every real part: Chromium, the web app, a Celery worker on Redis, PostgreSQL
and the Seller Central sandbox over HTTP. A merchant cancels an order; Amazon hears of it."""

import time

import pytest
from celery.contrib.testing.worker import start_worker

from amazon_channel.models import AmazonOrder, AmazonOrderCancellation
from config.celery import app
from dashboard.tests.factories import PASSWORD, user_with_permissions
from seller_central_sandbox.models import SandboxFeed, SandboxOrder
from seller_central_sandbox.services.orders import orders_generate
from seller_central_sandbox.testing import TEST_TIME_SCALE
from tests.sync_helpers import minutes_ago, store_for_seller, sync_to_the_end

pytestmark = [
    pytest.mark.browser,
    pytest.mark.postgresql,
    pytest.mark.redis,
    pytest.mark.django_db(transaction=True),
]

SUCCESS = "The Amazon order has been canceled and the request has been submitted to Amazon."


@pytest.fixture
def synced_store(sandbox_server, sandbox_seller_factory, settings):
    settings.AMAZON_RATE_LIMIT_SCALE = TEST_TIME_SCALE
    settings.AMAZON_RETRY_BASE_SECONDS = 0.05
    settings.AMAZON_FEED_POLL_SECONDS = 0.2
    seller = sandbox_seller_factory(marketplace_ids=["A1PA6795UKMFR9"])
    orders_generate(seller=seller, count=15, seed=51, now=minutes_ago(30))
    store = store_for_seller(sandbox_server, seller, name="Demo Store (DE)")
    sync_to_the_end(store)
    return store, seller


def test_a_merchant_cancels_an_unshipped_order_and_the_sandbox_receives_the_feed(
    live_server, page, screenshot, synced_store
):
    store, seller = synced_store
    order = (
        AmazonOrder.objects.filter(store=store, status="Unshipped", fulfillment_channel="MFN")
        .order_by("-purchase_date")
        .first()
    )
    user_with_permissions(
        "anna", "view_store", "view_amazonorder", "change_amazonorder", "cancel_amazonorder"
    )

    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        page.goto(f"{live_server.url}/accounts/login/")
        page.fill("#id_username", "anna")
        page.fill("#id_password", PASSWORD)
        page.click("button[type=submit]")
        page.get_by_role("link", name="View Store").click()
        page.get_by_role("link", name=order.amazon_order_id).click()
        screenshot("e2e_order_details")
        page.get_by_role("link", name="Cancel Order").click()
        page.select_option("select[name=reason]", "NoInventory")
        screenshot("e2e_cancel_order")
        page.get_by_role("button", name="Confirm").click()
        assert SUCCESS in page.locator(".message.success").inner_text()
        assert "Canceled" in page.inner_text("main")

        deadline = time.monotonic() + 30
        cancellation = AmazonOrderCancellation.objects.get(order=order)
        while cancellation.state == "pending" and time.monotonic() < deadline:
            time.sleep(0.2)
            cancellation.refresh_from_db()

    assert cancellation.state == AmazonOrderCancellation.State.CONFIRMED
    assert SandboxOrder.objects.get(order_id=order.amazon_order_id).status == "CANCELLED"
    feed = SandboxFeed.objects.get(seller=seller)
    assert feed.feed_type == "POST_ORDER_ACKNOWLEDGEMENT_DATA"
    page.reload()
    screenshot("e2e_order_cancellation_confirmed")
    assert "Canceled" in page.inner_text("main")
