"""Cancel Order and Submit Shipment of one Amazon order at once, on PostgreSQL: exactly one of
them happens (the Amazon order's row is locked first by both)."""

import itertools
import threading

import pytest
from django.contrib.auth import get_user_model

from amazon_channel.models import AmazonOrderCancellation, OutboxMessage
from amazon_channel.orders.cancellation import CancellationNotAllowed, amazon_order_cancel
from amazon_channel.orders.commerce_to_amazon import ShipmentNotAccepted, commerce_shipment_create
from amazon_channel.tests.factories import AmazonOrderFactory, StoreFactory
from commerce_orders.models import Shipment
from commerce_orders.tests.factories import placed_order
from tests.concurrency import run_concurrently

pytestmark = [pytest.mark.postgresql, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("attempt", range(5))
def test_a_cancellation_and_a_shipment_at_once_never_both_happen(attempt):
    store = StoreFactory(is_import_enabled=True)
    amazon_order = AmazonOrderFactory(store=store, status="Unshipped", fulfillment_channel="MFN")
    commerce_order = placed_order(external_order_id=amazon_order.amazon_order_id)
    amazon_order.commerce_order = commerce_order
    amazon_order.save(update_fields=["commerce_order"])
    merchant = get_user_model().objects.create_user(f"merchant-{attempt}")
    quantities = {item.pk: item.quantity_ordered for item in commerce_order.items.all()}
    roles = itertools.cycle(["cancel", "ship"])
    lock = threading.Lock()

    def act():
        with lock:
            role = next(roles)
        if role == "cancel":
            return amazon_order_cancel(order=amazon_order, actor=merchant, reason="NoInventory")
        return commerce_shipment_create(
            actor=merchant,
            order=commerce_order,
            quantities=quantities,
            carrier_code="DHL",
            tracking_number="00340434161094042557",
        )

    outcomes = run_concurrently(act, 2)

    succeeded = [outcome for outcome in outcomes if not isinstance(outcome, Exception)]
    refused = [outcome for outcome in outcomes if isinstance(outcome, Exception)]
    assert len(succeeded) == 1, outcomes
    assert len(refused) == 1 and isinstance(
        refused[0], CancellationNotAllowed | ShipmentNotAccepted
    ), outcomes
    cancellations = AmazonOrderCancellation.objects.filter(order=amazon_order).count()
    shipments = Shipment.objects.filter(order=commerce_order).count()
    assert (cancellations, shipments) in {(1, 0), (0, 1)}
    confirmations = OutboxMessage.objects.filter(kind=OutboxMessage.Kind.CONFIRM_SHIPMENT).count()
    assert confirmations == shipments
