"""Store marks on PostgreSQL: every write to the rows a card counts moves its store's mark
(whoever writes), nothing else does, compaction keeps the marks, and counts cached under a
mark are read again as soon as a write moved it."""

import threading

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.utils import timezone

from amazon_channel import tasks
from amazon_channel.models import (
    AmazonOrder,
    AmazonOrderCancellation,
    AmazonOrderEvent,
    AmazonOrderItem,
    AmazonOrderPackage,
    AmazonOrderStatus,
    OutboxMessage,
    Store,
    StoreChange,
    StoreEvent,
    StoreOrderDay,
)
from amazon_channel.orders.upsert import amazon_orders_upsert
from amazon_channel.stores import changes
from amazon_channel.stores.changes import (
    cached_per_store,
    cached_under_mark,
    store_changes_compact,
    store_marks,
)
from amazon_channel.tests.factories import AmazonOrderFactory, StoreFactory
from amazon_channel.tests.test_services_orders import order_payload
from commerce_orders.models import CommerceOrder
from commerce_orders.tests.factories import CommerceOrderFactory
from dashboard.tests.factories import CancellationFactory

pytestmark = [pytest.mark.postgresql, pytest.mark.django_db]


def mark_of(store) -> int:
    return store_marks([store.pk])[store.pk]


def outbox_message(store, key="refund:1"):
    return OutboxMessage.objects.create(
        store=store, kind=OutboxMessage.Kind.REFUND_ORDER, key=key, payload={}
    )


# Each write to a counted table, as the code or an admin might make it: ORM saves, queryset
# updates (no signal), deletes.
WRITES = {
    "order created": lambda store: AmazonOrderFactory(store=store),
    "order status updated": lambda store: AmazonOrder.objects.filter(store=store).update(
        status=AmazonOrderStatus.SHIPPED
    ),
    "order deleted": lambda store: AmazonOrder.objects.filter(store=store).delete(),
    "cancellation created": lambda store: CancellationFactory(order__store=store),
    "cancellation rejected": lambda store: AmazonOrderCancellation.objects.filter(
        store=store
    ).update(state=AmazonOrderCancellation.State.REJECTED),
    "outbox message created": lambda store: outbox_message(store, key="refund:2"),
    "outbox message failed": lambda store: OutboxMessage.objects.filter(store=store).update(
        state=OutboxMessage.State.FAILED
    ),
    "outbox message deleted": lambda store: OutboxMessage.objects.filter(
        store=store, key="refund:1"
    ).delete(),
    "chart day updated": lambda store: StoreOrderDay.objects.filter(store=store).update(
        order_count=99
    ),
    # What Amazon Order Details shows besides (migration 0024).
    "item created": lambda store: AmazonOrderItem.objects.create(
        order=AmazonOrder.objects.filter(store=store).first(), order_item_id="2"
    ),
    "item updated": lambda store: AmazonOrderItem.objects.filter(order__store=store).update(
        title="Renamed"
    ),
    "package created": lambda store: AmazonOrderPackage.objects.create(
        order=AmazonOrder.objects.filter(store=store).first(), package_reference_id="1"
    ),
    "history written": lambda store: AmazonOrderEvent.objects.create(
        order=AmazonOrder.objects.filter(store=store).first(),
        kind=AmazonOrderEvent.Kind.NOTE,
        message="Called the buyer.",
    ),
    "store history written": lambda store: StoreEvent.objects.create(
        store=store, kind=StoreEvent.Kind.SYNC_REQUESTED
    ),
    "Commerce order completed": lambda store: CommerceOrder.objects.filter(
        pk__in=AmazonOrder.objects.filter(store=store).values("commerce_order_id")
    ).update(status="complete"),
}


@pytest.mark.parametrize("write", WRITES)
def test_a_write_to_what_a_card_counts_moves_the_mark_of_that_store_only(write):
    store, other = StoreFactory(), StoreFactory()
    order = AmazonOrderFactory(store=store, commerce_order=CommerceOrderFactory())
    AmazonOrderItem.objects.create(order=order, order_item_id="1")
    AmazonOrderFactory(store=other, commerce_order=CommerceOrderFactory())
    CancellationFactory(order=order)
    outbox_message(store)
    marks = store_marks([store.pk, other.pk])

    WRITES[write](store)

    after = store_marks([store.pk, other.pk])
    assert after[store.pk] > marks[store.pk]
    assert after[other.pk] == marks[other.pk]


def test_writes_to_what_no_mark_follows_and_writes_of_no_row_leave_the_mark():
    merchant = get_user_model().objects.create_user("merchant")
    store = StoreFactory()
    AmazonOrderFactory(store=store, commerce_order=CommerceOrderFactory())
    before = mark_of(store)

    Store.objects.filter(pk=store.pk).update(name="Renamed")  # read apart on every page
    CommerceOrderFactory()  # no Amazon order's
    merchant.last_login = timezone.now()
    merchant.save()
    AmazonOrder.objects.filter(store=store, status=AmazonOrderStatus.CANCELED).update(
        status=AmazonOrderStatus.SHIPPED
    )

    assert mark_of(store) == before


def test_a_user_renamed_moves_every_stores_mark():
    merchant = get_user_model().objects.create_user("merchant")
    stores = [StoreFactory(), StoreFactory()]
    marks = store_marks(store.pk for store in stores)

    merchant.username = "renamed-merchant"
    merchant.save()

    after = store_marks(store.pk for store in stores)
    assert all(after[store.pk] > marks[store.pk] for store in stores)


def test_the_order_upsert_moves_the_mark_for_its_page():
    store = StoreFactory()
    before = mark_of(store)

    result = amazon_orders_upsert(store=store, payloads=[order_payload(1), order_payload(2)])

    assert result.created == 2
    assert mark_of(store) > before


@pytest.mark.django_db(transaction=True)
def test_a_write_not_yet_committed_does_not_move_the_mark_others_read():
    store = StoreFactory()
    before = mark_of(store)
    written, read = threading.Event(), threading.Event()
    seen = {}

    def writer():
        try:
            with transaction.atomic():
                AmazonOrderFactory(store=store)
                written.set()
                read.wait(10)
        finally:
            connection.close()

    thread = threading.Thread(target=writer)
    thread.start()
    assert written.wait(10)
    seen["during"] = mark_of(store)
    read.set()
    thread.join(10)
    seen["after"] = mark_of(store)

    assert seen["during"] == before
    assert seen["after"] > before


def test_compaction_keeps_every_mark_in_one_row_a_store_and_drops_gone_stores():
    store, other, gone = StoreFactory(), StoreFactory(), StoreFactory()
    for each in (store, other, gone):
        AmazonOrderFactory.create_batch(3, store=each)
    marks = store_marks([store.pk, other.pk])
    gone_id = gone.pk
    AmazonOrder.objects.filter(store=gone).delete()
    gone.delete()
    assert StoreChange.objects.filter(store_id=gone_id).exists()

    deleted = store_changes_compact()

    assert deleted > 3
    assert store_marks([store.pk, other.pk]) == marks
    assert sorted(StoreChange.objects.values_list("store_id", flat=True)) == sorted(
        [store.pk, other.pk]
    )
    assert store_changes_compact() == 2


@pytest.mark.django_db(transaction=True)
def test_counts_are_cached_under_the_mark_and_counted_again_once_a_write_moved_it():
    store = StoreFactory()
    AmazonOrderFactory(store=store)
    counted = []

    def compute(stores):
        counted.append([each.pk for each in stores])
        return {each.pk: AmazonOrder.objects.filter(store=each).count() for each in stores}

    def cached():
        # A request's store, read anew (its mark is read once per store object).
        fresh = Store.objects.get(pk=store.pk)
        return cached_per_store([fresh], namespace="test", variant="", compute=compute)[fresh.pk]

    assert cached() == 1
    assert cached() == 1
    assert counted == [[store.pk]]

    # Another process, whose own copy is empty, takes the counts from the shared cache.
    changes._kept.clear()
    assert cached() == 1
    assert len(counted) == 1

    AmazonOrderFactory(store=store)

    assert cached() == 2
    assert len(counted) == 2


def test_nothing_is_kept_inside_a_transaction_whose_writes_a_rollback_could_take_back():
    # Inside this test's transaction a mark counts rows that may never commit.
    store = StoreFactory()
    AmazonOrderFactory(store=store)
    counted = []

    def compute():
        counted.append(1)
        return AmazonOrder.objects.filter(store=store).count()

    for _ in range(2):
        assert cached_under_mark(store, namespace="test-tx", variant="", compute=compute) == 1
        del store.mark

    assert len(counted) == 2


def test_beat_compacts_the_marks_every_minute():
    store = StoreFactory()
    AmazonOrderFactory.create_batch(2, store=store)
    mark = mark_of(store)
    entry = settings.CELERY_BEAT_SCHEDULE["amazon-store-changes-compact"]

    tasks.store_changes_compact.apply()

    assert entry == {"task": "amazon_channel.tasks.store_changes_compact", "schedule": 60.0}
    assert StoreChange.objects.filter(store=store).count() == 1
    assert mark_of(store) == mark
