import csv
import datetime
import io
from collections.abc import Iterator
from decimal import Decimal

import pytest

from commerce_orders.keyset import InvalidCursor
from commerce_orders.models import CommerceOrder, OrderAction, OrderAddress
from commerce_orders.selectors import (
    order_actions_available,
    order_export_rows,
    order_grid,
    order_statuses_in_use,
    order_view,
)
from commerce_orders.services import (
    creditmemo_create,
    invoice_create,
    order_comment_add,
    order_hold,
    shipment_create,
)
from commerce_orders.tests.factories import (
    CommerceOrderFactory,
    order_items_by_sku,
    placed_order,
)

pytestmark = pytest.mark.django_db


# The orders grid


def orders_at(*specs):
    """Orders whose created_at is `base + minutes`; specs are (minutes, overrides) pairs."""
    base = datetime.datetime(2025, 3, 10, 12, 0, tzinfo=datetime.UTC)
    orders = []
    for minutes, overrides in specs:
        order = CommerceOrderFactory(**overrides)
        CommerceOrder.objects.filter(pk=order.pk).update(
            created_at=base + datetime.timedelta(minutes=minutes)
        )
        order.refresh_from_db()
        orders.append(order)
    return orders


def numbers(page):
    return [order.increment_id for order in page.orders]


def walk_forward(**arguments):
    seen, cursor = [], None
    while True:
        page = order_grid(after_cursor=cursor, **arguments)
        seen.extend(numbers(page))
        if not page.has_next:
            return seen, page
        cursor = page.next_cursor


def test_order_grid_lists_the_newest_orders_first_by_default():
    older, newer = orders_at((0, {}), (5, {}))

    page = order_grid()

    assert numbers(page) == [newer.increment_id, older.increment_id]
    assert (page.next_cursor, page.previous_cursor) == (None, None)


@pytest.mark.parametrize(
    "sort",
    [
        "created_at",
        "-created_at",
        "grand_total",
        "-grand_total",
        "customer_name",
        "-customer_name",
        "status",
        "-status",
        "increment_id",
        "-increment_id",
    ],
)
def test_keyset_pages_give_each_order_exactly_once_in_sort_order_despite_ties(sort):
    # Four timestamps, three totals, names and statuses for 11 orders: ties everywhere, broken
    # by id.
    orders = orders_at(
        *[
            (
                index % 4,
                {
                    "grand_total": Decimal(10 * (index % 3)),
                    "customer_name": f"Name {index % 2}",
                    "status": ("processing", "complete", "amazon_picking")[index % 3],
                },
            )
            for index in range(11)
        ]
    )
    field = sort.removeprefix("-")
    expected = sorted(orders, key=lambda order: (getattr(order, field), order.pk))
    if sort.startswith("-"):
        expected.reverse()

    seen, last_page = walk_forward(sort=sort, page_size=3)

    assert seen == [order.increment_id for order in expected]
    assert len(last_page.orders) == 2


def test_previous_pages_walk_back_to_the_first_page():
    orders_at(*[(index // 2, {}) for index in range(7)])
    first = order_grid(page_size=3)
    second = order_grid(page_size=3, after_cursor=first.next_cursor)
    third = order_grid(page_size=3, after_cursor=second.next_cursor)

    back_to_second = order_grid(page_size=3, before_cursor=third.previous_cursor)
    back_to_first = order_grid(page_size=3, before_cursor=back_to_second.previous_cursor)

    assert numbers(back_to_second) == numbers(second)
    assert numbers(back_to_first) == numbers(first)
    assert back_to_first.previous_cursor is None
    assert back_to_first.next_cursor is not None
    assert len(numbers(first) + numbers(second) + numbers(third)) == 7
    assert third.next_cursor is None


def test_order_grid_searches_number_channel_id_name_and_email_ignoring_case():
    by_number, by_channel_id, by_name, by_email, _other = orders_at(
        (0, {"increment_id": "100000777"}),
        (1, {"external_order_id": "302-7770000-1"}),
        (2, {"customer_name": "Hans Xaver"}),
        (3, {"customer_email": "XAVER@example.com"}),
        (4, {"customer_name": "Erika"}),
    )

    assert set(numbers(order_grid(search="777"))) == {
        by_number.increment_id,
        by_channel_id.increment_id,
    }
    assert set(numbers(order_grid(search=" xaver "))) == {
        by_name.increment_id,
        by_email.increment_id,
    }


def test_order_grid_filters_by_status_channel_dates_and_total():
    # The first matches; then a wrong status, channel, too early, too late, too cheap, too dear.
    match, *_others = orders_at(
        (60, {"status": "processing", "external_channel": "amazon", "grand_total": Decimal(50)}),
        (60, {"status": "new", "external_channel": "amazon", "grand_total": Decimal(50)}),
        (60, {"status": "processing", "external_channel": "", "grand_total": Decimal(50)}),
        (-24 * 60, {"status": "processing", "external_channel": "amazon"}),
        (24 * 60, {"status": "processing", "external_channel": "amazon"}),
        (60, {"status": "processing", "external_channel": "amazon", "grand_total": Decimal(9)}),
        (60, {"status": "processing", "external_channel": "amazon", "grand_total": Decimal(101)}),
    )
    day = datetime.date(2025, 3, 10)

    page = order_grid(
        status="processing",
        channel="amazon",
        purchased_from=day,
        purchased_to=day,
        total_min=Decimal(10),
        total_max=Decimal(100),
    )

    assert numbers(page) == [match.increment_id]


GRID_SORT_INDEXES = {
    "created_at": "commerce_order_created_id",
    "grand_total": "commerce_order_total_id",
    "customer_name": "commerce_order_customer_id",
    "status": "commerce_order_status_id",
    "increment_id": "commerce_orders_commerceorder_increment_id_key",
}


def query_plan(sql: str) -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        # A test table is tiny: make the planner show whether an index can serve the page.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_sort = off")
        # Statistics left by earlier tests may tempt it to sort a single-column index's rows.
        cursor.execute("SET LOCAL enable_incremental_sort = off")
        cursor.execute(f"EXPLAIN {sql}")
        return "\n".join(row[0] for row in cursor.fetchall())


# EXPLAIN and the planner settings are PostgreSQL's own statements.
@pytest.mark.postgresql
@pytest.mark.parametrize("sort", [*GRID_SORT_INDEXES, *(f"-{key}" for key in GRID_SORT_INDEXES)])
def test_a_second_keyset_page_starts_at_its_cursor_in_the_sort_keys_index(sort):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    orders_at(*[(index, {"customer_name": f"Name {index % 3}"}) for index in range(5)])
    first = order_grid(sort=sort, page_size=2)

    with CaptureQueriesContext(connection) as queries:
        order_grid(sort=sort, page_size=2, after_cursor=first.next_cursor)
    plan = query_plan(queries.captured_queries[0]["sql"])

    # The index of (sort key, id), entered at the cursor: an Index Cond, not a filter that
    # reads every row before it.
    assert GRID_SORT_INDEXES[sort.removeprefix("-")] in plan, plan
    assert "Index Cond" in plan, plan
    assert "Seq Scan" not in plan, plan


def test_order_statuses_in_use_lists_each_status_once_in_order():
    for status in ("processing", "amazon_picking", "processing", "new", "amazon_picking"):
        CommerceOrderFactory(status=status)

    assert order_statuses_in_use() == ["amazon_picking", "new", "processing"]


def test_order_statuses_in_use_is_empty_without_orders():
    assert order_statuses_in_use() == []


def test_order_grid_sorts_by_order_number():
    orders_at((0, {"increment_id": "000000002"}), (1, {"increment_id": "000000001"}))

    assert numbers(order_grid(sort="increment_id")) == ["000000001", "000000002"]


def test_order_grid_refuses_a_cursor_made_for_another_sort_and_an_unknown_sort():
    orders_at(*[(index, {}) for index in range(3)])
    cursor = order_grid(page_size=1).next_cursor

    with pytest.raises(InvalidCursor):
        order_grid(sort="grand_total", after_cursor=cursor)
    with pytest.raises(InvalidCursor):
        order_grid(after_cursor="not-a-cursor")
    with pytest.raises(ValueError, match="unknown sort"):
        order_grid(sort="payment_method")


@pytest.mark.parametrize("order_count", [5, 50])
def test_order_grid_reads_a_page_in_two_queries_for_5_or_50_orders(
    django_assert_max_num_queries, order_count
):
    for order in CommerceOrderFactory.create_batch(order_count):
        OrderAddress.objects.create(order=order, address_type="billing", name="Bill")
        OrderAddress.objects.create(order=order, address_type="shipping", name="Ship")
    cursor = order_grid(page_size=2).next_cursor

    with django_assert_max_num_queries(2):
        page = order_grid(search="example", after_cursor=cursor, page_size=20)
        names = [address.name for order in page.orders for address in order.addresses.all()]

    assert len(page.orders) == min(20, order_count - 2)
    assert len(names) == 2 * len(page.orders)


# Export and the order page


def test_order_export_rows_streams_a_header_and_the_selected_orders():
    first, second, _not_selected = orders_at(
        (0, {"increment_id": "000000011", "grand_total": Decimal("12.50")}),
        (1, {"increment_id": "000000012", "external_channel": "amazon"}),
        (2, {}),
    )
    OrderAddress.objects.create(order=first, address_type="billing", name="Bill Payer")
    OrderAddress.objects.create(order=first, address_type="shipping", name="Shi Pee")

    rows = list(order_export_rows(order_ids=[first.pk, second.pk]))

    assert rows[0][:4] == ["ID", "Purchase Date", "Bill-to Name", "Ship-to Name"]
    assert [row[0] for row in rows[1:]] == ["000000012", "000000011"]
    assert rows[2][:6] == [
        "000000011",
        first.created_at.isoformat(),
        "Bill Payer",
        "Shi Pee",
        first.customer_email,
        Decimal("12.50"),
    ]
    assert rows[1][10] == "amazon"
    assert all(len(row) == len(rows[0]) for row in rows)


def test_order_export_rows_is_lazy_and_writes_as_csv():
    order = CommerceOrderFactory(customer_name='Erika "E" Mustermann')
    OrderAddress.objects.create(order=order, address_type="billing", name='Erika "E"')

    rows = order_export_rows(order_ids=[order.pk])
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)

    assert isinstance(rows, Iterator)
    assert '"Erika ""E"""' in buffer.getvalue()


def busy_order():
    order = placed_order()
    invoice_create(actor=None, order=order)
    items = order_items_by_sku(order)
    shipment_create(actor=None, order=order, quantities={items["MUG"].pk: 1}, carrier_code="dhl")
    shipment_create(actor=None, order=order, quantities={items["TEE"].pk: 1}, carrier_code="ups")
    creditmemo_create(actor=None, order=order, quantities={items["MUG"].pk: 1})
    order_comment_add(actor=None, order=order, comment="Noted.")
    return order


def test_order_view_prefetches_the_order_page_in_a_fixed_number_of_queries(
    django_assert_num_queries,
):
    order = busy_order()

    with django_assert_num_queries(10):
        viewed = order_view(order_id=order.pk)
        shown = [
            [item.product.sku for item in viewed.items.all()],
            list(viewed.addresses.all()),
            [len(invoice.items.all()) for invoice in viewed.invoices.all()],
            [len(shipment.items.all()) for shipment in viewed.shipments.all()],
            [len(memo.items.all()) for memo in viewed.credit_memos.all()],
            [(event.actor, event.action) for event in viewed.events.all()],
            order_actions_available(viewed),
        ]

    assert shown[0] == ["MUG", "TEE"]
    assert (shown[2], shown[3], shown[4]) == ([2], [1, 1], [1])
    assert len(shown[5]) == 6
    assert order_view(order_id=0) is None


# The actions open on an order


def test_a_new_order_can_be_invoiced_shipped_held_canceled_commented_and_emailed():
    order = placed_order()

    assert order_actions_available(order) == {
        OrderAction.INVOICE,
        OrderAction.SHIP,
        OrderAction.HOLD,
        OrderAction.CANCEL,
        OrderAction.COMMENT,
        OrderAction.EMAIL,
    }


def test_an_invoiced_order_offers_ship_and_credit_memo_but_no_invoice_or_cancel():
    order = placed_order(customer_email="")
    invoice_create(actor=None, order=order)
    order.refresh_from_db()

    assert order_actions_available(order) == {
        OrderAction.SHIP,
        OrderAction.CREDIT_MEMO,
        OrderAction.HOLD,
        OrderAction.COMMENT,
    }


def test_a_complete_order_offers_only_credit_memo_comment_and_email():
    order = placed_order()
    invoice_create(actor=None, order=order)
    items = order_items_by_sku(order)
    shipment_create(
        actor=None,
        order=order,
        quantities={items["MUG"].pk: 2, items["TEE"].pk: 1},
        carrier_code="dhl",
    )
    order.refresh_from_db()

    assert order_actions_available(order) == {
        OrderAction.CREDIT_MEMO,
        OrderAction.COMMENT,
        OrderAction.EMAIL,
    }


def test_a_held_order_offers_unhold_comment_and_email():
    order = placed_order()
    order_hold(actor=None, order=order)
    order.refresh_from_db()

    assert order_actions_available(order) == {
        OrderAction.UNHOLD,
        OrderAction.COMMENT,
        OrderAction.EMAIL,
    }


def test_a_shipped_but_not_invoiced_order_cannot_be_canceled():
    order = placed_order()
    items = order_items_by_sku(order)
    shipment_create(actor=None, order=order, quantities={items["MUG"].pk: 1}, carrier_code="dhl")
    order.refresh_from_db()

    available = order_actions_available(order)

    assert OrderAction.CANCEL not in available
    assert {OrderAction.INVOICE, OrderAction.SHIP} <= available
    assert OrderAction.CREDIT_MEMO not in available
