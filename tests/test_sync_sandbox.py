"""The order sync against the Seller Central sandbox, over real HTTP with the real client."""

import re
from datetime import timedelta
from urllib.parse import parse_qs

import pytest
from django.contrib.auth.models import Permission
from django.db import transaction
from django.db.models import Count, PositiveIntegerField
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.translation import gettext
from django_celery_beat.models import PeriodicTask
from sp_api.api import Orders
from sp_api.base.exceptions import SellingApiRequestThrottledException

from amazon_channel.models import AmazonOrder, AmazonOrderItem, SyncRun, SyncState
from amazon_channel.orders.sync import (
    CLOCK_MARGIN,
    LOOKBACK,
    SyncNotAllowed,
    sync_run_start,
    sync_run_step,
)
from amazon_channel.spapi.client import clock_skew_margin, iso8601
from amazon_channel.stores.services import (
    store_problem_report,
    store_schedule_update,
    store_set_active,
)
from commerce_orders.notes import notes_text
from seller_central_sandbox.models import SandboxOrder
from seller_central_sandbox.services.orders import (
    ShipmentItem,
    order_lifecycle_step,
    order_shipment_confirm,
    orders_generate,
)
from seller_central_sandbox.services.sellers import FaultSettings, seller_faults_update
from seller_central_sandbox.testing import TEST_TIME_SCALE, client_kwargs_for, order_in_status
from tests.sync_helpers import minutes_ago, store_for_seller, sync_to_the_end

pytestmark = pytest.mark.django_db(transaction=True)

DE = "A1PA6795UKMFR9"
SEARCH_PATH = "/orders/2026-01-01/orders"


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


def searches_sent(server, *, since: int) -> list[dict]:
    """The query of every searchOrders call the sandbox answered after exchange `since`."""
    return [
        {key: values[0] for key, values in parse_qs(exchange.query).items()}
        for exchange in server.exchanges[since:]
        if exchange.method == "GET" and exchange.path == SEARCH_PATH
    ]


def test_an_incremental_run_picks_up_only_what_changed(store, seller, sandbox_server):
    orders_generate(seller=seller, count=40, seed=2, now=minutes_ago(60 * 24))
    first = sync_to_the_end(store)
    pending = sandbox_orders(seller).filter(status="PENDING").order_by("order_id")[:3]
    changed = [order.order_id for order in pending]
    assert len(changed) == 3
    for order_id in changed:
        order_lifecycle_step(seller=seller, order_id=order_id, step="pay")
    SandboxOrder.objects.filter(order_id__in=changed).update(last_updated_time=minutes_ago(4))
    asked_before = len(sandbox_server.exchanges)

    second = sync_to_the_end(store)

    # Amazon was asked for the watermark minus the lookback up to two minutes ago less the
    # margin for its clock, nothing more.
    assert second.window_start == first.window_end - LOOKBACK
    latest = timezone.now() - CLOCK_MARGIN - clock_skew_margin()
    assert latest - timedelta(seconds=30) < second.window_end <= latest
    searches = searches_sent(sandbox_server, since=asked_before)
    assert [(search["lastUpdatedAfter"], search["lastUpdatedBefore"]) for search in searches] == [
        (iso8601(second.window_start), iso8601(second.window_end))
    ]
    assert (second.orders_created, second.orders_updated, second.orders_unchanged) == (0, 3, 0)
    statuses = AmazonOrder.objects.filter(amazon_order_id__in=changed).values_list(
        "status", flat=True
    )
    assert set(statuses) == {"Unshipped"}


def test_an_order_updated_at_the_window_boundary_is_not_missed(store, seller):
    orders_generate(seller=seller, count=10, seed=3, now=minutes_ago(60))
    first = sync_to_the_end(store)
    store.refresh_from_db()
    watermark = store.orders_watermark
    assert watermark == first.window_end
    order = sandbox_orders(seller).filter(status="PENDING").first()
    # Amazon stamps the payment five minutes before the watermark, but its search shows the
    # change only now, after the first run (eventual consistency).
    order_lifecycle_step(seller=seller, order_id=order.order_id, step="pay")
    SandboxOrder.objects.filter(pk=order.pk).update(
        last_updated_time=watermark - timedelta(minutes=5)
    )

    second = sync_to_the_end(store)

    assert second.orders_updated == 1
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


def test_a_429_storm_ends_in_a_complete_import(store, seller, sandbox_server, settings):
    orders_generate(seller=seller, count=150, seed=7, now=minutes_ago(5))
    # Another application of the same seller used up the burst, and ours paces as though it had
    # the quota to itself at ten times the rate Amazon refills it: a storm of 429s.
    settings.AMAZON_RATE_LIMIT_SCALE = TEST_TIME_SCALE * 10
    other_application = Orders(version="2026-01-01", **client_kwargs_for(sandbox_server, seller))
    with pytest.raises(SellingApiRequestThrottledException):
        for _ in range(25):
            other_application.search_orders(
                createdAfter=minutes_ago(600).isoformat(), marketplaceIds=[DE]
            )
    asked_before = len(sandbox_server.exchanges)

    run = sync_to_the_end(store)

    refused = [
        exchange
        for exchange in sandbox_server.exchanges[asked_before:]
        if exchange.path == SEARCH_PATH and exchange.status == 429
    ]
    assert run.status == SyncRun.Status.SUCCEEDED
    # Each 429 in a row waits twice as long as the last, so the storm dies down quickly.
    assert len(refused) >= 3
    assert run.throttled_calls == len(refused)
    assert run.pages == 2
    assert set(
        AmazonOrder.objects.filter(store=store).values_list("amazon_order_id", flat=True)
    ) == (set(sandbox_orders(seller).values_list("order_id", flat=True)))
    assert_one_copy_of_each(store)


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


@pytest.mark.parametrize("language", ["de", "it"])
def test_why_a_sync_failed_shows_in_the_merchants_language(
    sandbox_server, seller, fast_amazon, client, django_user_model, language
):
    store = store_for_seller(sandbox_server, seller, refresh_token="Atzr|revoked-or-wrong")
    run = sync_to_the_end(store)
    store.refresh_from_db()
    english = "Amazon rejected the store's credentials"
    # Our sentences are written in English (note_english), with Amazon's words inside.
    assert run.message == store.sync_state_message
    assert store.sync_state_message.startswith(english)
    merchant = django_user_model.objects.create_user("giulia")
    merchant.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_store", "change_store"])
    )
    client.force_login(merchant)
    with translation.override(language):
        ours = gettext("Amazon rejected the store's credentials (%(code)s): %(message)s")
    ours = ours.split(" (%(code)s)")[0]
    amazon_words = store.sync_state_message.split("): ", 1)[1]

    try:
        for name in ("store_list", "store_detail", "store_sync_log", "store_reauthorize"):
            args = [] if name == "store_list" else [store.pk]
            response = client.get(
                reverse(f"dashboard:{name}", args=args), headers={"accept-language": language}
            )
            html = response.content.decode().replace("&#x27;", "'")
            assert response.status_code == 200
            assert english not in html, name
            assert ours in html and amazon_words in html, name
    finally:
        translation.activate("en")  # the requests' language stays active in this thread


def test_a_second_sync_of_a_store_exits_while_the_first_holds_it(store, seller):
    orders_generate(seller=seller, count=5, seed=8, now=minutes_ago(5))
    first = sync_run_start(store=store, kind=SyncRun.Kind.SCHEDULED)
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
    SandboxOrder.objects.filter(pk=order.pk).update(last_updated_time=minutes_ago(4))

    sync_to_the_end(store)

    ours = AmazonOrder.objects.get(amazon_order_id=order.order_id)
    assert ours.status in ("Shipped", "PartiallyShipped")
    package = ours.packages.get()
    assert (package.carrier, package.tracking_number) == ("DHL", "00340434161234567890")


def a_run_one_page_in(store, seller) -> tuple[SyncRun, object]:
    """A synced store (its watermark), then 250 new orders and a run that has read one page."""
    sync_to_the_end(store)
    store.refresh_from_db()
    orders_generate(seller=seller, count=250, seed=20, window=timedelta(minutes=10))
    run = sync_run_start(store=store, kind=SyncRun.Kind.SCHEDULED)
    sync_run_step(run_id=run.pk, holder="worker-a", max_pages=1)
    assert AmazonOrder.objects.filter(store=store).count() == 100
    return run, store.orders_watermark


def test_deactivating_a_store_stops_its_running_sync_at_the_next_page(store, seller):
    run, watermark = a_run_one_page_in(store, seller)
    with transaction.atomic():
        store_set_active(store=store, actor=None, is_active=False)

    outcome = sync_run_step(run_id=run.pk, holder="worker-a")

    run.refresh_from_db()
    store.refresh_from_db()
    assert outcome.is_finished
    assert run.status == SyncRun.Status.FAILED
    assert "the store was deactivated" in run.message
    assert run.pages == 1
    assert AmazonOrder.objects.filter(store=store).count() == 100
    assert store.orders_watermark == watermark
    assert not PeriodicTask.objects.get(name__endswith=f"store {store.pk}").enabled
    # Active again, the next run reads from the old watermark: nothing is missed.
    with transaction.atomic():
        store_set_active(store=store, actor=None, is_active=True)
    again = sync_to_the_end(store)
    assert again.window_start == watermark - LOOKBACK
    assert AmazonOrder.objects.filter(store=store).count() == 250
    assert_one_copy_of_each(store)


def test_a_store_paused_for_reauthorization_stops_its_running_sync_and_says_why(store, seller):
    run, watermark = a_run_one_page_in(store, seller)
    store_problem_report(
        store.pk, SyncState.NEEDS_REAUTHORIZATION, "Amazon rejected the store's credentials."
    )

    outcome = sync_run_step(run_id=run.pk, holder="worker-a")

    run.refresh_from_db()
    store.refresh_from_db()
    assert outcome.is_finished
    assert run.status == SyncRun.Status.FAILED
    assert "needs reauthorization: Amazon rejected the store's credentials." in run.message
    assert run.pages == 1
    assert store.orders_watermark == watermark


def test_orders_without_an_id_are_skipped_counted_and_reported_by_the_run(store, seller):
    orders = orders_generate(seller=seller, count=12, seed=22, now=minutes_ago(5))
    SandboxOrder.objects.filter(pk=orders[0].pk).update(order_id="")

    run = sync_to_the_end(store)

    assert run.status == SyncRun.Status.SUCCEEDED
    assert (run.orders_created, run.orders_with_problems, run.orders_skipped) == (11, 1, 1)
    # Counted, not written into the message: the pages say it in the reader's language.
    assert run.message == ""
    assert AmazonOrder.objects.filter(store=store).count() == 11


def test_the_sync_log_shows_every_counter_a_run_records(store, seller, client, django_user_model):
    orders = orders_generate(seller=seller, count=130, seed=23, now=minutes_ago(5))
    SandboxOrder.objects.filter(pk=orders[0].pk).update(order_id="")
    seller_faults_update(seller=seller, faults=FaultSettings(fail_next=2))
    run = sync_to_the_end(store)
    merchant = django_user_model.objects.create_user("anna")
    merchant.user_permissions.add(Permission.objects.get(codename="view_store"))
    client.force_login(merchant)

    page = client.get(reverse("dashboard:store_sync_log", args=[store.pk])).content.decode()

    counters = [
        field.name
        for field in SyncRun._meta.get_fields()
        if isinstance(field, PositiveIntegerField) and field.editable
    ]
    shown = dict(re.findall(r'data-counter="(\w+)">(\d+)<', page))
    assert shown == {name: str(getattr(run, name)) for name in counters}
    assert (run.pages, run.retried_errors, run.orders_with_problems) == (2, 2, 1)
    for moment in (run.started_at, run.finished_at):
        assert date_format(timezone.localtime(moment), "SHORT_DATETIME_FORMAT") in page
    assert run.get_kind_display() in page and run.get_status_display() in page
    assert "1 order without an id or dates was skipped." in page


def test_a_pending_order_and_an_amazon_fulfilled_one_are_explained_not_flagged(store, seller):
    pending = order_in_status(
        seller=seller, status="PENDING", fulfilled_by="MERCHANT", seed=24, now=minutes_ago(60)
    )
    fulfilled_by_amazon = order_in_status(
        seller=seller, status="SHIPPED", fulfilled_by="AMAZON", seed=25, now=minutes_ago(60)
    )
    sync_to_the_end(store)
    ours = AmazonOrder.objects.get(amazon_order_id=pending.order_id)
    # Amazon shares neither prices nor the buyer's personal data before payment.
    assert notes_text(ours.order_notes) == (
        "Amazon gives no prices while the order is pending; they will be read when it is paid.\n"
        "Amazon shares the recipient's name and address once the order is paid."
    )
    assert ours.order_total is None and not ours.needs_attention
    assert {"name", "addressLine1", "postalCode"}.isdisjoint(ours.shipping_address)
    assert ours.shipping_address["city"] and ours.buyer_name == ours.buyer_email == ""
    afn = AmazonOrder.objects.get(amazon_order_id=fulfilled_by_amazon.order_id)
    assert (
        notes_text(afn.order_notes) == "Amazon fulfils this order and shares no shipping address."
    )
    assert not afn.needs_attention
    assert not AmazonOrder.objects.filter(store=store, needs_attention=True).exists()

    order_lifecycle_step(seller=seller, order_id=pending.order_id, step="pay")
    SandboxOrder.objects.filter(pk=pending.pk).update(last_updated_time=minutes_ago(4))
    sync_to_the_end(store)

    ours.refresh_from_db()
    assert ours.status == "Unshipped"
    assert notes_text(ours.order_notes) == ""
    assert ours.shipping_address["addressLine1"] and ours.buyer_name and ours.buyer_email
    assert ours.order_total is not None
    assert all(item.item_price is not None for item in ours.items.all())


def test_sync_now_on_the_card_reads_the_store_from_amazon_naming_who_asked(
    store, seller, client, django_user_model, settings, django_capture_on_commit_callbacks
):
    orders_generate(seller=seller, count=12, seed=31, now=minutes_ago(10))
    merchant = django_user_model.objects.create_user("anna")
    merchant.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_store", "sync_store"])
    )
    client.force_login(merchant)
    settings.CELERY_TASK_ALWAYS_EAGER = True  # the worker's part, in this process

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("dashboard:store_sync", args=[store.pk]))

    assert response.status_code == 302
    run = SyncRun.objects.get(store=store)
    assert (run.kind, run.status, run.orders_created) == (SyncRun.Kind.MANUAL, "succeeded", 12)
    assert store.events.get(kind="sync_requested").actor == merchant
