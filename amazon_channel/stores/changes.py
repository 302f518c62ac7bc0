"""Marks of a store's state, and what the hot pages keep under them.

The store cards and the store dashboard count a store's orders (Unshipped, Error, import
errors, buyer cancellation requests), cancellations, refused shipments and its chart's days on
every view; at a million orders those counts were half of a view's cost. Recent Orders, All
Orders and Amazon Order Details read the same rows again on every view. What they read is kept
(cached_per_store: the counts, in the shared cache; cached_under_mark: model instances, in the
process), and never a second out of date:

- PostgreSQL's triggers (migration 0023: orders, cancellations, outbox messages, the chart's
  order days; 0024: the orders' items, packages and history, their Commerce orders, the store's
  history, a user's new name) insert a StoreChange row for each statement that writes one of
  those tables, a row a store it touched, in the writer's own transaction: the order upsert's
  SQL, COPY, the ORM, an admin's delete, whoever writes.
- A store's *mark*, the sum of its StoreChange weights that a query sees, therefore moves on with
  every committed write to those rows and with nothing else: rows of one mark are the same rows.
- `cached_per_store` and `cached_under_mark` key a value by the mark read before it was read.
  Each of its queries then sees at least every commit that mark counts (READ COMMITTED reads
  each query at its own moment, never an earlier one), so what is kept under a mark is never
  older than the mark; a write committed meanwhile moves the mark every later reader gets.

A store object's `mark` is read once, with the store (with_marks) or by the first of these
functions it meets: a store object kept past a write to it must be read again.

Other databases (the demo's SQLite) keep no marks, and nothing is kept inside a transaction
(marks_kept): everything is read every time.
"""

import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable
from typing import Any

from django.core.cache import cache
from django.db import connection, models, transaction
from django.db.models import OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce

from amazon_channel.models import Store, StoreChange

# A cached entry's life: the key is exact, this only bounds the cache's memory.
CACHE_SECONDS = 600


def marks_kept() -> bool:
    """Whether a store's mark can key a cache now: the database keeps marks (the triggers are
    PostgreSQL's) and no transaction is open. Inside one, a mark may count rows that
    transaction wrote; rolled back, they are gone, and a later commit could bring the mark to
    the same sum with other rows. The pages read in autocommit (no ATOMIC_REQUESTS)."""
    return connection.vendor == "postgresql" and not connection.in_atomic_block


def with_marks(stores: QuerySet[Store]) -> QuerySet[Store]:
    """The stores, each with its `mark` read in the same query, when marks can key a cache
    (else none: cached_per_store and cached_under_mark compute)."""
    if not marks_kept():
        return stores
    total = (
        StoreChange.objects.filter(store_id=OuterRef("pk"))
        .order_by()
        .values("store_id")
        .annotate(total=models.Sum("weight"))
        .values("total")
    )
    return stores.annotate(mark=Coalesce(Subquery(total), 0))


def store_marks(store_ids: Iterable[int]) -> dict[int, int]:
    """Each store's mark, in one query (0 for a store nothing was written to yet)."""
    store_ids = list(store_ids)
    marks = dict.fromkeys(store_ids, 0)
    rows = (
        StoreChange.objects.filter(store_id__in=store_ids)
        .order_by()
        .values("store_id")
        .annotate(mark=Coalesce(models.Sum("weight"), 0))
        .values_list("store_id", "mark")
    )
    marks.update(rows)
    return marks


# Values read from a store's marked rows, kept in this process under the store's mark
# (cached_under_mark): model instances, which the shared cache would keep across a deploy
# that changes their fields. The last KEPT_VALUES are kept.
_kept: OrderedDict[str, Any] = OrderedDict()
_kept_lock = threading.Lock()
KEPT_VALUES = 64


def _marks_read(stores: list[Store]) -> None:
    """Each store's `mark`: kept as read (with_marks, or an earlier call in this request),
    else read for all in one query; None when marks cannot key a cache now."""
    if not marks_kept():
        for store in stores:
            store.mark = None
    elif not all(hasattr(store, "mark") for store in stores):
        marks = store_marks(store.pk for store in stores)
        for store in stores:
            store.mark = marks[store.pk]


def store_state_key(store: Store) -> str | None:
    """What names the state of the rows the store's mark follows, for a cache key: the store
    (its id and creation time: a new test database or a restored one repeats ids) and its mark.
    None when marks cannot key a cache now. Reads the mark unless the store object has it."""
    _marks_read([store])
    if store.mark is None:
        return None
    return f"{store.pk}:{store.created_at.timestamp()}:{store.mark}"


def cached_under_mark(store: Store, *, namespace: str, variant: str, compute: Callable[[], Any]):
    """`compute()`, a value read only from the rows the store's mark follows (its orders and
    their items, packages, history, cancellations and Commerce orders, outbox messages, chart
    days), kept in this process under that mark;
    `variant` is whatever else it depends on. The store's `mark` is read unless
    it was read with the store or earlier in this request. Treat the value as read-only: the
    next request may get the same object. Without marks, computes."""
    state = store_state_key(store)
    if state is None:
        return compute()
    key = f"store-{namespace}:{state}:{variant}"
    with _kept_lock:
        if key in _kept:
            _kept.move_to_end(key)
            return _kept[key]
    value = compute()
    _keep({key: value})
    return value


def _keep(values: dict) -> None:
    with _kept_lock:
        _kept.update(values)
        while len(_kept) > KEPT_VALUES:
            _kept.popitem(last=False)


def cached_per_store(
    stores: list[Store],
    *,
    namespace: str,
    variant: str,
    compute: Callable[[list[Store]], dict[int, Any]],
) -> dict[int, Any]:
    """`compute(stores)` (a value per store id), each store's value cached under its mark.

    `namespace` names what is cached (bump it when the value's shape changes); `variant` is
    whatever else the value depends on (today's date, the time zone). Without marks, computes.
    Each store's `mark` is read unless with_marks read it, and set (None without marks), for
    cached_under_mark in this request.
    """
    _marks_read(stores)
    if not stores or stores[0].mark is None:
        return compute(stores)
    keys = {store.pk: f"store-{namespace}:{store_state_key(store)}:{variant}" for store in stores}
    # This process's copy first (no round trip to the shared cache), then the shared cache,
    # where another process may have counted them.
    with _kept_lock:
        values = {store_id: _kept[key] for store_id, key in keys.items() if key in _kept}
    wanted = {key: store_id for store_id, key in keys.items() if store_id not in values}
    if wanted:
        found = cache.get_many(wanted)
        values.update((wanted[key], value) for key, value in found.items())
        missing = [store for store in stores if store.pk not in values]
        computed = compute(missing) if missing else {}
        values.update(computed)
        if computed:
            cache.set_many(
                {keys[store_id]: computed[store_id] for store_id in computed}, CACHE_SECONDS
            )
        _keep({key: values[store_id] for key, store_id in wanted.items()})
    return values


def store_changes_compact() -> int:
    """Replace each store's StoreChange rows by one of the same weight, in one statement;
    the rows of stores gone are dropped. Returns the rows deleted.

    A reader sees the rows before or after, never between: every mark stays what it was.
    Writers are not held: their new rows are not in this statement's snapshot."""
    if connection.vendor != "postgresql":
        return 0
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            """
            WITH gone AS (DELETE FROM amazon_channel_storechange RETURNING store_id, weight),
            kept AS (
                INSERT INTO amazon_channel_storechange (store_id, weight)
                SELECT store_id, SUM(weight) FROM gone
                WHERE store_id IN (SELECT id FROM amazon_channel_store)
                GROUP BY store_id
            )
            SELECT COUNT(*) FROM gone
            """
        )
        return cursor.fetchone()[0]
