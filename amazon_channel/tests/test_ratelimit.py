"""The shared limiter: exactly the burst is granted at once, across concurrent callers."""

import os
import time
import uuid

import pytest

from amazon_channel.ratelimit import DatabaseRateLimiter, RedisRateLimiter
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
