"""What a recorded Amazon notification makes us do, against the sandbox over HTTP.

The sandbox sends its notifications to moto's SQS queue; each test takes them from the queue and
records them as the consumer does (once by NotificationId, the store named, the parsed
notification kept), then runs the work as Celery's worker would: notification_handle, and the
order_reread its handling queued (read from the Redis broker).
"""

import json
import threading
import time
import uuid
from datetime import timedelta

import pytest
import redis
from celery.contrib.testing.worker import start_worker
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from amazon_channel.models import (
    AmazonFeed,
    AmazonNotification,
    AmazonOrder,
    AmazonOrderCancellation,
    AmazonOrderReread,
    NotificationDestination,
    NotificationSubscription,
    NotificationType,
    Store,
    SyncState,
)
from amazon_channel.notifications.handling import (
    notification_handle,
    order_reread,
    order_rereads_overdue_send,
)
from amazon_channel.orders.cancellation import amazon_order_cancel
from amazon_channel.orders.upsert import amazon_orders_upsert
from amazon_channel.outbox.feeds import store_outbox_deliver
from amazon_channel.spapi.client import OPERATION_LIMITS, AmazonClient
from amazon_channel.stores.services import store_reauthorize
from amazon_channel.tasks import notification_handle as notification_handle_task
from commerce_orders.models import Product
from config.celery import app
from dashboard.tests.factories import user_with_permissions
from seller_central_sandbox.models import SandboxFeed, SandboxOrder
from seller_central_sandbox.services.feeds import feeds_foreign_create
from seller_central_sandbox.services.notifications import (
    BUYER_REQUESTED_CANCEL,
    BUYER_REQUESTED_CHANGE,
    destination_create,
    feed_finished_body,
    order_change_body,
    subscription_create,
)
from seller_central_sandbox.services.orders import order_lifecycle_step, orders_generate
from seller_central_sandbox.services.pump import notifications_pump
from seller_central_sandbox.services.sellers import (
    FaultSettings,
    seller_faults_update,
    seller_tokens_restore,
    seller_tokens_revoke,
)
from seller_central_sandbox.testing import TEST_TIME_SCALE
from tests.sync_helpers import minutes_ago, store_for_seller, sync_to_the_end

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.postgresql,
    pytest.mark.redis,
]

DE = "A1PA6795UKMFR9"
ORDERS_PATH = "/orders/2026-01-01/orders/"
ORDER_REREAD_TASK = "amazon_channel.tasks.order_reread"


@pytest.fixture
def seller(sandbox_seller_factory, settings):
    settings.AMAZON_RATE_LIMIT_SCALE = TEST_TIME_SCALE
    settings.AMAZON_RETRY_BASE_SECONDS = 0.05
    settings.CELERY_TASK_ALWAYS_EAGER = False  # the queued tasks wait in Redis, as for a worker
    broker = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    for raw in broker.lrange("celery", 0, -1):  # re-reads an earlier test left (no worker runs)
        if ORDER_REREAD_TASK.encode() in raw:
            broker.lrem("celery", 0, raw)
    return sandbox_seller_factory(marketplace_ids=[DE])


@pytest.fixture
def subscribed(sandbox_server, seller, sqs_queue):
    """The seller subscribed to both types at the sandbox, to moto's queue, and the channel's
    own record of it (notifications on), begun an hour ago."""
    destination = destination_create(
        client_id=seller.client_id,
        name="channel",
        resource_specification={"sqs": {"arn": sqs_queue.arn}},
    )
    ours = NotificationDestination.objects.create(
        sp_api_endpoint=sandbox_server.url,
        application_key="0" * 64,
        queue_arn=sqs_queue.arn,
        destination_id=destination.destination_id,
    )
    for notification_type, version in (
        (NotificationType.ORDER_CHANGE, "1.0"),
        (NotificationType.FEED_PROCESSING_FINISHED, "2020-09-04"),
    ):
        subscription = subscription_create(
            seller=seller,
            notification_type=notification_type,
            body={"destinationId": destination.destination_id, "payloadVersion": version},
        )
        NotificationSubscription.objects.create(
            destination=ours,
            seller_id=seller.seller_id,
            notification_type=notification_type,
            subscription_id=subscription.subscription_id,
        )
    NotificationSubscription.objects.update(created_at=minutes_ago(60))
    return sqs_queue


@pytest.fixture
def synced_store(sandbox_server, seller, subscribed):
    orders_generate(seller=seller, count=20, seed=16, now=minutes_ago(30))
    store = store_for_seller(sandbox_server, seller)
    sync_to_the_end(store)
    subscribed.receive(wait_seconds=1)  # the new orders' notifications: read by the sync
    return store


def record(body: dict, store: Store) -> AmazonNotification:
    """The notification as the consumer records it: once by its NotificationId."""
    if "NotificationMetadata" in body:  # ORDER_CHANGE: PascalCase
        metadata = body["NotificationMetadata"]
        change = body["Payload"]["OrderChangeNotification"]
        values = {
            "notification_type": body["NotificationType"],
            "amazon_order_id": change["AmazonOrderId"],
            "event_time": parse_datetime(body["EventTime"]),
            "subscription_id": metadata["SubscriptionId"],
        }
    else:  # FEED_PROCESSING_FINISHED: camelCase
        metadata = body["notificationMetadata"]
        values = {
            "notification_type": body["notificationType"],
            "feed_id": body["payload"]["feedProcessingFinishedNotification"]["feedId"],
            "event_time": parse_datetime(body["eventTime"]),
            "subscription_id": metadata["subscriptionId"],
        }
    notification_id = metadata.get("NotificationId") or metadata.get("notificationId")
    notification, _ = AmazonNotification.objects.get_or_create(
        notification_id=notification_id, defaults={**values, "store": store, "payload": body}
    )
    Store.objects.filter(pk=store.pk).update(last_notification_at=timezone.now())
    return notification


def received(queue, store: Store, *, expected: int = 1) -> list[AmazonNotification]:
    """The notifications the sandbox sent to the queue, recorded (and handed over)."""
    bodies = queue.receive(wait_seconds=15, expected=expected)
    assert len(bodies) == expected
    notifications = []
    for text in bodies:
        body = json.loads(text)
        if isinstance(body, str):  # the body may arrive as a JSON string
            body = json.loads(body)
        notifications.append(record(body, store))
    return notifications


def handled(notification: AmazonNotification) -> AmazonNotification:
    notification_handle(notification_pk=notification.pk)
    notification.refresh_from_db()
    return notification


def get_order_calls(server, amazon_order_id: str) -> int:
    return sum(
        1
        for exchange in server.exchanges
        if exchange.method == "GET" and exchange.path == ORDERS_PATH + amazon_order_id
    )


def queued_rereads(amazon_order_id: str) -> list[dict]:
    """The order_reread tasks waiting in the Redis broker for this order."""
    broker = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    tasks = []
    for raw in broker.lrange("celery", 0, -1):
        headers = json.loads(raw).get("headers") or {}
        if headers.get("task") == ORDER_REREAD_TASK and amazon_order_id in str(
            headers.get("kwargsrepr")
        ):
            tasks.append(headers)
    return tasks


def buyer_cancellation_tile(client, store: Store) -> str:
    """The card's "Cancellation requested by the buyer" tile, as the store list shows it."""
    cards = client.get(reverse("dashboard:store_list")).content.decode()
    start = cards.index(f'<a href="/stores/{store.pk}/orders/?attention=buyer_cancellation">')
    return cards[start : cards.index("</a>", start) + 4]


def an_unshipped_order(seller) -> SandboxOrder:
    return (
        SandboxOrder.objects.filter(seller=seller, status="UNSHIPPED", fulfilled_by="MERCHANT")
        .exclude(items__buyer_cancel_reason__gt="")
        .order_by("order_id")
        .first()
    )


def rereads_run(store: Store) -> None:
    """Run every re-read the store asked for, as the worker does once they are due."""
    for amazon_order_id in list(
        AmazonOrderReread.objects.filter(store=store).values_list("amazon_order_id", flat=True)
    ):
        order_reread(store_id=store.pk, amazon_order_id=amazon_order_id)


def another_change(
    seller, sandbox_order, store: Store, *, order_id: str | None = None
) -> AmazonNotification:
    """One more ORDER_CHANGE of the order (or naming `order_id` instead), as Amazon writes it,
    recorded."""
    subscription = seller.notification_subscriptions.get(notification_type="ORDER_CHANGE")
    sandbox_order.refresh_from_db()
    if order_id is not None:
        sandbox_order.order_id = order_id  # not saved
    return record(
        order_change_body(
            sandbox_order,
            change_type=BUYER_REQUESTED_CHANGE,
            reason=BUYER_REQUESTED_CANCEL,
            moment=sandbox_order.last_updated_time,
            subscription=subscription,
            notification_id=str(uuid.uuid4()),
            now=timezone.now(),
        ),
        store,
    )


def merchant_client(client):
    user = user_with_permissions("merchant", "view_store", "view_amazonorder")
    client.force_login(user)
    return client


def test_a_buyer_cancellation_request_shows_on_the_card_and_the_order_right_after_the_re_read(
    sandbox_server, seller, subscribed, synced_store, client
):
    # Given an unshipped order of ours whose buyer asks Amazon to cancel it
    sandbox_order = an_unshipped_order(seller)
    order = AmazonOrder.objects.get(store=synced_store, amazon_order_id=sandbox_order.order_id)
    assert not order.is_buyer_requested_cancellation
    client = merchant_client(client)
    requested = AmazonOrder.objects.filter(
        store=synced_store, is_buyer_requested_cancellation=True
    ).count()
    tile = f"<strong>{requested}</strong> Cancellation requested by the buyer</a>"
    assert buyer_cancellation_tile(client, synced_store).endswith(tile)
    order_lifecycle_step(seller=seller, order_id=sandbox_order.order_id, step="request_cancel")

    # When Amazon's ORDER_CHANGE is recorded and handled, and the re-read it asked for runs
    (notification,) = received(subscribed, synced_store)
    assert notification.payload["Payload"]["OrderChangeNotification"]["OrderChangeType"] == (
        BUYER_REQUESTED_CHANGE
    )
    assert handled(notification).state == AmazonNotification.State.RECEIVED
    assert len(queued_rereads(order.amazon_order_id)) == 1
    order_reread(store_id=synced_store.pk, amazon_order_id=order.amazon_order_id)

    # Then one getOrder read it, the order shows the request, and the notification is handled
    assert get_order_calls(sandbox_server, order.amazon_order_id) == 1
    order.refresh_from_db()
    assert order.is_buyer_requested_cancellation
    notification.refresh_from_db()
    assert notification.state == AmazonNotification.State.HANDLED
    assert notification.handled_at is not None
    assert not AmazonOrderReread.objects.exists()
    # The store card's tile counts it and links to it; the order says so
    tile = f"<strong>{requested + 1}</strong> Cancellation requested by the buyer</a>"
    assert buyer_cancellation_tile(client, synced_store).endswith(tile)
    listed = client.get(
        reverse("dashboard:order_list", args=[synced_store.pk]) + "?attention=buyer_cancellation"
    ).content.decode()
    assert order.amazon_order_id in listed
    detail = client.get(
        reverse("dashboard:order_detail", args=[synced_store.pk, order.pk])
    ).content.decode()
    assert "The buyer asked to cancel this order." in detail


def test_an_older_get_order_answer_arriving_after_a_newer_one_changes_nothing(
    sandbox_server, seller, subscribed, synced_store
):
    # Given Amazon's answer for an order before the buyer's request, kept aside (late)
    sandbox_order = an_unshipped_order(seller)
    older = AmazonClient(synced_store).get_order(sandbox_order.order_id)
    order_lifecycle_step(seller=seller, order_id=sandbox_order.order_id, step="request_cancel")
    (notification,) = received(subscribed, synced_store)
    handled(notification)
    rereads_run(synced_store)
    order = AmazonOrder.objects.get(store=synced_store, amazon_order_id=sandbox_order.order_id)
    assert order.is_buyer_requested_cancellation
    stored = (order.last_update_date, order.raw_payload)

    # When the older answer is stored after the newer one
    result = amazon_orders_upsert(store=synced_store, payloads=[older])

    # Then nothing changes
    assert (result.created, result.updated, result.unchanged) == (0, 0, 1)
    order.refresh_from_db()
    assert order.is_buyer_requested_cancellation
    assert (order.last_update_date, order.raw_payload) == stored


def test_notifications_of_one_order_within_the_window_cost_one_get_order(
    sandbox_server, seller, subscribed, synced_store
):
    # Given five distinct ORDER_CHANGE notifications of one order (Amazon's own words, as the
    # sandbox writes them), recorded within the coalescing window
    sandbox_order = an_unshipped_order(seller)
    order_lifecycle_step(seller=seller, order_id=sandbox_order.order_id, step="request_cancel")
    (first,) = received(subscribed, synced_store)
    copies = [another_change(seller, sandbox_order, synced_store) for _ in range(4)]

    # When each is handled
    for notification in [first, *copies]:
        handled(notification)

    # Then one re-read was asked for (one row, one task in the broker), and running it reads
    # the order once and settles all five
    assert AmazonOrderReread.objects.filter(store=synced_store).count() == 1
    assert len(queued_rereads(sandbox_order.order_id)) == 1
    assert get_order_calls(sandbox_server, sandbox_order.order_id) == 0
    order_reread(store_id=synced_store.pk, amazon_order_id=sandbox_order.order_id)
    assert get_order_calls(sandbox_server, sandbox_order.order_id) == 1
    states = set(
        AmazonNotification.objects.filter(amazon_order_id=sandbox_order.order_id).values_list(
            "state", flat=True
        )
    )
    assert states == {AmazonNotification.State.HANDLED}
    # A task delivered twice by the broker reads nothing more
    order_reread(store_id=synced_store.pk, amazon_order_id=sandbox_order.order_id)
    assert get_order_calls(sandbox_server, sandbox_order.order_id) == 1

    # And a change after the read asks for a read of its own
    later = another_change(seller, sandbox_order, synced_store)
    handled(later)
    assert len(queued_rereads(sandbox_order.order_id)) == 2
    rereads_run(synced_store)
    assert get_order_calls(sandbox_server, sandbox_order.order_id) == 2
    later.refresh_from_db()
    assert later.state == AmazonNotification.State.HANDLED


def test_a_change_arriving_during_the_read_asks_for_a_read_of_its_own(
    sandbox_server, seller, subscribed, synced_store
):
    # Given a re-read under way, Amazon taking its time to answer getOrder
    sandbox_order = an_unshipped_order(seller)
    order_lifecycle_step(seller=seller, order_id=sandbox_order.order_id, step="request_cancel")
    (first,) = received(subscribed, synced_store)
    handled(first)
    seller_faults_update(seller=seller, faults=FaultSettings(latency_ms=1500))

    def worker():
        try:
            order_reread(store_id=synced_store.pk, amazon_order_id=sandbox_order.order_id)
        finally:
            connection.close()

    reading = threading.Thread(target=worker)
    reading.start()
    deadline = time.monotonic() + 10
    while AmazonOrderReread.objects.exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    # Released just before the read: Amazon has not answered yet
    assert not AmazonOrderReread.objects.exists()
    assert get_order_calls(sandbox_server, sandbox_order.order_id) == 0

    # When another change of the order arrives during that read
    later = handled(another_change(seller, sandbox_order, synced_store))
    assert get_order_calls(sandbox_server, sandbox_order.order_id) == 0

    # Then it asks for a read of its own instead of trusting the one under way
    assert AmazonOrderReread.objects.filter(store=synced_store).count() == 1
    assert len(queued_rereads(sandbox_order.order_id)) == 2
    reading.join(timeout=30)
    seller_faults_update(seller=seller, faults=FaultSettings(latency_ms=0))
    rereads_run(synced_store)
    first.refresh_from_db()
    later.refresh_from_db()
    assert (first.state, later.state) == (AmazonNotification.State.HANDLED,) * 2
    assert 1 <= get_order_calls(sandbox_server, sandbox_order.order_id) <= 2


def test_a_re_read_whose_task_was_lost_is_sent_again_by_the_sweep(
    sandbox_server, seller, subscribed, synced_store
):
    sandbox_order = an_unshipped_order(seller)
    order_lifecycle_step(seller=seller, order_id=sandbox_order.order_id, step="request_cancel")
    (notification,) = received(subscribed, synced_store)
    handled(notification)
    # The broker lost its task: the request is long overdue, and a new change only waits on it
    AmazonOrderReread.objects.update(due_at=minutes_ago(30))
    assert order_rereads_overdue_send() == 1
    assert len(queued_rereads(sandbox_order.order_id)) == 2
    assert AmazonOrderReread.objects.get().due_at > minutes_ago(1)
    assert order_rereads_overdue_send() == 0

    rereads_run(synced_store)

    notification.refresh_from_db()
    assert notification.state == AmazonNotification.State.HANDLED


def test_a_worker_reads_the_order_once_for_the_notifications_the_consumer_hands_over(
    sandbox_server, seller, subscribed, synced_store
):
    # Given four ORDER_CHANGE notifications of one order, recorded, and a Celery worker on the
    # Redis broker (nothing an earlier test queued is left for it)
    sandbox_order = an_unshipped_order(seller)
    order_lifecycle_step(seller=seller, order_id=sandbox_order.order_id, step="request_cancel")
    notifications = received(subscribed, synced_store) + [
        another_change(seller, sandbox_order, synced_store) for _ in range(3)
    ]
    app.control.purge()

    # When the consumer hands each to Celery, as it does once it has recorded it
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        for notification in notifications:
            notification_handle_task.delay(notification_pk=notification.pk)
        deadline = time.monotonic() + 30
        pending = AmazonNotification.objects.filter(
            pk__in=[notification.pk for notification in notifications],
            state=AmazonNotification.State.RECEIVED,
        )
        while pending.exists() and time.monotonic() < deadline:
            time.sleep(0.1)

    # Then the worker read the order once, after the coalescing window, and settled them all
    assert not pending.exists()
    assert get_order_calls(sandbox_server, sandbox_order.order_id) == 1
    assert AmazonOrder.objects.get(
        amazon_order_id=sandbox_order.order_id
    ).is_buyer_requested_cancellation
    assert not AmazonOrderReread.objects.exists()


def test_a_re_read_our_limiter_holds_back_is_read_later_never_lost(
    sandbox_server, seller, subscribed, synced_store, settings
):
    # Given a seller whose getOrder bucket (its own, not searchOrders') is empty, and refills
    # slowly
    settings.AMAZON_RATE_LIMIT_SCALE = 0.001
    client = AmazonClient(synced_store)
    assert client._bucket_key("getOrder") != client._bucket_key("searchOrders")
    for _ in range(OPERATION_LIMITS["getOrder"][1] + 5):
        client.limiter.acquire(
            client._bucket_key("getOrder"), rate=client.paced_rate("getOrder"), burst=30
        )
    sandbox_order = an_unshipped_order(seller)
    order_lifecycle_step(seller=seller, order_id=sandbox_order.order_id, step="request_cancel")
    (notification,) = received(subscribed, synced_store)

    # When the re-read runs while the limiter has no token
    handled(notification)
    order_reread(store_id=synced_store.pk, amazon_order_id=sandbox_order.order_id)

    # Then nothing was sent, the notification is still pending and a later read is queued
    assert get_order_calls(sandbox_server, sandbox_order.order_id) == 0
    notification.refresh_from_db()
    assert notification.state == AmazonNotification.State.RECEIVED
    reread = AmazonOrderReread.objects.get(store=synced_store)
    assert reread.attempts == 1
    assert reread.due_at > timezone.now() + timedelta(seconds=60)
    assert len(queued_rereads(sandbox_order.order_id)) == 2

    # And once a token is due, that read settles it
    client.limiter.reset(client._bucket_key("getOrder"))
    settings.AMAZON_RATE_LIMIT_SCALE = TEST_TIME_SCALE
    rereads_run(synced_store)
    assert get_order_calls(sandbox_server, sandbox_order.order_id) == 1
    notification.refresh_from_db()
    assert notification.state == AmazonNotification.State.HANDLED


def test_a_revoked_seller_pauses_the_store_its_notifications_wait_and_the_sync_reads_them(
    sandbox_server, seller, subscribed, synced_store
):
    # Given a seller who revoked the app, then asked Amazon to cancel an order
    sandbox_order = an_unshipped_order(seller)
    seller_tokens_revoke(seller=seller)
    order_lifecycle_step(seller=seller, order_id=sandbox_order.order_id, step="request_cancel")
    (notification,) = received(subscribed, synced_store)

    # When the notification is handled and its re-read runs
    handled(notification)
    order_reread(store_id=synced_store.pk, amazon_order_id=sandbox_order.order_id)

    # Then the store is paused as the sync pauses it, and the notification waits with why
    synced_store.refresh_from_db()
    assert synced_store.sync_state == SyncState.NEEDS_REAUTHORIZATION
    notification.refresh_from_db()
    assert notification.state == AmazonNotification.State.WAITING
    assert notification.reason.startswith("The store needs reauthorization")
    assert not AmazonOrderReread.objects.exists()

    # And a further notification of the paused store waits without any call to Amazon
    calls = len(sandbox_server.exchanges)
    another = another_change(seller, sandbox_order, synced_store)
    assert handled(another).state == AmazonNotification.State.WAITING
    assert len(sandbox_server.exchanges) == calls
    assert not AmazonOrderReread.objects.exists()

    # When, some minutes later, the seller authorizes again and the sync that Reauthorize
    # queues runs
    AmazonNotification.objects.update(received_at=minutes_ago(8))
    SandboxOrder.objects.filter(pk=sandbox_order.pk).update(last_updated_time=minutes_ago(8))
    seller_tokens_restore(seller=seller)
    merchant = get_user_model().objects.create_user("anna", password="x" * 20)
    store_reauthorize(store=synced_store, actor=merchant, refresh_token=seller.refresh_token)
    run = sync_to_the_end(synced_store, since=minutes_ago(60))

    # Then the poll caught up, and the notifications that waited are read
    assert run.status == "succeeded"
    order = AmazonOrder.objects.get(store=synced_store, amazon_order_id=sandbox_order.order_id)
    assert order.is_buyer_requested_cancellation
    states = set(
        AmazonNotification.objects.filter(pk__in=[notification.pk, another.pk]).values_list(
            "state", flat=True
        )
    )
    assert states == {AmazonNotification.State.HANDLED}


def test_an_inactive_store_leaves_its_notifications_waiting_and_calls_nothing(
    sandbox_server, seller, subscribed, synced_store
):
    Store.objects.filter(pk=synced_store.pk).update(is_active=False)
    synced_store.refresh_from_db()
    sandbox_order = an_unshipped_order(seller)
    order_lifecycle_step(seller=seller, order_id=sandbox_order.order_id, step="request_cancel")
    (notification,) = received(subscribed, synced_store)
    calls = len(sandbox_server.exchanges)

    handled(notification)

    assert notification.state == AmazonNotification.State.WAITING
    assert notification.reason == "The store is inactive."
    assert len(sandbox_server.exchanges) == calls
    assert not AmazonOrderReread.objects.exists()


def test_a_notification_naming_no_order_or_another_marketplace_is_ignored(
    sandbox_server, seller, subscribed, synced_store
):
    sandbox_order = an_unshipped_order(seller)
    subscription = seller.notification_subscriptions.get(notification_type="ORDER_CHANGE")
    bodies = []
    for change in ({"AmazonOrderId": "'; DROP"}, {"Summary": {"MarketplaceId": "ATVPDKIKX0DER"}}):
        body = order_change_body(
            sandbox_order,
            change_type=BUYER_REQUESTED_CHANGE,
            reason=BUYER_REQUESTED_CANCEL,
            moment=None,
            subscription=subscription,
            notification_id=str(uuid.uuid4()),
            now=timezone.now(),
        )
        body["Payload"]["OrderChangeNotification"].update(change)
        bodies.append(body)
    calls = len(sandbox_server.exchanges)

    bad_id, other_marketplace = (handled(record(body, synced_store)) for body in bodies)

    assert bad_id.state == AmazonNotification.State.IGNORED
    assert bad_id.reason == "The notification names no Amazon order id."
    assert other_marketplace.state == AmazonNotification.State.IGNORED
    assert "ATVPDKIKX0DER" in other_marketplace.reason
    assert len(sandbox_server.exchanges) == calls


def test_an_order_amazon_does_not_find_is_read_again_then_left_to_the_poll(
    sandbox_server, seller, subscribed, synced_store
):
    # Given an ORDER_CHANGE naming an order that getOrder answers 404 for (an order Amazon may
    # not show yet right after notifying it: CONTRACT.md, Doubts)
    sandbox_order = an_unshipped_order(seller)
    unknown = "999-0000000-0000001"  # the sandbox has no such order
    notification = handled(another_change(seller, sandbox_order, synced_store, order_id=unknown))

    # When its re-read runs, it is asked for again twice, the notification still pending
    for attempt in (1, 2):
        rereads_run(synced_store)
        notification.refresh_from_db()
        assert notification.state == AmazonNotification.State.RECEIVED
        reread = AmazonOrderReread.objects.get(store=synced_store)
        assert (reread.amazon_order_id, reread.attempts) == (unknown, attempt)

    # Then the third 404 leaves the order to the poll, with the reason, and no more reads
    rereads_run(synced_store)
    notification.refresh_from_db()
    assert notification.state == AmazonNotification.State.IGNORED
    assert notification.reason.startswith("Amazon does not find the order")
    assert get_order_calls(sandbox_server, unknown) == 3
    assert not AmazonOrderReread.objects.exists()


def test_a_feed_we_did_not_send_is_ignored(sandbox_server, seller, subscribed, synced_store):
    # Given the seller's ERP's feed, finished, and a notification of it (notifications are per
    # application: Amazon would not send us this one, but a wrong subscription could)
    foreign = feeds_foreign_create(
        seller=seller, feed_type="POST_ORDER_ACKNOWLEDGEMENT_DATA", content=b"<AmazonEnvelope/>"
    )
    subscription = seller.notification_subscriptions.get(
        notification_type="FEED_PROCESSING_FINISHED"
    )
    body = feed_finished_body(
        foreign, subscription=subscription, notification_id=str(uuid.uuid4()), now=timezone.now()
    )

    notification = handled(record(body, synced_store))

    assert notification.state == AmazonNotification.State.IGNORED
    assert notification.reason.startswith("No feed of ours has this id")


def test_a_cancel_is_confirmed_as_soon_as_amazon_says_its_feed_finished(
    sandbox_server, seller, subscribed, settings
):
    # Given polls far apart: only the notification can settle the feed within the test
    from tests.test_commerce_import_sandbox import SKUS

    settings.AMAZON_FEED_FIRST_POLL_SECONDS = 3600
    settings.AMAZON_FEED_POLL_SECONDS = 3600
    for sku in SKUS:
        Product.objects.create(sku=sku, name=sku, price="10.00", quantity_in_stock=100)
    orders_generate(seller=seller, count=20, seed=17, now=minutes_ago(30))
    store = store_for_seller(sandbox_server, seller, is_import_enabled=True)
    sync_to_the_end(store)
    subscribed.receive(wait_seconds=1)  # the new orders' notifications: read by the sync
    order = (
        AmazonOrder.objects.filter(store=store, status="Unshipped", fulfillment_channel="MFN")
        .exclude(commerce_order=None)
        .order_by("amazon_order_id")
        .first()
    )
    merchant = get_user_model().objects.create_user("anna", password="x" * 20)
    amazon_order_cancel(order=order, actor=merchant, reason="NoInventory")
    # Amazon takes its seconds over the feed: it is still queued at the first getFeed
    settings.SANDBOX_TIME_SCALE = 1.0
    outcome = store_outbox_deliver(store_id=store.pk, holder="worker-1")
    assert outcome.wait_seconds >= 3000  # its next getFeed is an hour away
    feed = AmazonFeed.objects.get(store=store)
    assert feed.state == AmazonFeed.State.SUBMITTED
    # Amazon finishes the feed on its own and notifies
    SandboxFeed.objects.filter(feed_id=feed.feed_id).update(created_time=minutes_ago(5))
    notifications_pump()
    # Amazon notifies the order's change (cancelled) and the feed's end
    notification = next(
        notification
        for notification in received(subscribed, store, expected=2)
        if notification.notification_type == NotificationType.FEED_PROCESSING_FINISHED
    )
    # Another worker finds the feed held by the first until its poll
    store_outbox_deliver(store_id=store.pk, holder="worker-2")
    feed.refresh_from_db()
    assert feed.state == AmazonFeed.State.SUBMITTED

    # When the notification is handled, and the delivery it queued runs
    assert handled(notification).state == AmazonNotification.State.HANDLED
    store_outbox_deliver(store_id=store.pk, holder="worker-3")

    # Then the feed is settled and the cancellation confirmed, an hour before the poll
    feed.refresh_from_db()
    assert feed.state == AmazonFeed.State.DONE
    cancellation = AmazonOrderCancellation.objects.get(order=order)
    assert cancellation.state == AmazonOrderCancellation.State.CONFIRMED
    # And the first worker, back for its poll, finds nothing left to do
    assert store_outbox_deliver(store_id=store.pk, holder="worker-1").is_finished
    # A copy of the notification changes nothing
    notification_handle(notification_pk=notification.pk)
    notification.refresh_from_db()
    assert notification.state == AmazonNotification.State.HANDLED


def test_the_poll_counts_the_changes_no_notification_announced(
    sandbox_server, seller, subscribed, synced_store, client, settings
):
    # Given two orders changed at Amazon five minutes ago, only one of them notified
    first, second = (
        SandboxOrder.objects.filter(seller=seller, status="UNSHIPPED", fulfilled_by="MERCHANT")
        .exclude(items__buyer_cancel_reason__gt="")
        .order_by("order_id")[:2]
    )
    for sandbox_order in (first, second):
        order_lifecycle_step(seller=seller, order_id=sandbox_order.order_id, step="request_cancel")
    SandboxOrder.objects.filter(pk__in=[first.pk, second.pk]).update(
        last_updated_time=minutes_ago(5)
    )
    bodies = subscribed.receive(wait_seconds=15, expected=2)
    notified = next(json.loads(body) for body in bodies if first.order_id in body)
    record(notified, synced_store)  # recorded; its re-read has not run yet

    # When the poll reads them
    run = sync_to_the_end(synced_store, since=minutes_ago(20))

    # Then the order no notification announced is a push miss, the other is not
    assert run.orders_updated == 2
    assert run.push_misses == 1
    client = merchant_client(client)
    cards = client.get(reverse("dashboard:store_list")).content.decode()
    assert 'data-warning="notifications-quiet"' not in cards  # a notification came lately
    # And once no notification came for longer than the quiet limit, the card warns
    settings.AMAZON_NOTIFICATIONS_QUIET_SECONDS = 60
    Store.objects.filter(pk=synced_store.pk).update(last_notification_at=minutes_ago(2))
    cards = client.get(reverse("dashboard:store_list")).content.decode()
    assert cards.count('data-warning="notifications-quiet"') == 1


def test_a_store_without_notifications_counts_no_push_misses(sandbox_server, seller):
    orders_generate(seller=seller, count=5, seed=18, now=minutes_ago(30))
    store = store_for_seller(sandbox_server, seller)

    run = sync_to_the_end(store)

    assert run.orders_created == 5
    assert run.push_misses == 0
