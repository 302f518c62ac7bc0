"""Tasks travel through the real broker (Redis) to a real worker, with at-least-once settings."""

import time

import pytest
from celery.contrib.testing.worker import start_worker
from django.conf import settings
from django.db import connection

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
    assert settings.CELERY_BEAT_SCHEDULER.startswith("django_celery_beat")


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
