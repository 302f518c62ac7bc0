import pytest
from django.db.models import Sum

from commerce_orders.exceptions import ProductUnavailable
from commerce_orders.models import Product, StockReservation
from commerce_orders.services import StockLine, stock_release, stock_reserve
from commerce_orders.tests.factories import ProductFactory

pytestmark = pytest.mark.django_db


def reserved(sku: str) -> int:
    return Product.objects.get(sku=sku).quantity_reserved


def assert_reserved_counters_match_reservations():
    for product in Product.objects.all():
        total = product.reservations.aggregate(total=Sum("quantity"))["total"] or 0
        assert product.quantity_reserved == total, product.sku


def test_stock_reserve_holds_the_quantity_without_taking_it_out_of_stock():
    ProductFactory(sku="MUG", quantity_in_stock=5)

    [reservation] = stock_reserve(reference="amazon:1", lines=[StockLine("MUG", 2)])

    mug = Product.objects.get(sku="MUG")
    assert (reservation.reference, reservation.quantity) == ("amazon:1", 2)
    assert (mug.quantity_in_stock, mug.quantity_reserved, mug.quantity_salable) == (5, 2, 3)


def test_reserving_twice_under_one_reference_holds_the_quantity_once():
    ProductFactory(sku="MUG", quantity_in_stock=5)

    stock_reserve(reference="amazon:1", lines=[StockLine("MUG", 2)])
    stock_reserve(reference="amazon:1", lines=[StockLine("MUG", 2)])

    assert reserved("MUG") == 2
    assert StockReservation.objects.count() == 1


def test_reserving_again_with_other_lines_replaces_what_the_reference_held():
    ProductFactory(sku="MUG", quantity_in_stock=5)
    ProductFactory(sku="TEE", quantity_in_stock=5)
    stock_reserve(reference="amazon:1", lines=[StockLine("MUG", 2), StockLine("TEE", 1)])

    stock_reserve(reference="amazon:1", lines=[StockLine("MUG", 3)])

    assert (reserved("MUG"), reserved("TEE")) == (3, 0)
    assert_reserved_counters_match_reservations()


def test_stock_reserve_sums_one_sku_over_several_lines():
    ProductFactory(sku="MUG", quantity_in_stock=5)

    stock_reserve(reference="amazon:1", lines=[StockLine("MUG", 2), StockLine("MUG", 1)])

    assert reserved("MUG") == 3


def test_a_reference_may_keep_what_it_holds_even_when_nothing_else_is_salable():
    ProductFactory(sku="MUG", quantity_in_stock=2)
    stock_reserve(reference="amazon:1", lines=[StockLine("MUG", 2)])

    stock_reserve(reference="amazon:1", lines=[StockLine("MUG", 2)])

    assert reserved("MUG") == 2


def test_stock_reserve_refuses_more_than_is_salable_and_writes_nothing():
    ProductFactory(sku="MUG", quantity_in_stock=3)
    ProductFactory(sku="TEE", quantity_in_stock=3)
    stock_reserve(reference="amazon:1", lines=[StockLine("MUG", 2)])

    with pytest.raises(ProductUnavailable) as refused:
        stock_reserve(
            reference="amazon:2",
            lines=[StockLine("TEE", 1), StockLine("MUG", 2), StockLine("GHOST", 1)],
        )

    assert [problem.message for problem in refused.value.problems] == [
        "SKU MUG is out of stock (2 ordered, 1 available)",
        "SKU GHOST is not in the catalog",
    ]
    assert (reserved("MUG"), reserved("TEE")) == (2, 0)
    assert not StockReservation.objects.filter(reference="amazon:2").exists()


def test_stock_reserve_needs_a_reference():
    with pytest.raises(ValueError, match="reference"):
        stock_reserve(reference="", lines=[StockLine("MUG", 1)])


def test_stock_release_gives_back_everything_the_reference_held():
    ProductFactory(sku="MUG", quantity_in_stock=5)
    ProductFactory(sku="TEE", quantity_in_stock=5)
    stock_reserve(reference="amazon:1", lines=[StockLine("MUG", 2), StockLine("TEE", 1)])
    stock_reserve(reference="amazon:2", lines=[StockLine("MUG", 1)])

    released = stock_release(reference="amazon:1")

    assert released == 3
    assert (reserved("MUG"), reserved("TEE")) == (1, 0)
    assert list(StockReservation.objects.values_list("reference", flat=True)) == ["amazon:2"]
    assert_reserved_counters_match_reservations()


def test_releasing_twice_releases_once():
    ProductFactory(sku="MUG", quantity_in_stock=5)
    stock_reserve(reference="amazon:1", lines=[StockLine("MUG", 2)])
    stock_release(reference="amazon:1")

    assert stock_release(reference="amazon:1") == 0
    assert reserved("MUG") == 0
    assert Product.objects.get(sku="MUG").quantity_in_stock == 5


def test_a_stock_line_refuses_a_quantity_below_one():
    with pytest.raises(ValueError, match="positive"):
        StockLine("MUG", 0)


# Moved from test_selectors.py with the selectors only they used (product_salable_quantities,
# stock_reservation_list): the same facts, read from the rows.


def test_salable_quantities_subtract_reservations():
    ProductFactory(sku="MUG", quantity_in_stock=5)
    ProductFactory(sku="TEE", quantity_in_stock=1)
    stock_reserve(reference="amazon:1", lines=[StockLine("MUG", 2)])

    salable = {
        product.sku: product.quantity_in_stock - product.quantity_reserved
        for product in Product.objects.filter(sku__in=["MUG", "TEE", "GHOST"])
    }
    assert salable == {"MUG": 3, "TEE": 1}


def test_reservations_are_kept_per_reference():
    ProductFactory(sku="MUG", quantity_in_stock=5)
    stock_reserve(reference="amazon:1", lines=[StockLine("MUG", 2)])
    stock_reserve(reference="amazon:2", lines=[StockLine("MUG", 1)])

    reservations = StockReservation.objects.filter(reference="amazon:1")
    assert [reservation.quantity for reservation in reservations] == [2]
