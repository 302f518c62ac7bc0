"""Our sync pages through searchOrders as Amazon requires: every page repeats the first call's
parameters, kept with the run's token so that whoever resumes the run repeats them too.

Amazon refuses a paginationToken sent with other parameters (400 "All parameters must match the
original request except maxResultsPerPage": amzn/selling-partner-api-sdk issue 717,
amzn/selling-partner-api-models issue 5144), and so does the sandbox."""

import time
import uuid
from datetime import timedelta
from urllib.parse import parse_qsl

import pytest
from django.utils import timezone

from amazon_channel.models import AmazonOrder, SyncRun, SyncState
from amazon_channel.orders.sync import sync_run_start, sync_run_step
from amazon_channel.spapi import client as spapi
from amazon_channel.spapi.client import AmazonClient
from seller_central_sandbox.services.orders import orders_generate
from tests.sync_helpers import minutes_ago, store_for_seller, sync_to_the_end
from tests.test_sync_sandbox import assert_one_copy_of_each

pytestmark = pytest.mark.django_db(transaction=True)

DE = "A1PA6795UKMFR9"
SEARCH_PATH = "/orders/2026-01-01/orders"
# searchOrders' documented usage plan (orders_2026-01-01.json): 0.0056 requests/s, burst 20.
SEARCH_RATE, SEARCH_BURST = 0.0056, 20


@pytest.fixture
def seller(sandbox_seller_factory):
    return sandbox_seller_factory(marketplace_ids=[DE])


@pytest.fixture
def fast_amazon(settings):
    # Amazon's documented limits, fifty times faster on both sides: a searchOrders token comes
    # back every 1 / (0.0056 x 50) = 3.6 s, and our margin (2 %) is still 70 ms of it.
    settings.SANDBOX_TIME_SCALE = settings.AMAZON_RATE_LIMIT_SCALE = 50.0
    settings.AMAZON_RETRY_BASE_SECONDS = 0.05


def searches(server, *, since: int = 0) -> list[dict]:
    """Each searchOrders call the sandbox answered: its status and query, as sent."""
    return [
        {"status": exchange.status, "query": dict(parse_qsl(exchange.query))}
        for exchange in server.exchanges[since:]
        if exchange.method == "GET" and exchange.path == SEARCH_PATH
    ]


def without_token(query: dict) -> dict:
    return {name: value for name, value in query.items() if name != "paginationToken"}


def assert_every_page_repeats_the_first(sent: list[dict]) -> None:
    first = sent[0]["query"]
    assert "paginationToken" not in first
    assert {"lastUpdatedAfter", "lastUpdatedBefore", "marketplaceIds", "includedData"} <= set(first)
    for search in sent[1:]:
        assert search["query"].get("paginationToken")
        assert without_token(search["query"]) == first


def step_until_finished(run_id: int, *, holder: str) -> list[float]:
    """Step a run to its end as the foreground command does; the waits it was told."""
    waits = []
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        outcome = sync_run_step(run_id=run_id, holder=holder)
        if outcome.is_finished or outcome.is_busy:
            return waits
        waits.append(outcome.wait_seconds)
        time.sleep(outcome.wait_seconds)
    raise AssertionError("the run did not finish in time")


def test_a_1000_order_backfill_reads_10_pages_at_amazons_documented_rate(
    sandbox_server, seller, fast_amazon
):
    orders_generate(seller=seller, count=1000, seed=71, now=minutes_ago(10))
    store = store_for_seller(sandbox_server, seller)
    # Our earlier calls spent most of the burst: the backfill must pace at the refill rate.
    client = AmazonClient(store)
    earlier = client.search_parameters(
        last_updated_after=minutes_ago(60 * 24 * 40), last_updated_before=minutes_ago(60 * 24 * 35)
    )
    for _ in range(SEARCH_BURST - 5):
        client.search_orders(parameters=earlier)
    asked_before = len(sandbox_server.exchanges)

    run = sync_run_start(store=store, kind=SyncRun.Kind.COMMAND)
    waits = step_until_finished(run.pk, holder=f"test-{uuid.uuid4()}")

    run.refresh_from_db()
    store.refresh_from_db()
    sent = searches(sandbox_server, since=asked_before)
    assert run.status == SyncRun.Status.SUCCEEDED, run.message
    assert (run.pages, run.orders_created, run.throttled_calls) == (10, 1000, 0)
    assert [search["status"] for search in sent] == [200] * 10
    assert_every_page_repeats_the_first(sent)
    # Five pages came from what was left of the burst, the others about one refill apart.
    assert len([wait for wait in waits if wait > 0]) >= 3
    assert store.sync_state == SyncState.OK
    assert AmazonOrder.objects.filter(store=store).count() == 1000
    assert_one_copy_of_each(store)


def a_run_one_page_in(sandbox_server, seller) -> SyncRun:
    orders_generate(seller=seller, count=250, seed=72, now=minutes_ago(10))
    store = store_for_seller(sandbox_server, seller)
    run = sync_run_start(store=store, kind=SyncRun.Kind.SCHEDULED)
    sync_run_step(run_id=run.pk, holder="worker-a", max_pages=1)
    run.refresh_from_db()
    assert run.pages == 1 and run.pagination_token
    return run


def worker_dies(run: SyncRun) -> None:
    """Worker A is killed: its lease lapses, another worker may resume the run."""
    SyncRun.objects.filter(pk=run.pk).update(lease_expires_at=timezone.now() - timedelta(1))


def test_a_resumed_run_repeats_the_parameters_stored_with_its_token_even_after_a_deploy(
    sandbox_server, seller, fast_amazon, monkeypatch
):
    run = a_run_one_page_in(sandbox_server, seller)
    stored = dict(run.search_parameters)
    assert stored["includedData"] == spapi.SEARCH_INCLUDED_DATA
    worker_dies(run)
    # A deploy now asks for more datasets: the run's token was issued for the old ones.
    monkeypatch.setattr(spapi, "SEARCH_INCLUDED_DATA", [*spapi.SEARCH_INCLUDED_DATA, "TAX"])

    step_until_finished(run.pk, holder="worker-b")

    run.refresh_from_db()
    assert run.status == SyncRun.Status.SUCCEEDED, run.message
    assert run.pages == 3 and run.search_parameters == stored
    assert_every_page_repeats_the_first(searches(sandbox_server))
    assert AmazonOrder.objects.filter(store=run.store).count() == 250


def test_every_run_starts_from_its_own_first_page(sandbox_server, seller, fast_amazon):
    orders_generate(seller=seller, count=150, seed=73, now=minutes_ago(60))
    store = store_for_seller(sandbox_server, seller)
    first = sync_to_the_end(store)
    orders_generate(seller=seller, count=120, seed=74, now=minutes_ago(3.5))
    asked_before = len(sandbox_server.exchanges)

    second = sync_to_the_end(store)

    sent = searches(sandbox_server, since=asked_before)
    assert (first.pages, second.pages) == (2, 2)
    assert (
        second.search_parameters["lastUpdatedAfter"] != first.search_parameters["lastUpdatedAfter"]
    )
    assert_every_page_repeats_the_first(sent)
    assert AmazonOrder.objects.filter(store=store).count() == 270
