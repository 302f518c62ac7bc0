"""The history of Amazon orders and stores: one function per kind of event, as Saleor's
`order/events.py`, so that every row of a kind says the same things in the same codes
(amazon_channel.notes). Call them inside the transaction of the change they record; rows are
append-only."""

from django.contrib.auth.models import AbstractBaseUser

from amazon_channel.models import AmazonOrder, AmazonOrderEvent, Store, StoreEvent
from amazon_channel.notes import note, note_from_english
from amazon_channel.orders.bulk_rows import BulkRows

# The columns of the history rows a page of orders writes at once (see order_event_rows_insert).
ORDER_EVENT_ROWS = BulkRows(
    AmazonOrderEvent, ("order", "kind", "old_status", "new_status", "message")
)


# Amazon orders


def order_note_added(
    *,
    order_id: int,
    notes: list[dict],
    actor: AbstractBaseUser | None = None,
) -> AmazonOrderEvent:
    """A note on the order's history: what the system says, as codes."""
    return AmazonOrderEvent.objects.create(
        order_id=order_id, kind=AmazonOrderEvent.Kind.NOTE, actor=actor, notes=list(notes)
    )


def order_cancel_requested(
    *, order: AmazonOrder, actor: AbstractBaseUser, old_status: str, reason: str
) -> AmazonOrderEvent:
    """Cancel Order: the merchant's decision, naming the reason; `order` has its new status."""
    return AmazonOrderEvent.objects.create(
        order=order,
        kind=AmazonOrderEvent.Kind.CANCEL_REQUESTED,
        actor=actor,
        old_status=old_status,
        new_status=order.status,
        notes=[note(f"cancel_reason.{reason}")],
    )


def order_cancel_confirmed(*, order: AmazonOrder, reason: str) -> AmazonOrderEvent:
    """Amazon's report confirmed the cancellation."""
    return AmazonOrderEvent.objects.create(
        order=order,
        kind=AmazonOrderEvent.Kind.CANCEL_CONFIRMED,
        new_status=order.status,
        notes=[note(f"cancel_reason.{reason}")],
    )


def order_cancel_rejected(
    *, order: AmazonOrder, old_status: str, amazon_message: str
) -> AmazonOrderEvent:
    """Amazon's report rejected the cancellation; `order` has its status back."""
    return AmazonOrderEvent.objects.create(
        order=order,
        kind=AmazonOrderEvent.Kind.CANCEL_REJECTED,
        old_status=old_status,
        new_status=order.status,
        notes=[note_from_english(amazon_message)],
    )


def order_cancel_rejection_reviewed(*, order_id: int, actor: AbstractBaseUser) -> AmazonOrderEvent:
    """The merchant marked Amazon's rejection of the cancellation as reviewed."""
    return order_note_added(
        order_id=order_id, actor=actor, notes=[note("history.rejected_cancellation_reviewed")]
    )


def order_cancel_resent(*, order_id: int) -> AmazonOrderEvent:
    """A cancellation Amazon did not apply (the order still Unshipped) is sent again."""
    return order_note_added(order_id=order_id, notes=[note("history.cancellation_resent")])


def order_address_changed(
    *, order: AmazonOrder, actor: AbstractBaseUser, fields: list[str]
) -> AmazonOrderEvent:
    """The merchant corrected the shipping address (`fields`: the keys that changed)."""
    return AmazonOrderEvent.objects.create(
        order=order,
        kind=AmazonOrderEvent.Kind.ADDRESS_CHANGED,
        actor=actor,
        notes=[
            note("history.address_changed", user=actor.get_username(), fields=", ".join(fields))
        ],
    )


def order_commerce_order_created(*, order: AmazonOrder, number: str) -> AmazonOrderEvent:
    """The order was imported into Commerce as order `number`."""
    return order_note_added(
        order_id=order.pk, notes=[note("history.commerce_order_created", number=number)]
    )


def orders_commerce_order_created(*, orders: list[tuple[AmazonOrder, str]]) -> None:
    """order_commerce_order_created for a page of (order, number) pairs, in one INSERT."""
    AmazonOrderEvent.objects.bulk_create(
        [
            AmazonOrderEvent(
                order=order,
                kind=AmazonOrderEvent.Kind.NOTE,
                notes=[note("history.commerce_order_created", number=number)],
            )
            for order, number in orders
        ]
    )


def order_imported_row(*, order_id: int, status: str) -> tuple:
    """The history row of an order read from Amazon for the first time (order_event_rows_insert)."""
    return (order_id, AmazonOrderEvent.Kind.IMPORTED, "", status, "")


def order_status_changed_row(*, order_id: int, old_status: str, new_status: str) -> tuple:
    """The history row of a status Amazon changed (order_event_rows_insert)."""
    return (order_id, AmazonOrderEvent.Kind.STATUS_CHANGED, old_status, new_status, "Amazon")


def order_event_rows_insert(rows: list[tuple]) -> None:
    """Write a page's history rows (order_imported_row, order_status_changed_row) in one INSERT."""
    ORDER_EVENT_ROWS.insert(rows)


# Stores


def _store_event(
    *,
    store: Store,
    actor: AbstractBaseUser | None,
    kind: str,
    changes: dict | None = None,
    message: str = "",
    notes: list[dict] | tuple = (),
) -> StoreEvent:
    return StoreEvent.objects.create(
        store=store,
        actor=actor,
        kind=kind,
        changes=changes or {},
        message=message,
        notes=list(notes),
    )


def store_connected(*, store: Store, actor: AbstractBaseUser | None) -> StoreEvent:
    return _store_event(store=store, actor=actor, kind=StoreEvent.Kind.CONNECTED)


def store_credentials_updated(
    *, store: Store, actor: AbstractBaseUser | None, changes: dict | None = None
) -> StoreEvent:
    """The credentials changed (never their values); `changes` are the other settings that did."""
    return _store_event(
        store=store, actor=actor, kind=StoreEvent.Kind.CREDENTIALS_UPDATED, changes=changes
    )


def store_settings_changed(
    *, store: Store, actor: AbstractBaseUser | None, changes: dict
) -> StoreEvent:
    """`changes`: {field name: [old, new]} of the settings that changed."""
    return _store_event(
        store=store, actor=actor, kind=StoreEvent.Kind.SETTINGS_CHANGED, changes=changes
    )


def store_activation_changed(
    *, store: Store, actor: AbstractBaseUser | None, is_active: bool
) -> StoreEvent:
    """The store was switched on ("activated") or off ("deactivated")."""
    kind = StoreEvent.Kind.ACTIVATED if is_active else StoreEvent.Kind.DEACTIVATED
    return _store_event(store=store, actor=actor, kind=kind)


def store_sync_requested(*, store: Store, actor: AbstractBaseUser | None) -> StoreEvent:
    return _store_event(store=store, actor=actor, kind=StoreEvent.Kind.SYNC_REQUESTED)


def store_reauthorization_needed(*, store: Store, message: str) -> StoreEvent:
    """Amazon refused the store's credentials. A sentence of ours (the credentials refused, with
    Amazon's words inside) is kept as its code, to be read in the merchant's language; Amazon's
    own words as text."""
    said = note_from_english(message)
    is_ours = "code" in said
    return _store_event(
        store=store,
        actor=None,
        kind=StoreEvent.Kind.REAUTHORIZATION_NEEDED,
        message="" if is_ours else message,
        notes=[said] if is_ours else [],
    )


def store_reauthorized(*, store: Store, actor: AbstractBaseUser | None) -> StoreEvent:
    return _store_event(store=store, actor=actor, kind=StoreEvent.Kind.REAUTHORIZED)


def store_notifications_on(*, store: Store, notification_types: list[str]) -> StoreEvent:
    """Amazon's notifications for the store's seller are subscribed (`notification_types`)."""
    return _store_event(
        store=store,
        actor=None,
        kind=StoreEvent.Kind.NOTIFICATIONS_ON,
        notes=[note("store.notifications_on", types=", ".join(notification_types))],
    )


def store_notifications_off(*, store: Store, is_kept_for_other_stores: bool) -> StoreEvent:
    """The store no longer needs notifications: its seller's subscriptions were deleted, or
    kept for another active store of the seller."""
    code = (
        "store.notifications_kept_for_other_stores"
        if is_kept_for_other_stores
        else "store.notifications_deleted"
    )
    return _store_event(
        store=store, actor=None, kind=StoreEvent.Kind.NOTIFICATIONS_OFF, notes=[note(code)]
    )


def store_notifications_failed(*, store: Store, reason: dict) -> StoreEvent:
    """Notifications could not be set up; `reason` is a note (a code of ours, or Amazon's
    words as text). The store works on: the poll keeps it in step."""
    return _store_event(
        store=store, actor=None, kind=StoreEvent.Kind.NOTIFICATIONS_FAILED, notes=[reason]
    )
