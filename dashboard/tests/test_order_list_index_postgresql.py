"""All Orders pages through the one keyset paginator (commerce_orders.keyset): a later page
enters the store's (sort key, id) index at its cursor, as the Orders grid's pages do."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from amazon_channel.selectors import OrderFilters, amazon_order_list, order_cursor_decode
from amazon_channel.tests.factories import AmazonOrderFactory, StoreFactory

pytestmark = [pytest.mark.django_db, pytest.mark.postgresql]

SORT_INDEXES = {
    "purchase_date": "amazon_order_store_recent",
    "status": "amazon_order_store_status",
    "buyer_name": "amazon_order_store_buyer",
}


def query_plan(sql: str) -> str:
    with connection.cursor() as cursor:
        # A test table is tiny: make the planner show whether an index can serve the page.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_sort = off")
        cursor.execute("SET LOCAL enable_incremental_sort = off")
        cursor.execute(f"EXPLAIN {sql}")
        return "\n".join(row[0] for row in cursor.fetchall())


@pytest.mark.parametrize("sort", sorted(SORT_INDEXES))
def test_a_second_all_orders_page_starts_at_its_cursor_in_the_sort_keys_index(sort):
    store = StoreFactory()
    for index in range(5):
        AmazonOrderFactory(
            store=store, status="Unshipped", buyer_name="Erika", order_total=Decimal(index)
        )
    first = amazon_order_list(store=store, filters=OrderFilters(), sort=sort, page_size=2)
    cursor = order_cursor_decode(first.next_cursor, sort=sort)

    with CaptureQueriesContext(connection) as queries:
        second = amazon_order_list(
            store=store, filters=OrderFilters(), sort=sort, cursor=cursor, page_size=2
        )
    plan = query_plan(queries.captured_queries[0]["sql"])

    assert len(second.orders) == 2
    # The index of (store, sort key, id), entered at the cursor: the row comparison is part
    # of its Index Cond, not a filter over every row of the store before it.
    assert SORT_INDEXES[sort] in plan, plan
    index_conditions = [line for line in plan.splitlines() if "Index Cond" in line]
    assert any("ROW(" in line for line in index_conditions), plan
