"""A range filter (Grand Total, purchase date) with a wrong end explains itself on the form and
filters by neither end, on All Orders and on the Commerce orders grid."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from amazon_channel.tests.factories import AmazonOrderFactory, StoreFactory
from commerce_orders.models import CommerceOrder
from commerce_orders.tests.factories import CommerceOrderFactory
from dashboard.tests.factories import COMMERCE_PERMISSIONS, user_with_app_permissions

pytestmark = pytest.mark.django_db

NOT_APPLIED = "Not applied until the other end of the range is corrected."
TODAY = timezone.localdate()
LAST_WEEK = TODAY - timedelta(days=7)

# (the low end, the high end, the error beside the wrong end, which end is wrong)
TOTAL_RANGES = [
    ("50", "10", "The highest total is below the lowest total.", "high"),
    ("fifty", "10", "Enter a number.", "low"),
    ("5", "ten", "Enter a number.", "high"),
]
DATE_RANGES = [
    (
        TODAY.isoformat(),
        LAST_WEEK.isoformat(),
        "The end of the date range is before its start.",
        "high",
    ),
    ("2026-13-45", LAST_WEEK.isoformat(), "Enter a valid date.", "low"),
    (LAST_WEEK.isoformat(), "yesterday", "Enter a valid date.", "high"),
]


def field_errors(response, name) -> list[str]:
    return list(response.context["form"].errors.get(name, []))


@pytest.fixture
def store_with_orders():
    store = StoreFactory()
    now = timezone.now()
    for days, total in ((0, "5.00"), (3, "30.00"), (20, "80.00")):
        AmazonOrderFactory(
            store=store, order_total=Decimal(total), purchase_date=now - timedelta(days=days)
        )
    return store


def assert_range_explained(response, low_name, high_name, error, wrong_end):
    wrong, other = (low_name, high_name) if wrong_end == "low" else (high_name, low_name)
    content = response.content.decode().replace("&#x27;", "'")
    assert response.status_code == 200
    assert field_errors(response, wrong) == [error]
    assert field_errors(response, other) == [NOT_APPLIED]
    assert error in content
    assert NOT_APPLIED in content
    assert [chip["name"] for chip in response.context["chips"]] == []


@pytest.mark.parametrize(("low", "high", "error", "wrong_end"), TOTAL_RANGES)
def test_all_orders_explain_a_wrong_total_range_and_filter_by_neither_end(
    merchant_client, store_with_orders, low, high, error, wrong_end
):
    response = merchant_client.get(
        reverse("dashboard:order_list", args=[store_with_orders.pk]),
        {"total_min": low, "total_max": high},
    )

    assert_range_explained(response, "total_min", "total_max", error, wrong_end)
    assert sorted(order.order_total for order in response.context["page"].orders) == [
        Decimal("5.00"),
        Decimal("30.00"),
        Decimal("80.00"),
    ]


@pytest.mark.parametrize(("low", "high", "error", "wrong_end"), DATE_RANGES)
def test_all_orders_explain_a_wrong_date_range_and_filter_by_neither_end(
    merchant_client, store_with_orders, low, high, error, wrong_end
):
    response = merchant_client.get(
        reverse("dashboard:order_list", args=[store_with_orders.pk]),
        {"purchase_date_from": low, "purchase_date_to": high},
    )

    assert_range_explained(response, "purchase_date_from", "purchase_date_to", error, wrong_end)
    assert len(response.context["page"].orders) == 3


def test_a_valid_range_still_filters_by_both_ends(merchant_client, store_with_orders):
    response = merchant_client.get(
        reverse("dashboard:order_list", args=[store_with_orders.pk]),
        {"total_min": "10", "total_max": "50"},
    )

    assert [order.order_total for order in response.context["page"].orders] == [Decimal("30.00")]
    assert response.context["form"].errors == {}


@pytest.fixture
def grid_client(client):
    client.force_login(user_with_app_permissions("clerk", *COMMERCE_PERMISSIONS))
    now = timezone.now()
    for days, total in ((0, "5.00"), (3, "30.00"), (20, "80.00")):
        order = CommerceOrderFactory(grand_total=Decimal(total))
        CommerceOrder.objects.filter(pk=order.pk).update(created_at=now - timedelta(days=days))
    return client


@pytest.mark.parametrize(("low", "high", "error", "wrong_end"), TOTAL_RANGES)
def test_the_grid_explains_a_wrong_total_range_and_filters_by_neither_end(
    grid_client, low, high, error, wrong_end
):
    response = grid_client.get(
        reverse("dashboard:commerce_order_list"), {"total_min": low, "total_max": high}
    )

    assert_range_explained(response, "total_min", "total_max", error, wrong_end)
    assert len(response.context["page"].orders) == 3


@pytest.mark.parametrize(("low", "high", "error", "wrong_end"), DATE_RANGES)
def test_the_grid_explains_a_wrong_date_range_and_filters_by_neither_end(
    grid_client, low, high, error, wrong_end
):
    response = grid_client.get(
        reverse("dashboard:commerce_order_list"), {"purchased_from": low, "purchased_to": high}
    )

    assert_range_explained(response, "purchased_from", "purchased_to", error, wrong_end)
    assert len(response.context["page"].orders) == 3
