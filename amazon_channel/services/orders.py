"""Storing what Amazon says about orders: bulk, idempotent, newest data wins."""

import logging
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from django.db import IntegrityError, connection, transaction

from amazon_channel.models import (
    AmazonOrder,
    AmazonOrderCancellation,
    AmazonOrderEvent,
    AmazonOrderItem,
    AmazonOrderPackage,
    AmazonOrderStatus,
    Store,
    StoreOrderDay,
)
from amazon_channel.order_payload import ParsedOrder, UnreadableOrder, parse_order

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


def _notes(parsed: ParsedOrder) -> str:
    return "\n".join([*parsed.problems, *parsed.notes])


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


DECISION_FIELDS = (
    "pk",
    "store",
    "amazon_order_id",
    "status",
    "last_update_date",
    "needs_attention",
    "is_shipping_address_edited",
    "shipping_address",
)


def _replacement(stored: AmazonOrder) -> AmazonOrder:
    """A full row to upsert over a stored order loaded with DECISION_FIELDS only."""
    return AmazonOrder(
        pk=stored.pk,
        store_id=stored.store_id,
        amazon_order_id=stored.amazon_order_id,
        is_shipping_address_edited=stored.is_shipping_address_edited,
        shipping_address=stored.shipping_address,
    )


def _apply(order: AmazonOrder, parsed: ParsedOrder) -> None:
    for name in ORDER_FIELDS:
        if name == "shipping_address" and order.is_shipping_address_edited:
            continue  # the merchant's Save Order wins over Amazon's copy
        setattr(order, name, parsed.fields[name])
    order.order_notes = _notes(parsed)
    order.needs_attention = bool(parsed.problems)


# A page is decided again when another writer inserted one of its new orders meanwhile.
UPSERT_ATTEMPTS = 3


def amazon_orders_upsert(*, store: Store, payloads: list[dict]) -> UpsertResult:
    """Store a page of Amazon orders with their items and packages, in one transaction.

    Guarantees: one row per (store, order id) and per (order, item id), whatever the number of
    times a page is stored; a payload older than the stored order never overwrites it; an
    unreadable payload is counted and skipped, the rest of the page goes on; an event is
    appended for each import and each status change. Safe without the store's sync lease
    (getOrder's recovery runs beside a sync): stored orders are compared under their row
    locks, and an order another writer inserted after our read makes the page be decided
    again against that row, so it is neither overwritten by older data nor imported twice.
    """
    result = UpsertResult()
    parsed_orders = _newest_per_order(payloads, result)
    if not parsed_orders:
        return result
    attempt = 1
    while True:
        try:
            with transaction.atomic():
                written = _page_store(store, parsed_orders)
            break
        except IntegrityError:
            if attempt >= UPSERT_ATTEMPTS:
                raise
            attempt += 1
            logger.info("store %s: an order was inserted concurrently; deciding again", store.pk)
    written.unreadable = result.unreadable
    return written


def _page_store(store: Store, parsed_orders: list[ParsedOrder]) -> UpsertResult:
    """One attempt at storing a page; raises IntegrityError when a new order appeared."""
    result = UpsertResult()
    # Only what the decision needs: the payloads of stored orders are never read back.
    existing = {
        order.amazon_order_id: order
        for order in AmazonOrder.objects.select_for_update(of=("self",))
        .filter(store=store, amazon_order_id__in=[p.amazon_order_id for p in parsed_orders])
        .only(*DECISION_FIELDS)
        .order_by("pk")
    }
    # Until Amazon's report arrives, a cancellation the merchant confirmed keeps the order
    # Canceled here, whatever an earlier read of Amazon says.
    cancelling = set(
        AmazonOrderCancellation.objects.filter(
            order__in=existing.values(), state=AmazonOrderCancellation.State.PENDING
        ).values_list("order_id", flat=True)
    )
    to_create: list[AmazonOrder] = []
    to_update: list[AmazonOrder] = []
    events: list[AmazonOrderEvent] = []
    touched: list[tuple[AmazonOrder, ParsedOrder]] = []
    for parsed in parsed_orders:
        order = existing.get(parsed.amazon_order_id)
        if order is None:
            order = AmazonOrder(store=store, amazon_order_id=parsed.amazon_order_id)
            _apply(order, parsed)
            to_create.append(order)
            touched.append((order, parsed))
            continue
        is_newer = parsed.last_update_date > order.last_update_date
        is_retry = order.needs_attention and parsed.last_update_date == order.last_update_date
        if not (is_newer or is_retry):
            result.unchanged += 1
            continue
        old_status = order.status
        order = _replacement(order)
        _apply(order, parsed)
        if order.pk in cancelling:
            order.status = AmazonOrderStatus.CANCELED
        to_update.append(order)
        touched.append((order, parsed))
        if order.status != old_status:
            events.append(
                AmazonOrderEvent(
                    order=order,
                    kind=AmazonOrderEvent.Kind.STATUS_CHANGED,
                    old_status=old_status,
                    new_status=order.status,
                    message="Amazon",
                )
            )
    # A plain INSERT for new orders: if another writer inserted one since our read, the unique
    # constraint stops us (after its commit) instead of overwriting its row unseen.
    AmazonOrder.objects.bulk_create(to_create)
    store_order_days_add(store_id=store.pk, purchase_dates=[o.purchase_date for o in to_create])
    # The rows to update were chosen above under their row locks: the upsert may overwrite them.
    AmazonOrder.objects.bulk_create(
        to_update,
        update_conflicts=True,
        unique_fields=["store", "amazon_order_id"],
        update_fields=[*ORDER_FIELDS, "order_notes", "needs_attention", "updated_at"],
    )
    events.extend(
        AmazonOrderEvent(order=order, kind=AmazonOrderEvent.Kind.IMPORTED, new_status=order.status)
        for order in to_create
    )
    AmazonOrderEvent.objects.bulk_create(events)
    _upsert_children(touched)

    result.created = len(to_create)
    result.updated = len(to_update)
    result.with_problems = sum(1 for _, parsed in touched if parsed.problems)
    result.changed_order_ids = [order.pk for order, _ in touched]
    return result


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


def _upsert_children(touched: list[tuple[AmazonOrder, ParsedOrder]]) -> None:
    """Items and packages of the touched orders: one upsert statement each."""
    items = [
        AmazonOrderItem(order=order, **values)
        for order, parsed in touched
        for values in parsed.items
    ]
    packages = [
        AmazonOrderPackage(order=order, **values)
        for order, parsed in touched
        for values in parsed.packages
    ]
    if items:
        AmazonOrderItem.objects.bulk_create(
            items,
            update_conflicts=True,
            unique_fields=["order", "order_item_id"],
            update_fields=ITEM_FIELDS,
        )
    if packages:
        AmazonOrderPackage.objects.bulk_create(
            packages,
            update_conflicts=True,
            unique_fields=["order", "package_reference_id"],
            update_fields=PACKAGE_FIELDS,
        )
