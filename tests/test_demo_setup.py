import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from amazon_channel.models import AmazonOrder, AmazonOrderEvent, AmazonOrderItem, Store
from commerce_orders.models import Product

pytestmark = pytest.mark.django_db


def counts() -> tuple[int, ...]:
    return (
        Store.objects.count(),
        AmazonOrder.objects.count(),
        AmazonOrderItem.objects.count(),
        AmazonOrderEvent.objects.count(),
        Product.objects.count(),
    )


def test_demo_setup_twice_duplicates_nothing():
    call_command("demo_setup", "--orders", "12")
    first = counts()
    call_command("demo_setup", "--orders", "12")

    assert counts() == first
    assert first[:2] == (1, 12)
    assert first[2] >= 12


def test_demo_orders_cover_the_statuses_merchants_meet():
    call_command("demo_setup", "--orders", "16")

    statuses = set(AmazonOrder.objects.values_list("status", flat=True))
    assert {"Unshipped", "Pending", "Shipped", "PartiallyShipped", "Canceled"} <= statuses
    assert AmazonOrder.objects.filter(status="Pending", order_total__isnull=True).exists()
    assert AmazonOrder.objects.filter(is_buyer_requested_cancellation=True).exists()


def test_the_demo_login_reaches_django_admin_with_the_demo_store_and_orders():
    call_command("demo_setup", "--orders", "5")
    client = Client()

    assert client.login(username="merchant", password="merchant-demo")
    stores_page = client.get(reverse("admin:amazon_channel_store_changelist"))
    orders_page = client.get(reverse("admin:amazon_channel_amazonorder_changelist"))
    order = AmazonOrder.objects.first()
    order_page = client.get(reverse("admin:amazon_channel_amazonorder_change", args=[order.pk]))

    assert "Demo Store (DE)" in stores_page.content.decode()
    assert order.amazon_order_id in orders_page.content.decode()
    assert order_page.status_code == 200
