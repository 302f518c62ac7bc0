"""The order sync against the Seller Central sandbox, over real HTTP with the real client."""

import pytest
from django.db.models import Count
from django_celery_beat.models import PeriodicTask

from amazon_channel.models import AmazonOrder, AmazonOrderItem, SyncRun, SyncState
from amazon_channel.services.stores import store_schedule_update
from amazon_channel.services.sync import SyncNotAllowed, sync_run_start
from seller_central_sandbox.models import SandboxOrder
from seller_central_sandbox.services.orders import (
    ShipmentItem,
    order_lifecycle_step,
    order_shipment_confirm,
    orders_generate,
)
from seller_central_sandbox.services.sellers import FaultSettings, seller_faults_update
from seller_central_sandbox.testing import TEST_TIME_SCALE
from tests.sync_helpers import minutes_ago, store_for_seller, sync_to_the_end

pytestmark = pytest.mark.django_db(transaction=True)

DE = "A1PA6795UKMFR9"


@pytest.fixture
def fast_amazon(settings):
    """Our limiter runs at the sandbox's time scale; retries start small."""
    settings.AMAZON_RATE_LIMIT_SCALE = TEST_TIME_SCALE
    settings.AMAZON_RETRY_BASE_SECONDS = 0.05
    settings.AMAZON_FEED_POLL_SECONDS = 0.2


@pytest.fixture
def seller(sandbox_seller_factory):
    return sandbox_seller_factory(marketplace_ids=[DE])


@pytest.fixture
def store(sandbox_server, seller, fast_amazon):
    return store_for_seller(sandbox_server, seller)


def sandbox_orders(seller):
    return SandboxOrder.objects.filter(seller=seller)


def assert_one_copy_of_each(store):
    duplicates = (
        AmazonOrder.objects.filter(store=store)
        .values("amazon_order_id")
        .annotate(copies=Count("id"))
        .filter(copies__gt=1)
    )
    assert not duplicates.exists()


def test_a_full_import_reads_every_order_with_its_items_page_by_page(store, seller):
    orders_generate(seller=seller, count=230, seed=1, now=minutes_ago(5))

    run = sync_to_the_end(store)

    assert run.status == SyncRun.Status.SUCCEEDED
    assert run.pages == 3
    assert run.orders_created == 230
    assert AmazonOrder.objects.filter(store=store).count() == 230
    expected_items = sum(order.items.count() for order in sandbox_orders(seller))
    assert AmazonOrderItem.objects.filter(order__store=store).count() == expected_items
    store.refresh_from_db()
    assert store.orders_watermark == run.window_end
    assert_one_copy_of_each(store)


def test_an_incremental_run_picks_up_only_what_changed(store, seller):
    orders_generate(seller=seller, count=40, seed=2, now=minutes_ago(60 * 24))
    sync_to_the_end(store)
    pending = sandbox_orders(seller).filter(status="PENDING").order_by("order_id")[:3]
    changed = [order.order_id for order in pending]
    assert len(changed) == 3
    for order_id in changed:
        order_lifecycle_step(seller=seller, order_id=order_id, step="pay")
    SandboxOrder.objects.filter(order_id__in=changed).update(last_updated_time=minutes_ago(3))

    second = sync_to_the_end(store)

    assert (second.orders_created, second.orders_updated) == (0, 3)
    statuses = AmazonOrder.objects.filter(amazon_order_id__in=changed).values_list(
        "status", flat=True
    )
    assert set(statuses) == {"Unshipped"}


def test_an_order_updated_at_the_window_boundary_is_not_missed(store, seller):
    orders_generate(seller=seller, count=10, seed=3, now=minutes_ago(60))
    first = sync_to_the_end(store)
    order = sandbox_orders(seller).filter(status="PENDING").first()
    order_lifecycle_step(seller=seller, order_id=order.order_id, step="pay")
    # Amazon records the change a moment before the first window closed (eventual consistency).
    SandboxOrder.objects.filter(pk=order.pk).update(last_updated_time=first.window_end)

    sync_to_the_end(store)

    assert AmazonOrder.objects.get(amazon_order_id=order.order_id).status == "Unshipped"


def test_a_page_read_twice_changes_nothing(store, seller):
    orders_generate(seller=seller, count=30, seed=4, now=minutes_ago(10))
    sync_to_the_end(store)
    before = list(AmazonOrder.objects.filter(store=store).values_list("pk", "last_update_date"))

    again = sync_to_the_end(store, since=minutes_ago(60 * 72))

    assert again.orders_created == 0 and again.orders_updated == 0
    assert again.orders_unchanged == 30
    after = list(AmazonOrder.objects.filter(store=store).values_list("pk", "last_update_date"))
    assert after == before


def test_a_5xx_storm_ends_in_a_complete_import(store, seller):
    orders_generate(seller=seller, count=120, seed=5, now=minutes_ago(5))
    seller_faults_update(seller=seller, faults=FaultSettings(fail_next=4, fail_status=503))

    run = sync_to_the_end(store)

    assert run.status == SyncRun.Status.SUCCEEDED
    assert run.retried_errors == 4
    assert AmazonOrder.objects.filter(store=store).count() == 120


def test_a_malformed_answer_is_retried_and_loses_nothing(store, seller):
    orders_generate(seller=seller, count=15, seed=6, now=minutes_ago(5))
    seller_faults_update(seller=seller, faults=FaultSettings(malformed_next=2))

    run = sync_to_the_end(store)

    assert run.status == SyncRun.Status.SUCCEEDED
    assert run.retried_errors == 2
    assert AmazonOrder.objects.filter(store=store).count() == 15


def test_amazons_429s_are_waited_out(store, seller, sandbox_server):
    from sp_api.api import Orders
    from sp_api.base.exceptions import SellingApiRequestThrottledException

    from seller_central_sandbox.testing import client_kwargs_for

    orders_generate(seller=seller, count=5, seed=7, now=minutes_ago(5))
    # Another application of the same seller used up the burst.
    client = Orders(version="2026-01-01", **client_kwargs_for(sandbox_server, seller))
    with pytest.raises(SellingApiRequestThrottledException):
        for _ in range(25):
            client.search_orders(createdAfter=minutes_ago(600).isoformat(), marketplaceIds=[DE])

    run = sync_to_the_end(store)

    assert run.status == SyncRun.Status.SUCCEEDED
    assert run.throttled_calls >= 1
    assert AmazonOrder.objects.filter(store=store).count() == 5


def test_rejected_credentials_pause_the_store_and_say_why(sandbox_server, seller, fast_amazon):
    store = store_for_seller(sandbox_server, seller, refresh_token="Atzr|revoked-or-wrong")
    store_schedule_update(store=store)

    run = sync_to_the_end(store)

    store.refresh_from_db()
    assert run.status == SyncRun.Status.FAILED
    assert store.sync_state == SyncState.NEEDS_REAUTHORIZATION
    assert "rejected the store's credentials" in store.sync_state_message
    assert not PeriodicTask.objects.get(name__endswith=f"store {store.pk}").enabled
    with pytest.raises(SyncNotAllowed):
        sync_run_start(store=store, kind=SyncRun.Kind.SCHEDULED)


def test_a_second_sync_of_a_store_exits_while_the_first_holds_it(store, seller):
    orders_generate(seller=seller, count=5, seed=8, now=minutes_ago(5))
    first = sync_run_start(store=store, kind=SyncRun.Kind.SCHEDULED)
    from amazon_channel.services.sync import sync_run_step

    sync_run_step(run_id=first.pk, holder="worker-a", time_budget=0)

    assert sync_run_start(store=store, kind=SyncRun.Kind.MANUAL) is None
    assert sync_run_step(run_id=first.pk, holder="worker-b").is_busy
    assert SyncRun.objects.filter(store=store).count() == 1


def test_shipments_made_on_amazon_come_back_with_their_tracking(store, seller):
    orders_generate(seller=seller, count=20, seed=9, now=minutes_ago(30))
    sync_to_the_end(store)
    order = sandbox_orders(seller).filter(status="UNSHIPPED", fulfilled_by="MERCHANT").first()
    item = order.items.first()
    order_shipment_confirm(
        seller=seller,
        order_id=order.order_id,
        marketplace_id=DE,
        package_reference_id="PKG-1",
        carrier_code="DHL",
        tracking_number="00340434161234567890",
        ship_date=minutes_ago(4).isoformat(),
        items=[ShipmentItem(order_item_id=item.order_item_id, quantity=item.quantity_ordered)],
    )
    SandboxOrder.objects.filter(pk=order.pk).update(last_updated_time=minutes_ago(3))

    sync_to_the_end(store)

    ours = AmazonOrder.objects.get(amazon_order_id=order.order_id)
    assert ours.status in ("Shipped", "PartiallyShipped")
    package = ours.packages.get()
    assert (package.carrier, package.tracking_number) == ("DHL", "00340434161234567890")
