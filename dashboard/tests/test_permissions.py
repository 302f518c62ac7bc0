"""Every page asks for a login and its permission; every state-changing URL is POST only, and a
form's page (GET) is apart from what its form posts to (POST)."""

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from amazon_channel.tests.factories import AmazonOrderFactory, StoreFactory
from dashboard.tests.factories import user_with_permissions

pytestmark = pytest.mark.django_db

# URL name -> the permission it needs (besides the view permission of its page).
POST_ONLY = {
    "dashboard:store_connect_save": "add_store",
    "dashboard:store_settings_save": "change_store",
    "dashboard:store_activate": "change_store",
    "dashboard:store_deactivate": "change_store",
    "dashboard:store_sync": "sync_store",
    "dashboard:order_cancel_confirm": "cancel_amazonorder",
    "dashboard:order_shipping_address_update": "change_amazonorder",
    "dashboard:order_cancellation_acknowledge": "cancel_amazonorder",
}
# A form's page -> the POST-only URL its form posts to.
FORM_PAGES = {
    "dashboard:store_connect": "dashboard:store_connect_save",
    "dashboard:store_settings": "dashboard:store_settings_save",
    "dashboard:order_cancel": "dashboard:order_cancel_confirm",
}
ORDER_URLS = {
    "dashboard:order_detail",
    "dashboard:order_cancel",
    "dashboard:order_cancel_confirm",
    "dashboard:order_shipping_address_update",
    "dashboard:order_cancellation_acknowledge",
}
STORE_CONNECT_URLS = {"dashboard:store_connect", "dashboard:store_connect_save"}


def url_for(name, order):
    if name in STORE_CONNECT_URLS:
        return reverse(name)
    if name in ORDER_URLS:
        return reverse(name, args=[order.store_id, order.pk])
    return reverse(name, args=[order.store_id])


@pytest.fixture
def order():
    return AmazonOrderFactory(store=StoreFactory())


@pytest.mark.parametrize(
    "name",
    [
        "dashboard:store_connect",
        "dashboard:store_detail",
        "dashboard:store_settings",
        "dashboard:store_sync_log",
        "dashboard:order_list",
        *sorted(ORDER_URLS),
        *sorted(POST_ONLY),
    ],
)
def test_anonymous_visitors_are_sent_to_the_login_page(client, order, name):
    for method in (client.get, client.post):
        response = method(url_for(name, order))

        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("name", sorted(POST_ONLY))
def test_state_changing_urls_answer_405_to_get(merchant_client, order, name):
    response = merchant_client.get(url_for(name, order))

    assert response.status_code == 405


@pytest.mark.parametrize("name", sorted(POST_ONLY))
def test_state_changing_urls_answer_403_without_their_permission(viewer_client, order, name):
    response = viewer_client.post(url_for(name, order))

    assert response.status_code == 403


@pytest.mark.parametrize(("page", "action"), sorted(FORM_PAGES.items()))
def test_a_form_page_shows_its_form_posting_to_its_action_and_refuses_post(
    merchant, client, order, page, action
):
    merchant.user_permissions.add(Permission.objects.get(codename="add_store"))
    client.force_login(merchant)

    shown = client.get(url_for(page, order))
    posted = client.post(url_for(page, order))

    assert shown.status_code == 200
    assert f'action="{url_for(action, order)}"' in shown.content.decode()
    assert posted.status_code == 405


@pytest.mark.parametrize("name", sorted(POST_ONLY))
def test_state_changing_urls_refuse_a_post_without_csrf_token(merchant, order, name):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(merchant)

    response = client.post(url_for(name, order))

    assert response.status_code == 403


def test_the_cancel_order_page_is_forbidden_without_the_cancel_permission(viewer_client, order):
    assert viewer_client.get(url_for("dashboard:order_cancel", order)).status_code == 403
    assert (
        viewer_client.post(
            url_for("dashboard:order_cancel_confirm", order), {"reason": "NoInventory"}
        ).status_code
        == 403
    )
    order.refresh_from_db()
    assert order.status == "Unshipped"


def test_order_settings_are_forbidden_without_change_store(viewer_client, order):
    save_url = url_for("dashboard:store_settings_save", order)

    assert viewer_client.get(url_for("dashboard:store_settings", order)).status_code == 403
    assert viewer_client.post(save_url, {"is_import_enabled": "True"}).status_code == 403
    order.store.refresh_from_db()
    assert order.store.is_import_enabled is False


def test_add_store_is_forbidden_without_add_store(viewer_client, order):
    assert viewer_client.get(url_for("dashboard:store_connect", order)).status_code == 403


def test_a_user_without_view_permissions_gets_403_on_every_page(client, order):
    client.force_login(user_with_permissions("nobody"))

    for name in ("dashboard:store_detail", "dashboard:order_list", "dashboard:order_detail"):
        assert client.get(url_for(name, order)).status_code == 403
    assert client.get(reverse("dashboard:store_list")).status_code == 403


def test_a_viewer_sees_no_action_buttons(viewer_client, order):
    cards = viewer_client.get(reverse("dashboard:store_list")).content.decode()
    detail = viewer_client.get(url_for("dashboard:order_detail", order)).content.decode()

    assert "View Store" in cards
    for label in ("Deactivate", "Sync now", "Order Settings"):
        assert label not in cards
    assert "Cancel Order" not in detail
    assert "Save Order" not in detail


def test_an_order_of_another_store_is_not_found(merchant_client, order):
    other_store = StoreFactory()

    response = merchant_client.get(
        reverse("dashboard:order_detail", args=[other_store.pk, order.pk])
    )

    assert response.status_code == 404
