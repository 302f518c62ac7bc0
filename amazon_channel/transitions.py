"""The Amazon side's lifecycles: one table of allowed moves each (oscar's status pipeline, as
commerce_orders.models.ORDER_TRANSITIONS), and one function each that applies a move.

A transition function always does the same, in this order, inside a transaction: lock the row
(`select_for_update(of=("self",))`, unless the caller already holds it: `is_locked=True`), check
the move against its table (TransitionNotAllowed otherwise, nothing written), set the state
and the other changed `fields`, save only those, then append the history row (`event`, called
with the saved row, from amazon_channel.events).

What the tables leave out is what the code never does: a bad move is a bug to stop, not a state
to store. The order's status is Amazon's and is written by the sync as Amazon sends it; only
the moves Cancel Order makes on it are ours (ORDER_CANCEL_TRANSITIONS).
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import models, transaction

from amazon_channel.models import (
    AmazonFeed,
    AmazonOrder,
    AmazonOrderCancellation,
    AmazonOrderStatus,
    OutboxMessage,
    Store,
    SyncRun,
    SyncState,
)

Moves = dict[str, frozenset[str]]

# Cancel Order on an Unshipped order, and Amazon's rejection giving its status back.
ORDER_CANCEL_TRANSITIONS: Moves = {
    AmazonOrderStatus.UNSHIPPED: frozenset({AmazonOrderStatus.CANCELED}),
    AmazonOrderStatus.CANCELED: frozenset({AmazonOrderStatus.UNSHIPPED}),
}

_Cancellation = AmazonOrderCancellation.State
# Amazon's report settles a pending cancellation; a reviewed rejection may be requested again.
CANCELLATION_TRANSITIONS: Moves = {
    _Cancellation.PENDING: frozenset({_Cancellation.CONFIRMED, _Cancellation.REJECTED}),
    _Cancellation.REJECTED: frozenset({_Cancellation.PENDING}),
    _Cancellation.CONFIRMED: frozenset(),
}

_Message = OutboxMessage.State
OUTBOX_MESSAGE_TRANSITIONS: Moves = {
    # Shipments are sent by API calls (SENDING), cancellations and refunds in feeds (IN_FEED).
    _Message.PENDING: frozenset({_Message.SENDING, _Message.IN_FEED}),
    # A SENDING message found again after a dead worker is marked SENDING again before the call.
    _Message.SENDING: frozenset({_Message.SENDING, _Message.DONE, _Message.FAILED}),
    _Message.IN_FEED: frozenset({_Message.DONE, _Message.FAILED, _Message.VERIFYING}),
    # Amazon's order decides (DONE, FAILED, or sent again once: PENDING); an unknown refund
    # goes back to PENDING only when the merchant confirms it is not in Seller Central.
    _Message.VERIFYING: frozenset({_Message.DONE, _Message.FAILED, _Message.PENDING}),
    # The merchant's Retry.
    _Message.FAILED: frozenset({_Message.PENDING}),
    _Message.DONE: frozenset(),
}

_Feed = AmazonFeed.State
FEED_TRANSITIONS: Moves = {
    # Uploaded, or refused (FAILED).
    _Feed.NEW: frozenset({_Feed.UPLOADED, _Feed.FAILED}),
    _Feed.UPLOADED: frozenset({_Feed.CREATING}),
    # createFeed answered (SUBMITTED), throttled or denied before a feed existed (UPLOADED
    # again), refused, or its answer lost (FAILED: Amazon's orders decide).
    _Feed.CREATING: frozenset({_Feed.SUBMITTED, _Feed.UPLOADED, _Feed.FAILED}),
    _Feed.SUBMITTED: frozenset({_Feed.DONE, _Feed.FAILED}),
    _Feed.DONE: frozenset(),
    _Feed.FAILED: frozenset(),
}

_Run = SyncRun.Status
SYNC_RUN_TRANSITIONS: Moves = {
    _Run.RUNNING: frozenset({_Run.SUCCEEDED, _Run.FAILED}),
    _Run.SUCCEEDED: frozenset(),
    _Run.FAILED: frozenset(),
}

STORE_SYNC_STATE_TRANSITIONS: Moves = {
    SyncState.OK: frozenset({SyncState.ERROR, SyncState.NEEDS_REAUTHORIZATION}),
    # A problem reported again refreshes its message; a sync that succeeds clears an error.
    SyncState.ERROR: frozenset({SyncState.OK, SyncState.ERROR, SyncState.NEEDS_REAUTHORIZATION}),
    # Only Reauthorize clears the pause. An error from a sync that began before the pause does
    # not replace it (store_problem_report keeps the pause): the merchant keeps the Reauthorize
    # prompt and the scheduled sync stays off.
    SyncState.NEEDS_REAUTHORIZATION: frozenset({SyncState.OK, SyncState.NEEDS_REAUTHORIZATION}),
}


class TransitionNotAllowed(Exception):
    """A move its lifecycle's table does not allow; nothing was written."""

    def __init__(self, *, lifecycle: str, pk: Any, source: str, target: str):
        super().__init__(f"{lifecycle} {pk}: {source!r} -> {target!r} is not an allowed move")
        self.lifecycle = lifecycle
        self.pk = pk
        self.source = source
        self.target = target


@dataclass(frozen=True)
class Lifecycle:
    name: str
    model: type[models.Model]
    field: str
    moves: Moves

    def is_allowed(self, source: str, target: str) -> bool:
        return target in self.moves.get(source, frozenset())

    def check(self, *, pk: Any, source: str, target: str) -> None:
        """Raise TransitionNotAllowed unless the table allows source -> target."""
        if not self.is_allowed(source, target):
            raise TransitionNotAllowed(lifecycle=self.name, pk=pk, source=source, target=target)


ORDER_CANCEL = Lifecycle("Amazon order", AmazonOrder, "status", ORDER_CANCEL_TRANSITIONS)
CANCELLATION = Lifecycle("cancellation", AmazonOrderCancellation, "state", CANCELLATION_TRANSITIONS)
OUTBOX_MESSAGE = Lifecycle("outbox message", OutboxMessage, "state", OUTBOX_MESSAGE_TRANSITIONS)
FEED = Lifecycle("feed", AmazonFeed, "state", FEED_TRANSITIONS)
SYNC_RUN = Lifecycle("sync run", SyncRun, "status", SYNC_RUN_TRANSITIONS)
STORE_SYNC_STATE = Lifecycle("store", Store, "sync_state", STORE_SYNC_STATE_TRANSITIONS)


def _transition(
    lifecycle: Lifecycle,
    row: models.Model,
    to: str,
    *,
    fields: dict[str, Any] | None,
    event: Callable[[models.Model], Any] | None,
    is_locked: bool,
) -> models.Model:
    fields = fields or {}
    with transaction.atomic():
        locked = (
            row
            if is_locked
            else lifecycle.model.objects.select_for_update(of=("self",)).get(pk=row.pk)
        )
        lifecycle.check(pk=locked.pk, source=getattr(locked, lifecycle.field), target=to)
        setattr(locked, lifecycle.field, to)
        for name, value in fields.items():
            setattr(locked, name, value)
        update_fields = [lifecycle.field, *(name for name in fields if name != lifecycle.field)]
        if any(field.name == "updated_at" for field in lifecycle.model._meta.concrete_fields):
            update_fields.append("updated_at")
        locked.save(update_fields=update_fields)
        if event is not None:
            event(locked)
    return locked


def order_cancel_transition(
    order: AmazonOrder,
    to: str,
    *,
    fields: dict[str, Any] | None = None,
    event: Callable[[AmazonOrder], Any] | None = None,
    is_locked: bool = False,
) -> AmazonOrder:
    """Move an Amazon order's status as Cancel Order does (ORDER_CANCEL_TRANSITIONS); returns
    the saved, locked row. Raises TransitionNotAllowed."""
    return _transition(ORDER_CANCEL, order, to, fields=fields, event=event, is_locked=is_locked)


def cancellation_transition(
    cancellation: AmazonOrderCancellation,
    to: str,
    *,
    fields: dict[str, Any] | None = None,
    event: Callable[[AmazonOrderCancellation], Any] | None = None,
    is_locked: bool = False,
) -> AmazonOrderCancellation:
    """Move a cancellation (CANCELLATION_TRANSITIONS); returns the saved, locked row. Raises
    TransitionNotAllowed."""
    return _transition(
        CANCELLATION, cancellation, to, fields=fields, event=event, is_locked=is_locked
    )


def outbox_message_transition(
    message: OutboxMessage,
    to: str,
    *,
    fields: dict[str, Any] | None = None,
    event: Callable[[OutboxMessage], Any] | None = None,
    is_locked: bool = False,
) -> OutboxMessage:
    """Move an outbox message (OUTBOX_MESSAGE_TRANSITIONS); returns the saved, locked row.
    Raises TransitionNotAllowed."""
    return _transition(OUTBOX_MESSAGE, message, to, fields=fields, event=event, is_locked=is_locked)


def feed_transition(
    feed: AmazonFeed,
    to: str,
    *,
    fields: dict[str, Any] | None = None,
    event: Callable[[AmazonFeed], Any] | None = None,
    is_locked: bool = False,
) -> AmazonFeed:
    """Move a feed (FEED_TRANSITIONS); returns the saved, locked row. Raises
    TransitionNotAllowed."""
    return _transition(FEED, feed, to, fields=fields, event=event, is_locked=is_locked)


def sync_run_transition(
    run: SyncRun,
    to: str,
    *,
    fields: dict[str, Any] | None = None,
    event: Callable[[SyncRun], Any] | None = None,
    is_locked: bool = False,
) -> SyncRun:
    """Finish a sync run (SYNC_RUN_TRANSITIONS); returns the saved, locked row. Raises
    TransitionNotAllowed."""
    return _transition(SYNC_RUN, run, to, fields=fields, event=event, is_locked=is_locked)


def store_sync_state_transition(
    store: Store,
    to: str,
    *,
    fields: dict[str, Any] | None = None,
    event: Callable[[Store], Any] | None = None,
    is_locked: bool = False,
) -> Store:
    """Move a store's sync state (STORE_SYNC_STATE_TRANSITIONS); returns the saved, locked row.
    Raises TransitionNotAllowed."""
    return _transition(STORE_SYNC_STATE, store, to, fields=fields, event=event, is_locked=is_locked)
