"""Reads of the store's order system."""

import dataclasses
import datetime
import itertools
from collections.abc import Iterable, Iterator
from decimal import Decimal
from typing import ClassVar

from django.db import connection
from django.db.models import F, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _

from commerce_orders.keyset import cursor_decode, keyset_page
from commerce_orders.list_filters import Filter, ListFilterSet
from commerce_orders.models import (
    ORDER_TRANSITIONS,
    CommerceOrder,
    CommerceOrderEvent,
    CommerceOrderItem,
    CreditMemo,
    Invoice,
    OrderAction,
    OrderAddress,
    Shipment,
)
from commerce_orders.search import UnaccentedIContains

# What a merchant can do on the order page, and what each needs beyond the transition table.
MERCHANT_ACTIONS = (
    OrderAction.INVOICE,
    OrderAction.SHIP,
    OrderAction.CREDIT_MEMO,
    OrderAction.HOLD,
    OrderAction.UNHOLD,
    OrderAction.CANCEL,
    OrderAction.COMMENT,
    OrderAction.EMAIL,
)


def order_actions_available(order: CommerceOrder) -> set[OrderAction]:
    """The merchant actions (buttons) open on `order`: the transition table for its state,
    narrowed by its quantities. Invoice needs a unit left to invoice, Ship a unit left to ship,
    Credit Memo money paid and not refunded, Cancel no invoiced or shipped unit and something not
    canceled, Send Email a customer email. Uses `order.items.all()` (prefetched by order_view),
    so it reads the items at most once. The services re-check all of it under the row lock.
    """
    allowed = {
        action for action in MERCHANT_ACTIONS if order.state in ORDER_TRANSITIONS[action].sources
    }
    items = list(order.items.all())
    conditions = {
        OrderAction.INVOICE: any(item.quantity_to_invoice for item in items),
        OrderAction.SHIP: any(item.quantity_to_ship for item in items),
        OrderAction.CREDIT_MEMO: order.total_paid > order.total_refunded,
        OrderAction.CANCEL: not any(
            item.quantity_invoiced or item.quantity_shipped for item in items
        )
        and any(item.quantity_ordered > item.quantity_canceled for item in items),
        OrderAction.EMAIL: bool(order.customer_email),
    }
    return {action for action in allowed if conditions.get(action, True)}


# The orders grid: filters, search, sorting and keyset pagination, never a COUNT.


@dataclasses.dataclass
class OrderGridPage:
    orders: list[CommerceOrder] = dataclasses.field(default_factory=list)
    next_cursor: str | None = None
    previous_cursor: str | None = None

    @property
    def has_next(self) -> bool:
        return self.next_cursor is not None

    @property
    def has_previous(self) -> bool:
        return self.previous_cursor is not None


# Sort name -> model field; each is paired with id to make the keyset total.
ORDER_GRID_SORTS = ("created_at", "increment_id", "grand_total", "customer_name", "status")


def order_grid_cursor_decode(cursor: str, *, sort: str) -> tuple[object, int]:
    """(sort key, id) of a grid page cursor made for `sort`; raises InvalidCursor."""
    decoded = cursor_decode(
        cursor,
        sort=sort,
        value_field=CommerceOrder._meta.get_field(sort.removeprefix("-")),
        model=CommerceOrder,
    )
    return decoded.value, decoded.order_id


def _day_start(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(
        datetime.datetime.combine(day, datetime.time.min), timezone.get_current_timezone()
    )


class OrderGridFilterSet(ListFilterSet):
    """The Orders grid's filters (see order_grid)."""

    # In the order of the grid's chips.
    search = Filter(method="search_filter")
    status = Filter(field_name="status")
    purchased_from = Filter(method="purchased_from_filter")
    purchased_to = Filter(method="purchased_to_filter")
    total_min = Filter(field_name="grand_total", lookup_expr="gte")
    total_max = Filter(field_name="grand_total", lookup_expr="lte")
    channel = Filter(field_name="external_channel")

    class Meta:
        model = CommerceOrder
        fields: ClassVar[list[str]] = []

    def search_filter(self, orders, name, search):
        search = search.strip()
        if not search:
            return orders
        return orders.filter(
            Q(increment_id__icontains=search)
            | Q(external_order_id__icontains=search)
            | Q(UnaccentedIContains(F("customer_name"), search))
            | Q(customer_email__icontains=search)
        )

    # A date means the whole day in the current time zone; a datetime is taken as it is.
    def purchased_from_filter(self, orders, name, purchased_from):
        if not isinstance(purchased_from, datetime.datetime):
            purchased_from = _day_start(purchased_from)
        return orders.filter(created_at__gte=purchased_from)

    def purchased_to_filter(self, orders, name, purchased_to):
        if isinstance(purchased_to, datetime.datetime):
            return orders.filter(created_at__lte=purchased_to)
        if purchased_to < datetime.date.max:  # date.max has no day after: open-ended
            return orders.filter(
                created_at__lt=_day_start(purchased_to + datetime.timedelta(days=1))
            )
        return orders


def _filtered_orders(**values) -> QuerySet[CommerceOrder]:
    return OrderGridFilterSet.filtered(CommerceOrder.objects.all(), values)


def order_grid(
    *,
    search: str = "",
    status: str = "",
    channel: str = "",
    purchased_from: datetime.date | datetime.datetime | None = None,
    purchased_to: datetime.date | datetime.datetime | None = None,
    total_min: Decimal | None = None,
    total_max: Decimal | None = None,
    sort: str = "-created_at",
    after_cursor: str | None = None,
    before_cursor: str | None = None,
    page_size: int = 20,
) -> OrderGridPage:
    """One page of the orders grid in two queries (the orders, their addresses), whatever the
    page and the number of orders: keyset pagination on (sort key, id), page_size + 1 rows read
    to know whether a next page exists, nothing counted.

    `search` matches order number, channel order id, customer name or email (case-insensitive,
    substring; the name also ignoring accents); `status` and `channel` are exact;
    `purchased_from` / `purchased_to` are inclusive (a date covers its whole day in the current
    time zone); `total_min` / `total_max` bound the grand total. `sort` is one of
    ORDER_GRID_SORTS, "-" for descending. Give `after_cursor` (a page's next_cursor) or
    `before_cursor` (its previous_cursor), not both. Raises ValueError for an unknown sort, both
    cursors or page_size < 1; InvalidCursor (a ValueError) for a cursor that cannot be read or
    was made for another sort.
    """
    field = sort.removeprefix("-")
    if field not in ORDER_GRID_SORTS:
        raise ValueError(f"unknown sort {sort!r}")
    if after_cursor and before_cursor:
        raise ValueError("give after_cursor or before_cursor, not both")
    if page_size < 1:
        raise ValueError("page_size must be positive")
    cursor = after_cursor or before_cursor
    orders = _filtered_orders(
        search=search,
        status=status,
        channel=channel,
        purchased_from=purchased_from,
        purchased_to=purchased_to,
        total_min=total_min,
        total_max=total_max,
    ).prefetch_related("addresses")
    value_field = CommerceOrder._meta.get_field(field)
    position = None
    if cursor:
        position = cursor_decode(cursor, sort=sort, value_field=value_field, model=CommerceOrder)
        position = dataclasses.replace(position, is_backward=bool(before_cursor))
    page = keyset_page(
        orders,
        sort=sort,
        key=field,
        value_field=value_field,
        is_descending=sort.startswith("-"),
        cursor=position,
        page_size=page_size,
        marks_backward=False,
    )
    return OrderGridPage(
        orders=page.rows, next_cursor=page.next_cursor, previous_cursor=page.previous_cursor
    )


STATUSES_IN_USE_LIMIT = 100


def order_statuses_in_use() -> list[str]:
    """The distinct order statuses, sorted: the states' own and any custom status a store gave
    its orders. One recursive query that steps through the (status, id) index from one status
    to the next (a loose index scan), so it costs one index probe per status, not a read of
    every order. At most STATUSES_IN_USE_LIMIT."""
    table = connection.ops.quote_name(CommerceOrder._meta.db_table)
    column = connection.ops.quote_name(CommerceOrder._meta.get_field("status").column)
    sql = f"""
        WITH RECURSIVE statuses (status, depth) AS (
            SELECT MIN({column}), 1 FROM {table}
            UNION ALL
            SELECT (SELECT MIN({column}) FROM {table} WHERE {column} > statuses.status),
                   depth + 1
            FROM statuses
            WHERE statuses.status IS NOT NULL AND depth < %s
        )
        SELECT status FROM statuses WHERE status IS NOT NULL ORDER BY status
    """  # noqa: S608 (the names come from the model, the limit is a parameter)
    with connection.cursor() as cursor:
        cursor.execute(sql, [STATUSES_IN_USE_LIMIT])
        return [status for (status,) in cursor.fetchall()]


def _address_name(address_type: str) -> Subquery:
    return Subquery(
        OrderAddress.objects.filter(order=OuterRef("pk"), address_type=address_type).values("name")[
            :1
        ]
    )


def order_export_rows(*, order_ids: Iterable[int]) -> Iterator[list]:
    """The CSV rows of "export the selection": a header row, then one row per order in the grid's
    default order (newest first). Texts are str, amounts Decimal (the writer tells them apart).
    One query read in chunks, never the whole set in memory; it runs before this returns, so
    that a query that fails does so before a streamed response sends its first byte. Unknown
    ids are left out."""
    header = [
        _("ID"),
        _("Purchase Date"),
        _("Bill-to Name"),
        _("Ship-to Name"),
        _("Customer Email"),
        _("Grand Total"),
        _("Total Paid"),
        _("Total Refunded"),
        _("Currency"),
        _("Status"),
        _("Sales Channel"),
        _("Channel Order ID"),
    ]
    rows = (
        CommerceOrder.objects.filter(pk__in=list(order_ids))
        .annotate(
            billing_name=_address_name(OrderAddress.AddressType.BILLING),
            shipping_name=_address_name(OrderAddress.AddressType.SHIPPING),
        )
        .order_by("-created_at", "-pk")
        .values_list(
            "increment_id",
            "created_at",
            "billing_name",
            "shipping_name",
            "customer_email",
            "grand_total",
            "total_paid",
            "total_refunded",
            "currency",
            "status",
            "external_channel",
            "external_order_id",
        )
    )
    chunks = rows.iterator(chunk_size=500)
    first = next(chunks, None)  # runs the query now
    found = itertools.chain([first], chunks) if first is not None else iter(())
    return itertools.chain([header], (_export_row(row) for row in found))


def _export_row(row: tuple) -> list:
    number, created_at, billing, shipping, *rest = row
    return [number, created_at.isoformat(), billing or "", shipping or "", *rest]


def order_view(*, order_id: int) -> CommerceOrder | None:
    """The order page's order with everything it shows prefetched, in a fixed number of queries
    (ten) however many items, documents and history rows it has: items (with product),
    addresses, invoices, shipments and credit memos (each with items), history (with user,
    newest first). None when there is no such order."""
    return (
        CommerceOrder.objects.select_related("customer")
        .prefetch_related(
            Prefetch("items", queryset=CommerceOrderItem.objects.select_related("product")),
            "addresses",
            Prefetch("invoices", queryset=Invoice.objects.prefetch_related("items")),
            Prefetch("shipments", queryset=Shipment.objects.prefetch_related("items")),
            Prefetch("credit_memos", queryset=CreditMemo.objects.prefetch_related("items")),
            Prefetch("events", queryset=CommerceOrderEvent.objects.select_related("actor")),
        )
        .filter(pk=order_id)
        .first()
    )
