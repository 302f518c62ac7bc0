"""The Orders grid: search, filters, chips, sorting, keyset pages, CSV export and mass actions."""

import csv
import io
from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from commerce_orders.models import CommerceOrder, OrderAddress, OrderState
from commerce_orders.tests.factories import CommerceOrderFactory, placed_order
from dashboard.tests.factories import COMMERCE_PERMISSIONS, user_with_app_permissions

pytestmark = pytest.mark.django_db

LIST_URL = reverse("dashboard:commerce_order_list")


@pytest.fixture
def commerce_client(client):
    client.force_login(user_with_app_permissions("clerk", *COMMERCE_PERMISSIONS))
    return client


def grid_order(*, days_ago=0, **values) -> CommerceOrder:
    order = CommerceOrderFactory(**values)
    if days_ago:
        CommerceOrder.objects.filter(pk=order.pk).update(
            created_at=timezone.now() - timedelta(days=days_ago)
        )
    OrderAddress.objects.create(
        order=order, address_type=OrderAddress.AddressType.BILLING, name=f"Bill {order.pk}"
    )
    OrderAddress.objects.create(
        order=order, address_type=OrderAddress.AddressType.SHIPPING, name=f"Ship {order.pk}"
    )
    return order


def numbers_on(response) -> list[str]:
    return [order.increment_id for order in response.context["page"].orders]


def test_the_grid_lists_orders_newest_first_with_their_names_and_links(commerce_client):
    older = grid_order(days_ago=2, customer_name="Erika Mustermann", grand_total=Decimal("1234.5"))
    newer = grid_order(days_ago=1)

    response = commerce_client.get(LIST_URL)

    content = response.content.decode()
    assert response.status_code == 200
    assert numbers_on(response) == [newer.increment_id, older.increment_id]
    assert "Erika Mustermann" in content
    assert f"Bill {older.pk}" in content
    assert f"Ship {older.pk}" in content
    assert "1,234.50 EUR" in content
    assert reverse("dashboard:commerce_order_detail", args=[older.pk]) in content


def test_search_finds_an_order_by_its_amazon_order_number(commerce_client):
    wanted = grid_order(external_channel="amazon", external_order_id="302-1111111-2222222")
    grid_order(external_channel="amazon", external_order_id="302-9999999-8888888")

    response = commerce_client.get(LIST_URL, {"search": "1111111-2222"})

    assert numbers_on(response) == [wanted.increment_id]
    assert "302-1111111-2222222" in response.content.decode()


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("increment_id", "000777001"),
        ("customer_name", "Jean Dupont"),
        ("customer_email", "jd@x.fr"),
    ],
)
def test_search_finds_an_order_by_number_customer_name_or_email(commerce_client, field, value):
    wanted = grid_order(**{field: value})
    grid_order()

    response = commerce_client.get(LIST_URL, {"search": value.upper()})

    assert numbers_on(response) == [wanted.increment_id]


def test_filters_combine_and_each_becomes_a_removable_chip(commerce_client):
    wanted = grid_order(
        status=OrderState.PROCESSING,
        state=OrderState.PROCESSING,
        grand_total=Decimal("50.00"),
        external_channel="amazon",
        external_order_id="302-1-1",
        days_ago=3,
    )
    grid_order(status=OrderState.PROCESSING, grand_total=Decimal("500.00"), days_ago=3)
    grid_order(status=OrderState.NEW, grand_total=Decimal("50.00"), days_ago=3)
    grid_order(status=OrderState.PROCESSING, grand_total=Decimal("50.00"), days_ago=30)
    grid_order(status=OrderState.PROCESSING, grand_total=Decimal("50.00"), days_ago=3)
    today = timezone.localdate()
    query = {
        "status": "processing",
        "purchased_from": (today - timedelta(days=5)).isoformat(),
        "purchased_to": today.isoformat(),
        "total_min": "10",
        "total_max": "100",
        "channel": "amazon",
    }

    response = commerce_client.get(LIST_URL, query)

    assert numbers_on(response) == [wanted.increment_id]
    chips = {chip["name"]: chip for chip in response.context["chips"]}
    assert set(chips) == set(query)
    assert chips["status"]["value"] == "Processing"
    assert chips["channel"]["value"] == "Amazon"
    assert chips["total_max"]["value"] == "100.00"
    assert "status=" not in chips["status"]["query"]
    assert "channel=amazon" in chips["status"]["query"]
    content = response.content.decode()
    assert 'data-filter="purchased_from"' in content
    assert "Remove filter Status" in content

    without_status = commerce_client.get(f"{LIST_URL}?{chips['status']['query']}")

    assert "status" not in {chip["name"] for chip in without_status.context["chips"]}
    assert numbers_on(without_status) == [wanted.increment_id]


def test_the_status_filter_offers_the_custom_statuses_in_use_and_finds_their_orders(
    commerce_client,
):
    picking = grid_order(status="amazon_picking", state=OrderState.PROCESSING)
    grid_order(status=OrderState.PROCESSING, state=OrderState.PROCESSING)

    unfiltered = commerce_client.get(LIST_URL)
    filtered = commerce_client.get(LIST_URL, {"status": "amazon_picking"})

    choices = [value for value, _label in unfiltered.context["form"].fields["status"].choices]
    # Every state, then the custom status an order has; none that no order has.
    assert choices == [
        "",
        "new",
        "processing",
        "complete",
        "closed",
        "canceled",
        "holded",
        "amazon_picking",
    ]
    assert '<option value="amazon_picking">amazon_picking</option>' in unfiltered.content.decode()
    assert numbers_on(filtered) == [picking.increment_id]
    assert [chip["value"] for chip in filtered.context["chips"]] == ["amazon_picking"]


def test_a_status_no_order_has_any_more_is_an_error_beside_the_filter(commerce_client):
    order = grid_order(status=OrderState.NEW)

    response = commerce_client.get(LIST_URL, {"status": "amazon_picking"})

    assert numbers_on(response) == [order.increment_id]
    assert "Select a valid choice." in response.content.decode()


def test_a_bad_filter_is_an_error_beside_its_field_and_the_others_still_apply(commerce_client):
    cheap = grid_order(grand_total=Decimal("5.00"))
    grid_order(grand_total=Decimal("500.00"))

    response = commerce_client.get(LIST_URL, {"total_max": "10", "purchased_from": "not a date"})

    assert response.status_code == 200
    assert numbers_on(response) == [cheap.increment_id]
    assert "Enter a valid date." in response.content.decode()


def test_sorting_by_grand_total_ascending_and_descending(commerce_client):
    middle = grid_order(grand_total=Decimal("20.00"))
    low = grid_order(grand_total=Decimal("10.00"))
    high = grid_order(grand_total=Decimal("30.00"))

    ascending = commerce_client.get(LIST_URL, {"sort": "grand_total", "direction": "asc"})
    descending = commerce_client.get(LIST_URL, {"sort": "grand_total", "direction": "desc"})

    assert numbers_on(ascending) == [low.increment_id, middle.increment_id, high.increment_id]
    assert numbers_on(descending) == [high.increment_id, middle.increment_id, low.increment_id]
    assert 'aria-sort="descending"' in descending.content.decode()


@pytest.mark.parametrize("sort", ["created_at", "grand_total", "customer_name", "increment_id"])
def test_keyset_pages_show_each_order_exactly_once_forwards_and_backwards(commerce_client, sort):
    for index in range(45):
        # Ties on the sort key: the id breaks them.
        grid_order(grand_total=Decimal(index % 4), customer_name=f"Name {index % 3}")
    expected = set(CommerceOrder.objects.values_list("increment_id", flat=True))
    seen: list[str] = []
    pages = []
    query = {"sort": sort, "direction": "asc"}

    while True:
        response = commerce_client.get(LIST_URL, query)
        page = response.context["page"]
        pages.append(numbers_on(response))
        seen += numbers_on(response)
        if not page.has_next:
            break
        query = {"sort": sort, "direction": "asc", "after": page.next_cursor}

    assert len(pages) == 3
    assert len(seen) == len(expected) == 45
    assert set(seen) == expected
    # Back from the last page: the pages before it, the same orders in the same order.
    previous = commerce_client.get(
        LIST_URL, {"sort": sort, "direction": "asc", "before": page.previous_cursor}
    )
    assert numbers_on(previous) == pages[1]


def test_a_page_link_edited_by_hand_shows_the_first_page_with_a_message(commerce_client):
    first = grid_order()

    response = commerce_client.get(LIST_URL, {"after": "not-a-cursor"})

    assert response.status_code == 200
    assert numbers_on(response) == [first.increment_id]
    assert "This page link is not valid any more." in response.content.decode()


@pytest.mark.parametrize("order_count", [5, 50])
def test_the_grid_uses_the_same_queries_for_5_or_50_orders(
    commerce_client, django_assert_max_num_queries, order_count
):
    for _ in range(order_count):
        grid_order()

    # Session, user, permissions (2), the statuses in use, then the page of orders and its
    # addresses.
    with django_assert_max_num_queries(7):
        response = commerce_client.get(LIST_URL)

    assert len(response.context["page"].orders) == min(order_count, 20)


def test_the_grid_never_counts_the_orders(commerce_client, django_assert_max_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for _ in range(25):
        grid_order()

    with CaptureQueriesContext(connection) as queries:
        commerce_client.get(LIST_URL, {"after": "", "status": "new"})

    assert not any("COUNT(" in query["sql"].upper() for query in queries.captured_queries)


# Export CSV


def export(client, order_ids):
    return client.post(reverse("dashboard:commerce_order_export"), {"order_ids": order_ids})


def test_export_csv_streams_the_selected_orders_as_an_attachment(commerce_client):
    chosen = grid_order(
        customer_email="erika@example.com",
        grand_total=Decimal("58.54"),
        external_channel="amazon",
        external_order_id="302-5555555-5555555",
    )
    other = grid_order()

    response = export(commerce_client, [chosen.pk])

    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"] == 'attachment; filename="orders.csv"'
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0][:3] == ["ID", "Purchase Date", "Bill-to Name"]
    assert len(rows) == 2
    row = dict(zip(rows[0], rows[1], strict=True))
    assert row["ID"] == chosen.increment_id
    assert row["Bill-to Name"] == f"Bill {chosen.pk}"
    assert row["Ship-to Name"] == f"Ship {chosen.pk}"
    assert row["Customer Email"] == "erika@example.com"
    assert row["Grand Total"] == "58.54"
    assert row["Channel Order ID"] == "302-5555555-5555555"
    assert other.increment_id not in b"".join(export(commerce_client, [chosen.pk])).decode()


def test_export_without_a_selection_says_so(commerce_client):
    response = export(commerce_client, [])

    assert response.status_code == 302
    messages = [str(message) for message in response.wsgi_request._messages]
    assert messages == ["Please select the orders."]


# Mass actions


def mass_action(client, action, order_ids, next_url=""):
    return client.post(
        reverse("dashboard:commerce_order_mass_action"),
        {"action": action, "order_ids": order_ids, "next": next_url},
    )


def page_messages(response) -> list[str]:
    return [str(message) for message in response.wsgi_request._messages]


def store_order(**overrides) -> CommerceOrder:
    """An order of the store itself (no sales channel), through order_create."""
    return placed_order(external_channel="", external_order_id="", **overrides)


def test_mass_hold_holds_the_open_orders_and_lists_each_refusal_with_its_reason(commerce_client):
    first = store_order()
    second = store_order()
    canceled = store_order()
    CommerceOrder.objects.filter(pk=canceled.pk).update(state="canceled", status="canceled")

    response = mass_action(
        commerce_client, "hold", [first.pk, second.pk, canceled.pk], next_url=f"{LIST_URL}?x=1"
    )

    assert response.status_code == 302
    assert response["Location"] == f"{LIST_URL}?x=1"
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.state == second.state == OrderState.HOLDED
    assert page_messages(response) == [
        "2 orders were updated.",
        "1 order was refused.",
        f"Order {canceled.increment_id}: Hold is not allowed on order #{canceled.increment_id} "
        "while it is Canceled.",
    ]


def test_mass_unhold_and_cancel(commerce_client):
    order = store_order()
    mass_action(commerce_client, "hold", [order.pk])

    mass_action(commerce_client, "unhold", [order.pk])
    order.refresh_from_db()
    assert order.state == OrderState.NEW

    response = mass_action(commerce_client, "cancel", [order.pk])
    order.refresh_from_db()
    assert order.state == OrderState.CANCELED
    assert page_messages(response)[-1] == "1 order was updated."


def test_mass_cancel_refuses_orders_from_amazon_and_links_their_cancel_order_pages(
    commerce_client,
):
    from amazon_channel.tests.factories import AmazonOrderFactory

    from_amazon = placed_order(external_channel="amazon")
    amazon_order = AmazonOrderFactory(
        amazon_order_id=from_amazon.external_order_id, commerce_order=from_amazon
    )
    own = store_order()

    response = mass_action(commerce_client, "cancel", [from_amazon.pk, own.pk])

    from_amazon.refresh_from_db()
    own.refresh_from_db()
    amazon_order.refresh_from_db()
    assert from_amazon.state == OrderState.NEW
    assert amazon_order.status == "Unshipped"
    assert own.state == OrderState.CANCELED
    cancel_page = reverse("dashboard:order_cancel", args=[amazon_order.store_id, amazon_order.pk])
    assert page_messages(response) == [
        "1 order was updated.",
        "1 order was refused.",
        f"Order {from_amazon.increment_id}: Order #{from_amazon.increment_id} came from Amazon: "
        f'cancel it on its Amazon Cancel Order page. <a href="{cancel_page}" '
        'data-link="amazon-cancel">Cancel Order</a>',
    ]
    # The link is a link on the grid, not escaped text.
    grid = commerce_client.get(LIST_URL).content.decode()
    assert f'<a href="{cancel_page}" data-link="amazon-cancel">Cancel Order</a>' in grid


def test_a_mass_action_without_a_selection_or_with_an_unknown_action_changes_nothing(
    commerce_client,
):
    order = store_order()

    empty = mass_action(commerce_client, "hold", [])
    unknown = mass_action(commerce_client, "ship", [order.pk])

    order.refresh_from_db()
    assert order.state == OrderState.NEW
    assert page_messages(empty) == ["Please select the orders."]
    assert "Select a valid choice." in page_messages(unknown)[-1]


def test_a_viewer_sees_export_but_no_mass_actions(client):
    client.force_login(user_with_app_permissions("viewer", "commerce_orders.view_commerceorder"))
    grid_order()

    content = client.get(LIST_URL).content.decode()

    assert "Export CSV" in content
    assert 'name="action"' not in content
