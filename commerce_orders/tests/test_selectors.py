import pytest

from commerce_orders.selectors import (
    order_get_by_external_id,
    product_salable_quantities,
    stock_reservation_list,
)
from commerce_orders.services import StockLine, order_create, stock_reserve
from commerce_orders.tests.factories import ProductFactory, order_create_arguments

pytestmark = pytest.mark.django_db


def test_product_salable_quantities_subtract_reservations_and_leave_out_unknown_skus():
    ProductFactory(sku="MUG", quantity_in_stock=5)
    ProductFactory(sku="TEE", quantity_in_stock=1)
    stock_reserve(reference="amazon:1", lines=[StockLine("MUG", 2)])

    assert product_salable_quantities(skus=["MUG", "TEE", "GHOST"]) == {"MUG": 3, "TEE": 1}


def test_stock_reservation_list_shows_one_reference():
    ProductFactory(sku="MUG", quantity_in_stock=5)
    stock_reserve(reference="amazon:1", lines=[StockLine("MUG", 2)])
    stock_reserve(reference="amazon:2", lines=[StockLine("MUG", 1)])

    assert [r.quantity for r in stock_reservation_list(reference="amazon:1")] == [2]


def test_order_get_by_external_id_finds_the_channel_order():
    order = order_create(**order_create_arguments(external_order_id="302-9"))

    assert order_get_by_external_id(external_channel="amazon", external_order_id="302-9") == order
    assert order_get_by_external_id(external_channel="ebay", external_order_id="302-9") is None
