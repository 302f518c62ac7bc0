"""Driving our sync and outbox in the foreground against the sandbox, for tests."""

import time
import uuid
from datetime import timedelta

from django.utils import timezone

from amazon_channel.models import AmazonOrderCancellation, SyncRun
from amazon_channel.orders.cancellation import cancellation_buyer_email_send
from amazon_channel.orders.sync import sync_run_start, sync_run_step
from amazon_channel.outbox.feeds import store_outbox_deliver
from amazon_channel.tests.factories import StoreFactory

DEADLINE_SECONDS = 60


def store_for_seller(server, seller, **overrides):
    """A store of ours connected to the sandbox seller, as store_connect would make it."""
    values = {
        "seller_id": seller.seller_id,
        "marketplace_code": "DE",
        "marketplace_id": seller.marketplace_ids[0],
        "sp_api_endpoint": server.url,
        "token_endpoint": f"{server.url}/auth/o2/token",
        "lwa_client_id": seller.client_id,
        "lwa_client_secret": seller.client_secret,
        "refresh_token": seller.refresh_token,
    }
    values.update(overrides)
    return StoreFactory(**values)


def sync_to_the_end(store, *, kind=SyncRun.Kind.COMMAND, since=None) -> SyncRun:
    """Open a run and step it until it finishes, waiting as a worker's retries would."""
    run = sync_run_start(store=store, kind=kind, since=since)
    assert run is not None, "a sync was already running"
    holder = f"test-{uuid.uuid4()}"
    deadline = time.monotonic() + DEADLINE_SECONDS
    while time.monotonic() < deadline:
        outcome = sync_run_step(run_id=run.pk, holder=holder)
        if outcome.is_finished or outcome.is_busy:
            break
        time.sleep(min(outcome.wait_seconds, 5))
    run.refresh_from_db()
    return run


def deliver_outbox(store, *, holder: str = "") -> None:
    """Send the store's outbox and follow its feeds to their reports; then send the buyer
    e-mails of the cancellations Amazon confirmed, once each, as their own task would. A feed
    another `holder` took and left waiting is that holder's (give the same one to follow it)."""
    holder = holder or f"test-{uuid.uuid4()}"
    deadline = time.monotonic() + DEADLINE_SECONDS
    while time.monotonic() < deadline:
        outcome = store_outbox_deliver(store_id=store.pk, holder=holder)
        if outcome.is_finished:
            buyer_emails_send(store)
            return
        time.sleep(min(outcome.wait_seconds, 5))
    raise AssertionError("the outbox was not delivered in time")


def buyer_emails_send(store) -> list[float]:
    """One attempt at every buyer e-mail of the store that is due; the waits the failed ones
    ask for."""
    due = AmazonOrderCancellation.objects.filter(store=store, buyer_email_due_at__isnull=False)
    return [
        cancellation_buyer_email_send(cancellation_id=cancellation_id)
        for cancellation_id in due.order_by("pk").values_list("pk", flat=True)
    ]


def minutes_ago(minutes: float):
    return timezone.now() - timedelta(minutes=minutes)


def shipment_made_before_tracking_was_required(amazon_order):
    """A shipment of everything without a tracking number, queued as Submit Shipment queued it
    before Amazon's requirements were checked here (d733a8c): what such a store has left."""
    from amazon_channel.models import OutboxMessage
    from amazon_channel.outbox.messages import outbox_message_enqueue
    from commerce_orders.services import shipment_create

    commerce_order = amazon_order.commerce_order
    shipment = shipment_create(
        actor=None,
        order=commerce_order,
        quantities={item.pk: item.quantity_ordered for item in commerce_order.items.all()},
        carrier_code="DHL",
    )
    return outbox_message_enqueue(
        store=amazon_order.store,
        kind=OutboxMessage.Kind.CONFIRM_SHIPMENT,
        key=f"ship:{shipment.pk}",
        payload={
            "amazon_order_id": amazon_order.amazon_order_id,
            "commerce_shipment": shipment.increment_id,
            "package_detail": {
                "packageReferenceId": shipment.increment_id,
                "carrierCode": "DHL",
                "carrierName": "DHL",
                "shippingMethod": "",
                "trackingNumber": "",
                "shipDate": minutes_ago(1).strftime("%Y-%m-%dT%H:%M:%SZ"),
                "orderItems": [
                    {"orderItemId": item.order_item.external_item_id, "quantity": item.quantity}
                    for item in shipment.items.select_related("order_item")
                ],
            },
        },
    )
