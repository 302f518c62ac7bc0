"""Tasks travel through the real broker (Redis) to a real worker, with at-least-once settings."""

import inspect
import time

import pytest
from celery.contrib.testing.worker import start_worker
from celery.utils.imports import symbol_by_name
from django.conf import settings
from django.db import connection
from django_celery_beat.schedulers import DatabaseScheduler

from amazon_channel.orders.cancellation import (
    BUYER_EMAIL_LONGEST_RETRY_SECONDS,
    BUYER_EMAIL_RETRY_JITTER,
    buyer_email_retry_seconds,
)
from amazon_channel.orders.sync import sync_run_step
from amazon_channel.outbox.backoff import backoff_seconds
from amazon_channel.outbox.feeds import feed_collection_window
from amazon_channel.spapi.client import OPERATION_LIMITS, AmazonClient
from amazon_channel.tasks import (
    cancellation_buyer_email,
    outbox_deliver,
    store_sync_orders,
    sync_run_continue,
)
from amazon_channel.tests.factories import StoreFactory
from config.celery import app

pytestmark = [pytest.mark.redis, pytest.mark.django_db(transaction=True)]


@app.task(name="tests.record_delivery")
def record_delivery(label: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute("INSERT INTO delivery_probe (label) VALUES (%s)", [label])


def test_the_broker_is_redis_and_the_worker_settings_are_at_least_once():
    assert app.conf.broker_url.startswith("redis://")
    assert app.conf.task_acks_late is True
    assert app.conf.task_reject_on_worker_lost is True
    assert app.conf.worker_prefetch_multiplier == 1
    assert app.conf.broker_transport_options["visibility_timeout"] >= 3600
    # django-celery-beat's schedule in the database, with our heartbeat for the health check.
    assert issubclass(symbol_by_name(settings.CELERY_BEAT_SCHEDULER), DatabaseScheduler)


def test_time_limits_stop_a_stuck_task_but_leave_a_sync_step_its_time_budget():
    time_budget = inspect.signature(sync_run_step).parameters["time_budget"].default

    assert app.conf.task_soft_time_limit < app.conf.task_time_limit
    # A step stops itself after its budget plus one call to Amazon, well before the soft limit.
    assert app.conf.task_soft_time_limit > time_budget + settings.AMAZON_REQUEST_TIMEOUT_SECONDS


def test_the_visibility_timeout_outlasts_the_longest_countdown_a_task_can_ask_for():
    # Given every wait the tasks can ask for, read from the code that computes it.
    client = AmazonClient(StoreFactory.build())
    slowest_refill = max(1 / client.paced_rate(operation) for operation in OPERATION_LIMITS)
    backoff_cap = inspect.signature(backoff_seconds).parameters["cap"].default
    assert max(backoff_seconds(60) for _ in range(1000)) <= backoff_cap
    tasks = (store_sync_orders, sync_run_continue, outbox_deliver, cancellation_buyer_email)
    # Autoretry's backoff stops at retry_backoff_max (Celery's default: 600 s).
    celery_retry = max(
        max(getattr(task, "retry_backoff_max", 600), task.default_retry_delay) for task in tasks
    )
    jitter = 0.5  # amazon_channel/tasks.py adds up to half a second to each countdown.
    # A feed's collection window, and the buyer e-mail's retries (their own jitter included).
    collection_window = feed_collection_window(10**6)
    buyer_email_retry = max(buyer_email_retry_seconds(attempt) for attempt in range(1, 64))
    assert buyer_email_retry <= BUYER_EMAIL_LONGEST_RETRY_SECONDS * BUYER_EMAIL_RETRY_JITTER
    longest = jitter + max(
        slowest_refill,
        backoff_cap,
        settings.AMAZON_FEED_POLL_SECONDS,
        celery_retry,
        collection_window,
        BUYER_EMAIL_LONGEST_RETRY_SECONDS * BUYER_EMAIL_RETRY_JITTER,
    )

    visibility_timeout = app.conf.broker_transport_options["visibility_timeout"]

    # Then Redis never hands a waiting task, nor one still running, to a second worker.
    assert visibility_timeout > longest
    assert visibility_timeout > app.conf.task_time_limit
    # And the settings' own start-up check counts at least as long a wait.
    assert longest <= settings.LONGEST_TASK_COUNTDOWN_SECONDS
    slowest_rate = min(rate for rate, _burst in OPERATION_LIMITS.values())
    assert slowest_rate == settings.AMAZON_SLOWEST_RATE_PER_SECOND


def test_a_task_sent_through_redis_is_run_by_a_worker():
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE delivery_probe (label varchar(40))")
    try:
        with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
            result = record_delivery.apply_async(args=["through-redis"])
            delivered: list[str] = []
            for _ in range(100):
                with connection.cursor() as cursor:
                    cursor.execute("SELECT label FROM delivery_probe")
                    delivered = [row[0] for row in cursor.fetchall()]
                if delivered:
                    break
                time.sleep(0.1)
        assert result.id
        assert delivered == ["through-redis"]
    finally:
        with connection.cursor() as cursor:
            cursor.execute("DROP TABLE delivery_probe")
