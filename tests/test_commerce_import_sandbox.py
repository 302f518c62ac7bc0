"""Commerce orders for Amazon orders, as the Commerce channel makes them, through the real sync."""

import itertools

import pytest

from amazon_channel.models import AmazonOrder, Store
from commerce_orders.models import CommerceOrder, OrderState, Product
from commerce_orders.notes import notes_text
from seller_central_sandbox.models import SandboxOrder
from seller_central_sandbox.services.orders import (
    ShipmentItem,
    order_lifecycle_step,
    order_shipment_confirm,
    orders_generate,
)
from seller_central_sandbox.testing import TEST_TIME_SCALE, order_in_status
from tests.sync_helpers import minutes_ago, store_for_seller, sync_to_the_end

pytestmark = pytest.mark.django_db(transaction=True)

DE = "A1PA6795UKMFR9"
CHANNELS = ("MERCHANT", "AMAZON")
STATUSES = (
    "PENDING", "PENDING_AVAILABILITY", "UNSHIPPED", "PARTIALLY_SHIPPED", "SHIPPED", "CANCELLED",
)  # fmt: skip
OUR_STATUS = {
    "PENDING": "Pending",
    "PENDING_AVAILABILITY": "PendingAvailability",
    "UNSHIPPED": "Unshipped",
    "PARTIALLY_SHIPPED": "PartiallyShipped",
    "SHIPPED": "Shipped",
    "CANCELLED": "Canceled",
}
SKUS = [
    "ECHO-DOT-4-CHARCOAL", "FIRE-TV-4K-2021", "KETTLE-STEEL-17L", "MUG-SET-4-BLUE",
    "YOGA-MAT-6MM-GRN", "BACKPACK-25L-BLK", "HEADPHONES-NC-700", "CABLE-USBC-2M-2PK",
    "DESK-LAMP-LED-WHT", "COFFEE-BEANS-1KG", "BOARD-GAME-STRAT", "PHONE-CASE-CLEAR",
]  # fmt: skip


@pytest.fixture
def seller(sandbox_seller_factory, settings):
    settings.AMAZON_RATE_LIMIT_SCALE = TEST_TIME_SCALE
    settings.AMAZON_RETRY_BASE_SECONDS = 0.05
    return sandbox_seller_factory(marketplace_ids=[DE])


@pytest.fixture
def catalog():
    for sku in SKUS:
        Product.objects.create(sku=sku, name=sku.title(), price="10.00", quantity_in_stock=500)


def importing_store(server, seller, **settings_values):
    return store_for_seller(server, seller, is_import_enabled=True, **settings_values)


def commerce_order_of(order: AmazonOrder) -> CommerceOrder | None:
    return CommerceOrder.objects.filter(
        external_channel="amazon", external_order_id=order.amazon_order_id
    ).first()


def test_commerce_orders_follow_the_channel_rules(sandbox_server, seller, catalog):
    placed = {
        (channel, status): order_in_status(
            seller=seller, status=status, fulfilled_by=channel, seed=100 + n, now=minutes_ago(30)
        ).order_id
        for n, (channel, status) in enumerate(itertools.product(CHANNELS, STATUSES))
    }
    store = importing_store(sandbox_server, seller)

    run = sync_to_the_end(store)

    orders = {
        order.amazon_order_id: order
        for order in AmazonOrder.objects.filter(store=store).select_related("commerce_order")
    }
    assert {key: orders[order_id].status for key, order_id in placed.items()} == {
        (channel, status): OUR_STATUS[status] for channel, status in placed
    }
    imported = {key for key, order_id in placed.items() if orders[order_id].commerce_order}
    assert imported == {
        ("MERCHANT", "UNSHIPPED"),
        ("MERCHANT", "PARTIALLY_SHIPPED"),
        ("MERCHANT", "SHIPPED"),
        ("AMAZON", "SHIPPED"),
    }
    assert run.commerce_orders_created == CommerceOrder.objects.count() == 4
    for channel in CHANNELS:
        shipped = orders[placed[(channel, "SHIPPED")]]
        assert shipped.commerce_order.state == OrderState.COMPLETE
    assert orders[placed[("MERCHANT", "UNSHIPPED")]].commerce_order.state == OrderState.PROCESSING


def test_an_out_of_stock_sku_blocks_the_import_with_a_note_and_is_retried_once_stocked(
    sandbox_server, seller, catalog
):
    placed = order_in_status(
        seller=seller, status="UNSHIPPED", fulfilled_by="MERCHANT", seed=200, now=minutes_ago(30)
    )
    short = placed.items.order_by("pk").first().seller_sku
    Product.objects.filter(sku=short).update(quantity_in_stock=0)
    store = importing_store(sandbox_server, seller)
    sync_to_the_end(store)
    order = AmazonOrder.objects.get(amazon_order_id=placed.order_id)
    assert order.commerce_order_id is None
    assert f"SKU {short} is out of stock" in notes_text(order.commerce_import_error)
    assert CommerceOrder.objects.count() == 0

    Product.objects.filter(sku=short).update(quantity_in_stock=10)
    again = sync_to_the_end(store)

    order.refresh_from_db()
    # Amazon changed nothing: the retry comes from the note on the order.
    assert (again.orders_created, again.orders_updated) == (0, 0)
    assert again.commerce_orders_created == 1
    assert order.commerce_order_id is not None
    assert notes_text(order.commerce_import_error) == ""


def test_an_imported_order_is_invoiced_offline_with_amazon_payment_and_shipping(
    sandbox_server, seller, catalog
):
    orders_generate(seller=seller, count=20, seed=12, now=minutes_ago(5))
    store = importing_store(sandbox_server, seller)

    sync_to_the_end(store)

    order = AmazonOrder.objects.filter(store=store, status="Unshipped").exclude(commerce_order=None)
    order = order.first()
    commerce_order = order.commerce_order
    assert commerce_order.payment_method == "Amazon Channel Payment"
    assert commerce_order.po_number == order.amazon_order_id
    assert commerce_order.shipping_method == "Amazon Channel Shipping"
    assert commerce_order.state == OrderState.PROCESSING
    assert commerce_order.total_paid == commerce_order.grand_total
    assert commerce_order.invoices.count() == 1
    assert commerce_order.customer is None  # guest, the default
    assert commerce_order.increment_id.isdigit()


def test_store_settings_choose_the_amazon_number_and_customer_accounts(
    sandbox_server, seller, catalog
):
    orders_generate(seller=seller, count=20, seed=13, now=minutes_ago(5))
    store = importing_store(
        sandbox_server,
        seller,
        order_number_source=Store.OrderNumberSource.AMAZON,
        customer_creation=Store.CustomerCreation.NEW_ACCOUNT,
    )

    sync_to_the_end(store)

    linked = AmazonOrder.objects.filter(store=store).exclude(commerce_order=None)
    assert linked.exists()
    for order in linked.select_related("commerce_order__customer"):
        assert order.commerce_order.increment_id == order.amazon_order_id
        assert order.commerce_order.customer.email == order.buyer_email


def test_a_missing_sku_blocks_the_import_with_a_note_and_is_retried(sandbox_server, seller):
    for sku in SKUS[1:]:
        Product.objects.create(sku=sku, name=sku, price="10.00", quantity_in_stock=500)
    orders_generate(seller=seller, count=40, seed=14, now=minutes_ago(5))
    store = importing_store(sandbox_server, seller)
    sync_to_the_end(store)
    blocked = list(
        AmazonOrder.objects.filter(store=store, status__in=["Unshipped", "Shipped"]).exclude(
            commerce_import_error=[]
        )
    )
    assert blocked
    assert all(SKUS[0] in notes_text(order.commerce_import_error) for order in blocked)
    assert all(order.commerce_order_id is None for order in blocked)

    Product.objects.create(sku=SKUS[0], name="Speaker", price="10.00", quantity_in_stock=500)
    sync_to_the_end(store)

    for order in blocked:
        order.refresh_from_db()
        assert order.commerce_order_id is not None
        assert notes_text(order.commerce_import_error) == ""
    assert not AmazonOrder.objects.filter(store=store).exclude(commerce_import_error=[]).exists()


def test_pending_orders_reserve_stock_and_release_it_when_imported(sandbox_server, seller, catalog):
    orders_generate(seller=seller, count=30, seed=15, now=minutes_ago(60))
    store = importing_store(sandbox_server, seller, is_pending_quantity_reserved=True)
    sync_to_the_end(store)
    pending = SandboxOrder.objects.filter(
        seller=seller, status="PENDING", fulfilled_by="MERCHANT"
    ).first()
    reserved = sum(product.quantity_reserved for product in Product.objects.all())
    pending_units = sum(
        item.quantity_ordered
        for order in SandboxOrder.objects.filter(seller=seller, status="PENDING")
        for item in order.items.all()
    )
    assert reserved == pending_units > 0

    order_lifecycle_step(seller=seller, order_id=pending.order_id, step="pay")
    SandboxOrder.objects.filter(pk=pending.pk).update(last_updated_time=minutes_ago(4))
    sync_to_the_end(store)

    units = sum(item.quantity_ordered for item in pending.items.all())
    assert sum(p.quantity_reserved for p in Product.objects.all()) == reserved - units
    assert AmazonOrder.objects.get(amazon_order_id=pending.order_id).commerce_order_id


def test_shipped_on_amazon_completes_and_canceled_by_the_buyer_settles_the_order(
    sandbox_server, seller, catalog
):
    orders_generate(seller=seller, count=40, seed=16, now=minutes_ago(60))
    store = importing_store(sandbox_server, seller)
    sync_to_the_end(store)
    unshipped = SandboxOrder.objects.filter(
        seller=seller, status="UNSHIPPED", fulfilled_by="MERCHANT"
    ).order_by("order_id")
    shipped, pending = (
        unshipped[0],
        SandboxOrder.objects.filter(seller=seller, status="PENDING").first(),
    )
    order_shipment_confirm(
        seller=seller,
        order_id=shipped.order_id,
        marketplace_id=DE,
        package_reference_id="P1",
        carrier_code="DHL",
        tracking_number="1Z999",
        ship_date=minutes_ago(4).isoformat(),
        items=[
            ShipmentItem(order_item_id=item.order_item_id, quantity=item.quantity_ordered)
            for item in shipped.items.all()
        ],
    )
    order_lifecycle_step(seller=seller, order_id=pending.order_id, step="pay")
    SandboxOrder.objects.filter(pk__in=[shipped.pk, pending.pk]).update(
        last_updated_time=minutes_ago(4)
    )
    sync_to_the_end(store)
    ours = AmazonOrder.objects.get(amazon_order_id=pending.order_id)
    assert ours.commerce_order.state == OrderState.PROCESSING

    # The buyer's cancellation of an order that was already imported, as Amazon reports it.
    from seller_central_sandbox.services.orders import _buyer_cancels

    locked = SandboxOrder.objects.get(pk=pending.pk)
    _buyer_cancels(locked, reason="Ordered by mistake", now=minutes_ago(3.5))
    sync_to_the_end(store)

    assert commerce_order_of(AmazonOrder.objects.get(amazon_order_id=shipped.order_id)).state == (
        OrderState.COMPLETE
    )
    canceled = commerce_order_of(ours)
    assert canceled.state == OrderState.COMPLETE
    assert "Ordered by mistake" in canceled.events.order_by("-pk").first().comment_text


def test_with_import_disabled_no_commerce_order_is_made(sandbox_server, seller, catalog):
    orders_generate(seller=seller, count=20, seed=17, now=minutes_ago(5))
    store = store_for_seller(sandbox_server, seller, is_import_enabled=False)

    sync_to_the_end(store)

    assert AmazonOrder.objects.filter(store=store).count() == 20
    assert not CommerceOrder.objects.exists()
