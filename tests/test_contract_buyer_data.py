"""Restricted buyer data, through the real sync against the sandbox over HTTP.

Amazon shares the recipient's name, street and postal code only with apps that hold the
restricted Direct-to-Consumer Shipping role, and only for orders to ship or shipped
(https://developer-docs.amazon.com/sp-api/docs/access-orders-pii); without any order role
searchOrders answers 403 (amzn/selling-partner-api-models#5319). An order the merchant must
ship cannot become a Commerce order without an address: it is flagged with the reason and
retried until the data arrives.
"""

import pytest
from django.contrib.auth import get_user_model

from amazon_channel.models import AmazonOrder, SyncRun, SyncState
from amazon_channel.orders.address_edits import (
    SHIPPING_ADDRESS_KEYS,
    amazon_order_shipping_address_update,
)
from commerce_orders.models import CommerceOrder, OrderAddress, Product
from commerce_orders.notes import notes_text
from seller_central_sandbox.catalog import PRODUCTS
from seller_central_sandbox.models import SellerRole
from seller_central_sandbox.services.sellers import seller_roles_set
from seller_central_sandbox.testing import TEST_TIME_SCALE, order_in_status
from tests.sync_helpers import minutes_ago, store_for_seller, sync_to_the_end

pytestmark = pytest.mark.django_db(transaction=True)

DE = "A1PA6795UKMFR9"
TRACKING = SellerRole.INVENTORY_AND_ORDER_TRACKING.value
RESTRICTED = SellerRole.DIRECT_TO_CONSUMER_SHIPPING.value


@pytest.fixture
def seller(sandbox_seller_factory, settings):
    settings.AMAZON_RATE_LIMIT_SCALE = TEST_TIME_SCALE
    settings.AMAZON_RETRY_BASE_SECONDS = 0.05
    return sandbox_seller_factory(marketplace_ids=[DE])


@pytest.fixture
def catalog():
    for product in PRODUCTS:
        Product.objects.create(
            sku=product.seller_sku, name=product.title, price="10.00", quantity_in_stock=500
        )


def withheld_order(sandbox_server, seller, *, seed: int):
    """An unshipped merchant-fulfilled order read by an app without the restricted role."""
    seller_roles_set(seller=seller, roles=[TRACKING])
    placed = order_in_status(
        seller=seller, status="UNSHIPPED", fulfilled_by="MERCHANT", seed=seed, now=minutes_ago(30)
    )
    store = store_for_seller(sandbox_server, seller, is_import_enabled=True)
    sync_to_the_end(store)
    return placed, store, AmazonOrder.objects.get(store=store, amazon_order_id=placed.order_id)


def shipping_address_of(order: AmazonOrder) -> OrderAddress:
    return order.commerce_order.addresses.get(address_type=OrderAddress.AddressType.SHIPPING)


def test_an_order_to_ship_without_its_address_is_flagged_and_imported_once_amazon_shares_it(
    sandbox_server, seller, catalog
):
    placed, store, order = withheld_order(sandbox_server, seller, seed=300)

    assert order.needs_attention
    assert "Direct-to-Consumer Shipping role" in notes_text(order.order_notes)
    assert order.commerce_order_id is None and not CommerceOrder.objects.exists()
    assert "withheld the recipient's name, street, postal code" in notes_text(
        order.commerce_import_error
    )
    assert order.shipping_address["city"] == placed.details["address"]["city"]

    seller_roles_set(seller=seller, roles=[TRACKING, RESTRICTED])
    again = sync_to_the_end(store)

    order.refresh_from_db()
    # Amazon changed nothing: the order came back by the re-read of orders needing attention.
    assert (again.orders_created, again.orders_updated, again.commerce_orders_created) == (0, 0, 1)
    assert not order.needs_attention and notes_text(order.order_notes) == ""
    assert notes_text(order.commerce_import_error) == ""
    address = shipping_address_of(order)
    expected = placed.details["address"]
    assert (address.name, address.street, address.postal_code) == (
        expected["name"],
        expected["addressLine1"],
        expected["postalCode"],
    )


def test_an_address_the_merchant_completes_lets_the_order_be_imported(
    sandbox_server, seller, catalog
):
    _placed, store, order = withheld_order(sandbox_server, seller, seed=301)
    merchant = get_user_model().objects.create_user("anna")

    amazon_order_shipping_address_update(
        order=order,
        actor=merchant,
        address={key: order.shipping_address.get(key, "") for key in SHIPPING_ADDRESS_KEYS}
        | {"name": "Erika Muster", "addressLine1": "Weg 1", "postalCode": "10115"},
    )
    sync_to_the_end(store)

    order.refresh_from_db()
    assert order.commerce_order is not None and notes_text(order.commerce_import_error) == ""
    address = shipping_address_of(order)
    assert (address.name, address.street, address.postal_code) == (
        "Erika Muster",
        "Weg 1",
        "10115",
    )


def test_searchorders_refused_for_a_missing_role_pauses_the_store_and_names_the_role(
    sandbox_server, seller
):
    seller_roles_set(seller=seller, roles=[])
    store = store_for_seller(sandbox_server, seller)

    run = sync_to_the_end(store)

    store.refresh_from_db()
    assert run.status == SyncRun.Status.FAILED
    assert store.sync_state == SyncState.NEEDS_REAUTHORIZATION
    assert store.sync_state_message.startswith(
        "Amazon denied access to orders (403): Access to requested resource is denied."
    )
    assert "Inventory and Order Tracking role" in store.sync_state_message
