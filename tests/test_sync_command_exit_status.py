"""`manage.py sync_amazon_orders` tells cron and monitoring how it went: exit status 1 with the
reason on stderr when a run fails or a store refuses to sync; 0 when every run succeeded or was
left to another worker's live run (that run does the work: nothing failed here)."""

import io

import pytest
from django.core.management import CommandError, call_command

from amazon_channel.models import AmazonOrder, SyncRun, SyncState
from amazon_channel.orders.sync import sync_run_start
from amazon_channel.stores.services import store_problem_report
from seller_central_sandbox.services.orders import orders_generate
from seller_central_sandbox.testing import TEST_TIME_SCALE
from tests.helpers import run_manage, subprocess_environment
from tests.sync_helpers import minutes_ago, store_for_seller

pytestmark = pytest.mark.django_db(transaction=True)

DE = "A1PA6795UKMFR9"


@pytest.fixture
def seller(sandbox_seller_factory, settings):
    settings.AMAZON_RATE_LIMIT_SCALE = TEST_TIME_SCALE
    settings.AMAZON_RETRY_BASE_SECONDS = 0.05
    seller = sandbox_seller_factory(marketplace_ids=[DE])
    orders_generate(seller=seller, count=5, seed=95, now=minutes_ago(10))
    return seller


def sync_command(*arguments: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("sync_amazon_orders", *arguments, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_a_failed_run_is_an_error_with_amazons_reason(sandbox_server, seller):
    store = store_for_seller(sandbox_server, seller, refresh_token="Atzr|revoked-or-wrong")
    err = io.StringIO()

    with pytest.raises(CommandError) as failed:
        call_command(
            "sync_amazon_orders", "--store", str(store.pk), stdout=io.StringIO(), stderr=err
        )

    assert failed.value.returncode == 1
    # The reason is written once, not repeated in the summary Django writes to stderr too
    assert str(failed.value) == "1 of 1 stores did not sync (see above)."
    assert f"{store.name}: failed: Amazon rejected the store's credentials" in err.getvalue()
    assert SyncRun.objects.get(store=store).status == SyncRun.Status.FAILED


@pytest.mark.parametrize("refusal", ["inactive", "needs reauthorization"])
def test_a_store_that_refuses_to_sync_is_an_error_saying_why(sandbox_server, seller, refusal):
    store = store_for_seller(sandbox_server, seller)
    if refusal == "inactive":
        store.is_active = False
        store.save(update_fields=["is_active"])
        reason = "The store is inactive."
    else:
        reason = "Amazon rejected the store's credentials."
        store_problem_report(store.pk, SyncState.NEEDS_REAUTHORIZATION, reason)
    err = io.StringIO()

    with pytest.raises(CommandError) as refused:
        call_command(
            "sync_amazon_orders", "--store", str(store.pk), stdout=io.StringIO(), stderr=err
        )

    assert refused.value.returncode == 1
    assert f"{store.name}: refused: {reason}" in err.getvalue()
    assert not SyncRun.objects.filter(store=store).exists()


def test_every_store_is_synced_even_when_one_fails_and_the_status_counts_it(
    sandbox_server, seller, sandbox_seller_factory
):
    good = store_for_seller(sandbox_server, seller)
    other_seller = sandbox_seller_factory(marketplace_ids=[DE])
    bad = store_for_seller(sandbox_server, other_seller, refresh_token="Atzr|wrong")
    err = io.StringIO()

    with pytest.raises(CommandError) as failed:
        call_command("sync_amazon_orders", stdout=io.StringIO(), stderr=err)

    assert "1 of 2 stores did not sync" in str(failed.value)
    assert f"{bad.name}: failed:" in err.getvalue()
    assert good.sync_runs.get().status == SyncRun.Status.SUCCEEDED
    assert AmazonOrder.objects.filter(store=good).count() == 5


def test_a_run_already_running_in_another_worker_is_not_a_failure(sandbox_server, seller):
    store = store_for_seller(sandbox_server, seller)
    held = sync_run_start(store=store, kind=SyncRun.Kind.SCHEDULED)
    SyncRun.objects.filter(pk=held.pk).update(
        lease_holder="worker-a", lease_expires_at=minutes_ago(-5)
    )

    _, err = sync_command("--store", str(store.pk))

    assert f"{store.name}: a sync is already running" in err
    assert SyncRun.objects.filter(store=store).count() == 1


@pytest.mark.postgresql
def test_from_the_shell_a_failure_exits_1_with_the_reason_on_stderr_and_success_exits_0(
    sandbox_server, seller, sandbox_seller_factory, settings, tmp_path
):
    broken = store_for_seller(
        sandbox_server,
        sandbox_seller_factory(marketplace_ids=[DE]),
        refresh_token="Atzr|revoked-or-wrong",
    )
    working = store_for_seller(sandbox_server, seller)
    environment = subprocess_environment(settings, var_dir=tmp_path)

    failed = run_manage("sync_amazon_orders", "--store", str(broken.pk), environment=environment)
    lost = run_manage(
        "sync_amazon_orders",
        "--store",
        str(working.pk),
        "--order",
        "999-9999999-9999999",
        environment=environment,
    )
    synced = run_manage("sync_amazon_orders", "--store", str(working.pk), environment=environment)

    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert "Amazon rejected the store's credentials" in failed.stderr
    assert lost.returncode == 1, lost.stdout + lost.stderr
    assert "999-9999999-9999999" in lost.stderr
    assert synced.returncode == 0, synced.stdout + synced.stderr
    assert "Succeeded" in synced.stdout
    assert AmazonOrder.objects.filter(store=working).count() == 5
