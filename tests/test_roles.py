"""The roles, page by page: a user with exactly one role (a group made by the roles migration)
opens every dashboard URL; where the role allows it the page answers (200) or the action runs
(anything but 403), elsewhere 403. And the rule of dashboard/permissions.py: a page under a store
needs "view store" besides its own permission."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse

from amazon_channel.tests.factories import AmazonOrderFactory, StoreFactory
from commerce_orders import services as commerce_services
from commerce_orders.tests.factories import placed_order
from dashboard import urls as dashboard_urls
from dashboard.tests.factories import user_with_app_permissions
from tests.helpers import DASHBOARD_PAGES

pytestmark = pytest.mark.django_db

MERCHANT, STORE_MANAGER, OPERATIONS = "Merchant", "Store manager", "Operations"
ROLES = (MERCHANT, STORE_MANAGER, OPERATIONS)
EVERYONE = {MERCHANT, STORE_MANAGER, OPERATIONS}

# URL name -> the roles that may open it (README.md, "Roles").
ALLOWED = {
    "store_list": EVERYONE,
    "store_detail": EVERYONE,
    "store_sync_log": EVERYONE,
    "store_connect": {STORE_MANAGER},
    "store_connect_save": {STORE_MANAGER},
    "store_settings": {STORE_MANAGER},
    "store_settings_save": {STORE_MANAGER},
    "store_activate": {STORE_MANAGER},
    "store_deactivate": {STORE_MANAGER},
    "store_sync": {STORE_MANAGER, OPERATIONS},
    "store_sync_status": EVERYONE,
    "store_reauthorize": {STORE_MANAGER},
    "store_reauthorize_save": {STORE_MANAGER},
    "order_list": {MERCHANT, OPERATIONS},
    "order_detail": {MERCHANT, OPERATIONS},
    "order_cancellation_status": {MERCHANT, OPERATIONS},
    "order_shipping_address_update": {MERCHANT},
    "order_cancel": {MERCHANT},
    "order_cancel_confirm": {MERCHANT},
    "order_cancellation_acknowledge": {MERCHANT},
    "commerce_order_list": {MERCHANT, OPERATIONS},
    "commerce_order_detail": {MERCHANT, OPERATIONS},
    "commerce_order_export": {MERCHANT, OPERATIONS},
    "commerce_order_mass_action": {MERCHANT},
    "commerce_order_invoice": {MERCHANT},
    "commerce_order_ship": {MERCHANT},
    "commerce_order_ship_save": {MERCHANT},
    "commerce_order_creditmemo": {MERCHANT},
    "commerce_order_creditmemo_save": {MERCHANT},
    "commerce_order_hold": {MERCHANT},
    "commerce_order_unhold": {MERCHANT},
    "commerce_order_cancel": {MERCHANT},
    "commerce_order_email_send": {MERCHANT},
    "commerce_order_comment_add": {MERCHANT},
    "commerce_order_amazon_retry": {MERCHANT},
    "commerce_order_shipment_correct": {MERCHANT},
}
PAGES = DASHBOARD_PAGES
AMAZON_ORDER_URLS = sorted(name for name in ALLOWED if name.startswith("order_"))


@pytest.fixture
def objects():
    """A store, one of its Amazon orders, and an invoiced Commerce order (its Ship and Credit
    Memo pages open)."""
    amazon_order = AmazonOrderFactory(store=StoreFactory())
    commerce_order = placed_order()
    commerce_services.invoice_create(actor=None, order=commerce_order)
    return amazon_order, commerce_order


def url_for(name: str, objects) -> str:
    amazon_order, commerce_order = objects
    pattern = next(pattern for pattern in dashboard_urls.urlpatterns if pattern.name == name)
    arguments = {
        "store_id": amazon_order.store_id,
        "order_id": commerce_order.pk if name.startswith("commerce_") else amazon_order.pk,
        # No such message: an allowed user gets past the permission check to a 404.
        "message_id": 1,
        "shipment_id": 1,
    }
    return reverse(
        f"dashboard:{name}", kwargs={key: arguments[key] for key in pattern.pattern.converters}
    )


def member_of(role: str) -> Client:
    user = get_user_model().objects.create_user(role.lower().replace(" ", "-"))
    user.groups.add(Group.objects.get(name=role))
    client = Client()
    client.force_login(user)
    return client


def open_url(client: Client, name: str, objects):
    method = client.get if name in PAGES else client.post
    return method(url_for(name, objects))


def test_the_roles_migration_made_the_three_groups():
    assert set(Group.objects.filter(name__in=ROLES).values_list("name", flat=True)) == set(ROLES)


def test_every_dashboard_url_has_its_roles_listed():
    assert {pattern.name for pattern in dashboard_urls.urlpatterns} == set(ALLOWED)
    assert set(PAGES) <= set(ALLOWED)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("name", sorted(ALLOWED))
def test_a_role_opens_exactly_the_urls_it_allows(objects, role, name):
    response = open_url(member_of(role), name, objects)

    if role not in ALLOWED[name]:
        assert response.status_code == 403
    elif name in PAGES:
        assert response.status_code == 200
    else:
        assert response.status_code in {200, 302, 400, 404}


@pytest.mark.parametrize("name", AMAZON_ORDER_URLS)
def test_view_order_without_view_store_opens_no_order_page_of_a_store(client, objects, name):
    client.force_login(
        user_with_app_permissions(
            "orders-only",
            "amazon_channel.view_amazonorder",
            "amazon_channel.change_amazonorder",
            "amazon_channel.cancel_amazonorder",
        )
    )

    assert open_url(client, name, objects).status_code == 403


@pytest.mark.parametrize(
    "name",
    [
        "store_settings",
        "store_settings_save",
        "store_activate",
        "store_deactivate",
        "store_reauthorize",
        "store_reauthorize_save",
    ],
)
def test_changing_a_store_needs_view_store_too(client, objects, name):
    client.force_login(user_with_app_permissions("changer", "amazon_channel.change_store"))

    assert open_url(client, name, objects).status_code == 403


def test_syncing_a_store_needs_view_store_too(client, objects):
    client.force_login(user_with_app_permissions("syncer", "amazon_channel.sync_store"))

    assert open_url(client, "store_sync", objects).status_code == 403
