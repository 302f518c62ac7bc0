"""The notification consumer: its own process (`manage.py notifications_consume`, Procfile's
`notifications`) that long-polls Amazon's SQS queue with boto3.

For each message, in this order, so that a consumer killed at any point loses nothing:
1. parse and check it against Amazon's schema (messages.py). A poison message is left in the
   queue: SQS delivers it again and, after AMAZON_NOTIFICATIONS_MAX_RECEIVES, moves it to the
   dead-letter queue (the redrive policy of `notifications_queue_create`).
2. record it once by its NotificationId (a copy only counts as received again), mapped to its
   store, or ignored with the reason (unknown subscription, no such store, a type we do not
   handle): one transaction.
3. hand the work to Celery after the commit, for a new notification and for a copy of one still
   RECEIVED (a consumer killed between 2 and 3 left it so; the beat's notifications_sweep also
   re-hands those older than a minute).
4. delete the message. A database or broker failure skips 3-4: the message comes back.
"""

import logging
import signal
import time
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from pathlib import Path

from botocore.exceptions import BotoCoreError, ClientError, EndpointConnectionError
from django.conf import settings
from django.db import close_old_connections, transaction
from django.utils import timezone

from amazon_channel.enqueue import notification_handle_enqueue
from amazon_channel.models import (
    AmazonFeed,
    AmazonNotification,
    NotificationQueueStatus,
    NotificationSubscription,
    NotificationType,
    Store,
)
from amazon_channel.notifications.messages import MessageInvalid, ParsedNotification, message_parse
from amazon_channel.notifications.queues import (
    notification_queue_create,
    queue_name,
    queue_region,
    queue_status_refresh,
    sqs_client,
)

logger = logging.getLogger(__name__)

# SQS's longest long poll and largest batch.
RECEIVE_WAIT_SECONDS = 20
RECEIVE_BATCH_SIZE = 10
# How often the consumer reads the queues' depths for the health check.
STATUS_INTERVAL_SECONDS = 60
# After a failed receive (the SQS server starting, the network), the wait doubles up to this.
LONGEST_RETRY_SECONDS = 30
# A notification still RECEIVED this long after it arrived lost its hand-off.
LOST_HAND_OFF_SECONDS = 60
# The most the sweep re-hands at once (the rest on its next run).
SWEEP_BATCH_SIZE = 500


class Outcome(StrEnum):
    RECORDED = "recorded"  # new, its work handed to Celery; message deleted
    COPY = "copy"  # seen before; message deleted
    IGNORED = "ignored"  # recorded as ignored (no store for it); message deleted
    POISON = "poison"  # not a notification: left for SQS to redeliver, then dead-letter
    FAILED = "failed"  # database or broker failed: left for SQS to redeliver


@dataclass(frozen=True)
class Recorded:
    notification_pk: int
    is_new: bool
    state: str
    reason: str
    is_handed_off: bool


def _store_for(notification: ParsedNotification) -> tuple[Store | None, str]:
    """The store the notification is about, or None and why (in English, for operators)."""
    if not notification.is_known_type:
        return None, "notification type the channel does not handle"
    subscription = (
        NotificationSubscription.objects.select_related("destination")
        .filter(subscription_id=notification.subscription_id)
        .first()
    )
    if subscription is None:
        return None, "unknown subscription"
    if subscription.notification_type != notification.notification_type:
        return None, "the subscription is for another notification type"
    if notification.seller_id and notification.seller_id != subscription.seller_id:
        return None, "the seller is not the subscription's"
    stores = Store.objects.filter(seller_id=subscription.seller_id)
    if notification.notification_type == NotificationType.ORDER_CHANGE:
        stores = stores.filter(marketplace_id=notification.marketplace_id)
    stores = list(stores.order_by("pk"))
    if not stores:
        return None, "no store of the seller in this marketplace"
    feed_store_ids = set()
    if notification.feed_id:
        feed_store_ids = set(
            AmazonFeed.objects.filter(store__in=stores, feed_id=notification.feed_id).values_list(
                "store_id", flat=True
            )
        )
    # The store that sent the feed; else the store behind the subscription's endpoint (a seller
    # may have a sandbox and a production store).
    stores.sort(
        key=lambda store: (
            store.pk not in feed_store_ids,
            store.sp_api_endpoint != subscription.destination.sp_api_endpoint,
            store.pk,
        )
    )
    return stores[0], ""


def notification_record(*, notification: ParsedNotification) -> Recorded:
    """Record the notification once by its NotificationId and, once committed, hand a RECEIVED
    one's work to Celery (a new one, or a copy of one whose hand-off may have been lost).

    Raises django.db.DatabaseError (nothing recorded) or the broker's error (recorded, not
    handed off: its copy or the sweep hands it off later)."""
    now = timezone.now()
    with transaction.atomic():
        store, reason = _store_for(notification)
        row, is_new = AmazonNotification.objects.get_or_create(
            notification_id=notification.notification_id,
            defaults={
                "notification_type": notification.notification_type,
                "subscription_id": notification.subscription_id,
                "store": store,
                "amazon_order_id": notification.amazon_order_id,
                "feed_id": notification.feed_id,
                "event_time": notification.event_time,
                "publish_time": notification.publish_time,
                "state": (
                    AmazonNotification.State.RECEIVED if store else AmazonNotification.State.IGNORED
                ),
                "reason": reason,
                "payload": notification.payload,
            },
        )
        if is_new:
            if store is not None:
                Store.objects.filter(pk=store.pk).update(last_notification_at=now)
        else:
            row = AmazonNotification.objects.select_for_update().get(pk=row.pk)
            row.receive_count += 1
            row.save(update_fields=["receive_count"])
        is_handed_off = row.state == AmazonNotification.State.RECEIVED
        if is_handed_off:
            notification_handle_enqueue(notification_pk=row.pk)
    return Recorded(
        notification_pk=row.pk,
        is_new=is_new,
        state=row.state,
        reason=row.reason,
        is_handed_off=is_handed_off,
    )


def message_consume(*, client, queue_url: str, message: dict) -> Outcome:
    """Take one SQS message: record it and delete it, or leave it for redelivery. Never raises
    for the message's sake: a bad message costs only itself."""
    message_id = message.get("MessageId", "")
    receives = message.get("Attributes", {}).get("ApproximateReceiveCount", "?")
    try:
        notification = message_parse(message.get("Body"))
    except MessageInvalid as problem:
        # The reason names the field, never its value; the body is not logged.
        logger.warning(
            "notification message %s (received %s times) is not one we can read: %s; left "
            "for the dead-letter queue",
            message_id,
            receives,
            problem,
        )
        return Outcome.POISON
    try:
        recorded = notification_record(notification=notification)
    except Exception:  # database, broker: anything leaves the message for redelivery
        logger.exception(
            "notification %s not recorded or not handed off; SQS delivers it again",
            notification.notification_id,
        )
        return Outcome.FAILED
    if recorded.state == AmazonNotification.State.IGNORED and recorded.is_new:
        outcome = Outcome.IGNORED
        logger.warning(
            "notification %s (%s) ignored: %s",
            notification.notification_id,
            notification.notification_type,
            recorded.reason,
        )
    else:
        outcome = Outcome.RECORDED if recorded.is_new else Outcome.COPY
    try:
        client.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
    except (BotoCoreError, ClientError) as error:
        # Recorded: the copy SQS sends again only counts as received again.
        logger.warning(
            "notification %s recorded, its message not deleted: %s",
            notification.notification_id,
            error,
        )
    return outcome


def notifications_with_hand_off_lost(
    *, lost_after: timedelta = timedelta(seconds=LOST_HAND_OFF_SECONDS)
) -> list[int]:
    """Notifications still RECEIVED `lost_after` after they arrived (a consumer or a broker
    lost their hand-off), oldest first, at most SWEEP_BATCH_SIZE."""
    return list(
        AmazonNotification.objects.filter(
            state=AmazonNotification.State.RECEIVED,
            received_at__lte=timezone.now() - lost_after,
        )
        .order_by("received_at", "pk")
        .values_list("pk", flat=True)[:SWEEP_BATCH_SIZE]
    )


class ConsumerStopped(BaseException):
    """Raised by the stop signal while the consumer waits in a long poll (a BaseException, so
    that no library's `except Exception` swallows it)."""


class NotificationConsumer:
    """The loop: receive a batch, take each message, repeat until SIGTERM or SIGINT.

    A stop signal during a long poll ends it at once (a message it may have brought back comes
    again after the visibility timeout); during a batch, the batch is finished first.
    Each loop touches the heartbeat file (docker-compose's health check) and sets
    NotificationQueueStatus.consumer_seen_at; every STATUS_INTERVAL_SECONDS it reads the
    queues' depths. While the SQS server cannot be reached (moto still starting in the demo) it
    waits and retries, logging the first failure of a run of them only.
    """

    def __init__(
        self,
        *,
        queue_url: str,
        wait_seconds: int = RECEIVE_WAIT_SECONDS,
        status_interval: float = STATUS_INTERVAL_SECONDS,
        heartbeat_file: Path | None = None,
        is_queue_created: bool = False,
        max_receives: int = 5,
    ):
        self.queue_url = queue_url
        self.wait_seconds = wait_seconds
        self.status_interval = status_interval
        self.heartbeat_file = heartbeat_file
        self.is_queue_created = is_queue_created
        self.max_receives = max_receives
        self.is_stopping = False
        self.is_waiting = False
        self.counts = dict.fromkeys(Outcome, 0)
        self._client = None
        self._is_queue_ready = not is_queue_created
        self._status_due = 0.0
        self._failures = 0

    @classmethod
    def from_settings(cls, **overrides) -> "NotificationConsumer":
        options = {
            "queue_url": settings.AMAZON_NOTIFICATIONS_QUEUE_URL,
            "heartbeat_file": Path(settings.NOTIFICATIONS_HEARTBEAT_FILE),
            "is_queue_created": settings.AMAZON_NOTIFICATIONS_QUEUE_CREATE,
            "max_receives": settings.AMAZON_NOTIFICATIONS_MAX_RECEIVES,
        }
        options.update(overrides)
        return cls(**options)

    def stop_on_signals(self) -> None:
        signal.signal(signal.SIGTERM, self.request_stop)
        signal.signal(signal.SIGINT, self.request_stop)

    def request_stop(self, signum=None, frame=None) -> None:
        self.is_stopping = True
        if self.is_waiting:
            raise ConsumerStopped

    def run(self) -> None:
        if not self.queue_url:
            logger.info("notifications are off (AMAZON_NOTIFICATIONS_QUEUE_URL is empty)")
        else:
            logger.info("notifications consumer reading %s", self.queue_url)
        while not self.is_stopping:
            try:
                self.step()
            except ConsumerStopped:
                break
        logger.info(
            "notifications consumer stopped: %s",
            ", ".join(f"{count} {outcome}" for outcome, count in self.counts.items()),
        )

    def step(self) -> None:
        """One loop: the heartbeat file, the status when due, one long poll and its batch."""
        close_old_connections()
        self._heartbeat()
        if not self.queue_url:
            self._wait(self.wait_seconds)
            return
        try:
            if self._client is None:
                self._client = sqs_client(queue=self.queue_url)
            if not self._is_queue_ready:
                self._queue_create()
            self._status_refresh()
            messages = self._receive()
        except (BotoCoreError, ClientError) as error:
            self._failed(error)
            return
        if self._failures:
            logger.info("the notifications queue answers again")
            self._failures = 0
        self._seen()
        for message in messages:
            outcome = message_consume(
                client=self._client, queue_url=self.queue_url, message=message
            )
            self.counts[outcome] += 1

    def _heartbeat(self) -> None:
        if self.heartbeat_file is not None:
            try:
                self.heartbeat_file.parent.mkdir(parents=True, exist_ok=True)
                self.heartbeat_file.touch()
            except OSError as error:
                logger.warning("notifications heartbeat file not touched: %s", error)

    def _seen(self) -> None:
        """The consumer read the queue just now (the health check's "consumer last seen")."""
        try:
            updated = NotificationQueueStatus.objects.filter(queue_url=self.queue_url).update(
                consumer_seen_at=timezone.now()
            )
            if not updated:
                NotificationQueueStatus.objects.get_or_create(
                    queue_url=self.queue_url, defaults={"consumer_seen_at": timezone.now()}
                )
        except Exception:  # the database is down: the health check shows it; keep trying
            logger.exception("notifications consumer could not record that it is alive")

    def _queue_create(self) -> None:
        # The demo's queue lives in a moto server that starts empty with every `make run`.
        reference = notification_queue_create(
            name=queue_name(self.queue_url),
            max_receives=self.max_receives,
            region=queue_region(self.queue_url),
        )
        logger.info("notifications queue ready: %s", reference.arn)
        self._is_queue_ready = True

    def _status_refresh(self) -> None:
        if time.monotonic() < self._status_due:
            return
        try:
            queue_status_refresh(client=self._client, queue_url=self.queue_url)
            self._seen()
        except EndpointConnectionError:
            raise  # the queue cannot be reached: wait for it
        except (BotoCoreError, ClientError) as error:
            # Receiving goes on (the status may need rights the consumer lacks, e.g. on the
            # dead-letter queue); the health check shows the status as old.
            logger.warning("notifications queue status not read: %s", error)
        except Exception:  # the database: the next refresh tries again
            logger.exception("notifications queue status not recorded")
        self._status_due = time.monotonic() + self.status_interval

    def _receive(self) -> list[dict]:
        self.is_waiting = True
        try:
            if self.is_stopping:
                raise ConsumerStopped
            answer = self._client.receive_message(
                QueueUrl=self.queue_url,
                MaxNumberOfMessages=RECEIVE_BATCH_SIZE,
                WaitTimeSeconds=self.wait_seconds,
                AttributeNames=["ApproximateReceiveCount", "SentTimestamp"],
            )
        finally:
            self.is_waiting = False
        return answer.get("Messages", [])

    def _failed(self, error: Exception) -> None:
        self._failures += 1
        if self._failures == 1:
            logger.info("waiting for the notifications queue: %s", error)
        self._status_due = 0.0  # read the status again once the queue answers
        self._wait(min(LONGEST_RETRY_SECONDS, 0.5 * 2 ** min(self._failures, 6)))

    def _wait(self, seconds: float) -> None:
        self.is_waiting = True
        try:
            if self.is_stopping:
                raise ConsumerStopped
            time.sleep(seconds)
        finally:
            self.is_waiting = False
