"""All Orders: filters with chips, sorting and keyset pagination."""

from datetime import datetime, timedelta
from decimal import Decimal
from urllib.parse import parse_qs

import pytest
from django.urls import reverse
from django.utils import timezone

from amazon_channel.models import AmazonOrder
from amazon_channel.selectors import OrderFilters, amazon_order_list, order_cursor_decode
from amazon_channel.stores.changes import marks_kept
from amazon_channel.tests.factories import AmazonOrderFactory, StoreFactory
from commerce_orders.tests.factories import CommerceOrderFactory
from dashboard.tests.factories import CancellationFactory
from dashboard.tests.queries import permission_queries_again

pytestmark = pytest.mark.django_db


@pytest.fixture
def store():
    return StoreFactory()


def all_orders(client, store, **params):
    return client.get(reverse("dashboard:order_list", args=[store.pk]), params)


def shown_ids(response):
    return [order.amazon_order_id for order in response.context["page"].orders]


def walk_pages(client, store, **params):
    """Follow Next to the end, then Previous back to the start; returns both walks of ids."""
    forward, pages = [], []
    response = all_orders(client, store, **params)
    while True:
        pages.append(shown_ids(response))
        forward += shown_ids(response)
        cursor = response.context["page"].next_cursor
        if cursor is None:
            break
        response = all_orders(client, store, **params, cursor=cursor)
    backward = list(pages[-1])
    while response.context["page"].previous_cursor:
        response = all_orders(
            client, store, **params, cursor=response.context["page"].previous_cursor
        )
        backward = shown_ids(response) + backward
    return forward, backward, pages


def test_filters_narrow_the_orders_and_show_a_chip_each(merchant_client, store):
    day = timezone.make_aware(datetime(2025, 3, 10, 12))
    match = AmazonOrderFactory(
        store=store,
        buyer_name="Erika Mustermann",
        purchase_date=day,
        order_total=Decimal("50.00"),
        status="Unshipped",
    )
    AmazonOrderFactory(
        store=store, buyer_name="Erika Mustermann", purchase_date=day, order_total=Decimal("500.00")
    )
    AmazonOrderFactory(
        store=store, buyer_name="Max Muster", purchase_date=day, order_total=Decimal("50.00")
    )
    AmazonOrderFactory(
        store=store,
        buyer_name="Erika Mustermann",
        purchase_date=day - timedelta(days=5),
        order_total=Decimal("50.00"),
    )
    AmazonOrderFactory(
        store=store,
        buyer_name="Erika Mustermann",
        purchase_date=day,
        order_total=Decimal("50.00"),
        status="Shipped",
    )
    AmazonOrderFactory(store=StoreFactory(), buyer_name="Erika Mustermann", purchase_date=day)
    params = {
        "purchase_date_from": "2025-03-10",
        "purchase_date_to": "2025-03-10",
        "buyer_name": "erika",
        "total_min": "10",
        "total_max": "100",
        "status": "Unshipped",
    }

    response = all_orders(merchant_client, store, **params)

    assert shown_ids(response) == [match.amazon_order_id]
    chips = {chip["name"]: chip for chip in response.context["chips"]}
    assert set(chips) == set(params)
    assert chips["status"]["value"] == "Unshipped"
    without_buyer = parse_qs(chips["buyer_name"]["query"])
    assert "buyer_name" not in without_buyer
    assert without_buyer["status"] == ["Unshipped"]
    assert f'href="?{chips["buyer_name"]["query"]}"' in response.content.decode().replace(
        "&amp;", "&"
    )


def test_removing_a_chip_removes_only_that_filter(merchant_client, store):
    AmazonOrderFactory(store=store, buyer_name="Erika", status="Unshipped")
    AmazonOrderFactory(store=store, buyer_name="Erika", status="Shipped")
    first = all_orders(merchant_client, store, buyer_name="Erika", status="Shipped")
    chip = next(chip for chip in first.context["chips"] if chip["name"] == "status")

    response = merchant_client.get(
        reverse("dashboard:order_list", args=[store.pk]) + "?" + chip["query"]
    )

    assert len(shown_ids(response)) == 2
    assert [chip["name"] for chip in response.context["chips"]] == ["buyer_name"]


def test_the_order_number_filter_finds_part_of_a_number(merchant_client, store):
    wanted = AmazonOrderFactory(store=store, amazon_order_id="302-1111111-2222222")
    AmazonOrderFactory(store=store, amazon_order_id="302-3333333-4444444")

    response = all_orders(merchant_client, store, order_number="1111111")

    assert shown_ids(response) == [wanted.amazon_order_id]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"purchase_date_from": "yesterday"}, "purchase_date_from"),
        (
            {"purchase_date_from": "2025-03-10", "purchase_date_to": "2025-03-01"},
            "purchase_date_to",
        ),
        ({"total_min": "lots"}, "total_min"),
        ({"total_min": "10", "total_max": "5"}, "total_max"),
        ({"total_min": "-1"}, "total_min"),
        ({"status": "Lost"}, "status"),
        ({"sort": "buyer_email"}, "sort"),
        ({"cursor": "not-a-cursor"}, "cursor"),
        ({"cursor": "eyJzIjoiIn0"}, "cursor"),
    ],
)
def test_a_bad_filter_value_gets_a_message_not_a_500(merchant_client, store, params, field):
    AmazonOrderFactory(store=store)

    response = all_orders(merchant_client, store, **params)

    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert len(shown_ids(response)) == 1
    assert 'role="alert"' in response.content.decode()


@pytest.mark.parametrize(
    ("sort", "key"),
    [
        ("purchase_date", lambda order: (order.purchase_date, order.pk)),
        ("order_number", lambda order: (order.amazon_order_id, order.pk)),
        ("grand_total", lambda order: (order.order_total or Decimal(-1), order.pk)),
        ("status", lambda order: (order.status, order.pk)),
    ],
)
@pytest.mark.parametrize("direction", ["asc", "desc"])
def test_keyset_pages_give_every_order_exactly_once_in_order(
    merchant_client, store, sort, key, direction
):
    base = timezone.now()
    statuses = ["Unshipped", "Shipped", "Pending", "Canceled"]
    for index in range(57):
        AmazonOrderFactory(
            store=store,
            # Ties on every sort key, so that the id decides.
            purchase_date=base - timedelta(hours=index // 3),
            order_total=None if index % 10 == 0 else Decimal(index % 7) + Decimal("0.99"),
            status=statuses[index % 4],
        )
    AmazonOrderFactory.create_batch(3, store=StoreFactory())
    expected = sorted(AmazonOrder.objects.filter(store=store), key=key, reverse=direction == "desc")

    forward, backward, pages = walk_pages(merchant_client, store, sort=sort, direction=direction)

    assert forward == [order.amazon_order_id for order in expected]
    assert backward == forward
    assert [len(page) for page in pages] == [25, 25, 7]


def test_the_first_page_has_no_previous_and_the_last_no_next(merchant_client, store):
    AmazonOrderFactory.create_batch(25, store=store)

    response = all_orders(merchant_client, store)

    assert response.context["page"].previous_cursor is None
    assert response.context["page"].next_cursor is None
    assert 'rel="next"' not in response.content.decode()


def test_sort_links_toggle_the_direction_and_drop_the_cursor(merchant_client, store):
    AmazonOrderFactory.create_batch(30, store=store)
    first = all_orders(merchant_client, store, sort="grand_total", direction="desc", status="")
    second = all_orders(
        merchant_client,
        store,
        sort="grand_total",
        direction="desc",
        cursor=first.context["page"].next_cursor,
    )

    content = second.content.decode().replace("&amp;", "&")

    assert "sort=grand_total&direction=asc" in content
    assert "sort=order_number&direction=desc" in content
    hrefs = [part.split('"')[0] for part in content.split('href="?')[1:]]
    sort_links = [href for href in hrefs if "sort=order_number" in href]
    assert sort_links
    assert all("cursor=" not in href for href in sort_links)


def test_a_cursor_made_for_another_sort_is_refused(merchant_client, store):
    AmazonOrderFactory.create_batch(30, store=store)
    cursor = all_orders(merchant_client, store).context["page"].next_cursor

    response = all_orders(merchant_client, store, sort="status", cursor=cursor)

    assert "cursor" in response.context["form"].errors
    assert order_cursor_decode(cursor, sort="purchase_date").order_id > 0


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(("order_count", "rows_shown"), [(5, 2), (50, 25)])
def test_all_orders_use_the_same_queries_for_5_or_50_orders(
    merchant_client, django_assert_num_queries, order_count, rows_shown, session_queries
):
    # Given an importing store whose orders all link to a Commerce order, one in five bought by
    # someone else, and a cancellation on one of the rows of the page asked for
    store = StoreFactory(is_import_enabled=True)
    now = timezone.now()
    orders = [
        AmazonOrderFactory(
            store=store,
            buyer_name="Max Muster" if index % 5 == 0 else "Erika Mustermann",
            purchase_date=now - timedelta(minutes=index),
            commerce_order=CommerceOrderFactory(),
        )
        for index in range(order_count)
    ]
    CancellationFactory(order=orders[3])
    AmazonOrder.objects.filter(pk=orders[3].pk).update(status="Canceled")
    filters = OrderFilters(buyer_name="erika")
    # The page after the first two of Erika's orders: the keyset path, deterministic.
    cursor = amazon_order_list(store=store, filters=filters, page_size=2).next_cursor

    # Session (unless Redis holds it), user, permissions (2), store (on PostgreSQL with its
    # mark), one page of orders with their cancellation and Commerce order, and the count of
    # matching orders (capped): never a query per row.
    with django_assert_num_queries(6 + session_queries) as captured:
        response = all_orders(merchant_client, store, buyer_name="erika", cursor=cursor)
    if marks_kept():
        # The same page again, nothing written: as this process read it under the same mark
        # (user, permissions unless Redis holds them now, store with its mark).
        with django_assert_num_queries(2 + permission_queries_again() + session_queries):
            again = all_orders(merchant_client, store, buyer_name="erika", cursor=cursor)
        assert again.context["page"].orders == response.context["page"].orders

    content = response.content.decode()
    assert response.status_code == 200
    counts = [
        query["sql"].upper()
        for query in captured.captured_queries
        if "COUNT(" in query["sql"].upper()
    ]
    assert len(counts) == 1
    assert "LIMIT 10001" in counts[0]
    assert not any("raw_payload" in query["sql"] for query in captured.captured_queries)
    erika = [order for index, order in enumerate(orders) if index % 5]
    assert shown_ids(response) == [order.amazon_order_id for order in erika[2 : 2 + rows_shown]]
    assert content.count("<tr data-order=") == rows_shown
    for order in erika[2 : 2 + rows_shown]:
        link = reverse("dashboard:commerce_order_detail", args=[order.commerce_order_id])
        assert f'href="{link}"' in content
    assert content.count("Cancellation pending") == 1
