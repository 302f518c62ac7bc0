"""Fault drills with real processes: Celery workers killed with SIGKILL, Redis restarted,
PostgreSQL connections dropped, Amazon failing for a while. Nothing lost, nothing doubled."""

import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path

import pytest
from django.db import connection

from amazon_channel.models import AmazonFeed, AmazonOrder, AmazonOrderCancellation, SyncRun
from amazon_channel.orders.cancellation import amazon_order_cancel
from amazon_channel.tasks import outbox_sweep, store_sync_orders
from seller_central_sandbox.models import SandboxFeed, SandboxOrder
from seller_central_sandbox.services.orders import orders_generate
from seller_central_sandbox.services.sellers import FaultSettings, seller_faults_update
from seller_central_sandbox.testing import TEST_TIME_SCALE
from tests.helpers import PROJECT_DIR, subprocess_environment
from tests.sync_helpers import deliver_outbox, minutes_ago, store_for_seller, sync_to_the_end
from tests.test_sync_sandbox import assert_one_copy_of_each

pytestmark = pytest.mark.django_db(transaction=True)

DE = "A1PA6795UKMFR9"
CELERY = Path(os.sys.executable).parent / "celery"
LEASE_SECONDS = 2


@pytest.fixture
def seller(sandbox_seller_factory, settings):
    settings.AMAZON_RATE_LIMIT_SCALE = TEST_TIME_SCALE
    settings.AMAZON_RETRY_BASE_SECONDS = 0.05
    settings.AMAZON_FEED_POLL_SECONDS = 0.2
    settings.AMAZON_LEASE_SECONDS = LEASE_SECONDS
    return sandbox_seller_factory(marketplace_ids=[DE])


def wait_until(condition, *, timeout: float = 60, message: str = "") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {message or condition}")


@contextlib.contextmanager
def celery_worker(environment: dict, log_path: Path, name: str):
    """A real worker process, as the Procfile starts it (one process, prefetch 1)."""
    with log_path.open("a") as log:
        process = subprocess.Popen(
            [str(CELERY), "-A", "config", "worker", "--pool", "solo", "--loglevel", "INFO",
             "-n", f"{name}@%h", "--without-mingle", "--without-gossip"],
            cwd=PROJECT_DIR, env=environment, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
    try:
        wait_until(lambda: " ready." in log_path.read_text(), timeout=60, message="worker ready")
        yield process
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=5)


def kill_hard(process: subprocess.Popen) -> None:
    os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=10)


def run_of(store) -> SyncRun | None:
    return SyncRun.objects.filter(store=store).order_by("pk").last()


@pytest.mark.postgresql
@pytest.mark.redis
def test_a_worker_killed_mid_sync_is_resumed_on_the_next_beat_tick(
    sandbox_server, seller, settings, tmp_path
):
    orders_generate(seller=seller, count=450, seed=61, now=minutes_ago(5))
    seller_faults_update(seller=seller, faults=FaultSettings(latency_ms=400))
    store = store_for_seller(sandbox_server, seller)
    environment = subprocess_environment(settings, var_dir=tmp_path)
    log = tmp_path / "worker.log"

    with celery_worker(environment, log, "first") as first:
        store_sync_orders.delay(store_id=store.pk, kind="scheduled")
        wait_until(lambda: (run_of(store) or SyncRun(pages=0)).pages >= 2, message="two pages")
        kill_hard(first)
    assert run_of(store).status == SyncRun.Status.RUNNING
    seller_faults_update(seller=seller, faults=FaultSettings())

    with celery_worker(environment, log, "second"):
        time.sleep(LEASE_SECONDS + 0.5)
        store_sync_orders.delay(store_id=store.pk, kind="scheduled")  # beat's next tick
        wait_until(lambda: run_of(store).status != SyncRun.Status.RUNNING, message="run ends")

    run = run_of(store)
    assert run.status == SyncRun.Status.SUCCEEDED
    assert SyncRun.objects.filter(store=store).count() == 1
    assert AmazonOrder.objects.filter(store=store).count() == 450
    assert_one_copy_of_each(store)


@pytest.mark.postgresql
@pytest.mark.redis
def test_a_worker_killed_mid_cancel_sends_the_feed_exactly_once(
    sandbox_server, seller, settings, tmp_path, django_user_model
):
    orders_generate(seller=seller, count=20, seed=62, now=minutes_ago(30))
    store = store_for_seller(sandbox_server, seller)
    sync_to_the_end(store)
    order = AmazonOrder.objects.filter(
        store=store, status="Unshipped", fulfillment_channel="MFN"
    ).first()
    merchant = django_user_model.objects.create_user("anna")
    # Amazon answers slowly: the worker dies while createFeed is on the wire.
    seller_faults_update(seller=seller, faults=FaultSettings(latency_ms=1500))
    # The next worker reads Amazon's order once no createFeed call can still be alive (its
    # timeout) and no feed that could be ours is unfinished.
    environment = subprocess_environment(
        settings, var_dir=tmp_path, AMAZON_REQUEST_TIMEOUT_SECONDS="5"
    )
    log = tmp_path / "worker.log"

    with celery_worker(environment, log, "first") as first:
        amazon_order_cancel(order=order, actor=merchant, reason="NoInventory")
        wait_until(
            lambda: AmazonFeed.objects.filter(state=AmazonFeed.State.CREATING).exists(),
            message="createFeed in flight",
        )
        time.sleep(0.5)
        kill_hard(first)
    seller_faults_update(seller=seller, faults=FaultSettings())

    with celery_worker(environment, log, "second"):
        time.sleep(LEASE_SECONDS + 0.5)
        outbox_sweep.delay()  # beat, every minute
        cancellation = AmazonOrderCancellation.objects.get(order=order)
        wait_until(
            lambda: AmazonOrderCancellation.objects.get(pk=cancellation.pk).state != "pending",
            message="the report",
        )

    assert AmazonOrderCancellation.objects.get(pk=cancellation.pk).state == "confirmed"
    assert SandboxFeed.objects.filter(seller=seller).count() == 1
    assert AmazonFeed.objects.count() == 1
    assert SandboxOrder.objects.get(order_id=order.amazon_order_id).status == "CANCELLED"
    # Confirmed from Amazon's order: the feed getFeeds lists was never adopted as ours.
    assert AmazonFeed.objects.get().feed_id == ""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_redis(port: int, directory: Path) -> subprocess.Popen:
    process = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
         "--appendonly", "no", "--dir", str(directory)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    wait_until(
        lambda: socket.socket().connect_ex(("127.0.0.1", port)) == 0, timeout=10, message="redis"
    )
    return process


def enqueue_from(environment: dict, code: str) -> None:
    """Send a task from a separate process, on that process's broker."""
    result = subprocess.run(
        [os.sys.executable, "manage.py", "shell", "-c", code],
        cwd=PROJECT_DIR, env=environment, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr


@pytest.mark.postgresql
def test_a_sync_completes_after_redis_restarts_under_it(sandbox_server, seller, settings, tmp_path):
    if not shutil.which("redis-server"):
        pytest.fail("redis-server is needed for this drill (apt-get install redis-server)")
    orders_generate(seller=seller, count=450, seed=63, now=minutes_ago(5))
    seller_faults_update(seller=seller, faults=FaultSettings(latency_ms=400))
    store = store_for_seller(sandbox_server, seller)
    port = free_port()
    redis = start_redis(port, tmp_path)
    redis_url = f"redis://127.0.0.1:{port}/0"
    environment = subprocess_environment(
        settings, var_dir=tmp_path, REDIS_URL=redis_url, CELERY_BROKER_URL=redis_url
    )
    sync = (
        "from amazon_channel.tasks import store_sync_orders; "
        f"store_sync_orders.delay(store_id={store.pk}, kind='scheduled')"
    )
    try:
        with celery_worker(environment, tmp_path / "worker.log", "drill"):
            enqueue_from(environment, sync)
            wait_until(lambda: (run_of(store) or SyncRun(pages=0)).pages >= 1, message="a page")
            redis.terminate()  # Redis goes away mid-sync, with the queued retry...
            redis.wait(timeout=10)
            time.sleep(1)
            redis = start_redis(port, tmp_path)  # ...and comes back empty.
            seller_faults_update(seller=seller, faults=FaultSettings())
            time.sleep(LEASE_SECONDS + 0.5)
            enqueue_from(environment, sync)  # beat's next tick
            wait_until(lambda: run_of(store).status != SyncRun.Status.RUNNING, message="run ends")
    finally:
        redis.terminate()
        redis.wait(timeout=10)

    assert run_of(store).status == SyncRun.Status.SUCCEEDED
    assert AmazonOrder.objects.filter(store=store).count() == 450
    assert_one_copy_of_each(store)


@pytest.mark.postgresql
@pytest.mark.redis
def test_a_sync_completes_after_its_database_connection_is_dropped(
    sandbox_server, seller, settings, tmp_path
):
    orders_generate(seller=seller, count=450, seed=64, now=minutes_ago(5))
    seller_faults_update(seller=seller, faults=FaultSettings(latency_ms=300))
    store = store_for_seller(sandbox_server, seller)
    # The worker keeps its connection between queries, named so that the drill drops its own.
    environment = subprocess_environment(
        settings, var_dir=tmp_path, CONN_MAX_AGE="600", PGAPPNAME="fault-drill-worker"
    )
    log = tmp_path / "worker.log"

    with celery_worker(environment, log, "drill"):
        store_sync_orders.delay(store_id=store.pk, kind="scheduled")
        wait_until(lambda: (run_of(store) or SyncRun(pages=0)).pages >= 1, message="a page")
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = current_database() AND application_name = %s",
                ["fault-drill-worker"],
            )
            assert cursor.fetchone()[0] >= 1
        seller_faults_update(seller=seller, faults=FaultSettings())
        wait_until(lambda: run_of(store).status != SyncRun.Status.RUNNING, message="run ends")

    # The worker met the dropped connection mid-task, and Celery retried the task.
    assert re.search(r"retry: Retry in .*(OperationalError|InterfaceError)", log.read_text())
    assert run_of(store).status == SyncRun.Status.SUCCEEDED
    assert AmazonOrder.objects.filter(store=store).count() == 450
    assert_one_copy_of_each(store)


def test_sync_and_cancel_complete_after_amazon_fails_and_times_out_for_a_while(
    sandbox_server, seller, settings, django_user_model
):
    settings.AMAZON_REQUEST_TIMEOUT_SECONDS = 0.5
    orders_generate(seller=seller, count=250, seed=65, now=minutes_ago(30))
    store = store_for_seller(sandbox_server, seller)
    # Slower than our timeout for two seconds, then 5xx for the next calls.
    seller_faults_update(seller=seller, faults=FaultSettings(latency_ms=1500, fail_next=4))
    threading.Timer(
        2.0, lambda: seller_faults_update(seller=seller, faults=FaultSettings(fail_next=4))
    ).start()

    run = sync_to_the_end(store)

    assert run.status == SyncRun.Status.SUCCEEDED
    assert run.retried_errors >= 2
    assert AmazonOrder.objects.filter(store=store).count() == 250
    order = AmazonOrder.objects.filter(
        store=store, status="Unshipped", fulfillment_channel="MFN"
    ).first()
    # The same for the cancel: slower than our timeout for two seconds (createFeed may reach
    # Amazon unanswered), then 5xx for the next calls.
    seller_faults_update(seller=seller, faults=FaultSettings(latency_ms=1500))
    threading.Timer(
        2.0,
        lambda: seller_faults_update(
            seller=seller, faults=FaultSettings(fail_next=5, fail_status=500)
        ),
    ).start()
    amazon_order_cancel(
        order=order, actor=django_user_model.objects.create_user("anna"), reason="NoInventory"
    )

    deliver_outbox(store)

    assert AmazonOrderCancellation.objects.get(order=order).state == "confirmed"
    assert SandboxFeed.objects.filter(seller=seller).count() == 1
