"""The shared limiter: exactly the burst is granted at once, across concurrent callers."""

import os
import time
import uuid

import pytest

from amazon_channel.models import RateLimitPlan
from amazon_channel.spapi.client import (
    OPERATION_LIMITS,
    AmazonClient,
    RateLimited,
    longest_limiter_wait,
)
from amazon_channel.spapi.ratelimit import (
    PLAN_TTL_SECONDS,
    DatabaseRateLimiter,
    RedisRateLimiter,
    plan_rate_parse,
)
from amazon_channel.tests.factories import StoreFactory
from tests.concurrency import run_concurrently


def grants_from_concurrent_callers(limiter, key: str, *, callers: int, rate: float, burst: int):
    return run_concurrently(lambda: limiter.acquire(key, rate=rate, burst=burst), callers)


@pytest.mark.redis
def test_redis_buckets_grant_exactly_the_burst_to_concurrent_workers():
    limiter = RedisRateLimiter(os.environ["REDIS_URL"])
    key = f"test:{uuid.uuid4()}"

    waits = grants_from_concurrent_callers(limiter, key, callers=12, rate=0.0056, burst=5)

    assert sum(1 for wait in waits if wait == 0) == 5
    # The refused callers are told when a token is due: about 1 / rate seconds.
    assert all(170 < wait < 180 for wait in waits if wait > 0)


@pytest.mark.redis
def test_redis_buckets_refill_at_the_rate():
    limiter = RedisRateLimiter(os.environ["REDIS_URL"])
    key = f"test:{uuid.uuid4()}"
    assert limiter.acquire(key, rate=20, burst=1) == 0
    assert limiter.acquire(key, rate=20, burst=1) > 0

    time.sleep(0.06)

    assert limiter.acquire(key, rate=20, burst=1) == 0


@pytest.mark.postgresql
@pytest.mark.django_db(transaction=True)
def test_database_buckets_grant_exactly_the_burst_to_concurrent_workers():
    limiter = DatabaseRateLimiter()

    waits = grants_from_concurrent_callers(limiter, "seller:getOrder", callers=8, rate=0.5, burst=3)

    assert sum(1 for wait in waits if wait == 0) == 3
    assert all(0 < wait <= 2.0 for wait in waits if wait > 0)


@pytest.mark.django_db
def test_database_buckets_keep_separate_sellers_apart():
    limiter = DatabaseRateLimiter()

    assert limiter.acquire("seller-a:searchOrders", rate=0.0056, burst=1) == 0
    assert limiter.acquire("seller-a:searchOrders", rate=0.0056, burst=1) > 0
    assert limiter.acquire("seller-b:searchOrders", rate=0.0056, burst=1) == 0


@pytest.mark.parametrize(
    ("stated", "rate"),
    [
        ("0.0056", 0.0056),
        (b"2", 2.0),
        (" 0.5 ", 0.5),
        (None, None),
        ("", None),
        ("fast", None),
        ("0", None),
        ("-1", None),
        ("inf", None),
        ("nan", None),
    ],
)
def test_only_a_positive_finite_number_is_taken_as_a_stated_rate(stated, rate):
    assert plan_rate_parse(stated) == rate


@pytest.mark.redis
def test_redis_keeps_a_stated_rate_for_every_worker_for_a_day():
    limiter = RedisRateLimiter(os.environ["REDIS_URL"])
    key = f"test:{uuid.uuid4()}"
    assert limiter.rate_learned(key) is None

    limiter.rate_remember(key, 0.0028)

    assert RedisRateLimiter(os.environ["REDIS_URL"]).rate_learned(key) == 0.0028
    assert 0 < limiter.client.ttl(f"amazon-rate-plan:{key}") <= PLAN_TTL_SECONDS


@pytest.mark.django_db
def test_the_database_keeps_one_stated_rate_per_bucket_and_the_latest_wins():
    limiter = DatabaseRateLimiter()

    limiter.rate_remember("seller-a:EU:getOrder", 0.25)
    limiter.rate_remember("seller-a:EU:getOrder", 0.75)

    assert limiter.rate_learned("seller-a:EU:getOrder") == 0.75
    assert limiter.rate_learned("seller-b:EU:getOrder") is None
    assert RateLimitPlan.objects.count() == 1


@pytest.mark.django_db
def test_however_low_the_stated_rate_a_caller_waits_no_longer_than_the_slowest_refill(settings):
    settings.REDIS_URL = ""
    client = AmazonClient(StoreFactory())
    key = client._bucket_key("searchOrders")
    client.limiter.rate_remember(key, 0.00001)
    for _ in range(OPERATION_LIMITS["searchOrders"][1]):
        client._take_token("searchOrders")

    with pytest.raises(RateLimited) as limited:
        client._take_token("searchOrders")

    # Asked again after this wait, the limiter still says no: nothing is sent too early.
    assert limited.value.wait_seconds == pytest.approx(longest_limiter_wait())
    assert longest_limiter_wait() < settings.LONGEST_TASK_COUNTDOWN_SECONDS


@pytest.mark.redis
def test_redis_token_wait_tells_when_a_token_is_due_and_takes_none():
    limiter = RedisRateLimiter(os.environ["REDIS_URL"])
    key = f"test:{uuid.uuid4()}"
    # An untouched bucket is full; asking takes nothing from it
    assert limiter.token_wait(key, rate=0.0083, burst=2) == 0
    assert limiter.acquire(key, rate=0.0083, burst=2) == 0
    assert limiter.token_wait(key, rate=0.0083, burst=2) == 0
    assert limiter.acquire(key, rate=0.0083, burst=2) == 0

    # Once the burst is spent, the wait is about one refill (1 / 0.0083 s), asked twice alike
    first = limiter.token_wait(key, rate=0.0083, burst=2)
    second = limiter.token_wait(key, rate=0.0083, burst=2)
    assert 115 < second <= first <= 121


@pytest.mark.django_db
def test_database_token_wait_tells_when_a_token_is_due_and_takes_none():
    limiter = DatabaseRateLimiter()
    key = "seller-a:createFeed"
    assert limiter.token_wait(key, rate=0.0083, burst=2) == 0
    assert limiter.acquire(key, rate=0.0083, burst=2) == 0
    assert limiter.token_wait(key, rate=0.0083, burst=2) == 0
    assert limiter.acquire(key, rate=0.0083, burst=2) == 0

    first = limiter.token_wait(key, rate=0.0083, burst=2)
    second = limiter.token_wait(key, rate=0.0083, burst=2)
    assert 115 < second <= first <= 121
