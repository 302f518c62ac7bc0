"""Amazon's notifications set up for the stores: destinations and the sellers' subscriptions.

- The queue (settings.AMAZON_NOTIFICATIONS_QUEUE_URL, empty: notifications off and nothing here
  calls anything) is registered once per SP-API endpoint and application as a destination
  (createDestination, grantless). Amazon keeps one per queue ARN and application: a second
  create answers 409 "already exists" (models#2281), and then getDestinations finds it.
- Each seller subscribes to ORDER_CHANGE and FEED_PROCESSING_FINISHED (createSubscription, with
  the seller's token). Amazon keeps one subscription per type, seller and application
  (409 StateConflict, docs#1564): the seller's stores of a region share them, and a conflict is
  adopted when getSubscription shows it goes to our destination.
- A store that leaves (deactivated: a store with history cannot be deleted, its events are
  append-only) deletes its seller's subscriptions
  (deleteSubscriptionById, grantless) unless another active store of the seller still uses
  them. Destinations stay: they cost nothing and the next store reuses them.

Both directions run under one PostgreSQL advisory lock per seller, endpoint and application, so
that a store leaving never deletes what a store arriving has just subscribed. No transaction is
held over Amazon's calls: the rows are written as the answers come, and every step adopts what
an earlier, interrupted run left at Amazon, so running twice (or at once) creates nothing new.
"""

import hashlib
import logging
from contextlib import contextmanager, suppress
from datetime import timedelta

from botocore.exceptions import BotoCoreError, ClientError
from django.conf import settings
from django.db import connection
from django.db.models import Exists, OuterRef
from django.utils import timezone

from amazon_channel.events import (
    store_notifications_failed,
    store_notifications_off,
    store_notifications_on,
)
from amazon_channel.models import (
    NotificationDestination,
    NotificationSubscription,
    NotificationType,
    Store,
    StoreEvent,
    SyncState,
)
from amazon_channel.notes import note, note_from_english
from amazon_channel.notifications.queues import sqs_client
from amazon_channel.spapi.client import (
    AmazonClient,
    AmazonConflict,
    AmazonError,
    AmazonNotFound,
    application_key,
)

logger = logging.getLogger(__name__)

# The payload version each type is subscribed with: the versions of Amazon's schemas
# (OrderChangeNotification.json "PayloadVersion" 1.0; FeedProcessingFinishedNotification.json
# "payloadVersion" 2020-09-04), which the sandbox sends too.
PAYLOAD_VERSIONS = {
    NotificationType.ORDER_CHANGE: "1.0",
    NotificationType.FEED_PROCESSING_FINISHED: "2020-09-04",
}
# The destination's name at Amazon (CreateDestinationRequest.name: any, at most 256).
DESTINATION_NAME = "amazon-channel-notifications"
NOTIFICATION_EVENT_KINDS = (
    StoreEvent.Kind.NOTIFICATIONS_ON,
    StoreEvent.Kind.NOTIFICATIONS_OFF,
    StoreEvent.Kind.NOTIFICATIONS_FAILED,
)
# How long a run waits for another run of the same seller (its Amazon calls take seconds).
LOCK_TIMEOUT = "30s"

_queue_arns: dict[tuple[str, str], str] = {}


class NotificationsSetupError(Exception):
    """Notifications could not be set up for a reason of ours: `reason` is the note a store
    event keeps; `is_retryable` when trying again later may help."""

    def __init__(self, reason: dict, *, is_retryable: bool = False, is_waiting: bool = False):
        super().__init__(reason)
        self.reason = reason
        self.is_retryable = is_retryable or is_waiting
        # Nothing failed yet: the queue is still being made (see _is_queue_coming).
        self.is_waiting = is_waiting


# SQS's answer for a queue that does not exist (the JSON and the query protocols' codes).
MISSING_QUEUE_CODES = {"QueueDoesNotExist", "AWS.SimpleQueueService.NonExistentQueue"}


def _is_queue_coming(error: Exception) -> bool:
    """A queue that does not exist yet while the consumer is the one that makes it
    (AMAZON_NOTIFICATIONS_QUEUE_CREATE, the demo: moto starts empty with every `make run`, and a
    store's setup may run before the consumer has made the queue)."""
    code = getattr(error, "response", {}).get("Error", {}).get("Code", "")
    return settings.AMAZON_NOTIFICATIONS_QUEUE_CREATE and code in MISSING_QUEUE_CODES


def notifications_configured() -> bool:
    return bool(settings.AMAZON_NOTIFICATIONS_QUEUE_URL)


def notifications_queue_arn() -> str:
    """The ARN of the notifications queue: SQS's QueueArn attribute of
    AMAZON_NOTIFICATIONS_QUEUE_URL (at AMAZON_SQS_ENDPOINT_URL when set), read once per process.

    Raises NotificationsSetupError: retryable when SQS cannot be read (network, credentials,
    no such queue yet), not retryable for a FIFO queue, which never receives Amazon's
    notifications (docs#845 = models#1441; createDestination accepts its ARN all the same).
    """
    queue_url = settings.AMAZON_NOTIFICATIONS_QUEUE_URL
    endpoint_url = settings.AMAZON_SQS_ENDPOINT_URL or None
    key = (endpoint_url or "", queue_url)
    if key in _queue_arns:
        return _queue_arns[key]
    try:
        client = sqs_client(queue=queue_url, endpoint_url=endpoint_url)
        attributes = client.get_queue_attributes(
            QueueUrl=queue_url, AttributeNames=["QueueArn", "FifoQueue"]
        ).get("Attributes", {})
    except (BotoCoreError, ClientError) as error:
        # The error's class names the cause without the URL or any key.
        raise NotificationsSetupError(
            note("store.notifications_queue_unreadable", error=type(error).__name__),
            is_retryable=True,
            is_waiting=_is_queue_coming(error),
        ) from error
    arn = attributes.get("QueueArn")
    if not isinstance(arn, str) or not arn.startswith("arn:"):
        raise NotificationsSetupError(
            note("store.notifications_queue_unreadable", error="no QueueArn"), is_retryable=True
        )
    if arn.endswith(".fifo") or str(attributes.get("FifoQueue", "")).lower() == "true":
        raise NotificationsSetupError(note("store.notifications_queue_fifo"))
    _queue_arns[key] = arn
    return arn


@contextmanager
def _seller_lock(*, seller_id: str, sp_api_endpoint: str, application: str):
    """One setup or removal at a time per seller, endpoint and application (PostgreSQL advisory
    lock of the session, so that no transaction stays open over Amazon's calls)."""
    if connection.vendor != "postgresql":
        yield
        return
    digest = hashlib.sha256(
        f"notifications\0{seller_id}\0{sp_api_endpoint}\0{application}".encode()
    ).digest()
    key = int.from_bytes(digest[:8], "big", signed=True)
    with connection.cursor() as cursor:
        cursor.execute(f"SET lock_timeout = '{LOCK_TIMEOUT}'")
        try:
            cursor.execute("SELECT pg_advisory_lock(%s)", [key])
        finally:
            cursor.execute("RESET lock_timeout")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [key])


def _destination_ensure(*, client: AmazonClient, store: Store, queue_arn: str):
    """The destination of the queue for the store's endpoint and application: ours if recorded,
    else created at Amazon, else (409 "already exists") found with getDestinations by ARN."""
    application = application_key(store.lwa_client_id)
    identity = {
        "sp_api_endpoint": store.sp_api_endpoint,
        "application_key": application,
        "queue_arn": queue_arn,
    }
    recorded = NotificationDestination.objects.filter(**identity).first()
    if recorded is not None:
        return recorded
    try:
        destination_id = client.notification_destination_create(
            name=DESTINATION_NAME, queue_arn=queue_arn
        )
    except AmazonConflict:
        destination_id = next(
            (
                destination["destinationId"]
                for destination in client.notification_destinations()
                if (destination.get("resource") or {}).get("sqs", {}).get("arn") == queue_arn
            ),
            None,
        )
        if destination_id is None:
            raise
    # A run for another seller of the application may have recorded it meanwhile: the unique
    # constraint decides, and both keep Amazon's one destination.
    destination, _ = NotificationDestination.objects.get_or_create(
        **identity, defaults={"destination_id": destination_id}
    )
    return destination


def _subscription_ensure(
    *, client: AmazonClient, store: Store, destination: NotificationDestination, kind: str
) -> None:
    """The seller's subscription of `kind` to `destination`, at Amazon and recorded."""
    try:
        answer = client.notification_subscription_create(
            notification_type=kind,
            destination_id=destination.destination_id,
            payload_version=PAYLOAD_VERSIONS[kind],
        )
    except AmazonConflict:
        answer = client.notification_subscription(kind)
        if answer["destinationId"] != destination.destination_id:
            answer = _subscription_move(
                client=client, store=store, destination=destination, kind=kind, found=answer
            )
    NotificationSubscription.objects.update_or_create(
        destination=destination,
        seller_id=store.seller_id,
        notification_type=kind,
        defaults={"subscription_id": answer["subscriptionId"]},
    )


def _subscription_move(
    *,
    client: AmazonClient,
    store: Store,
    destination: NotificationDestination,
    kind: str,
    found: dict,
) -> dict:
    """The seller's subscription goes to another destination. One of ours (the queue setting
    changed): it is deleted and made again for the queue of now. Anyone else's (another
    installation of the application, a tool of the developer's): refused, not taken."""
    old = NotificationDestination.objects.filter(
        sp_api_endpoint=destination.sp_api_endpoint,
        application_key=destination.application_key,
        destination_id=found["destinationId"],
    ).first()
    if old is None:
        raise NotificationsSetupError(
            note(
                "store.notifications_subscription_elsewhere",
                type=kind,
                destination=found["destinationId"],
            )
        )
    with suppress(AmazonNotFound):
        client.notification_subscription_delete(
            notification_type=kind, subscription_id=found["subscriptionId"]
        )
    NotificationSubscription.objects.filter(subscription_id=found["subscriptionId"]).delete()
    return client.notification_subscription_create(
        notification_type=kind,
        destination_id=destination.destination_id,
        payload_version=PAYLOAD_VERSIONS[kind],
    )


def last_notifications_event(store: Store) -> StoreEvent | None:
    """The store's last "notifications on / off / not set up" event."""
    return (
        StoreEvent.objects.filter(store=store, kind__in=NOTIFICATION_EVENT_KINDS)
        .order_by("-created_at", "-id")
        .first()
    )


# A store without notifications is set up again by the sweep at most this often (a store whose
# setup failed says why on Order Settings meanwhile).
SETUP_RETRY_AFTER = timedelta(hours=1)


def stores_without_notifications(*, retry_after: timedelta = SETUP_RETRY_AFTER) -> list[int]:
    """Active stores whose seller has no ORDER_CHANGE subscription at the store's endpoint and
    whose notifications were not set up (nor tried) within `retry_after`: stores connected
    before notifications existed or before the queue was configured, and setups whose retries
    ran out. Empty while the queue is not configured; a store waiting for reauthorization is
    left to Reauthorize, which subscribes it."""
    if not notifications_configured():
        return []
    subscribed = NotificationSubscription.objects.filter(
        seller_id=OuterRef("seller_id"),
        destination__sp_api_endpoint=OuterRef("sp_api_endpoint"),
        notification_type=NotificationType.ORDER_CHANGE,
    )
    tried = StoreEvent.objects.filter(
        store=OuterRef("pk"),
        kind__in=NOTIFICATION_EVENT_KINDS,
        created_at__gte=timezone.now() - retry_after,
    )
    return list(
        Store.objects.filter(is_active=True)
        .exclude(sync_state=SyncState.NEEDS_REAUTHORIZATION)
        .exclude(Exists(subscribed))
        .exclude(Exists(tried))
        .values_list("pk", flat=True)
    )


def store_notifications_subscribe(*, store_id: int) -> bool:
    """Subscribe the store's seller to ORDER_CHANGE and FEED_PROCESSING_FINISHED at the
    notifications queue; True when they are on. Nothing is called (False) while the queue
    setting is empty or the store is inactive or gone.

    Idempotent and safe to run concurrently: the destination is made once per endpoint and
    application, Amazon's conflicts are adopted, and the rows are unique. The first success
    after anything else records "notifications on" on the store; a repeat records nothing.
    Raises AmazonError (the client's family: retryable or not) and NotificationsSetupError;
    the caller records the failure (store_notifications_failure_record).
    """
    if not notifications_configured():
        return False
    store = Store.objects.filter(pk=store_id, is_active=True).first()
    if store is None:
        return False
    queue_arn = notifications_queue_arn()
    client = AmazonClient(store)
    destination = _destination_ensure(client=client, store=store, queue_arn=queue_arn)
    with _seller_lock(
        seller_id=store.seller_id,
        sp_api_endpoint=store.sp_api_endpoint,
        application=destination.application_key,
    ):
        # Checked again under the lock: a deactivation's removal that ran meanwhile must not be
        # undone, and one still to come waits for this lock and then removes what is made here.
        if not Store.objects.filter(pk=store.pk, is_active=True).exists():
            return False
        for kind in PAYLOAD_VERSIONS:
            _subscription_ensure(client=client, store=store, destination=destination, kind=kind)
    last = last_notifications_event(store)
    if last is None or last.kind != StoreEvent.Kind.NOTIFICATIONS_ON:
        store_notifications_on(store=store, notification_types=list(PAYLOAD_VERSIONS))
    return True


def _other_active_stores(store: Store, application: str) -> list[Store]:
    candidates = Store.objects.filter(
        seller_id=store.seller_id, sp_api_endpoint=store.sp_api_endpoint, is_active=True
    ).exclude(pk=store.pk)
    # The client id is encrypted at rest: compared here, not in SQL.
    return [other for other in candidates if application_key(other.lwa_client_id) == application]


def store_notifications_unsubscribe(*, store: Store) -> bool:
    """The store leaves (deactivated): delete its seller's subscriptions at Amazon
    (deleteSubscriptionById, grantless) and here, unless another active store of the seller,
    endpoint and application still needs them. True when some were deleted.

    Nothing is called when the seller has no subscription recorded. A subscription Amazon no
    longer knows (404) counts as deleted. Destinations are kept. Raises AmazonError; what was
    deleted stays deleted, and a new run deletes the rest.
    """
    application = application_key(store.lwa_client_id)
    subscriptions = NotificationSubscription.objects.filter(
        seller_id=store.seller_id,
        destination__sp_api_endpoint=store.sp_api_endpoint,
        destination__application_key=application,
    )
    with _seller_lock(
        seller_id=store.seller_id,
        sp_api_endpoint=store.sp_api_endpoint,
        application=application,
    ):
        # Under the lock: a setup running now has written its rows by the time it lets go.
        if not subscriptions.exists():
            return False
        if Store.objects.filter(pk=store.pk, is_active=True).exists():
            return False  # activated again meanwhile: its subscription comes next
        if _other_active_stores(store, application):
            store_notifications_off(store=store, is_kept_for_other_stores=True)
            return False
        client = AmazonClient(store)
        for subscription in subscriptions.order_by("pk"):
            with suppress(AmazonNotFound):
                client.notification_subscription_delete(
                    notification_type=subscription.notification_type,
                    subscription_id=subscription.subscription_id,
                )
            subscription.delete()
    store_notifications_off(store=store, is_kept_for_other_stores=False)
    return True


def store_notifications_failure_record(
    *, store_id: int, error: AmazonError | NotificationsSetupError
) -> None:
    """Record on the store why its notifications are not set up (shown on Order Settings); the
    same reason twice in a row is recorded once. The store and its poll go on."""
    store = Store.objects.filter(pk=store_id).first()
    if store is None:
        return
    if isinstance(error, NotificationsSetupError):
        reason = error.reason
    else:
        reason = note_from_english(error.message)
    last = last_notifications_event(store)
    is_repeat = last is not None and last.kind == StoreEvent.Kind.NOTIFICATIONS_FAILED
    if is_repeat and last.notes == [reason]:
        return
    logger.warning("store %s: notifications not set up (%s)", store_id, type(error).__name__)
    store_notifications_failed(store=store, reason=reason)
