"""Parallel runs (pytest-xdist): each worker's Redis is its own, as its test database is."""

import os

import pytest
from django.conf import settings
from django.core.cache import cache

from config.celery import app as celery_app
from conftest import RUN_REDIS_URL, redis_url_of_worker


def test_a_worker_moves_the_redis_database_by_its_number_and_keeps_the_rest():
    assert redis_url_of_worker("redis://127.0.0.1:6379/9", "gw0") == "redis://127.0.0.1:6379/9"
    assert redis_url_of_worker("redis://127.0.0.1:6379/9", "gw3") == "redis://127.0.0.1:6379/12"
    assert redis_url_of_worker("redis://:pw@redis:6379", "gw2") == "redis://:pw@redis:6379/2"
    assert redis_url_of_worker("redis://redis/14", "gw3") == "redis://redis/1"


def test_a_run_on_a_shared_redis_names_the_databases_its_workers_may_use():
    url = "redis://127.0.0.1:6379/9"

    assert redis_url_of_worker(url, "gw0", "9,12,13") == "redis://127.0.0.1:6379/9"
    assert redis_url_of_worker(url, "gw2", "9,12,13") == "redis://127.0.0.1:6379/13"
    with pytest.raises(pytest.UsageError, match="none for gw3"):
        redis_url_of_worker(url, "gw3", "9,12,13")


@pytest.mark.redis
def test_the_broker_cache_and_subprocesses_use_this_workers_redis_database(worker_id):
    # Given this run's Redis URL, moved to this worker's database under xdist
    this_workers_url = (
        RUN_REDIS_URL
        if worker_id == "master"
        else redis_url_of_worker(
            RUN_REDIS_URL, worker_id, os.environ.get("TEST_REDIS_DATABASES", "")
        )
    )
    assert this_workers_url == settings.REDIS_URL
    database = int(this_workers_url.rsplit("/", 1)[1])

    # Then the broker, the cache and the processes tests start all use that database
    with celery_app.connection_for_write() as connection:
        assert connection.as_uri().endswith(f"/{database}")
    assert os.environ["REDIS_URL"] == settings.REDIS_URL
    cache.set("xdist-probe", worker_id, 30)
    assert cache._cache.get_client().connection_pool.connection_kwargs["db"] == database
