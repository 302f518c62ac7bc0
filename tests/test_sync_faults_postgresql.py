"""Syncs that race or die, on PostgreSQL: exactly one copy of every order, no gaps."""

import copy
import os
import re
import signal
import subprocess
import sys
import threading
import time
from datetime import timedelta

import pytest
from django.db import connection, transaction

from amazon_channel.models import AmazonOrder, AmazonOrderEvent, SyncRun
from amazon_channel.orders.sync import amazon_order_recover, sync_run_start, sync_run_step
from amazon_channel.orders.upsert import amazon_orders_upsert
from amazon_channel.spapi.client import AmazonClient, iso8601
from amazon_channel.tasks import store_sync_orders
from seller_central_sandbox.models import SandboxOrder
from seller_central_sandbox.services.orders import orders_generate
from seller_central_sandbox.services.sellers import FaultSettings, seller_faults_update
from seller_central_sandbox.testing import TEST_TIME_SCALE, order_in_status
from tests.helpers import PROJECT_DIR, subprocess_environment
from tests.sync_helpers import minutes_ago, store_for_seller
from tests.test_fault_drills import celery_worker, run_of, wait_until
from tests.test_sync_sandbox import assert_one_copy_of_each

pytestmark = [pytest.mark.postgresql, pytest.mark.django_db(transaction=True)]

DE = "A1PA6795UKMFR9"


@pytest.fixture
def seller(sandbox_seller_factory, settings):
    settings.AMAZON_RATE_LIMIT_SCALE = TEST_TIME_SCALE
    settings.AMAZON_RETRY_BASE_SECONDS = 0.05
    return sandbox_seller_factory(marketplace_ids=[DE])


def test_two_concurrent_syncs_of_one_store_leave_exactly_one_copy_of_every_order(
    sandbox_server, seller
):
    orders_generate(seller=seller, count=250, seed=31, now=minutes_ago(5))
    store = store_for_seller(sandbox_server, seller)
    barrier = threading.Barrier(2)
    outcomes: list = []

    def sync(holder: str):
        barrier.wait(timeout=10)
        try:
            run = sync_run_start(store=store, kind=SyncRun.Kind.SCHEDULED)
            if run is None:
                outcomes.append("exited")
                return
            while True:
                outcome = sync_run_step(run_id=run.pk, holder=holder)
                if outcome.is_finished or outcome.is_busy:
                    outcomes.append("busy" if outcome.is_busy else "finished")
                    return
                time.sleep(outcome.wait_seconds)
        except Exception as error:  # noqa: BLE001 - the outcome is what the test asserts
            outcomes.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=sync, args=(f"worker-{n}",)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sorted(map(str, outcomes)) in (["exited", "finished"], ["busy", "finished"])
    assert SyncRun.objects.filter(store=store).count() == 1
    assert AmazonOrder.objects.filter(store=store).count() == 250
    assert_one_copy_of_each(store)


def test_a_sync_killed_midway_and_rerun_leaves_no_duplicates_and_no_gaps(
    sandbox_server, seller, settings, tmp_path
):
    orders_generate(seller=seller, count=450, seed=32, now=minutes_ago(5))
    # Slow answers, so that the kill lands between pages.
    seller_faults_update(seller=seller, faults=FaultSettings(latency_ms=400))
    store = store_for_seller(sandbox_server, seller)
    environment = subprocess_environment(settings, var_dir=tmp_path)
    command = [sys.executable, "manage.py", "sync_amazon_orders", "--store", str(store.pk)]
    worker = subprocess.Popen(
        command, cwd=PROJECT_DIR, env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        run = SyncRun.objects.filter(store=store).first()
        if run is not None and run.pages >= 2:
            break
        time.sleep(0.05)
    os.kill(worker.pid, signal.SIGKILL)
    output = worker.communicate(timeout=10)[0].decode()
    killed_at = SyncRun.objects.filter(store=store).first()
    assert killed_at is not None, output
    assert killed_at.status == SyncRun.Status.RUNNING and 2 <= killed_at.pages < 5

    time.sleep(2.5)  # the dead worker's lease lapses
    seller_faults_update(seller=seller, faults=FaultSettings())
    rerun = subprocess.run(
        command, cwd=PROJECT_DIR, env=environment, capture_output=True, text=True, timeout=120
    )

    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    run = SyncRun.objects.get(store=store)
    assert run.status == SyncRun.Status.SUCCEEDED
    assert run.pages == 5
    assert AmazonOrder.objects.filter(store=store).count() == 450
    assert set(AmazonOrder.objects.values_list("amazon_order_id", flat=True)) == set(
        SandboxOrder.objects.filter(seller=seller).values_list("order_id", flat=True)
    )
    assert_one_copy_of_each(store)


def lock_waiters() -> int:
    """Backends of this database waiting for a row lock right now."""
    with connection.cursor() as cursor:
        # Inside a transaction PostgreSQL keeps showing its first snapshot of the activity.
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return cursor.fetchone()[0]


def recover_beside_a_sync_inserting(store, amazon_order_id: str, sync_payload: dict):
    """A sync inserts `sync_payload` and holds its transaction open while getOrder's recovery
    of the same order runs; the sync commits only once the recovery waits on its row."""
    inserted = threading.Event()
    outcome: dict = {}

    def sync():
        try:
            with transaction.atomic():
                amazon_orders_upsert(store=store, payloads=[sync_payload])
                inserted.set()
                deadline = time.monotonic() + 10
                while not lock_waiters() and time.monotonic() < deadline:
                    time.sleep(0.02)
                outcome["recovery_waited"] = lock_waiters() > 0
        finally:
            inserted.set()
            connection.close()

    def recover():
        try:
            inserted.wait(timeout=10)
            outcome["result"] = amazon_order_recover(store=store, amazon_order_id=amazon_order_id)
        except Exception as error:  # noqa: BLE001 - the outcome is what the test asserts
            outcome["result"] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=sync), threading.Thread(target=recover)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return outcome


def test_a_recovery_beside_a_sync_never_overwrites_its_newer_order_nor_imports_it_twice(
    sandbox_server, seller
):
    placed = order_in_status(
        seller=seller, status="UNSHIPPED", fulfilled_by="MERCHANT", seed=33, now=minutes_ago(30)
    )
    store = store_for_seller(sandbox_server, seller)
    # Amazon's copies disagree for a while: the sync's search already sees the shipment,
    # getOrder still serves the order as unshipped.
    newer = copy.deepcopy(AmazonClient(store).get_order(placed.order_id))
    newer["fulfillment"]["fulfillmentStatus"] = "SHIPPED"
    newer["lastUpdatedTime"] = iso8601(placed.last_updated_time + timedelta(minutes=1))

    outcome = recover_beside_a_sync_inserting(store, placed.order_id, newer)

    assert outcome["recovery_waited"], outcome
    result = outcome["result"]
    assert (result.created, result.updated, result.unchanged) == (0, 0, 1), result
    order = AmazonOrder.objects.get(store=store)
    assert order.status == "Shipped"
    assert iso8601(order.last_update_date) == newer["lastUpdatedTime"]
    assert list(order.events.values_list("kind", flat=True)) == [AmazonOrderEvent.Kind.IMPORTED]


def test_a_recovery_beside_a_sync_updates_the_older_order_the_sync_inserted(sandbox_server, seller):
    placed = order_in_status(
        seller=seller, status="UNSHIPPED", fulfilled_by="MERCHANT", seed=34, now=minutes_ago(30)
    )
    store = store_for_seller(sandbox_server, seller)
    # The sync's search still shows the order as pending; getOrder serves it paid.
    older = copy.deepcopy(AmazonClient(store).get_order(placed.order_id))
    older["fulfillment"]["fulfillmentStatus"] = "PENDING"
    older["lastUpdatedTime"] = iso8601(placed.last_updated_time - timedelta(minutes=1))

    outcome = recover_beside_a_sync_inserting(store, placed.order_id, older)

    assert outcome["recovery_waited"], outcome
    result = outcome["result"]
    assert (result.created, result.updated, result.unchanged) == (0, 1, 0), result
    order = AmazonOrder.objects.get(store=store)
    assert order.status == "Unshipped"
    kinds = list(order.events.order_by("pk").values_list("kind", flat=True))
    assert kinds == [AmazonOrderEvent.Kind.IMPORTED, AmazonOrderEvent.Kind.STATUS_CHANGED]


# Loaded by the worker's interpreter first (PYTHONPATH): writes down every time.sleep that our
# code or the SP-API library makes.
SLEEP_WITNESS = r"""
import os
import sys
import time

_LOG = os.environ.get("SLEEP_WITNESS_LOG")
_sleep = time.sleep


def _witnessed_sleep(seconds):
    frame = sys._getframe(1)
    while frame is not None:
        module = frame.f_globals.get("__name__", "")
        if module.split(".")[0] in ("amazon_channel", "sp_api"):
            with open(_LOG, "a") as log:
                log.write(f"{module}:{frame.f_lineno} slept {seconds}\n")
            break
        frame = frame.f_back
    return _sleep(seconds)


if _LOG:
    time.sleep = _witnessed_sleep
"""


@pytest.mark.redis
def test_a_5xx_storm_through_a_real_worker_is_retried_by_celery_never_slept_out(
    sandbox_server, seller, settings, tmp_path
):
    orders_generate(seller=seller, count=250, seed=35, now=minutes_ago(5))
    seller_faults_update(seller=seller, faults=FaultSettings(fail_next=5, fail_status=503))
    store = store_for_seller(sandbox_server, seller)
    witness_dir = tmp_path / "witness"
    witness_dir.mkdir()
    (witness_dir / "sitecustomize.py").write_text(SLEEP_WITNESS)
    sleeps = tmp_path / "sleeps.log"
    environment = subprocess_environment(
        settings,
        var_dir=tmp_path,
        PYTHONPATH=f"{witness_dir}{os.pathsep}{PROJECT_DIR}",
        SLEEP_WITNESS_LOG=str(sleeps),
    )
    # The witness sees a sleep made from our code (so its silence below means something).
    probe = "import time; exec('import time; time.sleep(0.01)', {'__name__': 'amazon_channel.x'})"
    subprocess.run([sys.executable, "-c", probe], env=environment, check=True, timeout=30)
    assert "amazon_channel.x" in sleeps.read_text()
    sleeps.unlink()
    log = tmp_path / "worker.log"

    with celery_worker(environment, log, "retries"):
        store_sync_orders.delay(store_id=store.pk, kind=SyncRun.Kind.SCHEDULED)
        wait_until(
            lambda: run_of(store) is not None and run_of(store).status != SyncRun.Status.RUNNING,
            timeout=90,
            message="the run ends",
        )

    run = run_of(store)
    assert run.status == SyncRun.Status.SUCCEEDED
    assert run.retried_errors == 5
    assert AmazonOrder.objects.filter(store=store).count() == 250
    assert_one_copy_of_each(store)
    # Each wait went back to the broker as a retry of the same task (which holds the lease)...
    retried = re.findall(r"sync_run_continue\[([0-9a-f-]+)\] retry: Retry in", log.read_text())
    assert len(retried) >= run.retried_errors
    assert len(set(retried)) == 1
    # ...and nothing slept inside the worker.
    assert not sleeps.exists(), sleeps.read_text()
