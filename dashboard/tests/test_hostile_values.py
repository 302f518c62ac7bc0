"""Hostile values in the list pages, mass actions and the export: the form's error or the
default, never a 500 (issue 12, "No 500, no formula"). tests/test_fuzz_pages_postgresql.py
tries every page and form; these pin each value found."""

import base64
import json
from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from amazon_channel.selectors import (
    OrderFilters,
    amazon_order_list,
    order_cursor_decode,
)
from amazon_channel.tests.factories import AmazonOrderFactory, StoreFactory
from commerce_orders.keyset import InvalidCursor
from commerce_orders.keyset import InvalidCursor as InvalidGridCursor
from commerce_orders.models import CommerceOrder, OrderState
from commerce_orders.selectors import order_export_rows, order_grid, order_grid_cursor_decode
from commerce_orders.tests.factories import CommerceOrderFactory, placed_order
from dashboard.tests.factories import COMMERCE_PERMISSIONS, user_with_app_permissions

pytestmark = pytest.mark.django_db

GRID_URL = reverse("dashboard:commerce_order_list")
BEYOND_64_BITS = 2**63


@pytest.fixture
def clerk_client(client):
    client.force_login(
        user_with_app_permissions(
            "clerk",
            *COMMERCE_PERMISSIONS,
            "amazon_channel.view_store",
            "amazon_channel.view_amazonorder",
            "amazon_channel.change_store",
        )
    )
    return client


def page_messages(response) -> list[str]:
    return [str(message) for message in response.wsgi_request._messages]


def cursor(payload: dict) -> str:
    raw = json.dumps(payload, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


# Sort and direction


@pytest.mark.parametrize(
    ("params", "field"),
    [({"sort": "buyer_email"}, "sort"), ({"direction": "x"}, "direction")],
)
def test_an_unknown_sort_or_direction_on_the_orders_grid_is_an_error_and_the_default_applies(
    clerk_client, params, field
):
    older = CommerceOrderFactory()
    newer = CommerceOrderFactory()
    CommerceOrder.objects.filter(pk=older.pk).update(created_at=timezone.now() - timedelta(days=1))

    response = clerk_client.get(GRID_URL, params)

    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert (response.context["sort"], response.context["direction"]) == ("created_at", "desc")
    assert [order.pk for order in response.context["page"].orders] == [newer.pk, older.pk]


# Dates at the ends of the calendar


@pytest.mark.parametrize("value", ["9999-12-31", "0001-01-01"])
@pytest.mark.parametrize("field", ["purchased_from", "purchased_to"])
def test_a_grid_date_outside_the_calendar_it_can_filter_is_an_error_beside_the_field(
    clerk_client, field, value
):
    order = CommerceOrderFactory()

    response = clerk_client.get(GRID_URL, {field: value})

    assert response.status_code == 200
    assert response.context["form"].errors[field] == ["Enter a date from 01/01/1900 to 12/31/9998."]
    assert [shown.pk for shown in response.context["page"].orders] == [order.pk]


@pytest.mark.parametrize("value", ["9999-12-31", "0001-01-01"])
@pytest.mark.parametrize("field", ["purchase_date_from", "purchase_date_to"])
def test_an_all_orders_date_outside_the_calendar_it_can_filter_is_an_error_beside_the_field(
    clerk_client, field, value
):
    order = AmazonOrderFactory()

    response = clerk_client.get(
        reverse("dashboard:order_list", args=[order.store_id]), {field: value}
    )

    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert [shown.pk for shown in response.context["page"].orders] == [order.pk]


def test_the_list_selectors_take_the_last_day_of_the_calendar_as_an_open_end():
    amazon_order = AmazonOrderFactory()
    commerce_order = CommerceOrderFactory()

    amazon_page = amazon_order_list(
        store=amazon_order.store, filters=OrderFilters(purchase_date_to=date.max)
    )
    grid_page = order_grid(purchased_to=date.max)

    assert [order.pk for order in amazon_page.orders] == [amazon_order.pk]
    assert [order.pk for order in grid_page.orders] == [commerce_order.pk]


# Page cursors edited by hand

HOSTILE_CURSOR_CONTENTS = [
    ("status", {"v": "Unshipped\x00", "i": 1}),
    ("order_number", {"v": "302\x00", "i": 1}),
    ("grand_total", {"v": "1e400", "i": 1}),
    ("grand_total", {"v": "NaN", "i": 1}),
    ("grand_total", {"v": "-Infinity", "i": 1}),
    ("purchase_date", {"v": "0001-01-01T00:00:00+14:00", "i": 1}),
    ("purchase_date", {"v": "2026-01-01T00:00:00+00:00", "i": BEYOND_64_BITS}),
    ("purchase_date", {"v": "2026-01-01T00:00:00+00:00", "i": True}),
]


@pytest.mark.parametrize(("sort", "contents"), HOSTILE_CURSOR_CONTENTS)
def test_an_all_orders_cursor_with_a_value_no_row_can_have_is_invalid_and_shows_the_first_page(
    clerk_client, sort, contents
):
    order = AmazonOrderFactory()
    hostile = cursor({"s": sort, **contents})

    with pytest.raises(InvalidCursor):
        order_cursor_decode(hostile, sort=sort)
    response = clerk_client.get(
        reverse("dashboard:order_list", args=[order.store_id]), {"sort": sort, "cursor": hostile}
    )
    assert response.status_code == 200
    assert "cursor" in response.context["form"].errors
    assert [shown.pk for shown in response.context["page"].orders] == [order.pk]


GRID_SORTS = {
    "status": "status",
    "order_number": "increment_id",
    "grand_total": "-grand_total",
    "purchase_date": "created_at",
}


@pytest.mark.parametrize(("sort", "contents"), HOSTILE_CURSOR_CONTENTS)
def test_a_grid_cursor_with_a_value_no_row_can_have_is_invalid_and_shows_the_first_page(
    clerk_client, sort, contents
):
    grid_sort = GRID_SORTS[sort]
    order = CommerceOrderFactory()
    hostile = cursor({"s": grid_sort, **contents})

    with pytest.raises(InvalidGridCursor):
        order_grid_cursor_decode(hostile, sort=grid_sort)
    field, direction = grid_sort.removeprefix("-"), "desc" if grid_sort[0] == "-" else "asc"
    response = clerk_client.get(GRID_URL, {"sort": field, "direction": direction, "after": hostile})
    assert response.status_code == 200
    assert "after" in response.context["form"].errors
    assert [shown.pk for shown in response.context["page"].orders] == [order.pk]


# Selections of orders


@pytest.mark.parametrize("hostile_id", [BEYOND_64_BITS, 0, -1])
def test_a_mass_action_on_an_id_the_database_cannot_hold_changes_nothing_and_says_so(
    clerk_client, hostile_id
):
    order = placed_order(external_channel="", external_order_id="")

    response = clerk_client.post(
        reverse("dashboard:commerce_order_mass_action"),
        {"action": "hold", "order_ids": [order.pk, hostile_id]},
    )

    assert response.status_code == 302
    order.refresh_from_db()
    assert order.state == OrderState.NEW
    assert page_messages(response) == [
        "The selection is not valid. Please select the orders again."
    ]


def test_an_export_of_an_id_the_database_cannot_hold_sends_no_file_and_says_so(clerk_client):
    order = CommerceOrderFactory()

    response = clerk_client.post(
        reverse("dashboard:commerce_order_export"),
        {"order_ids": [order.pk, BEYOND_64_BITS], "next": f"{GRID_URL}?search=x"},
    )

    assert response.status_code == 302
    assert not response.streaming
    assert response["Location"] == f"{GRID_URL}?search=x"
    assert page_messages(response) == [
        "The selection is not valid. Please select the orders again."
    ]


def test_the_export_runs_its_query_before_the_first_byte_is_sent(django_assert_num_queries):
    order = CommerceOrderFactory()

    with django_assert_num_queries(1):
        rows = order_export_rows(order_ids=[order.pk])
    with django_assert_num_queries(0):
        rows = list(rows)

    assert [row[0] for row in rows[1:]] == [order.increment_id]


# Where a form goes back to


@pytest.mark.parametrize("target", ["None", "a:b", "sNaN", "javascript:alert(1)", "//evil.example"])
def test_a_next_that_is_not_a_path_of_this_site_goes_back_to_the_default_page(clerk_client, target):
    store = StoreFactory(is_active=False)

    response = clerk_client.post(
        reverse("dashboard:store_activate", args=[store.pk]), {"next": target}
    )

    assert response.status_code == 302
    assert response["Location"] == reverse("dashboard:store_list")
