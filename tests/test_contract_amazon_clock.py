"""Amazon judges "at least two minutes before the time of the request" by its own clock
(orders_2026-01-01.json, lastUpdatedBefore): our windows leave a margin for a clock that runs
behind ours, and a window Amazon still finds too recent is moved back, never a store failure."""

from datetime import timedelta

import pytest
from django.utils import timezone

from amazon_channel.models import AmazonOrder, SyncRun, SyncState
from amazon_channel.orders.sync import CLOCK_MARGIN
from seller_central_sandbox.services.orders import orders_generate
from seller_central_sandbox.services.sellers import seller_clock_offset_set
from seller_central_sandbox.testing import TEST_TIME_SCALE
from tests.sync_helpers import minutes_ago, store_for_seller, sync_to_the_end
from tests.test_contract_search_orders import searches

pytestmark = pytest.mark.django_db(transaction=True)

DE = "A1PA6795UKMFR9"


@pytest.fixture
def seller(sandbox_seller_factory, settings):
    settings.AMAZON_RATE_LIMIT_SCALE = TEST_TIME_SCALE
    settings.AMAZON_RETRY_BASE_SECONDS = 0.05
    seller = sandbox_seller_factory(marketplace_ids=[DE])
    orders_generate(seller=seller, count=30, seed=81, now=minutes_ago(10))
    return seller


def test_a_worker_whose_clock_runs_two_seconds_ahead_of_amazons_still_syncs(
    sandbox_server, seller, settings
):
    seller_clock_offset_set(seller=seller, seconds=-2)
    store = store_for_seller(sandbox_server, seller)
    started = timezone.now()

    run = sync_to_the_end(store)

    store.refresh_from_db()
    assert run.status == SyncRun.Status.SUCCEEDED, run.message
    assert run.window_end_moves == 0
    margin = timedelta(seconds=settings.AMAZON_CLOCK_SKEW_MARGIN_SECONDS)
    assert run.window_end <= started - CLOCK_MARGIN - margin
    assert [search["status"] for search in searches(sandbox_server)] == [200]
    assert store.sync_state == SyncState.OK
    assert AmazonOrder.objects.filter(store=store).count() == 30


def test_a_window_amazon_finds_too_recent_is_moved_back_and_read_not_the_store_failed(
    sandbox_server, seller
):
    # Amazon's clock a minute and a half behind ours: more than the margin.
    seller_clock_offset_set(seller=seller, seconds=-90)
    store = store_for_seller(sandbox_server, seller)

    run = sync_to_the_end(store)

    store.refresh_from_db()
    assert run.status == SyncRun.Status.SUCCEEDED, run.message
    assert run.window_end_moves == 1
    sent = searches(sandbox_server)
    assert [search["status"] for search in sent] == [400, 200]
    # The first call asked for the end the margin allows, the second a step earlier.
    ends = [search["query"]["lastUpdatedBefore"] for search in sent]
    assert ends[1] == run.window_end.strftime("%Y-%m-%dT%H:%M:%SZ") < ends[0]
    assert timezone.now() - run.window_end < CLOCK_MARGIN + timedelta(minutes=3)
    assert store.sync_state == SyncState.OK
    assert store.orders_watermark == run.window_end
    assert AmazonOrder.objects.filter(store=store).count() == 30


def test_a_window_refused_far_beyond_any_clock_skew_fails_the_run_with_amazons_words(
    sandbox_server, seller
):
    # Half an hour behind is not a clock a margin can cover: after a few moves the run gives
    # up and says why, instead of moving back forever.
    seller_clock_offset_set(seller=seller, seconds=-1800)
    store = store_for_seller(sandbox_server, seller)

    run = sync_to_the_end(store)

    store.refresh_from_db()
    assert run.status == SyncRun.Status.FAILED
    assert run.window_end_moves == 4
    assert "two minutes before the time of the request" in run.message
    assert store.sync_state == SyncState.ERROR
    assert [search["status"] for search in searches(sandbox_server)] == [400] * 5
