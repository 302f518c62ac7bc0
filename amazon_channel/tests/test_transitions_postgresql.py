"""Two moves of one row at once, on PostgreSQL: the transition functions lock the row before
they check the move, so exactly one of them happens and the other is refused."""

import itertools
import threading

import pytest

from amazon_channel.models import AmazonOrderEvent, OutboxMessage
from amazon_channel.tests.factories import AmazonOrderFactory, StoreFactory
from amazon_channel.transitions import TransitionNotAllowed, outbox_message_transition
from tests.concurrency import run_concurrently

pytestmark = [pytest.mark.postgresql, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("attempt", range(3))
def test_two_moves_of_one_message_at_once_make_exactly_one_move_and_one_event(attempt):
    store = StoreFactory()
    order = AmazonOrderFactory(store=store)
    message = OutboxMessage.objects.create(
        store=store,
        kind=OutboxMessage.Kind.REFUND_ORDER,
        key=f"refund:{attempt}",
        state=OutboxMessage.State.VERIFYING,
        payload={},
    )
    targets = itertools.cycle([OutboxMessage.State.DONE, OutboxMessage.State.FAILED])
    lock = threading.Lock()

    def act():
        with lock:
            target = next(targets)
        return outbox_message_transition(
            message,
            target,
            fields={"result": target},
            event=lambda moved: AmazonOrderEvent.objects.create(
                order=order, kind=AmazonOrderEvent.Kind.NOTE, message=moved.state
            ),
        )

    outcomes = run_concurrently(act, 2)

    moved = [outcome for outcome in outcomes if isinstance(outcome, OutboxMessage)]
    refused = [outcome for outcome in outcomes if isinstance(outcome, TransitionNotAllowed)]
    assert len(moved) == 1 and len(refused) == 1, outcomes
    message.refresh_from_db()
    assert message.state == moved[0].state == message.result
    assert refused[0].source == message.state
    assert list(order.events.values_list("message", flat=True)) == [message.state]
