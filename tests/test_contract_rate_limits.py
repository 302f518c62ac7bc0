"""Our shared limiter follows the rate Amazon states it applies now to the seller's operation
(x-amzn-RateLimit-Limit, dynamic usage plans), lower or higher than the documented table.

Evidence: each operation's description in the models ("The x-amzn-RateLimit-Limit response
header returns the usage plan rate limits that are applied to the requested operation, when
available ... Selling partners whose business demands require higher throughput may receive
higher rate and burst values than those shown here"); the header never comes on a 429
(amzn/selling-partner-api-docs issue 86). Amazon states no burst (selling-partner-api-docs
issue 225): the documented burst holds."""

import os
import time

import pytest

from amazon_channel.models import RateLimitPlan
from amazon_channel.spapi.client import AmazonClient, AmazonNotFound, AmazonThrottled, RateLimited
from amazon_channel.spapi.ratelimit import DatabaseRateLimiter, RedisRateLimiter
from seller_central_sandbox.services.orders import orders_generate
from seller_central_sandbox.services.sellers import seller_usage_plan_set
from tests.sync_helpers import minutes_ago, store_for_seller

pytestmark = pytest.mark.django_db(transaction=True)

SCALE = 50.0
# A tenth below the stated rate: a refill interval here is 2 s, and a call's way from our limiter
# to the sandbox varies by tens of milliseconds on a busy machine.
MARGIN = 0.1
GET_ORDER_BURST = 30


@pytest.fixture(params=[pytest.param("redis", marks=pytest.mark.redis), "database"])
def limiter_kind(request, settings):
    """Each test runs with the Redis limiter (production) and the database one (the demo).

    The redis case carries the marker, so conftest fails it under CI=true when Redis is missing."""
    if request.param == "redis":
        settings.REDIS_URL = os.environ["REDIS_URL"]
        return RedisRateLimiter
    settings.REDIS_URL = ""
    return DatabaseRateLimiter


@pytest.fixture
def scaled(settings):
    settings.SANDBOX_TIME_SCALE = settings.AMAZON_RATE_LIMIT_SCALE = SCALE
    settings.AMAZON_RATE_LIMIT_MARGIN = MARGIN


@pytest.fixture
def placed(sandbox_seller):
    return orders_generate(seller=sandbox_seller, count=1, seed=91, now=minutes_ago(10))[0]


def calls_until(client: AmazonClient, order_id: str, count: int) -> int:
    """Make `count` getOrder calls, waiting whenever our limiter says so; Amazon's 429s."""
    throttled = made = 0
    deadline = time.monotonic() + 60
    while made < count and time.monotonic() < deadline:
        try:
            client.get_order(order_id)
        except RateLimited as limited:
            time.sleep(limited.wait_seconds)
            continue
        except AmazonThrottled:
            throttled += 1
            time.sleep(0.5)
            continue
        made += 1
    assert made == count, "the calls did not finish in time"
    return throttled


def test_our_limiter_paces_at_the_lower_rate_amazon_states_for_the_seller(
    sandbox_server, sandbox_seller, placed, scaled, limiter_kind
):
    # Amazon applies a fiftieth of getOrder's documented 0.5 requests/s to this seller.
    seller_usage_plan_set(
        seller=sandbox_seller, operation="getOrder", rate="0.01", burst=GET_ORDER_BURST
    )
    client = AmazonClient(store_for_seller(sandbox_server, sandbox_seller))
    assert isinstance(client.limiter, limiter_kind)
    # Logged in beforehand, so that no token request sits between our limiter and Amazon's.
    client.search_orders(
        parameters=client.search_parameters(
            last_updated_after=minutes_ago(60), last_updated_before=minutes_ago(30)
        )
    )

    throttled = calls_until(client, placed.order_id, GET_ORDER_BURST + 3)

    # Three calls beyond the burst, one refill (2 s here) apart, and not one 429 for them.
    assert throttled == 0
    assert client.paced_rate("getOrder") == pytest.approx(0.01 * SCALE * (1 - MARGIN))
    assert AmazonClient(client.store).paced_rate("getOrder") == client.paced_rate("getOrder")


def test_our_limiter_follows_a_rate_above_the_documented_one_too(
    sandbox_server, sandbox_seller, placed, scaled, limiter_kind
):
    seller_usage_plan_set(seller=sandbox_seller, operation="getOrder", rate="1.5", burst=None)
    client = AmazonClient(store_for_seller(sandbox_server, sandbox_seller))
    assert client.paced_rate("getOrder") == pytest.approx(0.5 * SCALE * (1 - MARGIN))

    client.get_order(placed.order_id)

    assert client.paced_rate("getOrder") == pytest.approx(1.5 * SCALE * (1 - MARGIN))
    # Only the operation Amazon stated it for: searchOrders keeps its documented rate.
    assert client.paced_rate("searchOrders") == pytest.approx(0.0056 * SCALE * (1 - MARGIN))


def test_a_refused_call_teaches_the_rate_it_states_as_well(
    sandbox_server, sandbox_seller, scaled, limiter_kind
):
    seller_usage_plan_set(seller=sandbox_seller, operation="getOrder", rate="0.2", burst=None)
    client = AmazonClient(store_for_seller(sandbox_server, sandbox_seller))

    with pytest.raises(AmazonNotFound):
        client.get_order("111-1111111-1111111")

    assert client.paced_rate("getOrder") == pytest.approx(0.2 * SCALE * (1 - MARGIN))


def test_when_the_stated_rate_is_forgotten_the_documented_table_holds_again(
    sandbox_server, sandbox_seller, placed, scaled, settings
):
    settings.REDIS_URL = ""
    seller_usage_plan_set(seller=sandbox_seller, operation="getOrder", rate="0.2", burst=None)
    client = AmazonClient(store_for_seller(sandbox_server, sandbox_seller))
    client.get_order(placed.order_id)
    assert client.paced_rate("getOrder") == pytest.approx(0.2 * SCALE * (1 - MARGIN))

    # A day without any answer stating it.
    RateLimitPlan.objects.update(updated_at=minutes_ago(60 * 24 + 1))

    assert client.paced_rate("getOrder") == pytest.approx(0.5 * SCALE * (1 - MARGIN))
