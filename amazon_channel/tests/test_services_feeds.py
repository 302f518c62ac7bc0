"""The feed delivery's state rules without Amazon: which stores the sweep picks up as leases
lapse, leases, the backoff schedule, a store Amazon no longer authorizes (the feeds themselves
go to the sandbox in tests/test_contract_feeds.py)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from amazon_channel.models import AmazonFeed, OutboxMessage, SyncState
from amazon_channel.outbox.backoff import backoff_seconds
from amazon_channel.outbox.feeds import store_outbox_deliver, stores_with_outbox_work
from amazon_channel.outbox.leases import lease_claim
from amazon_channel.tests.factories import StoreFactory

pytestmark = pytest.mark.django_db

MINUTE = timedelta(seconds=60)


def in_seconds(seconds: float):
    return timezone.now() + timedelta(seconds=seconds)


def message(
    store, *, state, kind=OutboxMessage.Kind.CANCEL_ORDER, lease_expires_at=None, **payload
):
    return OutboxMessage.objects.create(
        store=store,
        kind=kind,
        key=f"{kind}:{OutboxMessage.objects.count() + 1}",
        state=state,
        lease_holder="worker-1" if lease_expires_at else "",
        lease_expires_at=lease_expires_at,
        payload=payload,
    )


def test_the_sweep_picks_up_pending_messages_and_sending_ones_whose_lease_lapsed():
    pending, lapsed, live, done, failed = StoreFactory.create_batch(5)
    message(pending, state=OutboxMessage.State.PENDING)
    message(lapsed, state=OutboxMessage.State.SENDING, lease_expires_at=in_seconds(-1))
    message(live, state=OutboxMessage.State.SENDING, lease_expires_at=in_seconds(60))
    message(done, state=OutboxMessage.State.DONE)
    message(failed, state=OutboxMessage.State.FAILED)

    assert stores_with_outbox_work() == sorted([pending.pk, lapsed.pk])


def test_the_sweep_picks_up_feeds_never_claimed_or_whose_worker_went_quiet():
    never_claimed, quiet, working, finished = StoreFactory.create_batch(4)
    AmazonFeed.objects.create(store=never_claimed, feed_type="F")
    AmazonFeed.objects.create(
        store=quiet,
        feed_type="F",
        state=AmazonFeed.State.SUBMITTED,
        lease_expires_at=in_seconds(-1),
    )
    AmazonFeed.objects.create(
        store=working,
        feed_type="F",
        state=AmazonFeed.State.SUBMITTED,
        lease_expires_at=in_seconds(60),
    )
    AmazonFeed.objects.create(store=finished, feed_type="F", state=AmazonFeed.State.DONE)

    assert stores_with_outbox_work() == sorted([never_claimed.pk, quiet.pk])


def test_the_sweep_checks_cancellations_being_verified_once_their_wait_is_over():
    due, waiting, merchants = StoreFactory.create_batch(3)
    message(due, state=OutboxMessage.State.VERIFYING, lease_expires_at=in_seconds(-1))
    message(waiting, state=OutboxMessage.State.VERIFYING, lease_expires_at=in_seconds(60))
    # A refund only the merchant can settle is not Amazon's to check.
    message(
        merchants,
        state=OutboxMessage.State.VERIFYING,
        kind=OutboxMessage.Kind.REFUND_ORDER,
        **{OutboxMessage.AWAITING_MERCHANT: True},
    )

    assert stores_with_outbox_work() == [due.pk]


def test_a_lease_is_refused_while_another_holder_keeps_it_and_taken_once_it_lapses():
    feed = AmazonFeed.objects.create(store=StoreFactory(), feed_type="F")

    assert lease_claim(AmazonFeed.objects, pk=feed.pk, holder="a", duration=MINUTE)
    assert lease_claim(AmazonFeed.objects, pk=feed.pk, holder="b", duration=MINUTE) is None
    renewed = lease_claim(AmazonFeed.objects, pk=feed.pk, holder="a", duration=MINUTE)
    assert renewed.lease_holder == "a"

    AmazonFeed.objects.filter(pk=feed.pk).update(lease_expires_at=in_seconds(-1))
    taken = lease_claim(AmazonFeed.objects, pk=feed.pk, holder="b", duration=MINUTE)

    assert taken.lease_holder == "b"
    assert in_seconds(59) < taken.lease_expires_at < in_seconds(61)


@pytest.mark.parametrize(("attempt", "ceiling"), [(0, 2.0), (1, 4.0), (3, 16.0), (7, 256.0)])
def test_backoff_doubles_its_ceiling_per_attempt_with_full_jitter(settings, attempt, ceiling):
    settings.AMAZON_RETRY_BASE_SECONDS = 2.0

    waits = [backoff_seconds(attempt) for _ in range(400)]

    assert all(0 <= wait <= ceiling for wait in waits)
    # Full jitter: anywhere from nothing to the ceiling, not a fixed wait.
    assert min(waits) < ceiling / 4 and max(waits) > ceiling * 3 / 4


def test_backoff_never_waits_longer_than_its_cap(settings):
    settings.AMAZON_RETRY_BASE_SECONDS = 2.0

    assert max(backoff_seconds(30) for _ in range(400)) <= 300.0
    assert max(backoff_seconds(30, cap=10.0) for _ in range(400)) <= 10.0


def test_a_store_amazon_no_longer_authorizes_delivers_nothing_and_keeps_its_messages():
    store = StoreFactory(sync_state=SyncState.NEEDS_REAUTHORIZATION)
    waiting = message(store, state=OutboxMessage.State.PENDING, amazon_order_id="302-1")

    outcome = store_outbox_deliver(store_id=store.pk, holder="worker-1")

    assert outcome.is_finished
    waiting.refresh_from_db()
    assert waiting.state == OutboxMessage.State.PENDING
    assert not AmazonFeed.objects.exists()
