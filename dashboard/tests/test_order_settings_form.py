"""Order Settings: the custom processing status is one of the existing Commerce statuses (the
grid finds its orders), each setting explains itself, and Custom alone asks for the status."""

import pytest
from django.urls import reverse

from amazon_channel.models import Store
from amazon_channel.tests.factories import StoreFactory
from commerce_orders.tests.factories import CommerceOrderFactory

pytestmark = pytest.mark.django_db


def settings_post(client, store, **values):
    data = {
        "is_import_enabled": "True",
        "customer_creation": store.customer_creation,
        "order_number_source": store.order_number_source,
        "is_pending_quantity_reserved": "True",
        "order_status_source": Store.OrderStatusSource.CUSTOM,
        "processing_status": "processing",
        **values,
    }
    return client.post(reverse("dashboard:store_settings_save", args=[store.pk]), data)


def test_a_custom_status_that_is_no_commerce_status_is_refused_and_nothing_saved(
    merchant_client,
):
    store = StoreFactory(is_import_enabled=False)

    response = settings_post(merchant_client, store, processing_status="not-a-real-status")

    assert response.status_code == 200
    assert response.context["form"].errors["processing_status"]
    store.refresh_from_db()
    assert store.processing_status == "processing" and store.is_import_enabled is False
    assert store.order_status_source == Store.OrderStatusSource.DEFAULT


def test_a_status_that_commerce_orders_have_can_be_the_custom_status(merchant_client):
    CommerceOrderFactory(state="processing", status="packing")
    store = StoreFactory()

    response = settings_post(merchant_client, store, processing_status="packing")

    assert response.status_code == 302
    store.refresh_from_db()
    assert (store.order_status_source, store.processing_status) == ("custom", "packing")


def test_the_custom_status_is_chosen_from_the_existing_statuses(merchant_client):
    CommerceOrderFactory(state="processing", status="packing")
    CommerceOrderFactory(state="complete", status="complete")
    store = StoreFactory()

    response = merchant_client.get(reverse("dashboard:store_settings", args=[store.pk]))

    field = response.context["form"]["processing_status"]
    assert [value for value, _ in field.field.choices] == ["processing", "packing"]
    assert '<select name="processing_status"' in response.content.decode()


def test_custom_without_a_status_is_refused(merchant_client):
    store = StoreFactory()

    response = settings_post(merchant_client, store, processing_status="")

    assert response.status_code == 200
    assert response.context["form"].errors["processing_status"]


def test_default_order_status_keeps_the_commerce_default(merchant_client):
    store = StoreFactory(order_status_source="custom", processing_status="packing")
    CommerceOrderFactory(state="processing", status="packing")

    response = settings_post(
        merchant_client,
        store,
        order_status_source=Store.OrderStatusSource.DEFAULT,
        processing_status="packing",
    )

    assert response.status_code == 302
    store.refresh_from_db()
    assert (store.order_status_source, store.processing_status) == ("default", "processing")


def test_every_setting_explains_itself(merchant_client):
    store = StoreFactory()

    response = merchant_client.get(reverse("dashboard:store_settings", args=[store.pk]))

    form = response.context["form"]
    assert all(str(form[name].help_text) for name in form.fields)
    assert response.content.decode().count('<small class="help">') == len(form.fields)


def test_the_settings_page_loads_the_toggle_script_from_its_own_file(merchant_client):
    store = StoreFactory()

    html = merchant_client.get(
        reverse("dashboard:store_settings", args=[store.pk])
    ).content.decode()

    assert 'src="/static/js/order-settings.js"' in html
    assert "data-toggles-custom-status" in html
    assert "onchange=" not in html
