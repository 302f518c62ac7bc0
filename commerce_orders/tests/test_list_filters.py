"""The order lists' one filter set machinery (django-filter inside the selectors)."""

import datetime
from decimal import Decimal

import pytest

from commerce_orders.list_filters import ListFilterSet
from commerce_orders.models import CommerceOrder
from commerce_orders.selectors import OrderGridFilterSet
from commerce_orders.tests.factories import CommerceOrderFactory

pytestmark = pytest.mark.django_db


def test_the_grid_filters_with_a_django_filter_filter_set():
    assert issubclass(OrderGridFilterSet, ListFilterSet)
    assert list(OrderGridFilterSet.base_filters) == [
        "search",
        "status",
        "purchased_from",
        "purchased_to",
        "total_min",
        "total_max",
        "channel",
    ]


def test_empty_values_apply_no_filter_and_given_ones_apply_as_typed():
    cheap = CommerceOrderFactory(grand_total=Decimal("5.00"), status="processing")
    dear = CommerceOrderFactory(grand_total=Decimal("50.00"), status="processing")
    CommerceOrderFactory(grand_total=Decimal("50.00"), status="holded")

    everything = OrderGridFilterSet.filtered(
        CommerceOrder.objects.all(), {"search": "", "status": "", "total_min": None}
    )
    narrowed = OrderGridFilterSet.filtered(
        CommerceOrder.objects.all(), {"status": "processing", "total_min": Decimal("0.00")}
    )
    dear_only = OrderGridFilterSet.filtered(
        CommerceOrder.objects.all(), {"status": "processing", "total_min": Decimal("10")}
    )

    assert everything.count() == 3
    assert set(narrowed) == {cheap, dear}
    assert list(dear_only) == [dear]


def test_a_datetime_bound_is_taken_as_it_is_and_a_date_as_its_whole_day():
    order = CommerceOrderFactory()
    moment = CommerceOrder.objects.get(pk=order.pk).created_at

    def found(**values):
        return list(OrderGridFilterSet.filtered(CommerceOrder.objects.all(), values))

    assert found(purchased_to=moment - datetime.timedelta(seconds=1)) == []
    assert found(purchased_to=moment) == [order]
    assert found(purchased_to=moment.date() + datetime.timedelta(days=1)) == [order]


def test_an_unknown_filter_is_refused():
    with pytest.raises(ValueError, match="unknown filters"):
        OrderGridFilterSet.filtered(CommerceOrder.objects.all(), {"payment_method": "card"})
