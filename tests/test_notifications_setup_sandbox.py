"""Amazon's notifications set up with the store (issue 16): a destination per endpoint,
application and queue, made once (createDestination, grantless); each seller's ORDER_CHANGE and
FEED_PROCESSING_FINISHED subscriptions (createSubscription, the seller's token) at connect and
reauthorize, removed when the seller's last store leaves. Against the Seller Central sandbox
over HTTP and moto's SQS server, both real."""

import io
import json
import threading
import time

import pytest
from celery.exceptions import Retry
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.urls import reverse

from amazon_channel.models import (
    NotificationDestination,
    NotificationSubscription,
    Store,
    StoreEvent,
    SyncState,
)
from amazon_channel.notifications import setup
from amazon_channel.notifications.setup import (
    store_notifications_subscribe,
    store_notifications_unsubscribe,
)
from amazon_channel.spapi import client as spapi
from amazon_channel.spapi.client import AmazonClient, RateLimited
from amazon_channel.stores.services import (
    StoreCredentials,
    store_connect,
    store_reauthorize,
    store_set_active,
)
from amazon_channel.tasks import store_notifications_subscribe as subscribe_task
from seller_central_sandbox.models import (
    SandboxNotificationDestination,
    SandboxNotificationSubscription,
)
from seller_central_sandbox.services.orders import order_lifecycle_step
from seller_central_sandbox.services.sellers import (
    FaultSettings,
    seller_create,
    seller_faults_update,
    seller_tokens_revoke,
)
from seller_central_sandbox.testing import TEST_TIME_SCALE
from seller_central_sandbox.tests.helpers import unshipped_merchant_order
from tests.sync_helpers import store_for_seller

pytestmark = pytest.mark.django_db(transaction=True)

DE, FR = "A1PA6795UKMFR9", "A13V1IB3VIYZZH"
TYPES = {"ORDER_CHANGE", "FEED_PROCESSING_FINISHED"}


@pytest.fixture(autouse=True)
def fast_rate_limits(settings):
    settings.AMAZON_RATE_LIMIT_SCALE = TEST_TIME_SCALE


@pytest.fixture
def notifications_queue(settings, sqs_server_url, sqs_queue, monkeypatch):
    """Notifications on: the channel's queue is the fixture's queue at moto's server."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    settings.AMAZON_NOTIFICATIONS_QUEUE_URL = sqs_queue.url
    settings.AMAZON_SQS_ENDPOINT_URL = sqs_server_url
    return sqs_queue


def subscribed(store) -> bool:
    """store_notifications_subscribe, waiting out our own limiter as a worker's retry would."""
    deadline = time.monotonic() + 30
    while True:
        try:
            return store_notifications_subscribe(store_id=store.pk)
        except RateLimited as error:
            assert time.monotonic() < deadline, "still rate limited after 30 s"
            time.sleep(error.wait_seconds)


def unsubscribed(store) -> bool:
    deadline = time.monotonic() + 30
    while True:
        try:
            return store_notifications_unsubscribe(store=store)
        except RateLimited as error:
            assert time.monotonic() < deadline, "still rate limited after 30 s"
            time.sleep(error.wait_seconds)


def connect(server, seller, *, name="Berlin", marketplace_code="DE") -> Store:
    store, _ = store_connect(
        actor=None,
        name=name,
        marketplace_code=marketplace_code,
        seller_id=seller.seller_id,
        credentials=StoreCredentials(seller.client_id, seller.client_secret, seller.refresh_token),
        environment=Store.Environment.SANDBOX,
        sp_api_endpoint=server.url,
        token_endpoint=f"{server.url}/auth/o2/token",
    )
    return store


def notification_calls(server) -> list[tuple[str, str, int]]:
    return [
        (exchange.method, exchange.path, exchange.status)
        for exchange in server.exchanges
        if exchange.path.startswith("/notifications/")
    ]


def same_application_seller(seller, *, marketplace_ids=None):
    """Another seller who authorized the same application (same LWA client)."""
    suffix = str(SandboxNotificationDestination.objects.count()) + seller.seller_id[-6:]
    return seller_create(
        seller_id=f"AOTHER{suffix}",
        client_id=seller.client_id,
        client_secret=seller.client_secret,
        refresh_token=f"Atzr|other-{seller.refresh_token[-20:]}",
        marketplace_ids=marketplace_ids or [DE],
    )


@pytest.fixture
def settings_page(client):
    def read(store) -> str:
        user = get_user_model().objects.filter(username="ops").first()
        if user is None:
            user = get_user_model().objects.create_superuser("ops", password="x" * 20)
        client.force_login(user)
        response = client.get(reverse("dashboard:store_settings", args=[store.pk]))
        assert response.status_code == 200
        return response.content.decode().replace("&#x27;", "'")

    return read


def test_connecting_a_store_creates_one_destination_and_both_subscriptions(
    sandbox_server,
    sandbox_seller_factory,
    notifications_queue,
    settings,
    django_capture_on_commit_callbacks,
    settings_page,
):
    seller = sandbox_seller_factory(marketplace_ids=[DE])
    settings.CELERY_TASK_ALWAYS_EAGER = True  # the worker's part, in this process

    with django_capture_on_commit_callbacks(execute=True):
        store = connect(sandbox_server, seller)

    [destination] = NotificationDestination.objects.all()
    assert destination.queue_arn == notifications_queue.arn
    assert destination.sp_api_endpoint == sandbox_server.url
    assert [amazon.destination_id for amazon in SandboxNotificationDestination.objects.all()] == [
        destination.destination_id
    ]
    ours = {
        row.notification_type: row.subscription_id for row in NotificationSubscription.objects.all()
    }
    amazons = {
        row.notification_type: (row.subscription_id, row.payload_version, row.destination.sqs_arn)
        for row in SandboxNotificationSubscription.objects.filter(seller=seller)
    }
    assert set(ours) == TYPES
    # The payload versions of Amazon's schemas: OrderChangeNotification.json 1.0,
    # FeedProcessingFinishedNotification.json 2020-09-04.
    assert amazons == {
        "ORDER_CHANGE": (ours["ORDER_CHANGE"], "1.0", notifications_queue.arn),
        "FEED_PROCESSING_FINISHED": (
            ours["FEED_PROCESSING_FINISHED"],
            "2020-09-04",
            notifications_queue.arn,
        ),
    }
    assert list(store.events.filter(kind=StoreEvent.Kind.NOTIFICATIONS_ON)) != []
    page = settings_page(store)
    assert 'data-notifications="on"' in page
    assert "FEED_PROCESSING_FINISHED, ORDER_CHANGE" in page
    assert "none yet" in page


def test_a_second_run_creates_nothing_new_and_records_nothing(
    sandbox_server, sandbox_seller_factory, notifications_queue
):
    store = store_for_seller(sandbox_server, sandbox_seller_factory(marketplace_ids=[DE]))
    assert subscribed(store)
    before = sorted(NotificationSubscription.objects.values_list("subscription_id", flat=True))

    assert subscribed(store)

    assert NotificationDestination.objects.count() == 1
    assert SandboxNotificationDestination.objects.count() == 1
    assert sorted(NotificationSubscription.objects.values_list("subscription_id", flat=True)) == (
        before
    )
    assert SandboxNotificationSubscription.objects.count() == 2
    assert store.events.filter(kind=StoreEvent.Kind.NOTIFICATIONS_ON).count() == 1
    # The second run asked Amazon, which answered its conflict, and adopted what it showed.
    creates = [
        status
        for method, path, status in notification_calls(sandbox_server)
        if method == "POST" and path.startswith("/notifications/v1/subscriptions/")
    ]
    assert creates == [200, 200, 409, 409]


def test_two_stores_of_one_seller_share_its_subscriptions(
    sandbox_server, sandbox_seller_factory, notifications_queue
):
    seller = sandbox_seller_factory(marketplace_ids=[DE, FR])
    germany = store_for_seller(sandbox_server, seller, name="Germany")
    france = store_for_seller(
        sandbox_server, seller, name="France", marketplace_code="FR", marketplace_id=FR
    )

    assert subscribed(germany)
    assert subscribed(france)

    assert NotificationDestination.objects.count() == 1
    assert NotificationSubscription.objects.count() == 2
    assert SandboxNotificationSubscription.objects.filter(seller=seller).count() == 2
    assert france.events.filter(kind=StoreEvent.Kind.NOTIFICATIONS_ON).count() == 1


def test_two_sellers_of_one_application_share_the_destination(
    sandbox_server, sandbox_seller_factory, notifications_queue
):
    first = sandbox_seller_factory(marketplace_ids=[DE])
    second = same_application_seller(first)

    assert subscribed(store_for_seller(sandbox_server, first, name="First"))
    assert subscribed(store_for_seller(sandbox_server, second, name="Second"))

    [destination] = NotificationDestination.objects.all()
    assert SandboxNotificationDestination.objects.count() == 1
    assert set(NotificationSubscription.objects.values_list("seller_id", "notification_type")) == {
        (seller.seller_id, kind) for seller in (first, second) for kind in TYPES
    }
    assert set(
        SandboxNotificationSubscription.objects.values_list(
            "destination__destination_id", flat=True
        )
    ) == {destination.destination_id}


def test_a_destination_amazon_has_already_is_found_by_its_queue(
    sandbox_server, sandbox_seller_factory, notifications_queue
):
    # Another installation (or a run whose answer was lost) made the destination: Amazon
    # answers 409 "A destination with arn ... already exists" (models#2281).
    seller = sandbox_seller_factory(marketplace_ids=[DE])
    store = store_for_seller(sandbox_server, seller)
    existing = AmazonClient(store).notification_destination_create(
        name="earlier", queue_arn=notifications_queue.arn
    )

    assert subscribed(store)

    assert NotificationDestination.objects.get().destination_id == existing
    assert ("POST", "/notifications/v1/destinations", 409) in notification_calls(sandbox_server)


@pytest.mark.postgresql
def test_concurrent_runs_create_each_destination_and_subscription_once(
    sandbox_server, sandbox_seller_factory, notifications_queue
):
    first = sandbox_seller_factory(marketplace_ids=[DE, FR])
    second = same_application_seller(first)
    stores = [
        store_for_seller(sandbox_server, first, name="First DE"),
        store_for_seller(
            sandbox_server, first, name="First FR", marketplace_code="FR", marketplace_id=FR
        ),
        store_for_seller(sandbox_server, second, name="Second"),
    ]
    runs = [*stores, stores[0]]
    barrier = threading.Barrier(len(runs))
    outcomes, errors = [], []

    def run(store):
        from django.db import connection

        try:
            barrier.wait(timeout=10)
            outcomes.append(subscribed(store))
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(store,)) for store in runs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    assert outcomes == [True] * len(runs)
    assert NotificationDestination.objects.count() == 1
    assert SandboxNotificationDestination.objects.count() == 1
    assert NotificationSubscription.objects.count() == 4
    assert SandboxNotificationSubscription.objects.count() == 4
    assert set(NotificationSubscription.objects.values_list("subscription_id", flat=True)) == set(
        SandboxNotificationSubscription.objects.values_list("subscription_id", flat=True)
    )


def test_reauthorize_subscribes_the_seller_again(
    sandbox_server,
    sandbox_seller_factory,
    notifications_queue,
    settings,
    django_capture_on_commit_callbacks,
):
    seller = sandbox_seller_factory(marketplace_ids=[DE])
    store = store_for_seller(sandbox_server, seller)
    assert subscribed(store)
    # Amazon's side lost them (whether a revoked authorization ends them is not documented:
    # CONTRACT.md Doubts).
    SandboxNotificationSubscription.objects.filter(seller=seller).delete()
    settings.CELERY_TASK_ALWAYS_EAGER = True

    with django_capture_on_commit_callbacks(execute=True):
        store_reauthorize(store=store, actor=None, refresh_token=seller.refresh_token)

    amazons = set(
        SandboxNotificationSubscription.objects.filter(seller=seller).values_list(
            "subscription_id", flat=True
        )
    )
    assert len(amazons) == 2
    assert set(NotificationSubscription.objects.values_list("subscription_id", flat=True)) == (
        amazons
    )


def test_deactivating_one_of_two_stores_keeps_the_subscriptions_and_the_last_removes_them(
    sandbox_server,
    sandbox_seller_factory,
    notifications_queue,
    settings,
    django_capture_on_commit_callbacks,
    settings_page,
):
    seller = sandbox_seller_factory(marketplace_ids=[DE, FR])
    germany = store_for_seller(sandbox_server, seller, name="Germany")
    france = store_for_seller(
        sandbox_server, seller, name="France", marketplace_code="FR", marketplace_id=FR
    )
    assert subscribed(germany)
    assert subscribed(france)
    destination = NotificationDestination.objects.get()
    settings.CELERY_TASK_ALWAYS_EAGER = True

    with django_capture_on_commit_callbacks(execute=True):
        store_set_active(store=germany, actor=None, is_active=False)

    assert SandboxNotificationSubscription.objects.filter(seller=seller).count() == 2
    assert NotificationSubscription.objects.count() == 2
    assert "Off (the store is inactive)" in settings_page(germany)

    with django_capture_on_commit_callbacks(execute=True):
        store_set_active(store=france, actor=None, is_active=False)

    assert SandboxNotificationSubscription.objects.filter(seller=seller).count() == 0
    assert NotificationSubscription.objects.count() == 0
    # The destination stays for the next store; deletes went out grantless (no seller token).
    assert SandboxNotificationDestination.objects.get().destination_id == (
        destination.destination_id
    )
    assert NotificationDestination.objects.count() == 1
    deletes = [
        status for method, path, status in notification_calls(sandbox_server) if method == "DELETE"
    ]
    assert deletes == [200, 200]


def test_an_order_change_after_subscribing_arrives_in_the_queue(
    sandbox_server, sandbox_seller_factory, notifications_queue
):
    seller = sandbox_seller_factory(marketplace_ids=[DE])
    order = unshipped_merchant_order(seller)
    store = store_for_seller(sandbox_server, seller)
    assert subscribed(store)

    order_lifecycle_step(seller=seller, order_id=order.order_id, step="request_cancel")

    bodies = [json.loads(body) for body in notifications_queue.receive(expected=1)]
    [notification] = [body for body in bodies if body.get("NotificationType") == "ORDER_CHANGE"]
    ours = NotificationSubscription.objects.get(notification_type="ORDER_CHANGE")
    assert notification["NotificationMetadata"]["SubscriptionId"] == ours.subscription_id
    change = notification["Payload"]["OrderChangeNotification"]
    assert change["AmazonOrderId"] == order.order_id
    assert change["SellerId"] == store.seller_id


def test_grantless_and_seller_tokens_are_cached_apart(sandbox_server, sandbox_seller_factory):
    # The sandbox, as Amazon, refuses a seller's token on createDestination and the
    # application's grantless token on createSubscription (403): one cache key for both would
    # send the first token got to the other call.
    seller = sandbox_seller_factory(marketplace_ids=[DE])
    client = AmazonClient(store_for_seller(sandbox_server, seller))

    destination_id = client.notification_destination_create(
        name="channel", queue_arn=("arn:aws:sqs:us-east-1:123456789012:apart")
    )
    subscription = client.notification_subscription_create(
        notification_type="ORDER_CHANGE", destination_id=destination_id, payload_version="1.0"
    )
    listed = client.notification_destinations()
    again = client.notification_subscription("ORDER_CHANGE")

    assert [destination["destinationId"] for destination in listed] == [destination_id]
    assert again["subscriptionId"] == subscription["subscriptionId"]
    logins = [
        exchange for exchange in sandbox_server.exchanges if exchange.path == "/auth/o2/token"
    ]
    assert len(logins) == 2  # one token of each grant, each reused


def test_the_grantless_token_is_the_applications_whatever_the_seller(
    sandbox_server, sandbox_seller_factory
):
    first = sandbox_seller_factory(marketplace_ids=[DE])
    second = same_application_seller(first)
    first_auth = AmazonClient(store_for_seller(sandbox_server, first))._notifications()._auth
    second_auth = AmazonClient(store_for_seller(sandbox_server, second))._notifications()._auth
    scope = spapi.NOTIFICATIONS_SCOPE

    assert first_auth.cache_key(scope=scope) == second_auth.cache_key(scope=scope)
    assert first_auth.cache_key() != second_auth.cache_key()
    assert first_auth.cache_key(scope=scope) != first_auth.cache_key()
    first_auth.cred.client_secret = "another secret"
    assert first_auth.cache_key(scope=scope) != second_auth.cache_key(scope=scope)


def test_a_revoked_seller_leaves_the_store_working_and_order_settings_say_why(
    sandbox_server, sandbox_seller_factory, notifications_queue, settings_page
):
    seller = sandbox_seller_factory(marketplace_ids=[DE])
    store = store_for_seller(sandbox_server, seller)
    seller_tokens_revoke(seller=seller)

    subscribe_task.apply(kwargs={"store_id": store.pk})

    store.refresh_from_db()
    assert store.is_active and store.sync_state == SyncState.OK
    assert NotificationSubscription.objects.count() == 0
    [failed] = store.events.filter(kind=StoreEvent.Kind.NOTIFICATIONS_FAILED)
    assert "invalid_grant" in failed.message_text
    page = settings_page(store)
    assert 'data-notifications="off"' in page
    assert "Off (Amazon rejected the store's credentials (invalid_grant)" in page


def test_a_5xx_is_said_then_a_later_run_turns_notifications_on(
    sandbox_server, sandbox_seller_factory, notifications_queue, settings_page
):
    seller = sandbox_seller_factory(marketplace_ids=[DE])
    store = store_for_seller(sandbox_server, seller)
    seller_faults_update(seller=seller, faults=FaultSettings(fail_next=2, fail_status=503))

    subscribe_task.apply(kwargs={"store_id": store.pk})
    subscribe_task.apply(kwargs={"store_id": store.pk})  # the same failure is recorded once

    assert store.events.filter(kind=StoreEvent.Kind.NOTIFICATIONS_FAILED).count() == 1
    assert "Amazon answered 503 to createSubscription" in settings_page(store)

    assert subscribed(store)

    assert 'data-notifications="on"' in settings_page(store)


def test_no_queue_configured_calls_nothing_and_says_so(
    sandbox_server,
    sandbox_seller_factory,
    settings,
    django_capture_on_commit_callbacks,
    settings_page,
):
    settings.AMAZON_NOTIFICATIONS_QUEUE_URL = ""
    settings.CELERY_TASK_ALWAYS_EAGER = True
    seller = sandbox_seller_factory(marketplace_ids=[DE])

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        store = connect(sandbox_server, seller)
    assert not store_notifications_subscribe(store_id=store.pk)
    with django_capture_on_commit_callbacks(execute=True):
        store_set_active(store=store, actor=None, is_active=False)

    assert notification_calls(sandbox_server) == []
    assert callbacks == []  # not even a task
    assert NotificationDestination.objects.count() == 0
    assert "Off (not configured: the notifications queue setting is empty)" in settings_page(store)


def test_a_fifo_queue_is_refused_before_amazon_is_asked(
    sandbox_server, sandbox_seller_factory, settings, sqs_server_url, monkeypatch
):
    # Only a standard queue receives Amazon's notifications (docs#845); createDestination
    # accepts a FIFO queue's ARN all the same (CONTRACT.md Doubts).
    from seller_central_sandbox.testing import sqs_queue_create

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    fifo = sqs_queue_create(sqs_server_url, f"fifo-{time.monotonic_ns()}.fifo")
    settings.AMAZON_NOTIFICATIONS_QUEUE_URL = fifo.url
    settings.AMAZON_SQS_ENDPOINT_URL = sqs_server_url
    store = store_for_seller(sandbox_server, sandbox_seller_factory(marketplace_ids=[DE]))

    with pytest.raises(setup.NotificationsSetupError):
        store_notifications_subscribe(store_id=store.pk)

    assert notification_calls(sandbox_server) == []


def test_the_command_subscribes_every_active_store_and_says_what_failed(
    sandbox_server, sandbox_seller_factory, notifications_queue
):
    working = store_for_seller(sandbox_server, sandbox_seller_factory(marketplace_ids=[DE]))
    revoked_seller = sandbox_seller_factory(marketplace_ids=[DE])
    revoked = store_for_seller(sandbox_server, revoked_seller)
    seller_tokens_revoke(seller=revoked_seller)
    out, err = io.StringIO(), io.StringIO()

    with pytest.raises(CommandError):
        call_command("notifications_subscribe", stdout=out, stderr=err)

    assert f"{working.name}: notifications on" in out.getvalue()
    assert f"{revoked.name}: Amazon rejected the store's credentials (invalid_grant)" in (
        err.getvalue()
    )
    assert set(NotificationSubscription.objects.values_list("seller_id", flat=True)) == {
        working.seller_id
    }
    assert revoked.events.filter(kind=StoreEvent.Kind.NOTIFICATIONS_FAILED).count() == 1


def test_a_new_queue_moves_the_subscriptions_to_its_destination(
    sandbox_server, sandbox_seller_factory, notifications_queue, settings, sqs_server_url
):
    from seller_central_sandbox.testing import sqs_queue_create

    seller = sandbox_seller_factory(marketplace_ids=[DE])
    store = store_for_seller(sandbox_server, seller)
    assert subscribed(store)
    new_queue = sqs_queue_create(sqs_server_url, f"moved-{time.monotonic_ns()}")
    settings.AMAZON_NOTIFICATIONS_QUEUE_URL = new_queue.url

    assert subscribed(store)

    # Amazon keeps one subscription per type: ours went to the old destination, so it is
    # deleted there and made again for the new queue (the old destination stays).
    assert set(NotificationDestination.objects.values_list("queue_arn", flat=True)) == {
        notifications_queue.arn,
        new_queue.arn,
    }
    amazons = SandboxNotificationSubscription.objects.filter(seller=seller)
    assert {row.destination.sqs_arn for row in amazons} == {new_queue.arn}
    assert {row.destination.queue_arn for row in NotificationSubscription.objects.all()} == {
        new_queue.arn
    }
    assert set(NotificationSubscription.objects.values_list("subscription_id", flat=True)) == set(
        amazons.values_list("subscription_id", flat=True)
    )


def test_a_subscription_to_a_destination_not_ours_is_reported_not_taken(
    sandbox_server, sandbox_seller_factory, notifications_queue, settings_page
):
    # The seller's ORDER_CHANGE already goes elsewhere for this application (another
    # installation of it): Amazon allows one per type (409 StateConflict, docs#1564).
    seller = sandbox_seller_factory(marketplace_ids=[DE])
    store = store_for_seller(sandbox_server, seller)
    client = AmazonClient(store)
    elsewhere = client.notification_destination_create(
        name="another installation", queue_arn="arn:aws:sqs:eu-west-1:210987654321:theirs"
    )
    client.notification_subscription_create(
        notification_type="ORDER_CHANGE", destination_id=elsewhere, payload_version="1.0"
    )

    subscribe_task.apply(kwargs={"store_id": store.pk})

    amazons = SandboxNotificationSubscription.objects.get(notification_type="ORDER_CHANGE")
    assert amazons.destination.destination_id == elsewhere  # left alone
    assert not NotificationSubscription.objects.filter(notification_type="ORDER_CHANGE").exists()
    page = settings_page(store)
    assert 'data-notifications="off"' in page
    assert f"already go to another destination of this app ({elsewhere})" in page


def test_a_queue_that_cannot_be_read_is_said_and_amazon_is_not_asked(
    sandbox_server, sandbox_seller_factory, notifications_queue, settings, settings_page
):
    settings.AMAZON_NOTIFICATIONS_QUEUE_URL = notifications_queue.url + "-missing"
    store = store_for_seller(sandbox_server, sandbox_seller_factory(marketplace_ids=[DE]))

    subscribe_task.apply(kwargs={"store_id": store.pk})

    assert notification_calls(sandbox_server) == []
    store.refresh_from_db()
    assert store.is_active and store.sync_state == SyncState.OK
    assert "The notifications queue could not be read: QueueDoesNotExist" in settings_page(store)


def test_a_queue_the_consumer_is_still_making_is_waited_for_without_a_failure(
    sandbox_server, sandbox_seller_factory, notifications_queue, settings
):
    # The demo: moto starts empty and the consumer makes the queue when it starts, maybe after
    # a store's setup has run: that setup waits, and the store's history says nothing failed.
    settings.AMAZON_NOTIFICATIONS_QUEUE_URL = notifications_queue.url + "-coming"
    settings.AMAZON_NOTIFICATIONS_QUEUE_CREATE = True
    store = store_for_seller(sandbox_server, sandbox_seller_factory(marketplace_ids=[DE]))

    with pytest.raises(Retry):  # as a worker runs it: tried again later
        subscribe_task(store_id=store.pk)

    assert notification_calls(sandbox_server) == []
    assert not store.events.filter(kind=StoreEvent.Kind.NOTIFICATIONS_FAILED).exists()
    # Without the consumer making it, the same missing queue is a failure the store shows.
    settings.AMAZON_NOTIFICATIONS_QUEUE_CREATE = False
    with pytest.raises(Retry):
        subscribe_task(store_id=store.pk)
    assert store.events.filter(kind=StoreEvent.Kind.NOTIFICATIONS_FAILED).count() == 1


def test_grantless_calls_spend_the_applications_bucket_and_seller_calls_the_sellers(
    sandbox_server, sandbox_seller_factory
):
    # CONTRACT.md row 80: rate 1, burst 5 per operation (notifications_v1.json "Usage Plan");
    # a grantless call has no selling partner, so our limiter keys it by the application.
    first = sandbox_seller_factory(marketplace_ids=[DE])
    second = same_application_seller(first)
    ours, theirs = (
        AmazonClient(store_for_seller(sandbox_server, seller, name=seller.seller_id))
        for seller in (first, second)
    )

    for operation in ("createDestination", "getDestinations", "deleteSubscriptionById"):
        assert ours._bucket_key(operation) == theirs._bucket_key(operation)
        assert spapi.OPERATION_LIMITS[operation] == (1.0, 5)
    for operation in ("createSubscription", "getSubscription"):
        assert ours._bucket_key(operation) != theirs._bucket_key(operation)
        assert spapi.OPERATION_LIMITS[operation] == (1.0, 5)


@pytest.mark.postgresql
def test_a_store_deactivated_while_its_setup_runs_ends_without_subscriptions(
    sandbox_server, sandbox_seller_factory, notifications_queue, django_capture_on_commit_callbacks
):
    seller = sandbox_seller_factory(marketplace_ids=[DE])
    store = store_for_seller(sandbox_server, seller)
    # Each of the seller's calls takes a second: the setup holds the seller's lock meanwhile.
    seller_faults_update(seller=seller, faults=FaultSettings(latency_ms=1000))
    outcomes = []

    def setup_run():
        from django.db import connection

        try:
            outcomes.append(subscribed(store))
        finally:
            connection.close()

    thread = threading.Thread(target=setup_run)
    thread.start()
    deadline = time.monotonic() + 10
    while not NotificationDestination.objects.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.3)  # inside the lock now, waiting for Amazon's answers
    with django_capture_on_commit_callbacks(execute=False):
        store_set_active(store=store, actor=None, is_active=False)
    removed = unsubscribed(store)  # the deactivation's task, run here
    thread.join(timeout=30)

    assert outcomes == [True]
    assert removed
    assert SandboxNotificationSubscription.objects.count() == 0
    assert NotificationSubscription.objects.count() == 0


def test_the_task_retries_a_5xx_saying_why_and_a_rate_limit_silently(
    sandbox_server, sandbox_seller_factory, notifications_queue, settings
):
    seller = sandbox_seller_factory(marketplace_ids=[DE])
    store = store_for_seller(sandbox_server, seller)
    seller_faults_update(seller=seller, faults=FaultSettings(fail_next=1, fail_status=503))

    with pytest.raises(Retry):  # as a worker runs it: retried later
        subscribe_task(store_id=store.pk)
    assert store.events.filter(kind=StoreEvent.Kind.NOTIFICATIONS_FAILED).count() == 1

    # Our limiter has no token left for the seller's createSubscription: nothing is sent, the
    # task comes back later, and no failure is recorded for a wait.
    client = AmazonClient(store)
    settings.AMAZON_RATE_LIMIT_SCALE = 0.001
    while (
        client.limiter.acquire(
            client._bucket_key("createSubscription"),
            rate=client.paced_rate("createSubscription"),
            burst=spapi.OPERATION_LIMITS["createSubscription"][1],
        )
        == 0
    ):
        pass
    sent = len(notification_calls(sandbox_server))

    with pytest.raises(Retry):
        subscribe_task(store_id=store.pk)

    assert len(notification_calls(sandbox_server)) == sent
    assert store.events.filter(kind=StoreEvent.Kind.NOTIFICATIONS_FAILED).count() == 1


def test_the_sweep_subscribes_a_store_connected_before_the_queue_was_configured(
    sandbox_server, sandbox_seller_factory, notifications_queue, settings
):
    from amazon_channel.tasks import notifications_sweep

    seller = sandbox_seller_factory(marketplace_ids=[DE])
    queue_url = settings.AMAZON_NOTIFICATIONS_QUEUE_URL
    settings.AMAZON_NOTIFICATIONS_QUEUE_URL = ""  # connected while notifications were off
    store = connect(sandbox_server, seller)
    paused = store_for_seller(sandbox_server, sandbox_seller_factory(marketplace_ids=[DE]))
    Store.objects.filter(pk=paused.pk).update(sync_state=SyncState.NEEDS_REAUTHORIZATION)
    assert setup.stores_without_notifications() == []  # off: nothing to do

    settings.AMAZON_NOTIFICATIONS_QUEUE_URL = queue_url
    assert setup.stores_without_notifications() == [
        store.pk
    ]  # the paused one waits for Reauthorize
    settings.CELERY_TASK_ALWAYS_EAGER = True
    notifications_sweep.delay()

    assert {row.notification_type for row in NotificationSubscription.objects.all()} == TYPES
    assert SandboxNotificationSubscription.objects.filter(seller=seller).count() == 2
    assert setup.stores_without_notifications() == []
    # A store whose setup failed is tried again an hour later, not every minute.
    NotificationSubscription.objects.all().delete()
    assert setup.stores_without_notifications() == []  # "notifications on" was just recorded
    StoreEvent.objects.filter(store=store).update(
        created_at=StoreEvent.objects.get(
            store=store, kind=StoreEvent.Kind.NOTIFICATIONS_ON
        ).created_at
        - setup.SETUP_RETRY_AFTER
    )
    assert setup.stores_without_notifications() == [store.pk]
