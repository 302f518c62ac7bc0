"""Storing what Amazon says about orders: bulk, idempotent, newest data wins.

One bad order never costs the others: the parser (order_payload) makes every value storable and
turns what cannot be stored as sent into an Error order, so each table's rows of a page are one
write (by COPY on PostgreSQL: orders/bulk_rows.py). Should the database still refuse a page's
data, the page is stored again order by order, each in its own savepoint, and only the order it
refuses is kept as an Error order.
"""

import logging
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import NamedTuple

from django.db import DataError, IntegrityError, connection, transaction

from amazon_channel.events import (
    order_event_rows_insert,
    order_imported_row,
    order_status_changed_row,
)
from amazon_channel.models import (
    AmazonOrder,
    AmazonOrderCancellation,
    AmazonOrderItem,
    AmazonOrderPackage,
    AmazonOrderStatus,
    Store,
    StoreOrderDay,
)
from amazon_channel.notes import note
from amazon_channel.orders.bulk_rows import BulkRows
from amazon_channel.spapi.order_payload import (
    ParsedOrder,
    UnreadableOrder,
    clean_text,
    parcel_address_missing,
    parse_order,
)

logger = logging.getLogger(__name__)

ORDER_FIELDS = (
    "marketplace_id",
    "status",
    "fulfillment_channel",
    "purchase_date",
    "last_update_date",
    "latest_ship_date",
    "ship_service_level",
    "buyer_name",
    "buyer_email",
    "shipping_address",
    "order_total",
    "currency",
    "number_of_items_shipped",
    "number_of_items_unshipped",
    "is_prime",
    "is_business_order",
    "is_premium_order",
    "is_replacement_order",
    "is_buyer_requested_cancellation",
    "buyer_cancellation_reason",
    "raw_payload",
)
ITEM_FIELDS = (
    "asin",
    "seller_sku",
    "title",
    "condition",
    "quantity_ordered",
    "quantity_shipped",
    "item_price",
    "item_tax",
    "shipping_price",
)
PACKAGE_FIELDS = ("carrier", "shipping_service", "tracking_number", "ship_time", "status", "items")


@dataclass
class UpsertResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    with_problems: int = 0
    unreadable: int = 0
    # Orders whose stored data changed (or that still need attention), for follow-up work.
    changed_order_ids: list[int] = field(default_factory=list)
    # Orders new here or changed at Amazon since they were stored (not a retry of the same
    # data): the changes this write found (the sync's push misses count among them).
    found_changed_order_ids: list[int] = field(default_factory=list)

    def add(self, other: "UpsertResult") -> None:
        self.created += other.created
        self.updated += other.updated
        self.unchanged += other.unchanged
        self.with_problems += other.with_problems
        self.changed_order_ids += other.changed_order_ids
        self.found_changed_order_ids += other.found_changed_order_ids


ERROR_KEPT = note("order.error_kept")


def _problems(parsed: ParsedOrder, address: dict | None) -> list[dict]:
    """The order's problems: Amazon's withheld address parts count only while the address
    written (the merchant's completed one wins) still lacks them."""
    if parsed.withheld_address_problem and parcel_address_missing(address or {}):
        return [*parsed.problems, parsed.withheld_address_problem]
    return parsed.problems


def _notes(parsed: ParsedOrder, problems: list[dict]) -> list[dict]:
    """The order's Order Notes (commerce_orders.notes): its problems, then the rest."""
    if parsed.is_error:
        return [ERROR_KEPT, *problems, *parsed.notes]
    return [*problems, *parsed.notes]


def _newest_per_order(payloads: list[dict], result: UpsertResult) -> list[ParsedOrder]:
    newest: dict[str, ParsedOrder] = {}
    for payload in payloads:
        try:
            parsed = parse_order(payload)
        except UnreadableOrder as error:
            result.unreadable += 1
            logger.warning("amazon order skipped: %s", error)
            continue
        known = newest.get(parsed.amazon_order_id)
        if known is None or parsed.last_update_date > known.last_update_date:
            newest[parsed.amazon_order_id] = parsed
    return list(newest.values())


class _StoredOrder(NamedTuple):
    """What the decision needs of a stored order (its payload is never read back, nor its
    address unless the merchant edited it: _edited_addresses)."""

    pk: int
    amazon_order_id: str
    status: str
    last_update_date: datetime
    needs_attention: bool
    is_shipping_address_edited: bool


DECISION_FIELDS = _StoredOrder._fields
# The columns a page writes: bulk_rows.BulkRows takes them as tuples, without model instances.
ORDER_ROW_FIELDS = ("store", "amazon_order_id", *ORDER_FIELDS, "order_notes", "needs_attention")
ORDER_UPDATE_FIELDS = (*ORDER_FIELDS, "order_notes", "needs_attention", "updated_at")
ORDER_ROWS = BulkRows(AmazonOrder, ORDER_ROW_FIELDS)
ITEM_ROWS = BulkRows(AmazonOrderItem, ("order", "order_item_id", *ITEM_FIELDS))
PACKAGE_ROWS = BulkRows(AmazonOrderPackage, ("order", "package_reference_id", *PACKAGE_FIELDS))
SHIPPING_ADDRESS_POSITION = ORDER_FIELDS.index("shipping_address")
STATUS_POSITION = ORDER_FIELDS.index("status")


def _order_row(
    store_id: int,
    parsed: ParsedOrder,
    *,
    edited_address: dict | None = None,
    status: str | None = None,
) -> tuple:
    """The row of ORDER_ROW_FIELDS for a parsed order; the address the merchant edited (of a
    stored order) wins over Amazon's copy."""
    fields = parsed.fields
    values = [fields[name] for name in ORDER_FIELDS]
    if edited_address is not None:
        values[SHIPPING_ADDRESS_POSITION] = edited_address
    if status is not None:
        values[STATUS_POSITION] = status
    problems = _problems(parsed, values[SHIPPING_ADDRESS_POSITION])
    return (store_id, parsed.amazon_order_id, *values, _notes(parsed, problems), bool(problems))


# A page is decided again when another writer inserted one of its new orders meanwhile.
UPSERT_ATTEMPTS = 3
# PostgreSQL's unique_violation: another writer's row, not our data.
UNIQUE_VIOLATION = "23505"
SQLITE_UNIQUE_VIOLATIONS = {"SQLITE_CONSTRAINT_UNIQUE", "SQLITE_CONSTRAINT_PRIMARYKEY"}
# What the database (or its driver: psycopg2 refuses NUL with a ValueError before sending)
# answers to data it cannot store.
DATA_ERRORS = (DataError, IntegrityError, ValueError)
REASON_LENGTH = 200


def _is_concurrent_insert(error: IntegrityError) -> bool:
    """Whether the IntegrityError is a unique violation (an order inserted meanwhile) rather
    than data breaking a constraint."""
    cause = error.__cause__
    code = getattr(cause, "pgcode", None) or getattr(cause, "sqlstate", None)
    if code is not None:
        return code == UNIQUE_VIOLATION
    name = getattr(cause, "sqlite_errorname", None)
    return name is None or name in SQLITE_UNIQUE_VIOLATIONS


def amazon_orders_upsert(*, store: Store, payloads: list[dict]) -> UpsertResult:
    """Store a page of Amazon orders with their items and packages, in one transaction.

    Guarantees: one row per (store, order id) and per (order, item id), whatever the number of
    times a page is stored; a payload older than the stored order never overwrites it; an
    unreadable payload is counted and skipped, the rest of the page goes on; an event is
    appended for each import and each status change. Safe without the store's sync lease
    (getOrder's recovery runs beside a sync): stored orders are compared under their row
    locks, and an order another writer inserted after our read makes the page be decided
    again against that row, so it is neither overwritten by older data nor imported twice.
    An order is stored whole with its items and packages, or as an Error order: if the
    database refuses the page's data (DataError, a constraint, a value its driver cannot
    send), the page is stored order by order and each refused order is kept as an Error order
    with the reason, without its items; the others land.
    """
    result = UpsertResult()
    parsed_orders = _newest_per_order(payloads, result)
    if not parsed_orders:
        return result
    try:
        written = _orders_store(store, parsed_orders)
    except DATA_ERRORS as error:
        if isinstance(error, IntegrityError) and _is_concurrent_insert(error):
            raise
        # The parser should have made this impossible: said, without the data (personal).
        logger.warning(
            "store %s: the database refused a page of %d orders (%s); storing them one by one",
            store.pk,
            len(parsed_orders),
            type(error).__name__,
        )
        written = _orders_store_one_by_one(store, parsed_orders)
    written.unreadable = result.unreadable
    return written


def _orders_store(store: Store, parsed_orders: list[ParsedOrder]) -> UpsertResult:
    """The orders in one savepoint, decided again when another writer inserted one meanwhile."""
    attempt = 1
    while True:
        try:
            with transaction.atomic():
                return _page_store(store, parsed_orders)
        except IntegrityError as error:
            if not _is_concurrent_insert(error) or attempt >= UPSERT_ATTEMPTS:
                raise
            attempt += 1
            logger.info("store %s: an order was inserted concurrently; deciding again", store.pk)


def _orders_store_one_by_one(store: Store, parsed_orders: list[ParsedOrder]) -> UpsertResult:
    """Each order in a savepoint of its own; one the database refuses is stored as an Error
    order (_error_order) instead."""
    result = UpsertResult()
    for parsed in parsed_orders:
        try:
            written = _orders_store(store, [parsed])
        except DATA_ERRORS as error:
            if isinstance(error, IntegrityError) and _is_concurrent_insert(error):
                raise
            logger.warning(
                "store %s: the database refused order %s (%s); it is kept as an Error order",
                store.pk,
                parsed.amazon_order_id,
                type(error).__name__,
            )
            written = _orders_store(store, [_error_order(parsed, error)])
        result.add(written)
    return result


def _error_order(parsed: ParsedOrder, error: Exception) -> ParsedOrder:
    """The parsed order reduced to what the parser vouches for (its number, dates and
    fulfillment channel), status Error, with the database's reason in its notes and no items
    or packages: what was refused cannot be told apart from the rest."""
    reason = clean_text((str(error).strip().splitlines() or [type(error).__name__])[0])
    if len(reason) > REASON_LENGTH:
        reason = reason[:REASON_LENGTH] + "…"
    fields = {
        **parsed.fields,
        "marketplace_id": "",
        "status": AmazonOrderStatus.ERROR,
        "latest_ship_date": None,
        "ship_service_level": "",
        "buyer_name": "",
        "buyer_email": "",
        "shipping_address": {},
        "order_total": None,
        "currency": "",
        "number_of_items_shipped": 0,
        "number_of_items_unshipped": 0,
        "buyer_cancellation_reason": "",
        "raw_payload": {},
    }
    problem = note("order.database_refused", reason=reason)
    return replace(
        parsed,
        fields=fields,
        items=[],
        packages=[],
        problems=[problem],
        notes=[],
        is_error=True,
        withheld_address_problem=None,
    )


def _page_store(store: Store, parsed_orders: list[ParsedOrder]) -> UpsertResult:
    """One attempt at storing a page; raises IntegrityError when a new order appeared, and
    whatever the database answers to data it refuses."""
    result = UpsertResult()
    # Only what the decision needs, as tuples: the payloads of stored orders are never read back.
    existing = {
        stored.amazon_order_id: stored
        for stored in map(
            _StoredOrder._make,
            AmazonOrder.objects.select_for_update(of=("self",))
            .filter(store=store, amazon_order_id__in=[p.amazon_order_id for p in parsed_orders])
            .order_by("pk")
            .values_list(*DECISION_FIELDS),
        )
    }
    # Until Amazon's report arrives, a cancellation the merchant confirmed keeps the order
    # Canceled here, whatever an earlier read of Amazon says.
    cancelling = set(
        AmazonOrderCancellation.objects.filter(
            order_id__in=[stored.pk for stored in existing.values()],
            state=AmazonOrderCancellation.State.PENDING,
        ).values_list("order_id", flat=True)
    )
    edited_addresses = _edited_addresses(existing.values())
    new_orders: list[ParsedOrder] = []
    update_rows: list[tuple] = []
    update_keys: list[int] = []
    events: list[tuple] = []
    updated_orders: list[tuple[int, ParsedOrder]] = []
    newer_order_ids: list[int] = []
    for parsed in parsed_orders:
        stored = existing.get(parsed.amazon_order_id)
        if stored is None:
            new_orders.append(parsed)
            continue
        is_newer = parsed.last_update_date > stored.last_update_date
        is_retry = stored.needs_attention and parsed.last_update_date == stored.last_update_date
        if not (is_newer or is_retry):
            result.unchanged += 1
            continue
        status = AmazonOrderStatus.CANCELED if stored.pk in cancelling else parsed.fields["status"]
        update_rows.append(
            _order_row(
                store.pk, parsed, edited_address=edited_addresses.get(stored.pk), status=status
            )
        )
        update_keys.append(stored.pk)
        updated_orders.append((stored.pk, parsed))
        if is_newer:
            newer_order_ids.append(stored.pk)
        if status != stored.status:
            events.append(
                order_status_changed_row(
                    order_id=stored.pk, old_status=stored.status, new_status=status
                )
            )
    # A plain INSERT for new orders: if another writer inserted one since our read, the unique
    # constraint stops us (after its commit) instead of overwriting its row unseen.
    new_rows = [_order_row(store.pk, parsed) for parsed in new_orders]
    inserted = {
        amazon_order_id: pk
        for pk, amazon_order_id in ORDER_ROWS.insert(new_rows, returning=("id", "amazon_order_id"))
    }
    inserted_orders = []
    for parsed in new_orders:
        pk = inserted[parsed.amazon_order_id]
        inserted_orders.append((pk, parsed))
        events.append(order_imported_row(order_id=pk, status=parsed.fields["status"]))
    store_order_days_add(
        store_id=store.pk, purchase_dates=[p.fields["purchase_date"] for p in new_orders]
    )
    # The rows to update were chosen above under their row locks.
    ORDER_ROWS.update(update_keys, update_rows, update_fields=ORDER_UPDATE_FIELDS)
    order_event_rows_insert(events)
    _insert_children(inserted_orders)
    _upsert_children(updated_orders)

    result.created = len(new_orders)
    result.updated = len(update_rows)
    # A row's last value is needs_attention.
    result.with_problems = sum(1 for row in [*update_rows, *new_rows] if row[-1])
    result.changed_order_ids = [pk for pk, _ in [*updated_orders, *inserted_orders]]
    result.found_changed_order_ids = [*newer_order_ids, *(pk for pk, _ in inserted_orders)]
    return result


def _edited_addresses(stored_orders: Iterable[_StoredOrder]) -> dict[int, dict]:
    """The shipping addresses the merchant edited, by order id: read only for those orders
    (few, and already locked), so that a page does not read every address back."""
    edited = [stored.pk for stored in stored_orders if stored.is_shipping_address_edited]
    if not edited:
        return {}
    return dict(AmazonOrder.objects.filter(pk__in=edited).values_list("pk", "shipping_address"))


def store_order_days_add(*, store_id: int, purchase_dates: Iterable[datetime]) -> None:
    """Count newly stored orders in their store's orders per day (UTC), the cards' chart.

    Call it in the transaction that inserts the orders, once per order: one statement, days in
    ascending order so that concurrent writers lock the day rows in the same order.
    """
    counts = sorted(Counter(when.astimezone(UTC).date() for when in purchase_dates).items())
    if not counts:
        return
    table = connection.ops.quote_name(StoreOrderDay._meta.db_table)
    rows = ", ".join(["(%s, %s, %s)"] * len(counts))
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (store_id, day, order_count) VALUES {rows} "  # noqa: S608
            f"ON CONFLICT (store_id, day) DO UPDATE "
            f"SET order_count = {table}.order_count + excluded.order_count",
            [value for day, count in counts for value in (store_id, day, count)],
        )


def _child_rows(
    touched: list[tuple[int, ParsedOrder]], children: str, key: str, fields: tuple[str, ...]
) -> list[tuple]:
    """The rows of the touched orders' `children` ("items" or "packages"): order id, key, fields."""
    return [
        (order_id, values[key], *(values[name] for name in fields))
        for order_id, parsed in touched
        for values in getattr(parsed, children)
    ]


def _insert_children(inserted: list[tuple[int, ParsedOrder]]) -> None:
    """Items and packages of orders inserted by this page: nothing can be stored under them
    yet, so a plain insert each (the parser left no item or package id twice in an order)."""
    ITEM_ROWS.insert(_child_rows(inserted, "items", "order_item_id", ITEM_FIELDS))
    PACKAGE_ROWS.insert(_child_rows(inserted, "packages", "package_reference_id", PACKAGE_FIELDS))


def _upsert_children(touched: list[tuple[int, ParsedOrder]]) -> None:
    """Items and packages of stored orders this page updates: one upsert each. They rarely
    change when their order does: an unchanged one is not written again."""
    ITEM_ROWS.upsert(
        _child_rows(touched, "items", "order_item_id", ITEM_FIELDS),
        unique_fields=("order", "order_item_id"),
        update_fields=ITEM_FIELDS,
        is_unchanged_skipped=True,
    )
    PACKAGE_ROWS.upsert(
        _child_rows(touched, "packages", "package_reference_id", PACKAGE_FIELDS),
        unique_fields=("order", "package_reference_id"),
        update_fields=PACKAGE_FIELDS,
        is_unchanged_skipped=True,
    )
