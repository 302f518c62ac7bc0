"""Keyset pagination for the order lists (the Orders grid here, Amazon's All Orders above it).

A page is read after (or before) the (sort key, id) of a row, never at an offset, so that page
10,000 costs what page 1 does. Its links carry an opaque cursor: the sort it was made for, the
row's sort key and id, and, for a list with one cursor parameter, whether it leads backwards.
"""

import base64
import binascii
import dataclasses
import datetime
import json
from decimal import Decimal, InvalidOperation

from django.db import connection, models
from django.db.models import F, Func, QuerySet, Value
from django.db.models.lookups import GreaterThan, LessThan, Lookup
from django.utils import timezone


class InvalidCursor(ValueError):
    """A page link that cannot be read (edited by hand, or made for another sort)."""


@dataclasses.dataclass(frozen=True)
class OrderCursor:
    """Where a page starts: after (or, backwards, before) the row with this sort key and id."""

    value: object
    order_id: int
    is_backward: bool = False


@dataclasses.dataclass
class KeysetPage:
    rows: list = dataclasses.field(default_factory=list)
    next_cursor: str | None = None
    previous_cursor: str | None = None


# What a cursor may carry: the values of real rows. A page link is the user's to edit, so
# anything else (an id or amount the database cannot hold, a NUL byte PostgreSQL refuses in a
# query, a time that leaves the calendar in UTC) is an InvalidCursor, never a failing query.
LARGEST_CURSOR_TOTAL = Decimal(10) ** 12


def _value_dump(value) -> str:
    if isinstance(value, datetime.datetime):
        return value.isoformat()
    return str(value)


def _value_load(value_field: models.Field, raw: str):
    if isinstance(value_field, models.DateTimeField):
        parsed = datetime.datetime.fromisoformat(raw)
        if timezone.is_naive(parsed):
            raise InvalidCursor(raw)
        parsed.astimezone(datetime.UTC)  # OverflowError near year 1 or 9999
        return parsed
    if isinstance(value_field, models.DecimalField):
        total = Decimal(raw)
        if not total.is_finite() or abs(total) >= LARGEST_CURSOR_TOTAL:
            raise InvalidCursor(raw)
        return total
    if "\x00" in raw:
        raise InvalidCursor(raw)
    return raw


def _id_load(model: type[models.Model], value) -> int:
    lowest, highest = connection.ops.integer_field_range(model._meta.pk.get_internal_type())
    if isinstance(value, bool) or not isinstance(value, int) or not lowest <= value <= highest:
        raise InvalidCursor(str(value))
    return value


def cursor_encode(*, sort: str, value, order_id: int, is_backward: bool = False) -> str:
    """An opaque cursor: `sort` (as the list names it), the row's sort key and its id; a
    backward cursor says so."""
    payload = {"s": sort, "v": _value_dump(value), "i": order_id}
    if is_backward:
        payload["b"] = 1
    raw = json.dumps(payload, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def cursor_decode(
    cursor: str, *, sort: str, value_field: models.Field, model: type[models.Model]
) -> OrderCursor:
    """The OrderCursor of a cursor made by cursor_encode for `sort`, its sort key read as
    `value_field` holds it and its id as `model`'s primary key; raises InvalidCursor."""
    try:
        payload = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if payload["s"] != sort:
            raise InvalidCursor(cursor)
        return OrderCursor(
            value=_value_load(value_field, str(payload["v"])),
            order_id=_id_load(model, payload["i"]),
            is_backward=bool(payload.get("b")),
        )
    except (
        binascii.Error,
        UnicodeDecodeError,
        json.JSONDecodeError,
        KeyError,
        TypeError,
        ValueError,
        InvalidOperation,
        OverflowError,
        RecursionError,
    ) as error:
        raise InvalidCursor(cursor) from error


class _Row(Func):
    """A row value, `(a, b)`, for comparing (sort key, id) pairs in one go."""

    function = ""
    template = "(%(expressions)s)"


def _beyond_cursor(
    key: str, value_field: models.Field, model: type[models.Model], comparison: str, cursor
) -> Lookup:
    """(sort key, id) > (or <) the cursor's, as one row comparison: PostgreSQL makes it the
    index condition of the (sort key, id) index scan, so a page starts at the cursor even deep
    in a long run of equal keys (a million orders share a handful of statuses). Written as
    `key > v OR (key = v AND id > i)` it would only filter, reading every row before it."""
    lookup = LessThan if comparison == "lt" else GreaterThan
    # The values are prepared by their own fields; the row itself has no type to cast to.
    row_field = models.Field()
    return lookup(
        _Row(F(key), F("pk"), output_field=row_field),
        _Row(
            Value(cursor.value, output_field=value_field),
            Value(cursor.order_id, output_field=model._meta.pk),
            output_field=row_field,
        ),
    )


def keyset_page(
    rows: QuerySet,
    *,
    sort: str,
    key: str,
    value_field: models.Field,
    is_descending: bool,
    cursor: OrderCursor | None,
    page_size: int,
    marks_backward: bool,
) -> KeysetPage:
    """One page of `rows` ordered by (`key`, id), in one query of page_size + 1 rows (the one
    more says whether a page lies beyond), starting after `cursor` (or before it, when the
    cursor leads backwards). `value_field` is the field that holds `key` (a model field, or an
    annotation's output field). The page's cursors name `sort`; `marks_backward` puts the
    direction in the previous page's cursor (a list with one cursor parameter), else the list
    says it by the parameter it passes the cursor in."""
    is_backward = cursor is not None and cursor.is_backward
    # Walking backwards reads the reverse order, then flips the page.
    reads_descending = is_descending != is_backward
    if cursor is not None:
        comparison = "lt" if reads_descending else "gt"
        rows = rows.filter(_beyond_cursor(key, value_field, rows.model, comparison, cursor))
    prefix = "-" if reads_descending else ""
    found = list(rows.order_by(f"{prefix}{key}", f"{prefix}pk")[: page_size + 1])
    has_more = len(found) > page_size
    found = found[:page_size]
    if is_backward:
        found.reverse()
        has_next, has_previous = True, has_more
    else:
        has_next, has_previous = has_more, cursor is not None
    page = KeysetPage(rows=found)
    if found and has_next:
        last = found[-1]
        page.next_cursor = cursor_encode(sort=sort, value=getattr(last, key), order_id=last.pk)
    if found and has_previous:
        first = found[0]
        page.previous_cursor = cursor_encode(
            sort=sort, value=getattr(first, key), order_id=first.pk, is_backward=marks_backward
        )
    return page
