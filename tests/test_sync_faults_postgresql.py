"""Syncs that race or die, on PostgreSQL: exactly one copy of every order, no gaps."""

import os
import signal
import subprocess
import sys
import threading
import time

import pytest
from django.db import connection

from amazon_channel.models import AmazonOrder, SyncRun
from amazon_channel.services.sync import sync_run_start, sync_run_step
from seller_central_sandbox.models import SandboxOrder
from seller_central_sandbox.services.orders import orders_generate
from seller_central_sandbox.services.sellers import FaultSettings, seller_faults_update
from seller_central_sandbox.testing import TEST_TIME_SCALE
from tests.helpers import PROJECT_DIR, subprocess_environment
from tests.sync_helpers import minutes_ago, store_for_seller
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
