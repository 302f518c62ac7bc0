"""Cancel Order through to Amazon: the acknowledgement feed, its report, and what follows."""

import pytest
from django.contrib.auth import get_user_model
from django.core import mail

from amazon_channel.models import (
    AmazonFeed,
    AmazonOrder,
    AmazonOrderCancellation,
    AmazonOrderEvent,
    OutboxMessage,
)
from amazon_channel.orders.cancellation import CancellationNotAllowed, amazon_order_cancel
from commerce_orders.models import OrderState, Product, StockReservation
from commerce_orders.notes import notes_text
from commerce_orders.services import order_stock_reference
from seller_central_sandbox.models import SandboxFeed, SandboxOrder
from seller_central_sandbox.services.orders import (
    ShipmentItem,
    order_lifecycle_step,
    order_shipment_confirm,
    orders_generate,
)
from seller_central_sandbox.testing import TEST_TIME_SCALE
from tests.sync_helpers import deliver_outbox, minutes_ago, store_for_seller, sync_to_the_end

pytestmark = pytest.mark.django_db(transaction=True)

DE = "A1PA6795UKMFR9"


@pytest.fixture
def seller(sandbox_seller_factory, settings):
    settings.AMAZON_RATE_LIMIT_SCALE = TEST_TIME_SCALE
    settings.AMAZON_RETRY_BASE_SECONDS = 0.05
    settings.AMAZON_FEED_POLL_SECONDS = 0.2
    return sandbox_seller_factory(marketplace_ids=[DE])


@pytest.fixture
def merchant():
    return get_user_model().objects.create_user("anna", password="x" * 20)


@pytest.fixture
def synced_store(sandbox_server, seller):
    from tests.test_commerce_import_sandbox import SKUS

    for sku in SKUS:
        Product.objects.create(sku=sku, name=sku, price="10.00", quantity_in_stock=100)
    orders_generate(seller=seller, count=30, seed=21, now=minutes_ago(30))
    store = store_for_seller(sandbox_server, seller, is_import_enabled=True)
    sync_to_the_end(store)
    return store


def an_unshipped_order(store) -> AmazonOrder:
    return (
        AmazonOrder.objects.filter(store=store, status="Unshipped", fulfillment_channel="MFN")
        .exclude(commerce_order=None)
        .exclude(buyer_email="")
        .order_by("amazon_order_id")
        .first()
    )


def units_by_sku(order: AmazonOrder) -> dict[str, int]:
    units: dict[str, int] = {}
    for item in order.items.all():
        units[item.seller_sku] = units.get(item.seller_sku, 0) + item.quantity_ordered
    return units


def stock_of(skus) -> dict[str, tuple[int, int]]:
    """(in stock, reserved) per SKU."""
    return {
        product.sku: (product.quantity_in_stock, product.quantity_reserved)
        for product in Product.objects.filter(sku__in=list(skus))
    }


def reservations_of(order: AmazonOrder):
    return StockReservation.objects.filter(
        reference=order_stock_reference(
            external_channel="amazon", external_order_id=order.amazon_order_id
        )
    )


def test_a_confirmed_cancellation_reaches_amazon_and_settles_everything(
    synced_store, seller, merchant
):
    order = an_unshipped_order(synced_store)
    units = units_by_sku(order)
    # The import took the order's units out of stock (and dropped what it had reserved).
    stock_before = stock_of(units)
    assert all(in_stock < 100 for in_stock, _ in stock_before.values())

    amazon_order_cancel(order=order, actor=merchant, reason="NoInventory")
    deliver_outbox(synced_store)

    sandbox_order = SandboxOrder.objects.get(order_id=order.amazon_order_id)
    assert sandbox_order.status == "CANCELLED"
    feed = SandboxFeed.objects.get(seller=seller)
    assert feed.feed_type == "POST_ORDER_ACKNOWLEDGEMENT_DATA"
    cancellation = AmazonOrderCancellation.objects.get(order=order)
    assert cancellation.state == AmazonOrderCancellation.State.CONFIRMED
    order.refresh_from_db()
    assert order.status == "Canceled"
    assert order.commerce_order.state == OrderState.COMPLETE
    assert "No inventory" in order.commerce_order.events.order_by("-pk").first().comment_text
    assert [message.to for message in mail.outbox] == [[order.buyer_email]]
    assert order.amazon_order_id in mail.outbox[0].subject
    kinds = list(order.events.order_by("pk").values_list("kind", flat=True))
    assert kinds[-2:] == ["cancel_requested", "cancel_confirmed"]
    # The order's units are back in stock, once; nothing is reserved for it.
    assert stock_of(units) == {
        sku: (in_stock + units[sku], reserved) for sku, (in_stock, reserved) in stock_before.items()
    }
    assert not reservations_of(order).exists()


def test_a_confirmed_cancellation_releases_the_stock_an_unimported_order_still_holds(
    sandbox_server, seller, merchant
):
    # Given a pending order that reserved its units, was paid, and could not be imported
    # because its stock was sold elsewhere meanwhile: the reservation is still held
    from tests.test_commerce_import_sandbox import SKUS

    for sku in SKUS:
        Product.objects.create(sku=sku, name=sku, price="10.00", quantity_in_stock=100)
    orders_generate(seller=seller, count=30, seed=22, now=minutes_ago(60))
    store = store_for_seller(
        sandbox_server, seller, is_import_enabled=True, is_pending_quantity_reserved=True
    )
    sync_to_the_end(store)
    pending = (
        SandboxOrder.objects.filter(seller=seller, status="PENDING", fulfilled_by="MERCHANT")
        .order_by("order_id")
        .first()
    )
    assert pending is not None
    order = AmazonOrder.objects.get(store=store, amazon_order_id=pending.order_id)
    units = units_by_sku(order)
    assert reservations_of(order).count() == len(units) > 0
    Product.objects.filter(sku__in=units).update(quantity_in_stock=0)
    order_lifecycle_step(seller=seller, order_id=pending.order_id, step="pay")
    SandboxOrder.objects.filter(pk=pending.pk).update(last_updated_time=minutes_ago(4))
    sync_to_the_end(store)
    order.refresh_from_db()
    assert order.status == "Unshipped"
    assert order.commerce_order_id is None
    assert notes_text(order.commerce_import_error)
    stock_before = stock_of(units)

    # When the merchant cancels it and Amazon confirms
    amazon_order_cancel(order=order, actor=merchant, reason="NoInventory")
    deliver_outbox(store)

    # Then the reservation is released and nothing else moves
    assert AmazonOrderCancellation.objects.get(order=order).state == "confirmed"
    assert not reservations_of(order).exists()
    assert stock_of(units) == {
        sku: (in_stock, reserved - units[sku]) for sku, (in_stock, reserved) in stock_before.items()
    }


def test_a_cancellation_amazon_rejects_is_flagged_and_the_real_status_read_back(
    synced_store, seller, merchant
):
    order = an_unshipped_order(synced_store)
    amazon_order_cancel(order=order, actor=merchant, reason="BuyerCanceled")
    # Meanwhile the order ships from another system.
    sandbox_order = SandboxOrder.objects.get(order_id=order.amazon_order_id)
    order_shipment_confirm(
        seller=seller,
        order_id=sandbox_order.order_id,
        marketplace_id=DE,
        package_reference_id="P-1",
        carrier_code="UPS",
        tracking_number="1Z1",
        ship_date=minutes_ago(1).isoformat(),
        items=[
            ShipmentItem(order_item_id=item.order_item_id, quantity=item.quantity_ordered)
            for item in sandbox_order.items.all()
        ],
    )

    deliver_outbox(synced_store)

    cancellation = AmazonOrderCancellation.objects.get(order=order)
    assert cancellation.state == AmazonOrderCancellation.State.REJECTED
    assert cancellation.amazon_message
    assert not cancellation.is_rejection_acknowledged
    order.refresh_from_db()
    assert order.status == "Shipped"
    assert mail.outbox == []
    assert order.events.filter(kind=AmazonOrderEvent.Kind.CANCEL_REJECTED).count() == 1


def test_cancel_twice_produces_one_feed_message_and_one_event(synced_store, seller, merchant):
    order = an_unshipped_order(synced_store)

    amazon_order_cancel(order=order, actor=merchant, reason="NoInventory")
    with pytest.raises(CancellationNotAllowed):
        amazon_order_cancel(order=order, actor=merchant, reason="NoInventory")
    deliver_outbox(synced_store)
    deliver_outbox(synced_store)

    assert OutboxMessage.objects.count() == 1
    assert AmazonFeed.objects.count() == 1
    assert SandboxFeed.objects.filter(seller=seller).count() == 1
    assert order.events.filter(kind=AmazonOrderEvent.Kind.CANCEL_REQUESTED).count() == 1


def test_cancellations_made_together_travel_in_one_feed(synced_store, seller, merchant):
    orders = list(
        AmazonOrder.objects.filter(
            store=synced_store, status="Unshipped", fulfillment_channel="MFN"
        ).order_by("pk")[:3]
    )
    assert len(orders) == 3
    for order in orders:
        amazon_order_cancel(order=order, actor=merchant, reason="GeneralAdjustment")

    deliver_outbox(synced_store)

    assert SandboxFeed.objects.filter(seller=seller).count() == 1
    assert set(
        SandboxOrder.objects.filter(
            order_id__in=[order.amazon_order_id for order in orders]
        ).values_list("status", flat=True)
    ) == {"CANCELLED"}


def test_a_worker_that_died_during_create_feed_does_not_send_the_feed_twice(
    synced_store, seller, merchant
):
    from datetime import timedelta

    from django.utils import timezone

    from amazon_channel.outbox.feeds import _feed_open
    from amazon_channel.outbox.leases import lease_claim, lease_duration
    from amazon_channel.spapi.client import AmazonClient

    order = an_unshipped_order(synced_store)
    amazon_order_cancel(order=order, actor=merchant, reason="NoInventory")
    feed = _feed_open(synced_store, AmazonClient(synced_store)).feed
    feed = lease_claim(AmazonFeed.objects, pk=feed.pk, holder="dead", duration=lease_duration())
    client = AmazonClient(synced_store)
    # The dead worker uploaded, wrote CREATING, called createFeed, and died before saving the id
    # (its lease has run out since, as it does only long after the call's timeout).
    feed.feed_document_id = client.feed_document_upload(
        content=feed.content.encode(), content_type="text/xml; charset=UTF-8"
    )
    feed.state = AmazonFeed.State.CREATING
    feed.submitted_at = timezone.now() - timedelta(seconds=30)
    feed.save()
    client.feed_create(feed_type=feed.feed_type, document_id=feed.feed_document_id)
    AmazonFeed.objects.filter(pk=feed.pk).update(lease_expires_at=timezone.now())

    deliver_outbox(synced_store)

    # Amazon's order, not a feed found in getFeeds, proves the cancellation: nothing is sent
    # twice, and the feed Amazon lists is never adopted as ours (it could be another tool's).
    assert SandboxFeed.objects.filter(seller=seller).count() == 1
    assert AmazonOrderCancellation.objects.get(order=order).state == "confirmed"
    assert SandboxOrder.objects.get(order_id=order.amazon_order_id).status == "CANCELLED"
    lost = AmazonFeed.objects.get()
    assert (lost.feed_id, lost.state) == ("", AmazonFeed.State.FAILED)
    assert OutboxMessage.objects.get().state == OutboxMessage.State.DONE
