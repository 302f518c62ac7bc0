"""The sandbox's "Generate orders" places orders at Amazon's now, so the store's next sync (once
Amazon's two-minute rule allows) imports them, through the real client."""

from datetime import timedelta

import pytest

from amazon_channel.models import AmazonOrder, SyncRun
from amazon_channel.orders.sync import LOOKBACK
from seller_central_sandbox.services.orders import orders_generate
from seller_central_sandbox.testing import TEST_TIME_SCALE
from tests.sync_helpers import minutes_ago, store_for_seller, sync_to_the_end

pytestmark = pytest.mark.django_db(transaction=True)

DE = "A1PA6795UKMFR9"


@pytest.fixture
def seller(sandbox_seller_factory, settings):
    settings.AMAZON_RATE_LIMIT_SCALE = TEST_TIME_SCALE
    settings.AMAZON_RETRY_BASE_SECONDS = 0.05
    return sandbox_seller_factory(marketplace_ids=[DE])


def test_orders_generated_after_a_sync_arrive_with_the_next_one(sandbox_server, seller):
    # The demo's history: a month of orders, as `demo_setup` seeds it (--days 30).
    orders_generate(seller=seller, count=20, seed=101, now=minutes_ago(60), window=timedelta(30))
    store = store_for_seller(sandbox_server, seller)
    first = sync_to_the_end(store)
    assert first.orders_created == 20
    # That sync ended eight minutes ago; four minutes ago the merchant pressed Generate orders
    # (a given now stands for the time passed: the two-minute rule allows them by now).
    store.orders_watermark = minutes_ago(8).replace(microsecond=0)
    store.save(update_fields=["orders_watermark"])
    generated = orders_generate(seller=seller, count=10, seed=102, now=minutes_ago(4))

    second = sync_to_the_end(store)

    assert second.status == SyncRun.Status.SUCCEEDED
    assert second.orders_created == 10
    assert {order.order_id for order in generated} <= set(
        AmazonOrder.objects.filter(store=store).values_list("amazon_order_id", flat=True)
    )


def test_orders_generated_now_wait_for_the_two_minute_rule_and_are_not_lost(sandbox_server, seller):
    store = store_for_seller(sandbox_server, seller)
    sync_to_the_end(store)
    generated = orders_generate(seller=seller, count=5, seed=103)

    too_early = sync_to_the_end(store)

    # Amazon would refuse a window ending now: the orders are beyond this run's end...
    assert too_early.orders_created == 0
    assert all(order.last_updated_time > too_early.window_end for order in generated)
    # ...and within the next run's window, which starts a lookback before this run's end.
    store.refresh_from_db()
    assert store.orders_watermark - LOOKBACK <= min(o.last_updated_time for o in generated)
