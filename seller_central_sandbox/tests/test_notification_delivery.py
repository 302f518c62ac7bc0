"""Notifications on their way: the sandbox sends ORDER_CHANGE and FEED_PROCESSING_FINISHED to the
subscribed destination's SQS queue (moto's server, over real HTTP), schema-valid, with the
seller's delivery faults."""

import json
import time
from datetime import timedelta

import pytest
from sp_api.api import Notifications

from seller_central_sandbox.models import (
    FulfilledBy,
    FulfillmentStatus,
    NotificationDelivery,
    SandboxNotification,
)
from seller_central_sandbox.services.notifications import (
    application_id,
    notifications_held_release,
    seller_notification_faults_set,
)
from seller_central_sandbox.services.orders import order_lifecycle_step, orders_generate
from seller_central_sandbox.services.pump import notifications_pump
from seller_central_sandbox.services.sellers import SandboxError, seller_tokens_revoke
from seller_central_sandbox.testing import (
    client_kwargs_for,
    order_in_status,
    sqs_queue_create,
)
from seller_central_sandbox.tests.contract import validate_notification
from seller_central_sandbox.tests.helpers import (
    cancel_feed_xml,
    orders_v0_client,
    submit_feed,
    unshipped_merchant_order,
)

pytestmark = pytest.mark.django_db(transaction=True)


def subscribe(server, seller, queue_arn: str, *types: str, **subscription) -> list[str]:
    """A destination for the queue and the seller's subscriptions of `types`, through
    python-amazon-sp-api; returns the subscription ids."""
    client = Notifications(**client_kwargs_for(server, seller))
    destination_id = client.create_destination(name="channel", arn=queue_arn).payload[
        "destinationId"
    ]
    versions = {"ORDER_CHANGE": "1.0", "FEED_PROCESSING_FINISHED": "2020-09-04"}
    return [
        client.create_subscription(
            notification_type,
            destination_id=destination_id,
            payload_version=versions[notification_type],
            **subscription,
        ).payload["subscriptionId"]
        for notification_type in types
    ]


def received(queue, *, expected: int | None = None, wait_seconds: float = 3.0) -> list[dict]:
    """The notifications that reached the queue, each checked against its schema."""
    notifications = [
        json.loads(body) for body in queue.receive(wait_seconds=wait_seconds, expected=expected)
    ]
    for notification in notifications:
        validate_notification(notification)
    return notifications


def order_change(notification: dict) -> dict:
    return notification["Payload"]["OrderChangeNotification"]


def test_a_buyers_cancellation_request_reaches_the_queue_as_amazons_order_change(
    sandbox_server, sandbox_seller, sqs_queue
):
    order = unshipped_merchant_order(sandbox_seller)
    [subscription_id] = subscribe(sandbox_server, sandbox_seller, sqs_queue.arn, "ORDER_CHANGE")

    order_lifecycle_step(seller=sandbox_seller, order_id=order.order_id, step="request_cancel")

    [notification] = received(sqs_queue, expected=1)
    change = order_change(notification)
    assert notification["NotificationType"] == "ORDER_CHANGE"
    assert change["AmazonOrderId"] == order.order_id
    assert change["SellerId"] == sandbox_seller.seller_id
    # OrderChangeNotification.json's example: a buyer's cancellation request.
    assert change["OrderChangeType"] == "BuyerRequestedChange"
    assert change["OrderChangeTrigger"]["ChangeReason"] == "Buyer Requested Cancel"
    assert change["Summary"]["OrderStatus"] == "Unshipped"
    assert all(item["IsBuyerRequestedCancel"] for item in change["Summary"]["OrderItems"])
    # No prices: the notification says the order changed, never what it now costs.
    assert "Price" not in json.dumps(notification)
    metadata = notification["NotificationMetadata"]
    assert metadata["SubscriptionId"] == subscription_id
    assert metadata["ApplicationId"] == application_id(sandbox_seller.client_id)


def test_a_shipment_confirmed_over_the_api_notifies_a_status_change(
    sandbox_server, sandbox_seller, sqs_queue
):
    order = unshipped_merchant_order(sandbox_seller)
    subscribe(sandbox_server, sandbox_seller, sqs_queue.arn, "ORDER_CHANGE")
    items = [
        {"orderItemId": item.order_item_id, "quantity": item.quantity_ordered}
        for item in order.items.order_by("pk")
    ]

    orders_v0_client(client_kwargs_for(sandbox_server, sandbox_seller)).confirm_shipment(
        order.order_id,
        marketplaceId=order.marketplace_id,
        packageDetail={
            "packageReferenceId": "1",
            "carrierCode": "UPS",
            "trackingNumber": "1Z999AA10123456784",
            "shipDate": "2025-06-01T10:00:00Z",
            "orderItems": items,
        },
    )

    [notification] = received(sqs_queue, expected=1)
    change = order_change(notification)
    assert change["OrderChangeType"] == "OrderStatusChange"
    assert change["Summary"]["OrderStatus"] == "Shipped"
    assert change["Summary"]["NumberOfItemsUnshipped"] == 0


def test_a_cancel_feed_notifies_the_order_change_and_the_finished_feed(
    sandbox_server, sandbox_seller, sqs_queue
):
    order = unshipped_merchant_order(sandbox_seller)
    subscribe(
        sandbox_server,
        sandbox_seller,
        sqs_queue.arn,
        "ORDER_CHANGE",
        "FEED_PROCESSING_FINISHED",
    )
    reasons = {item.order_item_id: "NoInventory" for item in order.items.all()}
    kwargs = client_kwargs_for(sandbox_server, sandbox_seller)
    feed_id = submit_feed(
        kwargs, cancel_feed_xml(sandbox_seller.seller_id, order.order_id, reasons)
    )

    # Nobody reads the feed: it finishes when its time has come, as at Amazon.
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and not SandboxNotification.objects.filter(
        notification_type="FEED_PROCESSING_FINISHED"
    ):
        notifications_pump()
        time.sleep(0.05)

    notifications = received(sqs_queue, expected=2)
    by_type = {
        (notification.get("NotificationType") or notification["notificationType"]): notification
        for notification in notifications
    }
    assert order_change(by_type["ORDER_CHANGE"])["Summary"]["OrderStatus"] == "Canceled"
    finished = by_type["FEED_PROCESSING_FINISHED"]["payload"]["feedProcessingFinishedNotification"]
    assert finished["feedId"] == feed_id
    assert finished["processingStatus"] == "DONE"
    assert finished["feedType"] == "POST_ORDER_ACKNOWLEDGEMENT_DATA"
    assert finished["resultFeedDocumentId"].startswith("amzn1.tortuga.")
    assert finished["sellerId"] == sandbox_seller.seller_id


def test_a_status_change_and_a_new_order_notify_unless_the_seller_says_new_orders_do_not(
    sandbox_server, sandbox_seller, sqs_queue
):
    subscribe(sandbox_server, sandbox_seller, sqs_queue.arn, "ORDER_CHANGE")
    pending = order_in_status(
        seller=sandbox_seller,
        status=FulfillmentStatus.PENDING,
        fulfilled_by=FulfilledBy.MERCHANT,
        seed=3,
    )
    received(sqs_queue, wait_seconds=1)  # the order's placing, whatever it said

    order_lifecycle_step(seller=sandbox_seller, order_id=pending.order_id, step="pay")
    [paid] = received(sqs_queue, expected=1)
    [placed] = orders_generate(seller=sandbox_seller, count=1, seed=11)
    [notified] = received(sqs_queue, expected=1)
    seller_notification_faults_set(seller=sandbox_seller, is_new_order_notified=False)
    orders_generate(seller=sandbox_seller, count=1, seed=12)

    assert order_change(paid)["Summary"]["OrderStatus"] == "Unshipped"
    assert order_change(notified)["AmazonOrderId"] == placed.order_id
    assert received(sqs_queue, wait_seconds=1) == []


def test_duplicates_come_as_copies_of_one_notification(sandbox_server, sandbox_seller, sqs_queue):
    order = unshipped_merchant_order(sandbox_seller)
    subscribe(sandbox_server, sandbox_seller, sqs_queue.arn, "ORDER_CHANGE")
    seller_notification_faults_set(seller=sandbox_seller, copies=3)

    order_lifecycle_step(seller=sandbox_seller, order_id=order.order_id, step="request_cancel")

    copies = received(sqs_queue, expected=3)
    assert len(copies) == 3
    assert (
        len({notification["NotificationMetadata"]["NotificationId"] for notification in copies})
        == 1
    )
    assert SandboxNotification.objects.get(seller=sandbox_seller).copies == 3


def test_dropped_notifications_never_arrive_and_are_counted(
    sandbox_server, sandbox_seller, sqs_queue
):
    order = unshipped_merchant_order(sandbox_seller)
    subscribe(sandbox_server, sandbox_seller, sqs_queue.arn, "ORDER_CHANGE")
    seller_notification_faults_set(seller=sandbox_seller, drop_share=1.0)

    order_lifecycle_step(seller=sandbox_seller, order_id=order.order_id, step="request_cancel")

    assert received(sqs_queue, wait_seconds=1) == []
    assert SandboxNotification.objects.get(seller=sandbox_seller).delivery == (
        NotificationDelivery.DROPPED
    )


def test_swapped_notifications_arrive_the_other_way_round(
    sandbox_server, sandbox_seller, sqs_queue
):
    first, second = (unshipped_merchant_order(sandbox_seller, seed=seed) for seed in (7, 300))
    subscribe(sandbox_server, sandbox_seller, sqs_queue.arn, "ORDER_CHANGE")
    seller_notification_faults_set(seller=sandbox_seller, is_order_swapped=True)

    order_lifecycle_step(seller=sandbox_seller, order_id=first.order_id, step="request_cancel")
    held = received(sqs_queue, wait_seconds=0.5)
    order_lifecycle_step(seller=sandbox_seller, order_id=second.order_id, step="request_cancel")

    assert held == []
    arrived = [order_change(item)["AmazonOrderId"] for item in received(sqs_queue, expected=2)]
    assert arrived == [second.order_id, first.order_id]


def test_a_notification_held_with_nothing_to_swap_goes_out_after_a_while(
    sandbox_server, sandbox_seller, sqs_queue
):
    order = unshipped_merchant_order(sandbox_seller)
    subscribe(sandbox_server, sandbox_seller, sqs_queue.arn, "ORDER_CHANGE")
    seller_notification_faults_set(seller=sandbox_seller, is_order_swapped=True)
    order_lifecycle_step(seller=sandbox_seller, order_id=order.order_id, step="request_cancel")

    released = notifications_held_release(older_than=timedelta(0))

    assert released == 1
    assert [order_change(item)["AmazonOrderId"] for item in received(sqs_queue, expected=1)] == [
        order.order_id
    ]
    # Sent once: the next turn of the pump has nothing held any more.
    assert SandboxNotification.objects.get().delivery == NotificationDelivery.SENT
    assert notifications_held_release(older_than=timedelta(0)) == 0
    assert sqs_queue.receive(wait_seconds=1) == []


def test_a_delayed_notification_cannot_be_received_before_its_delay(
    sandbox_server, sandbox_seller, sqs_queue
):
    order = unshipped_merchant_order(sandbox_seller)
    subscribe(sandbox_server, sandbox_seller, sqs_queue.arn, "ORDER_CHANGE")
    seller_notification_faults_set(seller=sandbox_seller, delay_seconds=2)
    sent_at = time.monotonic()

    order_lifecycle_step(seller=sandbox_seller, order_id=order.order_id, step="request_cancel")
    early = sqs_queue.receive(wait_seconds=1)
    late = received(sqs_queue, expected=1, wait_seconds=4)

    assert early == []
    assert len(late) == 1
    assert time.monotonic() - sent_at >= 2


def test_an_unreachable_queue_never_breaks_the_sellers_call_and_is_counted(
    sandbox_server, sandbox_seller, sqs_queue, settings
):
    order = unshipped_merchant_order(sandbox_seller)
    subscribe(sandbox_server, sandbox_seller, sqs_queue.arn, "ORDER_CHANGE")
    # Nothing listens on port 9 of the loopback (discard): every send is refused.
    settings.SANDBOX_SQS_ENDPOINT_URL = "http://127.0.0.1:9"
    item = order.items.order_by("pk").first()

    orders_v0_client(client_kwargs_for(sandbox_server, sandbox_seller)).confirm_shipment(
        order.order_id,
        marketplaceId=order.marketplace_id,
        packageDetail={
            "packageReferenceId": "1",
            "carrierCode": "UPS",
            "trackingNumber": "1Z999AA10123456784",
            "shipDate": "2025-06-01T10:00:00Z",
            "orderItems": [{"orderItemId": item.order_item_id, "quantity": 1}],
        },
    )

    order.refresh_from_db()
    assert order.status in (FulfillmentStatus.SHIPPED, FulfillmentStatus.PARTIALLY_SHIPPED)
    notification = SandboxNotification.objects.get(seller=sandbox_seller)
    assert notification.delivery == NotificationDelivery.FAILED
    assert notification.error


def test_a_fifo_queue_is_accepted_as_a_destination_but_receives_nothing(
    sandbox_server, sandbox_seller, sqs_queue
):
    # docs#845: with a FIFO queue nothing arrived; a standard queue worked.
    fifo = sqs_queue_create(sqs_queue.endpoint_url, f"{sqs_queue.name}.fifo")
    order = unshipped_merchant_order(sandbox_seller)
    subscribe(sandbox_server, sandbox_seller, fifo.arn, "ORDER_CHANGE")

    order_lifecycle_step(seller=sandbox_seller, order_id=order.order_id, step="request_cancel")

    assert fifo.receive(wait_seconds=1) == []
    assert SandboxNotification.objects.get(seller=sandbox_seller).delivery == (
        NotificationDelivery.UNDELIVERABLE
    )


def test_a_deleted_subscription_and_a_filtered_change_type_send_nothing(
    sandbox_server, sandbox_seller_factory, sqs_queue
):
    filtered, deleted = sandbox_seller_factory(), sandbox_seller_factory()
    orders = {seller.pk: unshipped_merchant_order(seller) for seller in (filtered, deleted)}
    subscribe(
        sandbox_server,
        filtered,
        sqs_queue.arn,
        "ORDER_CHANGE",
        processingDirective={
            "eventFilter": {
                "eventFilterType": "ORDER_CHANGE",
                "orderChangeTypes": ["OrderStatusChange"],
            }
        },
    )
    [subscription_id] = subscribe(sandbox_server, deleted, sqs_queue.arn, "ORDER_CHANGE")
    Notifications(**client_kwargs_for(sandbox_server, deleted)).delete_notification_subscription(
        "ORDER_CHANGE", subscription_id
    )

    for seller in (filtered, deleted):
        order = orders[seller.pk]
        order_lifecycle_step(seller=seller, order_id=order.order_id, step="request_cancel")

    assert received(sqs_queue, wait_seconds=1) == []


def test_notification_faults_refuse_values_out_of_range(sandbox_seller):
    for faults in ({"copies": 0}, {"delay_seconds": 901}, {"drop_share": 1.5}, {"copies": 21}):
        with pytest.raises(SandboxError):
            seller_notification_faults_set(seller=sandbox_seller, **faults)

    sandbox_seller.refresh_from_db()
    assert sandbox_seller.notification_copies == 1
    assert sandbox_seller.notification_delay_seconds == 0


def test_the_body_can_come_as_a_json_string_of_the_notification(
    sandbox_server, sandbox_seller, sqs_queue
):
    order = unshipped_merchant_order(sandbox_seller)
    subscribe(sandbox_server, sandbox_seller, sqs_queue.arn, "ORDER_CHANGE")
    seller_notification_faults_set(seller=sandbox_seller, is_body_a_string=True)

    order_lifecycle_step(seller=sandbox_seller, order_id=order.order_id, step="request_cancel")

    [body] = sqs_queue.receive(wait_seconds=3, expected=1)
    once = json.loads(body)
    assert isinstance(once, str)
    notification = json.loads(once)
    validate_notification(notification)
    assert order_change(notification)["AmazonOrderId"] == order.order_id


def test_a_seller_who_revoked_the_application_still_notifies_as_the_sandbox_reads_amazon(
    sandbox_server, sandbox_seller, sqs_queue
):
    # Doubts in CONTRACT.md: whether Amazon stops after a revocation is not documented; the
    # sandbox keeps sending, so the consumer meets notifications of a revoked seller.
    order = unshipped_merchant_order(sandbox_seller)
    subscribe(sandbox_server, sandbox_seller, sqs_queue.arn, "ORDER_CHANGE")
    seller_tokens_revoke(seller=sandbox_seller)

    order_lifecycle_step(seller=sandbox_seller, order_id=order.order_id, step="request_cancel")

    [notification] = received(sqs_queue, expected=1)
    assert order_change(notification)["SellerId"] == sandbox_seller.seller_id
