"""Reads for the dashboard: each function answers one page in a fixed number of queries."""

from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import ClassVar

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist
from django.db.models import (
    Count,
    DecimalField,
    F,
    Max,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.fields.json import KT
from django.db.models.functions import Coalesce
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils import timezone

from amazon_channel.models import (
    AmazonOrder,
    AmazonOrderCancellation,
    AmazonOrderEvent,
    AmazonOrderStatus,
    NotificationSubscription,
    NotificationType,
    OutboxMessage,
    Store,
    StoreEvent,
    StoreOrderDay,
    SyncRun,
    SyncState,
)
from amazon_channel.notifications.setup import (
    PAYLOAD_VERSIONS,
    last_notifications_event,
    notifications_configured,
)
from amazon_channel.spapi.client import application_key
from amazon_channel.spapi.marketplaces import SELLER_CENTRAL_URLS
from amazon_channel.stores.changes import cached_per_store, cached_under_mark, with_marks
from commerce_orders.keyset import OrderCursor, cursor_decode, keyset_page
from commerce_orders.list_filters import Filter, ListFilterSet
from commerce_orders.search import UnaccentedIContains

CHART_DAYS = 30
RECENT_ORDERS_LIMIT = 20
RECENT_STORE_EVENTS_LIMIT = 5
ORDERS_PAGE_SIZE = 25


# The latest sync run's fields a card and a dashboard show, as `last_sync_<field>` on the store.
LAST_SYNC_FIELDS = ("status", "kind", "started_at", "finished_at", "message")


def _with_last_sync_run(stores: QuerySet[Store]) -> QuerySet[Store]:
    """Annotate each store with the id of its latest sync run, in the same query (one subquery:
    building five, one per field shown, cost the page more than reading the runs after)."""
    latest_run = SyncRun.objects.filter(store=OuterRef("pk")).order_by("-started_at", "-id")
    return stores.annotate(last_sync_run_id=Subquery(latest_run.values("pk")[:1]))


def _with_subscribed_at(stores: QuerySet[Store]) -> QuerySet[Store]:
    """Annotate each store with `subscribed_at`, when its seller's first ORDER_CHANGE
    subscription was made (None without one), in the same query."""
    first = NotificationSubscription.objects.filter(
        seller_id=OuterRef("seller_id"), notification_type=NotificationType.ORDER_CHANGE
    ).order_by("created_at")
    return stores.annotate(subscribed_at=Subquery(first.values("created_at")[:1]))


def _last_sync_attach(stores: list[Store]) -> None:
    """`last_sync_status`, `_kind`, `_started_at`, `_finished_at` and `_message` of each
    store's latest sync run (None without a run), in one query of those runs."""
    run_ids = [store.last_sync_run_id for store in stores if store.last_sync_run_id is not None]
    runs = (
        {
            run["pk"]: run
            for run in SyncRun.objects.filter(pk__in=run_ids).values("pk", *LAST_SYNC_FIELDS)
        }
        if run_ids
        else {}
    )
    for store in stores:
        run = runs.get(store.last_sync_run_id, {})
        for name in LAST_SYNC_FIELDS:
            setattr(store, f"last_sync_{name}", run.get(name))


def _notifications_quiet_attach(stores: list[Store]) -> None:
    """`is_notifications_quiet`: the store's notifications are on (its seller has an
    ORDER_CHANGE subscription), none came for AMAZON_NOTIFICATIONS_QUIET_SECONDS (since the last
    one, else since the subscription), and a sync run since then found changes that no
    notification had announced (push misses). The stores come with `subscribed_at`
    (_with_subscribed_at); one query of sync runs only for the stores that went quiet."""
    quiet_before = timezone.now() - timedelta(seconds=settings.AMAZON_NOTIFICATIONS_QUIET_SECONDS)
    quiet_since = {}
    for store in stores:
        store.is_notifications_quiet = False
        subscribed = store.subscribed_at
        since = store.last_notification_at or subscribed
        if subscribed is not None and since is not None and since <= quiet_before:
            quiet_since[store.pk] = since
    if not quiet_since:
        return
    last_misses = dict(
        SyncRun.objects.filter(store_id__in=quiet_since, push_misses__gt=0)
        .values("store_id")
        .annotate(last=Max("started_at"))
        .values_list("store_id", "last")
        .order_by()
    )
    for store in stores:
        last_miss = last_misses.get(store.pk)
        store.is_notifications_quiet = (
            store.pk in quiet_since and last_miss is not None and last_miss >= quiet_since[store.pk]
        )


def _per_store(rows, key: str = "store_id") -> dict[int, int]:
    return {row[key]: row["total"] for row in rows}


# The statuses a card counts: orders to ship, and orders Amazon sent that could not be stored
# as sent (order_payload: status Error).
CARD_STATUSES = (AmazonOrderStatus.UNSHIPPED, AmazonOrderStatus.ERROR)


# What the card's tiles and All Orders' "Needs attention" filter select, by name: one
# definition for the count and the list it links to.
ATTENTION_CANCELLATION_PENDING = "cancellation_pending"
ATTENTION_CANCELLATION_REJECTED = "cancellation_rejected"
ATTENTION_IMPORT_ERROR = "import_error"
ATTENTION_BUYER_CANCELLATION = "buyer_cancellation"
ATTENTION_REFUSED_SHIPMENT = "refused_shipment"


# Orders flagged by the sync or whose Commerce import failed; an Error order is counted under
# Error only. `~Q(commerce_import_error=[])` is written as the attention index's condition is.
IMPORT_ERROR_Q = (Q(needs_attention=True) | ~Q(commerce_import_error=[])) & ~Q(
    status=AmazonOrderStatus.ERROR
)


def _refused_shipments() -> QuerySet[OutboxMessage]:
    """Shipment confirmations Amazon refused that nobody sent again yet: the merchant corrects
    and sends them again (or retries) from their Commerce orders."""
    return OutboxMessage.objects.filter(
        kind=OutboxMessage.Kind.CONFIRM_SHIPMENT, state=OutboxMessage.State.FAILED
    ).annotate(order_number=KT("payload__amazon_order_id"))


def attention_q(name: str, *, store: Store) -> Q:
    """The orders of `store` that a tile counts (see ATTENTION_*); raises KeyError else."""
    if name == ATTENTION_REFUSED_SHIPMENT:
        numbers = _refused_shipments().filter(store=store).values("order_number")
        return Q(amazon_order_id__in=Subquery(numbers))
    return {
        ATTENTION_CANCELLATION_PENDING: Q(
            cancellation__state=AmazonOrderCancellation.State.PENDING
        ),
        ATTENTION_CANCELLATION_REJECTED: Q(
            cancellation__state=AmazonOrderCancellation.State.REJECTED,
            cancellation__is_rejection_acknowledged=False,
        ),
        ATTENTION_IMPORT_ERROR: IMPORT_ERROR_Q,
        ATTENTION_BUYER_CANCELLATION: Q(is_buyer_requested_cancellation=True)
        & ~Q(status=AmazonOrderStatus.CANCELED),
    }[name]


def purchase_date_q(date_from: date | None, date_to: date | None) -> Q:
    """Orders placed from the start of `date_from` to the end of `date_to`, days of the
    current time zone (All Orders' date filter and the card's last 30 days)."""
    zone = timezone.get_current_timezone()
    condition = Q()
    if date_from:
        start = datetime.combine(date_from, time.min)
        condition &= Q(purchase_date__gte=timezone.make_aware(start, zone))
    if date_to and date_to < date.max:
        # date.max has no day after it: the range is then open-ended.
        end = datetime.combine(date_to + timedelta(days=1), time.min)
        condition &= Q(purchase_date__lt=timezone.make_aware(end, zone))
    return condition


def last_days_range(*, days: int = CHART_DAYS) -> tuple[date, date]:
    """The first and last day (current time zone) of "the last `days` days", today included."""
    today = timezone.localdate()
    return today - timedelta(days=days - 1), today


def _store_counts_attach(stores: list[Store]) -> None:
    """The counts a card shows (its tiles, its chart and the last 30 days' total, see
    _store_counts), each store's cached under its mark: a store nothing was written to since
    they were counted costs one query for all (amazon_channel/stores/changes.py). The card is
    then flagged when a tile flags it or the store cannot sync."""
    # The chart's days are UTC days, the total's the current time zone's.
    variant = (
        f"{timezone.now().astimezone(UTC).date()}:{timezone.localdate()}:"
        f"{timezone.get_current_timezone_name()}"
    )
    counts = cached_per_store(stores, namespace="counts-1", variant=variant, compute=_store_counts)
    for store in stores:
        for name, value in counts[store.pk].items():
            setattr(store, name, value)
        store.is_flagged = bool(
            store.cancellation_rejected_count
            or store.refused_shipment_count
            or store.import_error_count
            or store.error_order_count
            or store.sync_state != SyncState.OK
        )


def _store_counts(stores: list[Store]) -> dict[int, dict]:
    """Per store: its tiles' counts (_attention_counts), `daily_orders` (the chart) and
    `recent_order_total`."""
    store_ids = [store.pk for store in stores]
    counts = _attention_counts(store_ids)
    daily = _daily_order_counts(store_ids)
    totals = _recent_order_totals(store_ids, daily)
    for store_id in store_ids:
        counts[store_id]["daily_orders"] = daily[store_id]
        counts[store_id]["recent_order_total"] = totals.get(store_id, 0)
    return counts


def _attention_counts(store_ids: list[int]) -> dict[int, dict[str, int]]:
    """The counts a card flags, in five grouped queries whatever the number of orders: each
    reads only the rows it counts (the (store, status) index for Unshipped and Error, partial
    indexes on orders needing attention and on buyer cancellation requests; cancellations and
    refused shipments are few). Each count is what its tile's link lists."""
    orders = AmazonOrder.objects.filter(store_id__in=store_ids).order_by()
    by_status = {
        (row["store_id"], row["status"]): row["total"]
        for row in orders.filter(status__in=CARD_STATUSES)
        .values("store_id", "status")
        .annotate(total=Count("*"))
    }
    attention = _per_store(
        orders.filter(IMPORT_ERROR_Q).values("store_id").annotate(total=Count("*"))
    )
    buyer_cancellations = _per_store(
        orders.filter(is_buyer_requested_cancellation=True)
        .exclude(status=AmazonOrderStatus.CANCELED)
        .values("store_id")
        .annotate(total=Count("*"))
    )
    refused_shipments = _per_store(
        _refused_shipments()
        .filter(store_id__in=store_ids)
        .order_by()
        .values("store_id")
        .annotate(total=Count("order_number", distinct=True))
    )
    cancellations = (
        AmazonOrderCancellation.objects.filter(store_id__in=store_ids)
        .filter(
            Q(state=AmazonOrderCancellation.State.PENDING)
            | Q(state=AmazonOrderCancellation.State.REJECTED, is_rejection_acknowledged=False)
        )
        .values("store_id", "state")
        .annotate(total=Count("*"))
        .order_by()
    )
    by_state = {(row["store_id"], row["state"]): row["total"] for row in cancellations}
    return {
        store_id: {
            "unshipped_count": by_status.get((store_id, AmazonOrderStatus.UNSHIPPED), 0),
            "error_order_count": by_status.get((store_id, AmazonOrderStatus.ERROR), 0),
            "import_error_count": attention.get(store_id, 0),
            "buyer_cancellation_count": buyer_cancellations.get(store_id, 0),
            "refused_shipment_count": refused_shipments.get(store_id, 0),
            "cancellation_pending_count": by_state.get(
                (store_id, AmazonOrderCancellation.State.PENDING), 0
            ),
            "cancellation_rejected_count": by_state.get(
                (store_id, AmazonOrderCancellation.State.REJECTED), 0
            ),
        }
        for store_id in store_ids
    }


def _recent_order_totals(store_ids: list[int], daily: dict[int, list[int]]) -> dict[int, int]:
    """Orders of the last CHART_DAYS days per store, as All Orders filtered on those days
    counts them (days of the current time zone): the link under the chart lists these.

    When those days are UTC days (every day of the range, and the day after it, begins at
    UTC's midnight in the current time zone, as settings.TIME_ZONE's UTC has it) they are the
    chart's days, and the chart's rows (`daily`, kept
    by the upsert in the transaction that stores each order) already count them: their sum,
    without counting some 40,000 index entries again at a million orders. Any other time zone
    counts the orders."""
    first_day, last_day = last_days_range()
    zone = timezone.get_current_timezone()
    day_starts = (
        timezone.make_aware(datetime.combine(first_day + timedelta(days=number), time.min), zone)
        for number in range((last_day - first_day).days + 2)
    )
    if not any(start.utcoffset() for start in day_starts):
        return {store_id: sum(daily.get(store_id, ())) for store_id in store_ids}
    return _per_store(
        AmazonOrder.objects.filter(purchase_date_q(first_day, last_day), store_id__in=store_ids)
        .order_by()
        .values("store_id")
        .annotate(total=Count("*"))
    )


def _daily_order_counts(store_ids: list[int], *, days: int = CHART_DAYS) -> dict[int, list[int]]:
    """Orders per day over the last `days` days (oldest first) for each store, read from the
    orders-per-day rows the upsert keeps (UTC days): one query of `days` rows a store."""
    today = timezone.now().astimezone(UTC).date()
    first_day = today - timedelta(days=days - 1)
    counts = {store_id: [0] * days for store_id in store_ids}
    rows = StoreOrderDay.objects.filter(store_id__in=store_ids, day__gte=first_day).values_list(
        "store_id", "day", "order_count"
    )
    for store_id, day, total in rows:
        index = (day - first_day).days
        if 0 <= index < days:
            counts[store_id][index] = total
    return counts


def _stores_as_cards() -> QuerySet[Store]:
    """The stores with what a card reads with them: the latest run's id, the seller's first
    subscription and, where marks key a cache, the mark."""
    return with_marks(_with_subscribed_at(_with_last_sync_run(Store.objects.all())))


def _card_values_attach(stores: list[Store]) -> None:
    """The last sync, the counts and the quiet notifications a card shows, on each store."""
    _last_sync_attach(stores)
    _store_counts_attach(stores)
    _notifications_quiet_attach(stores)


def store_list_for_cards() -> list[Store]:
    """Every store with its card's counts, last sync and `daily_orders` chart data, in a
    fixed number of queries whatever the number of stores and orders: the stores (with their
    sellers' first subscription, and their marks), their last runs, and the counts of the
    stores written to since they were cached (_store_counts_attach: six queries, seven outside
    UTC).

    `daily_orders` lists the orders of each of the last 30 days, oldest first;
    `recent_order_total` counts them as All Orders does over the same days.
    """
    stores = list(_stores_as_cards().order_by("name"))
    _card_values_attach(stores)
    return stores


def store_for_dashboard(store_id: int) -> Store:
    """One store with the same counts and last sync as its card; Http404 when unknown."""
    store = get_object_or_404(_stores_as_cards(), pk=store_id)
    _card_values_attach([store])
    return store


def store_get(store_id: int) -> Store:
    """The store, plain; Http404 when unknown."""
    return get_object_or_404(Store, pk=store_id)


def store_for_order_pages(store_id: int) -> Store:
    """The store with its mark in the same query, for a page that reads its orders under it
    (All Orders, Amazon Order Details); Http404 when unknown."""
    return get_object_or_404(with_marks(Store.objects.all()), pk=store_id)


@dataclass(frozen=True)
class SyncProgress:
    """Where a requested sync is: `run` is the store's first run after the one the request
    named (None while no worker has started it), or its latest run when none was named.
    `is_finished` once that run ended, or nothing will run (`store.sync_state`,
    `store.is_active`)."""

    store: Store
    run: SyncRun | None
    is_requested: bool
    is_finished: bool


def store_sync_progress(*, store: Store, after_run_id: int | None) -> SyncProgress:
    """The progress of Sync now (see SyncProgress), in one query after the store's."""
    runs = SyncRun.objects.filter(store=store)
    if after_run_id is None:
        run = runs.order_by("-started_at", "-id").first()
    else:
        run = runs.filter(pk__gt=after_run_id).order_by("pk").first()
    is_blocked = not store.is_active or store.is_sync_paused
    if run is not None and run.status != SyncRun.Status.RUNNING:
        is_finished = True
    else:
        is_finished = run is None and (is_blocked or after_run_id is None)
    return SyncProgress(
        store=store, run=run, is_requested=after_run_id is not None, is_finished=is_finished
    )


def store_sync_runs(store: Store) -> QuerySet[SyncRun]:
    """The store's sync log, newest first (ready for a Paginator)."""
    return SyncRun.objects.filter(store=store).order_by("-started_at", "-id")


def store_recent_events(
    store: Store, *, limit: int = RECENT_STORE_EVENTS_LIMIT
) -> list[StoreEvent]:
    """History: who last connected, changed, switched on or off, or synced the store; kept
    under the store's mark (which follows its events and the users' names)."""
    return cached_under_mark(
        store,
        namespace="store-events-1",
        variant=str(limit),
        compute=lambda: list(
            StoreEvent.objects.filter(store=store)
            .select_related("actor")
            .order_by("-created_at", "-id")[:limit]
        ),
    )


# What Amazon sent as it came (5 KB an order): Django admin shows it, the merchant's pages never
# do, so they never read it.
UNSHOWN_ORDER_FIELDS = ("raw_payload",)


def store_recent_orders(store: Store, *, limit: int = RECENT_ORDERS_LIMIT) -> list[AmazonOrder]:
    """Recent Orders: the store's latest orders with their cancellation and Commerce order,
    kept under the store's mark (their rows are the ones it follows; a Commerce order's
    number never changes)."""
    return cached_under_mark(
        store,
        namespace="recent-orders-1",
        variant=str(limit),
        compute=lambda: list(
            AmazonOrder.objects.filter(store=store)
            .defer(*UNSHOWN_ORDER_FIELDS)
            .select_related("cancellation", "commerce_order")
            .order_by("-purchase_date", "-id")[:limit]
        ),
    )


def order_cancellation(order: AmazonOrder) -> AmazonOrderCancellation | None:
    """The order's cancellation, or None (without a query when it was select_related)."""
    try:
        return order.cancellation
    except ObjectDoesNotExist:
        return None


def seller_central_url(store: Store) -> str:
    return SELLER_CENTRAL_URLS[store.marketplace.region]


def amazon_order_detail(*, store_id: int, order_id: int) -> AmazonOrder:
    """Amazon Order Details: the order with its store (`order.store`: the page reads no store
    apart), items, packages, history (with users), cancellation and Commerce order; Http404
    when the store has no such order, or there is no such store.

    The order is kept under its store's mark, which follows all of these (migrations 0023 and
    0024); the store itself is read each time, with its mark."""
    store = store_for_order_pages(store_id)

    def order_read() -> AmazonOrder | None:
        events = AmazonOrderEvent.objects.select_related("actor").order_by("-created_at", "-id")
        return (
            AmazonOrder.objects.defer(*UNSHOWN_ORDER_FIELDS)
            .select_related("cancellation", "commerce_order")
            .prefetch_related("items", "packages", Prefetch("events", queryset=events))
            .filter(store=store, pk=order_id)
            .first()
        )

    order = cached_under_mark(
        store, namespace="order-detail-1", variant=str(order_id), compute=order_read
    )
    if order is None:
        raise Http404("No such order.")
    order.store = store
    return order


def amazon_order_get(*, store: Store, order_id: int) -> AmazonOrder:
    """The store's order, with its store and cancellation, for a form or an action; not locked
    (the service that changes it locks it). Http404 when the store has no such order."""
    return get_object_or_404(
        AmazonOrder.objects.defer(*UNSHOWN_ORDER_FIELDS).select_related("store", "cancellation"),
        store=store,
        pk=order_id,
    )


# All Orders: filters, sorting and keyset pagination.


@dataclass(frozen=True)
class OrderFilters:
    purchase_date_from: date | None = None
    purchase_date_to: date | None = None
    order_number: str = ""
    buyer_name: str = ""
    total_min: Decimal | None = None
    total_max: Decimal | None = None
    status: str = ""
    attention: str = ""


@dataclass
class OrderPage:
    orders: list[AmazonOrder] = field(default_factory=list)
    next_cursor: str | None = None
    previous_cursor: str | None = None
    # How many orders match the filters, counted up to ORDER_COUNT_CAP: is_count_capped says
    # that there are more.
    match_count: int = 0
    is_count_capped: bool = False


# Counting stops here: a count reads every matching index entry, and a million-order store
# must not pay for a million on each page.
ORDER_COUNT_CAP = 10_000


# Sort name in the URL -> the annotated or model field it orders by. An order total may be
# missing (Pending orders): it sorts as -1 so that the keyset never compares with NULL.
ORDER_SORTS = {
    "purchase_date": "purchase_date",
    "order_number": "amazon_order_id",
    "grand_total": "sort_total",
    "status": "status",
    "buyer_name": "buyer_name",
}
MISSING_TOTAL = Decimal("-1")


# What a missing total sorts as (and its cursor holds).
SORT_TOTAL_FIELD = DecimalField(max_digits=14, decimal_places=2)


def _sort_value_field(key: str):
    if key == "sort_total":
        return SORT_TOTAL_FIELD
    return AmazonOrder._meta.get_field(key)


def order_cursor_decode(cursor: str, *, sort: str) -> OrderCursor:
    """Read an All Orders page cursor made for this sort; raises InvalidCursor."""
    return cursor_decode(
        cursor, sort=sort, value_field=_sort_value_field(ORDER_SORTS[sort]), model=AmazonOrder
    )


class AmazonOrderFilterSet(ListFilterSet):
    """All Orders' filters (OrderFilters) of one store's orders, in the order of its chips."""

    purchase_date_from = Filter(method="purchase_date_from_filter")
    purchase_date_to = Filter(method="purchase_date_to_filter")
    order_number = Filter(field_name="amazon_order_id", lookup_expr="icontains")
    buyer_name = Filter(method="buyer_name_filter")
    total_min = Filter(field_name="order_total", lookup_expr="gte")
    total_max = Filter(field_name="order_total", lookup_expr="lte")
    status = Filter(field_name="status")
    attention = Filter(method="attention_filter")

    class Meta:
        model = AmazonOrder
        fields: ClassVar[list[str]] = []

    def __init__(self, *args, store: Store, **kwargs):
        super().__init__(*args, **kwargs)
        self.store = store

    def purchase_date_from_filter(self, orders, name, day):
        return orders.filter(purchase_date_q(day, None))

    def purchase_date_to_filter(self, orders, name, day):
        return orders.filter(purchase_date_q(None, day))

    def buyer_name_filter(self, orders, name, buyer_name):
        # Accents ignored: "Muller" finds "Müller" (its trigram index on PostgreSQL).
        return orders.filter(UnaccentedIContains(F("buyer_name"), buyer_name))

    def attention_filter(self, orders, name, attention):
        return orders.filter(attention_q(attention, store=self.store))


def _filtered_orders(store: Store, filters: OrderFilters) -> QuerySet[AmazonOrder]:
    return AmazonOrderFilterSet.filtered(
        AmazonOrder.objects.filter(store=store), asdict(filters), store=store
    )


def amazon_order_list(
    *,
    store: Store,
    filters: OrderFilters,
    sort: str = "purchase_date",
    is_descending: bool = True,
    cursor: OrderCursor | None = None,
    page_size: int = ORDERS_PAGE_SIZE,
) -> OrderPage:
    """All Orders: one page of the store's filtered orders in one query, keyset-paginated on
    (sort key, id), so that page 10,000 costs what page 1 does; and one count of the matching
    orders, capped at ORDER_COUNT_CAP.

    A cursor carries the sort key and id of the row it starts after, and whether it leads
    backwards (Previous); reading page_size + 1 rows says whether there is a page beyond.

    Kept under the store's mark (the filters read only the rows it follows; the dates are
    days of the current time zone, part of the key).
    """
    return cached_under_mark(
        store,
        namespace="order-list-1",
        variant=repr(
            (
                filters,
                sort,
                is_descending,
                cursor,
                page_size,
                timezone.get_current_timezone_name(),
            )
        ),
        compute=lambda: _amazon_order_page(
            store=store,
            filters=filters,
            sort=sort,
            is_descending=is_descending,
            cursor=cursor,
            page_size=page_size,
        ),
    )


def _amazon_order_page(
    *,
    store: Store,
    filters: OrderFilters,
    sort: str,
    is_descending: bool,
    cursor: OrderCursor | None,
    page_size: int,
) -> OrderPage:
    key = ORDER_SORTS[sort]
    filtered = _filtered_orders(store, filters)
    orders = (
        filtered.defer(*UNSHOWN_ORDER_FIELDS)
        .annotate(
            sort_total=Coalesce("order_total", Value(MISSING_TOTAL), output_field=SORT_TOTAL_FIELD)
        )
        .select_related("cancellation", "commerce_order")
    )
    page = keyset_page(
        orders,
        sort=sort,
        key=key,
        value_field=_sort_value_field(key),
        is_descending=is_descending,
        cursor=cursor,
        page_size=page_size,
        marks_backward=True,
    )
    match_count = filtered.values("pk")[: ORDER_COUNT_CAP + 1].count()
    return OrderPage(
        orders=page.rows,
        next_cursor=page.next_cursor,
        previous_cursor=page.previous_cursor,
        match_count=min(match_count, ORDER_COUNT_CAP),
        is_count_capped=match_count > ORDER_COUNT_CAP,
    )


@dataclass(frozen=True)
class NotificationsStatus:
    """What Order Settings shows of a store's notifications."""

    is_configured: bool
    is_on: bool
    since: datetime | None = None  # when the seller's subscriptions were made
    notification_types: tuple = ()
    failure: list | None = None  # the notes of the last failure, newer than the subscriptions
    is_store_active: bool = True
    last_notification_at: datetime | None = None


def store_notifications_status(store: Store) -> NotificationsStatus:
    """On, with since when and which types, when the seller's subscriptions for the store's
    endpoint and application are recorded; else Off, and why: not configured, the store is
    inactive, or the last failure. Three queries at most."""
    last_notification_at = store.last_notification_at
    if not notifications_configured():
        return NotificationsStatus(
            is_configured=False, is_on=False, last_notification_at=last_notification_at
        )
    subscriptions = list(
        NotificationSubscription.objects.filter(
            seller_id=store.seller_id,
            destination__sp_api_endpoint=store.sp_api_endpoint,
            destination__application_key=application_key(store.lwa_client_id),
        ).order_by("created_at")
    )
    last = last_notifications_event(store)
    failure = last.notes if last and last.kind == StoreEvent.Kind.NOTIFICATIONS_FAILED else None
    kinds = tuple(sorted({subscription.notification_type for subscription in subscriptions}))
    is_on = store.is_active and set(kinds) >= set(PAYLOAD_VERSIONS)
    return NotificationsStatus(
        is_configured=True,
        is_on=is_on,
        since=subscriptions[0].created_at if subscriptions else None,
        notification_types=kinds,
        failure=failure,
        is_store_active=store.is_active,
        last_notification_at=last_notification_at,
    )
