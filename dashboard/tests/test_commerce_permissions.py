"""Commerce order pages: login, the permission of each action, POST only with CSRF."""

import itertools

import pytest
from django.test import Client
from django.urls import reverse

from amazon_channel.tests.factories import AmazonOrderFactory
from commerce_orders.tests.factories import placed_order
from dashboard.tests.factories import COMMERCE_PERMISSIONS, user_with_app_permissions

pytestmark = pytest.mark.django_db

VIEW = "commerce_orders.view_commerceorder"
# URL name -> the permission it needs besides VIEW.
POST_ONLY = {
    "dashboard:commerce_order_invoice": "commerce_orders.add_invoice",
    "dashboard:commerce_order_hold": "commerce_orders.change_commerceorder",
    "dashboard:commerce_order_unhold": "commerce_orders.change_commerceorder",
    "dashboard:commerce_order_cancel": "commerce_orders.change_commerceorder",
    "dashboard:commerce_order_email_send": "commerce_orders.change_commerceorder",
    "dashboard:commerce_order_comment_add": "commerce_orders.change_commerceorder",
    "dashboard:commerce_order_amazon_retry": "commerce_orders.change_commerceorder",
    "dashboard:commerce_order_mass_action": "commerce_orders.change_commerceorder",
    "dashboard:commerce_order_export": VIEW,
    "dashboard:commerce_order_ship_save": "commerce_orders.add_shipment",
    "dashboard:commerce_order_creditmemo_save": "commerce_orders.add_creditmemo",
}
FORM_PAGES = {
    "dashboard:commerce_order_ship": "commerce_orders.add_shipment",
    "dashboard:commerce_order_creditmemo": "commerce_orders.add_creditmemo",
}
PAGES = {"dashboard:commerce_order_list", "dashboard:commerce_order_detail", *FORM_PAGES}
GRID_URLS = {
    "dashboard:commerce_order_list",
    "dashboard:commerce_order_mass_action",
    "dashboard:commerce_order_export",
}


@pytest.fixture
def order():
    return placed_order(external_channel="", external_order_id="")


def url_for(name, order):
    if name in GRID_URLS:
        return reverse(name)
    if name == "dashboard:commerce_order_amazon_retry":
        return reverse(name, args=[order.pk, 1])
    return reverse(name, args=[order.pk])


_usernames = itertools.count(1)


def signed_in(*permissions):
    client = Client()
    client.force_login(user_with_app_permissions(f"someone{next(_usernames)}", *permissions))
    return client


@pytest.mark.parametrize("name", sorted(PAGES | set(POST_ONLY)))
def test_anonymous_visitors_are_sent_to_the_login_page(client, order, name):
    for method in (client.get, client.post):
        response = method(url_for(name, order))

        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("name", sorted(POST_ONLY))
def test_state_changing_urls_answer_405_to_get(order, name):
    response = signed_in(*COMMERCE_PERMISSIONS).get(url_for(name, order))

    assert response.status_code == 405


@pytest.mark.parametrize("name", sorted(POST_ONLY))
def test_state_changing_urls_answer_403_without_their_permission(order, name):
    others = [permission for permission in COMMERCE_PERMISSIONS if permission != POST_ONLY[name]]
    if name == "dashboard:commerce_order_export":
        others = []

    response = signed_in(*others).post(url_for(name, order))

    assert response.status_code == 403
    order.refresh_from_db()
    assert order.state == "new"


@pytest.mark.parametrize("name", sorted(PAGES))
def test_pages_answer_403_without_the_view_permission(order, name):
    others = [permission for permission in COMMERCE_PERMISSIONS if permission != VIEW]

    response = signed_in(*others).get(url_for(name, order))

    assert response.status_code == 403


@pytest.mark.parametrize("name", sorted(POST_ONLY))
def test_state_changing_urls_refuse_a_post_without_csrf_token(order, name):
    client = Client(enforce_csrf_checks=True)
    client.force_login(user_with_app_permissions("someone", *COMMERCE_PERMISSIONS))

    response = client.post(url_for(name, order))

    assert response.status_code == 403


def test_a_viewer_sees_the_order_but_no_action_button(order):
    client = signed_in(VIEW)

    content = client.get(url_for("dashboard:commerce_order_detail", order)).content.decode()

    assert order.increment_id in content
    assert "data-action=" not in content
    assert "Submit Comment" not in content


def test_each_button_needs_its_own_permission(order):
    client = signed_in(VIEW, "commerce_orders.add_shipment")

    content = client.get(url_for("dashboard:commerce_order_detail", order)).content.decode()

    assert 'data-action="ship"' in content
    for hidden in ("invoice", "hold", "cancel", "email"):
        assert f'data-action="{hidden}"' not in content, hidden


def test_the_amazon_cancel_link_needs_the_amazon_cancel_permission():
    from amazon_channel.tests.factories import StoreFactory

    amazon_order = AmazonOrderFactory(store=StoreFactory(is_import_enabled=True))
    order = placed_order(external_order_id=amazon_order.amazon_order_id)
    amazon_order.commerce_order = order
    amazon_order.save(update_fields=["commerce_order"])
    cancel_url = reverse("dashboard:order_cancel", args=[amazon_order.store_id, amazon_order.pk])

    without = signed_in(*COMMERCE_PERMISSIONS).get(
        url_for("dashboard:commerce_order_detail", order)
    )
    with_it = signed_in(
        *COMMERCE_PERMISSIONS,
        "amazon_channel.view_store",
        "amazon_channel.view_amazonorder",
        "amazon_channel.cancel_amazonorder",
    ).get(url_for("dashboard:commerce_order_detail", order))

    assert cancel_url not in without.content.decode()
    assert "View all Amazon Orders" not in without.content.decode()
    assert cancel_url in with_it.content.decode()


def test_the_orders_link_in_the_menu_needs_the_view_permission(order):
    link = f'href="{reverse("dashboard:commerce_order_list")}"'
    with_it = signed_in(VIEW, "amazon_channel.view_store").get(reverse("dashboard:store_list"))
    without = signed_in("amazon_channel.view_store").get(reverse("dashboard:store_list"))

    assert link in with_it.content.decode()
    assert link not in without.content.decode()
