"""The one keyset paginator of the order lists: its cursor codec and its page walk."""

import datetime
from decimal import Decimal

import pytest

from commerce_orders.keyset import InvalidCursor, cursor_decode, cursor_encode, keyset_page
from commerce_orders.models import CommerceOrder
from commerce_orders.tests.factories import CommerceOrderFactory

CREATED_AT = CommerceOrder._meta.get_field("created_at")
GRAND_TOTAL = CommerceOrder._meta.get_field("grand_total")
STATUS = CommerceOrder._meta.get_field("status")


def test_a_cursor_reads_back_its_sort_key_id_and_direction():
    moment = datetime.datetime(2025, 3, 10, 12, 30, tzinfo=datetime.UTC)

    cursor = cursor_encode(sort="-created_at", value=moment, order_id=42, is_backward=True)
    decoded = cursor_decode(cursor, sort="-created_at", value_field=CREATED_AT, model=CommerceOrder)

    assert (decoded.value, decoded.order_id, decoded.is_backward) == (moment, 42, True)


def test_a_forward_cursor_does_not_say_backward():
    cursor = cursor_encode(sort="grand_total", value=Decimal("12.50"), order_id=7)

    decoded = cursor_decode(
        cursor, sort="grand_total", value_field=GRAND_TOTAL, model=CommerceOrder
    )

    assert (decoded.value, decoded.order_id, decoded.is_backward) == (Decimal("12.50"), 7, False)


@pytest.mark.parametrize(
    ("value_field", "value", "order_id"),
    [
        (CREATED_AT, "2025-03-10T12:00:00", 1),  # naive: no row has it
        (GRAND_TOTAL, "NaN", 1),
        (GRAND_TOTAL, "1e20", 1),
        (STATUS, "new\x00", 1),
        (STATUS, "new", 2**70),  # beyond the id column
        (STATUS, "new", True),
    ],
)
def test_a_cursor_with_a_value_no_row_can_have_is_invalid(value_field, value, order_id):
    cursor = cursor_encode(sort="s", value=value, order_id=order_id)

    with pytest.raises(InvalidCursor):
        cursor_decode(cursor, sort="s", value_field=value_field, model=CommerceOrder)


def test_a_cursor_made_for_another_sort_or_not_made_at_all_is_invalid():
    cursor = cursor_encode(sort="status", value="new", order_id=1)

    with pytest.raises(InvalidCursor):
        cursor_decode(cursor, sort="-status", value_field=STATUS, model=CommerceOrder)
    with pytest.raises(InvalidCursor):
        cursor_decode("not-a-cursor", sort="status", value_field=STATUS, model=CommerceOrder)


@pytest.mark.django_db
@pytest.mark.parametrize("marks_backward", [True, False])
def test_pages_walk_a_run_of_equal_keys_forwards_and_back_showing_each_row_once(marks_backward):
    orders = [CommerceOrderFactory(status="processing") for _ in range(5)]
    expected = [order.pk for order in sorted(orders, key=lambda order: -order.pk)]

    def page_at(cursor):
        return keyset_page(
            CommerceOrder.objects.all(),
            sort="-status",
            key="status",
            value_field=STATUS,
            is_descending=True,
            cursor=cursor,
            page_size=2,
            marks_backward=marks_backward,
        )

    def decoded(cursor, *, is_backward):
        position = cursor_decode(cursor, sort="-status", value_field=STATUS, model=CommerceOrder)
        assert position.is_backward == (is_backward and marks_backward)
        return type(position)(position.value, position.order_id, is_backward)

    pages = [page_at(None)]
    while pages[-1].next_cursor:
        pages.append(page_at(decoded(pages[-1].next_cursor, is_backward=False)))
    forward = [[row.pk for row in page.rows] for page in pages]
    backward = [forward[-1]]
    page = pages[-1]
    while page.previous_cursor:
        page = page_at(decoded(page.previous_cursor, is_backward=True))
        backward.insert(0, [row.pk for row in page.rows])

    assert forward == [expected[0:2], expected[2:4], expected[4:5]]
    assert backward == forward
    assert pages[0].previous_cursor is None
