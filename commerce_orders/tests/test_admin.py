import pytest
from django.urls import reverse

from commerce_orders.models import CreditMemo, Invoice, Shipment
from commerce_orders.services import (
    StockLine,
    creditmemo_create,
    invoice_create,
    order_create,
    shipment_create,
    stock_reserve,
)
from commerce_orders.tests.factories import (
    ProductFactory,
    order_create_arguments,
    order_items_by_sku,
    placed_order,
)

pytestmark = pytest.mark.django_db


def test_an_invoice_page_shows_its_items_read_only(admin_client):
    order = order_create(**order_create_arguments())
    invoice = invoice_create(actor=None, order=order)
    [item] = invoice.items.all()

    response = admin_client.get(reverse("admin:commerce_orders_invoice_change", args=[invoice.pk]))

    assert response.status_code == 200
    assert item.sku in response.content.decode()
    assert b'name="_save"' not in response.content


def test_invoices_cannot_be_added_in_the_admin(admin_client):
    response = admin_client.get(reverse("admin:commerce_orders_invoice_add"))

    assert response.status_code == 403
    assert not Invoice.objects.exists()


def test_the_order_page_lists_its_invoices(admin_client):
    order = order_create(**order_create_arguments())
    invoice = invoice_create(actor=None, order=order)

    response = admin_client.get(
        reverse("admin:commerce_orders_commerceorder_change", args=[order.pk])
    )

    assert invoice.increment_id in response.content.decode()


def test_stock_reservations_are_listed_read_only(admin_client):
    ProductFactory(sku="MUG", quantity_in_stock=5)
    stock_reserve(reference="amazon:302-1", lines=[StockLine("MUG", 2)])

    response = admin_client.get(reverse("admin:commerce_orders_stockreservation_changelist"))

    assert response.status_code == 200
    assert "amazon:302-1" in response.content.decode()
    assert (
        admin_client.get(reverse("admin:commerce_orders_stockreservation_add")).status_code == 403
    )


def test_the_product_list_shows_the_salable_quantity(admin_client):
    ProductFactory(sku="MUG", quantity_in_stock=5)
    stock_reserve(reference="amazon:302-1", lines=[StockLine("MUG", 2)])

    response = admin_client.get(reverse("admin:commerce_orders_product_changelist"))

    assert '<td class="field-quantity_salable">3</td>' in response.content.decode()


def shipped_and_refunded_order():
    order = placed_order()
    invoice_create(actor=None, order=order)
    items = order_items_by_sku(order)
    shipment = shipment_create(
        actor=None,
        order=order,
        quantities={items["MUG"].pk: 2},
        carrier_code="dhl",
        tracking_number="JD0042",
    )
    memo = creditmemo_create(actor=None, order=order, quantities={items["TEE"].pk: 1})
    return order, shipment, memo


def test_shipment_and_credit_memo_pages_show_their_items_read_only(admin_client):
    _order, shipment, memo = shipped_and_refunded_order()

    shipment_page = admin_client.get(
        reverse("admin:commerce_orders_shipment_change", args=[shipment.pk])
    )
    memo_page = admin_client.get(reverse("admin:commerce_orders_creditmemo_change", args=[memo.pk]))

    assert shipment_page.status_code == memo_page.status_code == 200
    assert "JD0042" in shipment_page.content.decode()
    assert "MUG" in shipment_page.content.decode()
    assert "TEE" in memo_page.content.decode()
    assert b'name="_save"' not in shipment_page.content
    assert b'name="_save"' not in memo_page.content


def test_shipments_and_credit_memos_cannot_be_added_in_the_admin(admin_client):
    assert admin_client.get(reverse("admin:commerce_orders_shipment_add")).status_code == 403
    assert admin_client.get(reverse("admin:commerce_orders_creditmemo_add")).status_code == 403
    assert not Shipment.objects.exists()
    assert not CreditMemo.objects.exists()


def test_the_order_page_lists_its_shipments_and_credit_memos(admin_client):
    order, shipment, memo = shipped_and_refunded_order()

    response = admin_client.get(
        reverse("admin:commerce_orders_commerceorder_change", args=[order.pk])
    )

    content = response.content.decode()
    assert response.status_code == 200
    assert reverse("admin:commerce_orders_shipment_change", args=[shipment.pk]) in content
    assert reverse("admin:commerce_orders_creditmemo_change", args=[memo.pk]) in content
