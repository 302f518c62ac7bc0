"""The consumer against moto's SQS over real HTTP, on PostgreSQL, handing off through Redis:
each notification recorded once whatever SQS repeats, poison messages to the dead-letter
queue, what belongs to no store of ours ignored and deleted."""

import base64
import contextlib
import json
import time
import uuid
from datetime import timedelta

import psycopg2
import pytest
import redis
from celery.signals import task_prerun
from django.conf import settings as django_settings
from django.db import connection
from django.utils import timezone
from sp_api.api import Notifications

from amazon_channel.models import (
    AmazonFeed,
    AmazonNotification,
    AmazonOrderReread,
    NotificationDestination,
    NotificationQueueStatus,
    NotificationSubscription,
    Store,
)
from amazon_channel.notifications.consumer import (
    NotificationConsumer,
    Outcome,
    notifications_with_hand_off_lost,
)
from amazon_channel.notifications.messages import SCHEMAS_DIR
from amazon_channel.notifications.queues import queue_status_refresh, sqs_client
from amazon_channel.tasks import notifications_sweep
from amazon_channel.tests.factories import StoreFactory
from seller_central_sandbox.services.notifications import seller_notification_faults_set
from seller_central_sandbox.services.orders import order_lifecycle_step
from seller_central_sandbox.testing import client_kwargs_for
from seller_central_sandbox.tests.helpers import unshipped_merchant_order
from tests.sync_helpers import store_for_seller

pytestmark = [pytest.mark.postgresql, pytest.mark.redis, pytest.mark.django_db(transaction=True)]

HANDLE_TASK = "amazon_channel.tasks.notification_handle"


@pytest.fixture
def queue(sqs_queue, sqs_server_url, settings, monkeypatch):
    """The test's queue, which the consumer reads as production would (boto3's credentials from
    the environment; moto takes any)."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    settings.AMAZON_SQS_ENDPOINT_URL = sqs_server_url
    settings.AMAZON_NOTIFICATIONS_QUEUE_URL = sqs_queue.url
    return sqs_queue


@pytest.fixture
def broker():
    """The test's Redis broker queue, emptied: what the consumer handed to Celery."""
    client = redis.Redis.from_url(django_settings.CELERY_BROKER_URL)
    client.delete("celery")

    def handed_off() -> list[int]:
        pks = []
        for raw in client.lrange("celery", 0, -1):
            message = json.loads(raw)
            if message["headers"]["task"] == HANDLE_TASK:
                _args, kwargs, _embed = json.loads(base64.b64decode(message["body"]))
                pks.append(kwargs["notification_pk"])
        return sorted(pks)

    yield handed_off
    client.delete("celery")


@pytest.fixture
def handled_runs():
    """The notification_handle tasks run in this process (CELERY_TASK_ALWAYS_EAGER)."""
    runs = []

    def record(sender=None, kwargs=None, **_):
        if sender is not None and sender.name == HANDLE_TASK:
            runs.append(kwargs["notification_pk"])

    task_prerun.connect(record, weak=False)
    yield runs
    task_prerun.disconnect(record)


def subscription_for(store: Store, *, notification_type="ORDER_CHANGE", subscription_id=None):
    destination, _ = NotificationDestination.objects.get_or_create(
        sp_api_endpoint=store.sp_api_endpoint,
        application_key="a" * 64,
        queue_arn="arn:aws:sqs:us-east-1:123456789012:notifications",
        defaults={"destination_id": str(uuid.uuid4())},
    )
    return NotificationSubscription.objects.create(
        destination=destination,
        seller_id=store.seller_id,
        notification_type=notification_type,
        subscription_id=subscription_id or str(uuid.uuid4()),
    )


def order_change_body(store: Store, subscription_id: str, *, order_id="302-1234567-7654321"):
    """Amazon's example ORDER_CHANGE (OrderChangeNotification.json) about the store's order."""
    body = json.loads((SCHEMAS_DIR / "OrderChangeNotification.json").read_text())["examples"][0]
    change = body["Payload"]["OrderChangeNotification"]
    change["SellerId"], change["AmazonOrderId"] = store.seller_id, order_id
    change["Summary"]["MarketplaceId"] = store.marketplace_id
    body["NotificationMetadata"]["SubscriptionId"] = subscription_id
    body["NotificationMetadata"]["NotificationId"] = str(uuid.uuid4())
    return body


def send(queue, body, *, copies: int = 1) -> None:
    client = queue.client()
    text = body if isinstance(body, str) else json.dumps(body)
    for _ in range(copies):
        client.send_message(QueueUrl=queue.url, MessageBody=text)


def consumer_for(queue) -> NotificationConsumer:
    return NotificationConsumer(queue_url=queue.url, wait_seconds=1, status_interval=0)


def consume_until(consumer, condition, *, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        consumer.step()
        if condition():
            return
    raise AssertionError(f"not reached: {consumer.counts}")


def queue_depth(client, url: str) -> int:
    attributes = client.get_queue_attributes(
        QueueUrl=url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return sum(int(value) for value in attributes.values())


def test_copies_of_one_notification_make_one_row_counted_twice_and_one_re_read(
    queue, settings, handled_runs
):
    settings.CELERY_TASK_ALWAYS_EAGER = True  # the worker's part, in this process
    store = StoreFactory()
    body = order_change_body(store, subscription_for(store).subscription_id)
    send(queue, body, copies=2)
    consumer = consumer_for(queue)

    consume_until(consumer, lambda: consumer.counts[Outcome.COPY] == 1)

    notification = AmazonNotification.objects.get()
    assert notification.notification_id == body["NotificationMetadata"]["NotificationId"]
    assert notification.receive_count == 2
    assert notification.store == store
    assert notification.amazon_order_id == "302-1234567-7654321"
    # The copy of a notification still RECEIVED (its re-read waits for its window) is handed
    # off again, and handling it again asks for nothing more: one re-read of the order.
    assert set(handled_runs) == {notification.pk}
    assert (
        AmazonOrderReread.objects.filter(store=store, amazon_order_id="302-1234567-7654321").count()
        == 1
    )
    store.refresh_from_db()
    assert store.last_notification_at is not None
    assert queue_depth(queue.client(), queue.url) == 0


def test_a_copy_of_a_notification_still_received_is_handed_off_again(queue, broker):
    # No worker ran the first hand-off (a consumer killed before it, or a lost broker message):
    # the copy hands it off again; handling is idempotent.
    store = StoreFactory()
    body = order_change_body(store, subscription_for(store).subscription_id)
    send(queue, body)
    consumer = consumer_for(queue)
    consume_until(consumer, lambda: consumer.counts[Outcome.RECORDED] == 1)
    notification = AmazonNotification.objects.get()
    assert broker() == [notification.pk]

    send(queue, body)
    consume_until(consumer, lambda: consumer.counts[Outcome.COPY] == 1)

    assert broker() == [notification.pk, notification.pk]
    notification.refresh_from_db()
    assert notification.receive_count == 2
    assert notification.state == AmazonNotification.State.RECEIVED


def test_the_sandboxs_notification_sent_as_a_json_string_reaches_its_store(
    queue, sandbox_server, sandbox_seller, broker
):
    store = store_for_seller(sandbox_server, sandbox_seller)
    order = unshipped_merchant_order(sandbox_seller)
    client = Notifications(**client_kwargs_for(sandbox_server, sandbox_seller))
    destination_id = client.create_destination(name="channel", arn=queue.arn).payload[
        "destinationId"
    ]
    subscription_id = client.create_subscription(
        "ORDER_CHANGE", destination_id=destination_id, payload_version="1.0"
    ).payload["subscriptionId"]
    subscription_for(store, subscription_id=subscription_id)
    seller_notification_faults_set(seller=sandbox_seller, is_body_a_string=True)

    order_lifecycle_step(seller=sandbox_seller, order_id=order.order_id, step="request_cancel")
    consumer = consumer_for(queue)
    consume_until(consumer, lambda: consumer.counts[Outcome.RECORDED] == 1)

    notification = AmazonNotification.objects.get()
    assert notification.store == store
    assert notification.amazon_order_id == order.order_id
    assert notification.subscription_id == subscription_id
    assert notification.payload["Payload"]["OrderChangeNotification"]["OrderChangeType"] == (
        "BuyerRequestedChange"
    )
    assert broker() == [notification.pk]


def test_an_unknown_subscription_is_ignored_counted_and_deleted(queue, broker, caplog):
    store = StoreFactory()
    subscription_for(store)
    body = order_change_body(store, "subscription-we-never-made")
    body["Payload"]["OrderChangeNotification"]["Summary"]["DestinationPostalCode"] = "10115"
    send(queue, body)
    consumer = consumer_for(queue)

    consume_until(consumer, lambda: consumer.counts[Outcome.IGNORED] == 1)

    notification = AmazonNotification.objects.get()
    assert notification.state == AmazonNotification.State.IGNORED
    assert notification.reason == "unknown subscription"
    assert notification.store is None
    assert broker() == []
    assert queue_depth(queue.client(), queue.url) == 0
    store.refresh_from_db()
    assert store.last_notification_at is None
    # Logged by its notification id, without the order's or the buyer's data.
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert body["NotificationMetadata"]["NotificationId"] in logged
    assert "10115" not in logged and "302-1234567-7654321" not in logged


def test_a_notification_of_another_marketplace_or_seller_is_ignored(queue, broker):
    store = StoreFactory()
    subscription = subscription_for(store)
    elsewhere = order_change_body(store, subscription.subscription_id)
    elsewhere["Payload"]["OrderChangeNotification"]["Summary"]["MarketplaceId"] = "ATVPDKIKX0DER"
    other_seller = order_change_body(store, subscription.subscription_id)
    other_seller["Payload"]["OrderChangeNotification"]["SellerId"] = "AOTHERSELLER"
    send(queue, elsewhere)
    send(queue, other_seller)
    consumer = consumer_for(queue)

    consume_until(consumer, lambda: consumer.counts[Outcome.IGNORED] == 2)

    assert sorted(AmazonNotification.objects.values_list("reason", flat=True)) == [
        "no store of the seller in this marketplace",
        "the seller is not the subscription's",
    ]
    assert broker() == []


def test_a_finished_feed_is_recorded_for_the_store_that_sent_it(queue, broker):
    # The seller has two stores (two marketplaces); the feed is the second one's.
    first = StoreFactory(seller_id="AFEEDSELLER01")
    second = StoreFactory(
        seller_id="AFEEDSELLER01", marketplace_code="FR", marketplace_id="A13V1IB3VIYZZH"
    )
    AmazonFeed.objects.create(
        store=second, feed_type="POST_ORDER_ACKNOWLEDGEMENT_DATA", feed_id="53347018456"
    )
    subscription = subscription_for(first, notification_type="FEED_PROCESSING_FINISHED")
    body = json.loads((SCHEMAS_DIR / "FeedProcessingFinishedNotification.json").read_text())[
        "examples"
    ][0]
    body["payload"]["feedProcessingFinishedNotification"]["sellerId"] = "AFEEDSELLER01"
    body["notificationMetadata"]["subscriptionId"] = subscription.subscription_id
    send(queue, body)
    consumer = consumer_for(queue)

    consume_until(consumer, lambda: consumer.counts[Outcome.RECORDED] == 1)

    notification = AmazonNotification.objects.get()
    assert notification.notification_type == "FEED_PROCESSING_FINISHED"
    assert notification.feed_id == "53347018456"
    assert notification.store == second
    assert broker() == [notification.pk]


def test_a_poison_message_goes_to_the_dead_letter_queue_after_its_receives(queue, broker):
    client = queue.client()
    # Redelivered at once rather than after 30 s.
    client.set_queue_attributes(QueueUrl=queue.url, Attributes={"VisibilityTimeout": "0"})
    sent_at = timezone.now()
    send(queue, '{"NotificationType": "ORDER_CHANGE", "Payload": "broken"')
    consumer = consumer_for(queue)

    consume_until(consumer, lambda: queue_depth(client, queue.dead_letter_url) == 1)

    # The fixture's redrive policy: 3 receives, then the dead-letter queue.
    assert consumer.counts[Outcome.POISON] == 3
    assert queue_depth(client, queue.url) == 0
    assert AmazonNotification.objects.count() == 0
    assert broker() == []
    status = queue_status_refresh(client=sqs_client(queue=queue.url), queue_url=queue.url)
    assert status.dead_letter_queue_url == queue.dead_letter_url
    assert status.dead_letter_messages == 1
    assert status.messages == 0
    assert abs((status.dead_letter_oldest_at - sent_at).total_seconds()) < 5
    # Peeking left it there.
    assert queue_depth(client, queue.dead_letter_url) == 1


def test_the_health_check_reports_the_dead_letter_queue_and_stays_200(queue, client, settings):
    dead = queue.client()
    dead.send_message(QueueUrl=queue.dead_letter_url, MessageBody="poison")
    consumer = consumer_for(queue)
    consumer.step()

    answer = client.get("/healthz")

    assert answer.status_code == 200
    body = answer.json()
    assert body["status"] == "degraded"
    notifications = body["checks"]["notifications"]
    assert notifications["status"] == "degraded"
    assert notifications["dead_letter_messages"] == 1
    assert 0 <= notifications["dead_letter_oldest_age_seconds"] < 30
    assert notifications["consumer_seen_seconds_ago"] < 30
    assert body["checks"]["database"] == "ok"


def test_the_health_check_calls_a_silent_consumer_unhealthy_without_a_503(queue, client):
    NotificationQueueStatus.objects.create(
        queue_url=queue.url, consumer_seen_at=timezone.now() - timedelta(minutes=3)
    )

    answer = client.get("/healthz")

    assert answer.status_code == 200
    assert answer.json()["status"] == "degraded"
    assert answer.json()["checks"]["notifications"]["status"] == "unhealthy"
    assert answer.json()["checks"]["notifications"]["consumer_seen_seconds_ago"] >= 180


def test_the_health_check_has_no_notifications_where_they_are_off(client, settings):
    settings.AMAZON_NOTIFICATIONS_QUEUE_URL = ""

    body = client.get("/healthz").json()

    assert body["status"] == "ok"
    assert "notifications" not in body["checks"]


def test_the_sweep_hands_off_again_what_is_still_received_after_a_minute(broker):
    store = StoreFactory()
    lost, recent, handled = (
        AmazonNotification.objects.create(
            notification_id=str(uuid.uuid4()), notification_type="ORDER_CHANGE", store=store
        )
        for _ in range(3)
    )
    AmazonNotification.objects.filter(pk__in=[lost.pk, handled.pk]).update(
        received_at=timezone.now() - timedelta(minutes=2)
    )
    AmazonNotification.objects.filter(pk=handled.pk).update(state=AmazonNotification.State.HANDLED)

    notifications_sweep()

    assert notifications_with_hand_off_lost() == [lost.pk]
    assert broker() == [lost.pk]
    assert recent.pk not in broker()


def test_a_database_failure_leaves_the_message_for_redelivery(queue, broker):
    store = StoreFactory()
    body = order_change_body(store, subscription_for(store).subscription_id)
    send(queue, body)
    client = queue.client()
    client.set_queue_attributes(QueueUrl=queue.url, Attributes={"VisibilityTimeout": "0"})
    consumer = consumer_for(queue)
    with notifications_table_locked():
        consumer.step()

    assert consumer.counts[Outcome.FAILED] >= 1
    assert AmazonNotification.objects.count() == 0
    assert queue_depth(client, queue.url) == 1

    consume_until(consumer, lambda: consumer.counts[Outcome.RECORDED] == 1)
    assert AmazonNotification.objects.get().receive_count == 1


@contextlib.contextmanager
def notifications_table_locked():
    """The notifications table locked by another connection, with a lock timeout: the
    consumer's insert fails as a database outage would, for real."""
    parameters = connection.get_connection_params()
    locker = psycopg2.connect(**parameters)
    try:
        with locker.cursor() as cursor:
            cursor.execute(
                f"LOCK TABLE {AmazonNotification._meta.db_table} IN ACCESS EXCLUSIVE MODE"
            )
        with connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = '200ms'")
        yield
    finally:
        locker.rollback()
        locker.close()
        with connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = 0")
