"""The lifecycle tables and the functions that apply them (amazon_channel.transitions)."""

import pytest

from amazon_channel.events import store_reauthorized
from amazon_channel.models import (
    AmazonFeed,
    AmazonOrderCancellation,
    AmazonOrderStatus,
    OutboxMessage,
    StoreEvent,
    SyncRun,
    SyncState,
)
from amazon_channel.tests.factories import AmazonOrderFactory, StoreFactory
from amazon_channel.transitions import (
    CANCELLATION,
    FEED,
    ORDER_CANCEL,
    OUTBOX_MESSAGE,
    STORE_SYNC_STATE,
    SYNC_RUN,
    TransitionNotAllowed,
    feed_transition,
    order_cancel_transition,
    outbox_message_transition,
    store_sync_state_transition,
)

LIFECYCLES = [ORDER_CANCEL, CANCELLATION, OUTBOX_MESSAGE, FEED, SYNC_RUN, STORE_SYNC_STATE]

ALL_MOVES = [
    pytest.param(lifecycle, source, target, id=f"{lifecycle.name}:{source}->{target}")
    for lifecycle in LIFECYCLES
    for source, targets in lifecycle.moves.items()
    for target in sorted(targets)
]

ILLEGAL_MOVES = [
    (ORDER_CANCEL, AmazonOrderStatus.SHIPPED, AmazonOrderStatus.CANCELED),
    (ORDER_CANCEL, AmazonOrderStatus.PENDING, AmazonOrderStatus.CANCELED),
    (ORDER_CANCEL, AmazonOrderStatus.CANCELED, AmazonOrderStatus.SHIPPED),
    (CANCELLATION, AmazonOrderCancellation.State.CONFIRMED, AmazonOrderCancellation.State.PENDING),
    (
        CANCELLATION,
        AmazonOrderCancellation.State.REJECTED,
        AmazonOrderCancellation.State.CONFIRMED,
    ),
    (CANCELLATION, AmazonOrderCancellation.State.PENDING, AmazonOrderCancellation.State.PENDING),
    (OUTBOX_MESSAGE, OutboxMessage.State.DONE, OutboxMessage.State.PENDING),
    (OUTBOX_MESSAGE, OutboxMessage.State.PENDING, OutboxMessage.State.DONE),
    (OUTBOX_MESSAGE, OutboxMessage.State.IN_FEED, OutboxMessage.State.PENDING),
    (OUTBOX_MESSAGE, OutboxMessage.State.FAILED, OutboxMessage.State.DONE),
    (FEED, AmazonFeed.State.DONE, AmazonFeed.State.SUBMITTED),
    (FEED, AmazonFeed.State.NEW, AmazonFeed.State.SUBMITTED),
    (FEED, AmazonFeed.State.SUBMITTED, AmazonFeed.State.UPLOADED),
    (SYNC_RUN, SyncRun.Status.SUCCEEDED, SyncRun.Status.RUNNING),
    (SYNC_RUN, SyncRun.Status.FAILED, SyncRun.Status.SUCCEEDED),
    (STORE_SYNC_STATE, SyncState.OK, SyncState.OK),
]


def test_every_state_of_each_lifecycle_has_a_row_in_its_table():
    choices = {
        ORDER_CANCEL.name: {AmazonOrderStatus.UNSHIPPED, AmazonOrderStatus.CANCELED},
        CANCELLATION.name: set(AmazonOrderCancellation.State.values),
        OUTBOX_MESSAGE.name: set(OutboxMessage.State.values),
        FEED.name: set(AmazonFeed.State.values),
        SYNC_RUN.name: set(SyncRun.Status.values),
        STORE_SYNC_STATE.name: set(SyncState.values),
    }
    for lifecycle in LIFECYCLES:
        assert set(lifecycle.moves) == choices[lifecycle.name], lifecycle.name
        field = lifecycle.model._meta.get_field(lifecycle.field)
        values = {value for value, _label in field.flatchoices}
        for targets in lifecycle.moves.values():
            assert targets <= values, lifecycle.name


@pytest.mark.parametrize(("lifecycle", "source", "target"), ALL_MOVES)
def test_every_allowed_move_passes_the_check(lifecycle, source, target):
    lifecycle.check(pk=1, source=source, target=target)


@pytest.mark.parametrize(("lifecycle", "source", "target"), ILLEGAL_MOVES)
def test_a_move_the_table_leaves_out_is_refused(lifecycle, source, target):
    with pytest.raises(TransitionNotAllowed) as raised:
        lifecycle.check(pk=7, source=source, target=target)
    assert raised.value.source == source
    assert raised.value.target == target
    assert f"{lifecycle.name} 7" in str(raised.value)


@pytest.mark.django_db
def test_a_transition_saves_the_move_its_fields_and_appends_its_event():
    store = StoreFactory(sync_state=SyncState.NEEDS_REAUTHORIZATION, sync_state_message="denied")

    moved = store_sync_state_transition(
        store,
        SyncState.OK,
        fields={"sync_state_message": ""},
        event=lambda row: store_reauthorized(store=row, actor=None),
    )

    store.refresh_from_db()
    assert (store.sync_state, store.sync_state_message) == (SyncState.OK, "")
    assert moved.sync_state == SyncState.OK
    assert list(store.events.values_list("kind", flat=True)) == [StoreEvent.Kind.REAUTHORIZED]


@pytest.mark.django_db
def test_a_refused_transition_writes_nothing():
    order = AmazonOrderFactory(status=AmazonOrderStatus.SHIPPED)
    events = []

    with pytest.raises(TransitionNotAllowed):
        order_cancel_transition(
            order, AmazonOrderStatus.CANCELED, event=lambda row: events.append(row)
        )

    order.refresh_from_db()
    assert order.status == AmazonOrderStatus.SHIPPED
    assert events == []
    assert not order.events.exists()


@pytest.mark.django_db
def test_a_transition_checks_the_locked_row_not_the_callers_copy():
    store = StoreFactory()
    message = OutboxMessage.objects.create(
        store=store, kind=OutboxMessage.Kind.REFUND_ORDER, key="refund:1", payload={}
    )
    stale = OutboxMessage.objects.get(pk=message.pk)
    OutboxMessage.objects.filter(pk=message.pk).update(state=OutboxMessage.State.DONE)

    with pytest.raises(TransitionNotAllowed):
        outbox_message_transition(stale, OutboxMessage.State.IN_FEED)

    message.refresh_from_db()
    assert message.state == OutboxMessage.State.DONE


@pytest.mark.django_db
def test_a_transition_saves_only_the_fields_it_changes():
    store = StoreFactory()
    feed = AmazonFeed.objects.create(store=store, feed_type="POST_ORDER_ACKNOWLEDGEMENT_DATA")
    stale = AmazonFeed.objects.get(pk=feed.pk)
    AmazonFeed.objects.filter(pk=feed.pk).update(content="written meanwhile")
    stale.content = "the caller's copy"

    feed_transition(
        stale, AmazonFeed.State.UPLOADED, fields={"feed_document_id": "doc-1"}, is_locked=True
    )

    feed.refresh_from_db()
    assert (feed.state, feed.feed_document_id) == (AmazonFeed.State.UPLOADED, "doc-1")
    assert feed.content == "written meanwhile"
