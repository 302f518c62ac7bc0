"""Notifications API v1 on Amazon's side: destinations and subscriptions, and the notifications
Amazon sends to a subscription's SQS queue when an order changes or a feed finishes.

What Amazon does and the sandbox follows (notifications_v1.json, OrderChangeNotification.json,
FeedProcessingFinishedNotification.json, and the threads cited in CONTRACT.md):
- Destinations belong to the application (grantless calls); one per queue ARN and application,
  a second answers 409 Conflict "A destination with arn ... already exists for the application".
- A subscription belongs to a seller and the application (createSubscription needs the seller's
  token), one per notification type: a second answers 409 StateConflict.
- Delivery is SQS's: at least once, unordered, sometimes late. A FIFO queue receives nothing
  (docs#845). The seller's notification faults (copies, delay, drops, swapped pairs) drill it.
- Sending never breaks the change that caused it: it runs after the commit, and a queue that
  cannot be reached is logged and counted (SandboxNotification.delivery FAILED).
"""

import json
import logging
import random
import threading
import uuid
from datetime import UTC, datetime, timedelta

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from seller_central_sandbox.models import (
    FulfilledBy,
    NotificationDelivery,
    SandboxFeed,
    SandboxNotification,
    SandboxNotificationDestination,
    SandboxNotificationSubscription,
    SandboxOrder,
    SandboxSeller,
)
from seller_central_sandbox.services.sellers import (
    MAX_FAULT_COUNT,
    SandboxError,
    seller_settings_save,
)

logger = logging.getLogger(__name__)

ORDER_CHANGE = "ORDER_CHANGE"
FEED_PROCESSING_FINISHED = "FEED_PROCESSING_FINISHED"
# The types the sandbox delivers, with the notification and payload versions of their schemas.
NOTIFICATION_VERSIONS = {ORDER_CHANGE: "1.0", FEED_PROCESSING_FINISHED: "2020-09-04"}
# notifications_v1.json OrderChangeTypeEnum.
ORDER_CHANGE_TYPES = ("BuyerRequestedChange", "DeliveryTipChange", "OrderStatusChange")
STATUS_CHANGE = "OrderStatusChange"
BUYER_REQUESTED_CHANGE = "BuyerRequestedChange"
# OrderChangeNotification.json's example ChangeReason of a buyer's cancellation request.
BUYER_REQUESTED_CANCEL = "Buyer Requested Cancel"
# Amazon SQS: "The maximum is 15 minutes" for a message's DelaySeconds.
MAX_NOTIFICATION_DELAY_SECONDS = 900
# The most copies of one notification the duplicate fault sends (models#2616 saw ten).
MAX_NOTIFICATION_COPIES = 20
# A notification held back for the swapped-order fault goes out after this long alone.
HOLD_SECONDS = 5.0
SQS_ARN_PREFIX = "arn:aws:sqs:"
SQS_ARN_MAX_LENGTH = 1000  # SqsResource.arn maxLength

NOT_FOUND = "The resource specified does not exist."
V0_STATUS = {
    "PENDING_AVAILABILITY": "PendingAvailability",
    "PENDING": "Pending",
    "UNSHIPPED": "Unshipped",
    "PARTIALLY_SHIPPED": "PartiallyShipped",
    "SHIPPED": "Shipped",
    "CANCELLED": "Canceled",
    "UNFULFILLABLE": "Unfulfillable",
}


def application_id(client_id: str) -> str:
    """The application's id as Amazon names it in notifications (amzn1.sellerapps.app.<uuid>),
    the same for every call of one LWA client."""
    return f"amzn1.sellerapps.app.{uuid.uuid5(uuid.NAMESPACE_URL, client_id)}"


def _not_found() -> SandboxError:
    return SandboxError(NOT_FOUND, code="NotFound", status=404)


def _isoformat(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + (
        f"{moment.microsecond // 1000:03d}Z"
    )


# -- Destinations (grantless) ------------------------------------------------------------------


def destination_create(
    *, client_id: str, name, resource_specification
) -> SandboxNotificationDestination:
    """createDestination. Raises SandboxError 400 without a name or with a resource that is not
    exactly one of sqs {arn} or eventBridge {region, accountId}, and 409 Conflict when the
    application already has a destination for the queue."""
    if not isinstance(name, str) or not name or len(name) > 256:
        raise SandboxError("name is required (at most 256 characters).")
    if not isinstance(resource_specification, dict):
        raise SandboxError("resourceSpecification is required.")
    kinds = [kind for kind in ("sqs", "eventBridge") if resource_specification.get(kind)]
    if len(kinds) != 1:
        raise SandboxError("resourceSpecification needs exactly one of sqs and eventBridge.")
    destination = SandboxNotificationDestination(
        client_id=client_id,
        destination_id=str(uuid.uuid4()),
        name=name,
        created_at=timezone.now(),
    )
    resource = resource_specification[kinds[0]]
    if not isinstance(resource, dict):
        raise SandboxError(f"resourceSpecification.{kinds[0]} must be an object.")
    if kinds[0] == "sqs":
        destination.sqs_arn = _checked_arn(resource.get("arn"))
    else:
        region, account_id = resource.get("region"), resource.get("accountId")
        if not isinstance(region, str) or not region:
            raise SandboxError("resourceSpecification.eventBridge.region is required.")
        if not isinstance(account_id, str) or not account_id:
            raise SandboxError("resourceSpecification.eventBridge.accountId is required.")
        destination.event_bridge_region, destination.event_bridge_account_id = region, account_id
    try:
        with transaction.atomic():
            destination.save()
    except IntegrityError as error:
        raise SandboxError(
            "The requested resource conflict with a resource in the server.",
            code="Conflict",
            status=409,
            details=(
                f"A destination with arn {destination.sqs_arn} already exists for the "
                f"application {application_id(client_id)}"
            ),
        ) from error
    return destination


def _checked_arn(arn) -> str:
    # SqsResource.arn: pattern ^arn:aws:sqs:\S+:\S+:\S+, maxLength 1000.
    parts = arn.split(":") if isinstance(arn, str) else []
    if (
        len(parts) != 6
        or not arn.startswith(SQS_ARN_PREFIX)
        or not all(parts[3:])
        or any(character.isspace() for character in arn)
        or len(arn) > SQS_ARN_MAX_LENGTH
    ):
        raise SandboxError("resourceSpecification.sqs.arn is not the ARN of an SQS queue.")
    return arn


def destinations_of(*, client_id: str) -> list[SandboxNotificationDestination]:
    return list(SandboxNotificationDestination.objects.filter(client_id=client_id))


def destination_get(*, client_id: str, destination_id: str) -> SandboxNotificationDestination:
    """The application's destination; raises SandboxError 404 for another's or an unknown."""
    destination = SandboxNotificationDestination.objects.filter(
        client_id=client_id, destination_id=destination_id
    ).first()
    if destination is None:
        raise _not_found()
    return destination


def destination_delete(*, client_id: str, destination_id: str) -> None:
    """deleteDestination. Raises SandboxError 404 for an unknown destination, and 403
    "Destination has subscriptions" while a subscription uses it (docs#1800)."""
    with transaction.atomic():
        destination = (
            SandboxNotificationDestination.objects.select_for_update()
            .filter(client_id=client_id, destination_id=destination_id)
            .first()
        )
        if destination is None:
            raise _not_found()
        if destination.subscriptions.exists():
            raise SandboxError(
                "The requested action is forbidden.",
                code="Unauthorized",
                status=403,
                details="Destination has subscriptions",
            )
        destination.delete()


def destination_representation(destination: SandboxNotificationDestination) -> dict:
    if destination.sqs_arn:
        resource = {"sqs": {"arn": destination.sqs_arn}}
    else:
        resource = {
            "eventBridge": {
                # The partner event source Amazon creates in the account.
                "name": (
                    f"aws.partner/sellingpartnerapi.amazon/{destination.event_bridge_account_id}"
                    f"/{application_id(destination.client_id)}"
                ),
                "region": destination.event_bridge_region,
                "accountId": destination.event_bridge_account_id,
            }
        }
    return {
        "destinationId": destination.destination_id,
        "name": destination.name,
        "resource": resource,
    }


# -- Subscriptions -----------------------------------------------------------------------------


def _checked_type(notification_type: str) -> str:
    if notification_type not in NOTIFICATION_VERSIONS:
        raise SandboxError(f"notificationType {notification_type} is not supported.")
    return notification_type


def _checked_directive(directive):
    """A processingDirective as notifications_v1.json describes it; None when absent."""
    if directive is None:
        return None
    if not isinstance(directive, dict):
        raise SandboxError("processingDirective must be an object.")
    event_filter = directive.get("eventFilter")
    if event_filter is not None:
        if not isinstance(event_filter, dict) or not event_filter.get("eventFilterType"):
            raise SandboxError("processingDirective.eventFilter needs an eventFilterType.")
        change_types = event_filter.get("orderChangeTypes")
        if change_types is not None and (
            not isinstance(change_types, list)
            or any(value not in ORDER_CHANGE_TYPES for value in change_types)
        ):
            raise SandboxError(f"orderChangeTypes accepts only {', '.join(ORDER_CHANGE_TYPES)}.")
        marketplace_ids = event_filter.get("marketplaceIds")
        if marketplace_ids is not None and (
            not isinstance(marketplace_ids, list)
            or not all(isinstance(value, str) for value in marketplace_ids)
        ):
            raise SandboxError("marketplaceIds must be a list of marketplace ids.")
    return directive


def subscription_create(
    *, seller: SandboxSeller, notification_type: str, body: dict
) -> SandboxNotificationSubscription:
    """createSubscription for the seller and its application. Raises SandboxError 400 on an
    unsupported type, a missing field or a destination that is not the application's, and 409
    StateConflict when the seller already has a subscription of that type (docs#1564)."""
    _checked_type(notification_type)
    destination_id, payload_version = body.get("destinationId"), body.get("payloadVersion")
    if not isinstance(destination_id, str) or not destination_id:
        raise SandboxError("destinationId is required.")
    if not isinstance(payload_version, str) or not payload_version:
        raise SandboxError("payloadVersion is required.")
    directive = _checked_directive(body.get("processingDirective"))
    destination = SandboxNotificationDestination.objects.filter(
        client_id=seller.client_id, destination_id=destination_id
    ).first()
    if destination is None:
        # The words of notifications_v1.json's testNotification 400 example.
        raise SandboxError(
            "InvalidInput",
            details=(
                "Invalid Input, recheck that the AppId and DestinationId are valid and "
                "DestinationId belongs to the application"
            ),
        )
    if not destination.sqs_arn:
        raise SandboxError(f"{notification_type} notifications are delivered to SQS only.")
    try:
        with transaction.atomic():
            return SandboxNotificationSubscription.objects.create(
                seller=seller,
                client_id=seller.client_id,
                notification_type=notification_type,
                subscription_id=str(uuid.uuid4()),
                payload_version=payload_version,
                destination=destination,
                processing_directive=directive,
                created_at=timezone.now(),
            )
    except IntegrityError as error:
        raise SandboxError(
            "The resource specified conflicts with the current state.",
            code="StateConflict",
            status=409,
        ) from error


def subscription_of_type(
    *, seller: SandboxSeller, notification_type: str
) -> SandboxNotificationSubscription:
    """getSubscription: the seller's subscription of its application; 404 when there is none."""
    _checked_type(notification_type)
    subscription = (
        SandboxNotificationSubscription.objects.select_related("destination")
        .filter(seller=seller, client_id=seller.client_id, notification_type=notification_type)
        .first()
    )
    if subscription is None:
        raise _not_found()
    return subscription


def subscription_by_id(
    *, client_id: str, seller: SandboxSeller | None, notification_type: str, subscription_id: str
) -> SandboxNotificationSubscription:
    """getSubscriptionById: any subscription of the application (grantless), or of the seller
    whose token calls; 404 otherwise."""
    _checked_type(notification_type)
    subscriptions = SandboxNotificationSubscription.objects.filter(
        client_id=client_id, notification_type=notification_type, subscription_id=subscription_id
    )
    if seller is not None:
        subscriptions = subscriptions.filter(seller=seller)
    subscription = subscriptions.select_related("destination").first()
    if subscription is None:
        raise _not_found()
    return subscription


def subscription_delete(
    *, client_id: str, seller: SandboxSeller | None, notification_type: str, subscription_id: str
) -> None:
    """deleteSubscriptionById: no notification is sent for it from now on; 404 when unknown."""
    subscription = subscription_by_id(
        client_id=client_id,
        seller=seller,
        notification_type=notification_type,
        subscription_id=subscription_id,
    )
    subscription.delete()


def subscription_representation(subscription: SandboxNotificationSubscription) -> dict:
    result = {
        "subscriptionId": subscription.subscription_id,
        "payloadVersion": subscription.payload_version,
        "destinationId": subscription.destination.destination_id,
    }
    if subscription.processing_directive:
        result["processingDirective"] = subscription.processing_directive
    return result


# -- The seller's notification faults ----------------------------------------------------------


def seller_notification_faults_set(
    *,
    seller: SandboxSeller,
    copies: int | None = None,
    delay_seconds: int | None = None,
    drop_share: float | None = None,
    is_order_swapped: bool | None = None,
    is_new_order_notified: bool | None = None,
    is_body_a_string: bool | None = None,
) -> SandboxSeller:
    """How Amazon's delivery misbehaves towards the seller's subscriptions, from the next
    notification on; None keeps a setting. `copies` of each message (1 to
    MAX_NOTIFICATION_COPIES), a `delay_seconds` before it can be received (SQS's DelaySeconds,
    0 to 900), the `drop_share` never sent (0 to 1), pairs sent the other way round when
    `is_order_swapped`, the body as a JSON string of the notification when `is_body_a_string`;
    and whether a new order notifies at all. Raises SandboxError on a value
    out of range (nothing is saved then)."""
    changes: dict = {}
    if copies is not None:
        if not _is_whole(copies) or not 1 <= copies <= MAX_NOTIFICATION_COPIES:
            raise SandboxError(
                f"Copies must be a whole number from 1 to {MAX_NOTIFICATION_COPIES}."
            )
        changes["notification_copies"] = copies
    if delay_seconds is not None:
        if not _is_whole(delay_seconds) or not 0 <= delay_seconds <= MAX_NOTIFICATION_DELAY_SECONDS:
            raise SandboxError(
                f"The delay must be a whole number of seconds from 0 to "
                f"{MAX_NOTIFICATION_DELAY_SECONDS}."
            )
        changes["notification_delay_seconds"] = delay_seconds
    if drop_share is not None:
        if isinstance(drop_share, bool) or not 0 <= drop_share <= 1:
            raise SandboxError("The share dropped must be between 0 and 1.")
        changes["notification_drop_share"] = float(drop_share)
    if is_order_swapped is not None:
        changes["is_notification_order_swapped"] = bool(is_order_swapped)
    if is_new_order_notified is not None:
        changes["is_new_order_notified"] = bool(is_new_order_notified)
    if is_body_a_string is not None:
        changes["is_notification_body_a_string"] = bool(is_body_a_string)
    return seller_settings_save(seller=seller, changes=changes)


def _is_whole(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value <= MAX_FAULT_COUNT


# -- Sending -----------------------------------------------------------------------------------


def order_change_notify(*, order: SandboxOrder, change_type: str, reason: str, moment) -> None:
    """After the current transaction commits, tell every ORDER_CHANGE subscription of the
    order's seller that the order changed. Never raises: a failed send is logged and counted."""
    order_pk, seller_pk = order.pk, order.seller_id
    transaction.on_commit(
        lambda: _safely(_order_change_send, order_pk, seller_pk, change_type, reason, moment)
    )


def order_change_is_subscribed(*, seller: SandboxSeller) -> bool:
    """Whether any application subscribed the seller to ORDER_CHANGE (one query, so that a
    thousand generated orders of an unsubscribed seller cost nothing more)."""
    return SandboxNotificationSubscription.objects.filter(
        seller=seller, notification_type=ORDER_CHANGE
    ).exists()


def order_placed_notify(*, order: SandboxOrder) -> None:
    """A new order notifies as a status change to its first status, if the seller's setting
    says Amazon does so (undocumented: docs#3278, models#2662)."""
    if order.seller.is_new_order_notified:
        order_change_notify(
            order=order, change_type=STATUS_CHANGE, reason="Order placed", moment=order.created_time
        )


def feed_finished_notify(*, feed: SandboxFeed) -> None:
    """After the current transaction commits, tell the seller's FEED_PROCESSING_FINISHED
    subscription of the submitting application that the feed is DONE, FATAL or CANCELLED.
    Another tool's feed (feed.application) notifies that tool, not us. Never raises."""
    if feed.application:
        return
    feed_pk = feed.pk
    transaction.on_commit(lambda: _safely(_feed_finished_send, feed_pk))


def _safely(function, *args) -> None:
    try:
        function(*args)
    except Exception:  # a notification never breaks the change that caused it
        logger.exception("sandbox notification not sent")


def _subscriptions(seller_pk: int, notification_type: str, **filters):
    return list(
        SandboxNotificationSubscription.objects.select_related("destination").filter(
            seller_id=seller_pk, notification_type=notification_type, **filters
        )
    )


def _is_filtered_out(subscription, *, change_type: str, marketplace_id: str) -> bool:
    event_filter = (subscription.processing_directive or {}).get("eventFilter") or {}
    change_types = event_filter.get("orderChangeTypes")
    marketplace_ids = event_filter.get("marketplaceIds")
    return bool(
        (change_types and change_type not in change_types)
        or (marketplace_ids and marketplace_id not in marketplace_ids)
    )


def _order_change_send(
    order_pk: int, seller_pk: int, change_type: str, reason: str, moment
) -> None:
    subscriptions = _subscriptions(seller_pk, ORDER_CHANGE)
    if not subscriptions:
        return  # one query for a seller nobody subscribed: generating orders stays fast
    order = SandboxOrder.objects.select_related("seller").filter(pk=order_pk).first()
    if order is None:
        return
    for subscription in subscriptions:
        if _is_filtered_out(
            subscription, change_type=change_type, marketplace_id=order.marketplace_id
        ):
            continue
        notification_id = str(uuid.uuid4())
        now = timezone.now()
        body = order_change_body(
            order,
            change_type=change_type,
            reason=reason,
            moment=moment,
            subscription=subscription,
            notification_id=notification_id,
            now=now,
        )
        _publish(subscription, ORDER_CHANGE, body, notification_id, now)


def order_change_body(
    order: SandboxOrder,
    *,
    change_type: str,
    reason: str,
    moment,
    subscription,
    notification_id: str,
    now: datetime,
) -> dict:
    """An ORDER_CHANGE notification as OrderChangeNotification.json describes it: PascalCase,
    OrderLevel with every item, no prices, the postal code the only part of the address."""
    items = list(order.items.order_by("pk"))
    address = order.details.get("address") or {}
    summary = {
        "MarketplaceId": order.marketplace_id,
        "OrderStatus": V0_STATUS[order.status],
        "PurchaseDate": _isoformat(order.created_time),
        "DestinationPostalCode": address.get("postalCode") or None,
        "FulfillmentType": "AFN" if order.fulfilled_by == FulfilledBy.AMAZON else "MFN",
        "OrderType": "StandardOrder",
        "NumberOfItemsShipped": sum(item.quantity_shipped for item in items),
        "NumberOfItemsUnshipped": sum(item.quantity_unshipped for item in items),
        "OrderItems": [
            {
                "OrderItemId": item.order_item_id,
                "SellerSKU": item.seller_sku,
                "SupplySourceId": None,
                "Quantity": item.quantity_ordered,
                "QuantityShipped": item.quantity_shipped,
                "IsBuyerRequestedCancel": bool(item.buyer_cancel_reason),
            }
            for item in items
        ],
    }
    for name, window, key in (
        ("EarliestShipDate", "shipByWindow", "earliestDateTime"),
        ("LatestShipDate", "shipByWindow", "latestDateTime"),
        ("EarliestDeliveryDate", "deliverByWindow", "earliestDateTime"),
        ("LatestDeliveryDate", "deliverByWindow", "latestDateTime"),
    ):
        value = (order.details.get(window) or {}).get(key)
        if value and order.fulfilled_by == FulfilledBy.MERCHANT:
            summary[name] = value
    return {
        "NotificationVersion": NOTIFICATION_VERSIONS[ORDER_CHANGE],
        "NotificationType": ORDER_CHANGE,
        "PayloadVersion": NOTIFICATION_VERSIONS[ORDER_CHANGE],
        "EventTime": _isoformat(now),
        "Payload": {
            "OrderChangeNotification": {
                "NotificationLevel": "OrderLevel",
                "SellerId": order.seller.seller_id,
                "AmazonOrderId": order.order_id,
                "OrderChangeType": change_type,
                "OrderChangeTrigger": {
                    "TimeOfOrderChange": _isoformat(moment) if moment else None,
                    "ChangeReason": reason,
                },
                "Summary": summary,
            }
        },
        "NotificationMetadata": {
            "ApplicationId": application_id(subscription.client_id),
            "SubscriptionId": subscription.subscription_id,
            "PublishTime": _isoformat(now),
            "NotificationId": notification_id,
        },
    }


def _feed_finished_send(feed_pk: int) -> None:
    feed = (
        SandboxFeed.objects.select_related("seller", "result_document").filter(pk=feed_pk).first()
    )
    if feed is None:
        return
    for subscription in _subscriptions(
        feed.seller_id, FEED_PROCESSING_FINISHED, client_id=feed.seller.client_id
    ):
        notification_id = str(uuid.uuid4())
        now = timezone.now()
        body = feed_finished_body(
            feed, subscription=subscription, notification_id=notification_id, now=now
        )
        _publish(subscription, FEED_PROCESSING_FINISHED, body, notification_id, now)


def feed_finished_body(feed: SandboxFeed, *, subscription, notification_id: str, now) -> dict:
    """A FEED_PROCESSING_FINISHED notification as FeedProcessingFinishedNotification.json
    describes it: camelCase, the result document only when there is one."""
    finished = {
        "sellerId": feed.seller.seller_id,
        "accountId": f"amzn1.merchant.o.{feed.seller.seller_id}",
        "feedId": feed.feed_id,
        "feedType": feed.feed_type,
        "processingStatus": feed.processing_status,
    }
    if feed.result_document is not None:
        finished["resultFeedDocumentId"] = feed.result_document.document_id
    version = NOTIFICATION_VERSIONS[FEED_PROCESSING_FINISHED]
    return {
        "notificationVersion": version,
        "notificationType": FEED_PROCESSING_FINISHED,
        "payloadVersion": version,
        "eventTime": _isoformat(feed.processing_end_time or now),
        "payload": {"feedProcessingFinishedNotification": finished},
        "notificationMetadata": {
            "applicationId": application_id(subscription.client_id),
            "subscriptionId": subscription.subscription_id,
            "publishTime": _isoformat(now),
            "notificationId": notification_id,
        },
    }


def _publish(subscription, notification_type: str, body: dict, notification_id: str, now) -> None:
    """Record the notification and deliver it as the seller's faults say."""
    seller = SandboxSeller.objects.get(pk=subscription.seller_id)
    arn = subscription.destination.sqs_arn
    notification = SandboxNotification(
        seller=seller,
        subscription=subscription,
        notification_id=notification_id,
        notification_type=notification_type,
        queue_arn=arn,
        body=json.dumps(body),
        created_at=now,
    )
    if arn.endswith(".fifo"):
        # A FIFO queue receives nothing (docs#845): Amazon sends no MessageGroupId.
        notification.delivery = NotificationDelivery.UNDELIVERABLE
        notification.error = "Amazon delivers to standard queues only."
        notification.save()
        return
    # Fault injection, not cryptography.
    if seller.notification_drop_share and random.random() < seller.notification_drop_share:  # noqa: S311
        notification.delivery = NotificationDelivery.DROPPED
        notification.save()
        return
    if not seller.is_notification_order_swapped:
        notification.delivery = NotificationDelivery.SENT
        notification.save()
        _deliver(notification, seller)
        return
    with transaction.atomic():
        SandboxSeller.objects.select_for_update().filter(pk=seller.pk).first()
        held = (
            SandboxNotification.objects.select_for_update()
            .filter(seller=seller, delivery=NotificationDelivery.HELD)
            .order_by("created_at", "pk")
            .first()
        )
        if held is None:
            notification.delivery = NotificationDelivery.HELD
            notification.save()
            return
        notification.delivery = NotificationDelivery.SENT
        notification.save()
        held.delivery = NotificationDelivery.SENT
        held.save(update_fields=["delivery"])
    # The later change first, then the one held back: the consumer sees them swapped.
    _deliver(notification, seller)
    _deliver(held, seller)


def notifications_held_release(*, older_than: timedelta = timedelta(seconds=HOLD_SECONDS)) -> int:
    """Send the notifications the swapped-order fault held back longer than `older_than` with
    nothing to swap with. Returns how many were sent."""
    cutoff = timezone.now() - older_than
    released = 0
    for notification in SandboxNotification.objects.select_related("seller").filter(
        delivery=NotificationDelivery.HELD, created_at__lte=cutoff
    ):
        taken = SandboxNotification.objects.filter(
            pk=notification.pk, delivery=NotificationDelivery.HELD
        ).update(delivery=NotificationDelivery.SENT)
        if taken:
            # _deliver saves the row's delivery: the one in memory must say SENT too, or the
            # row would be HELD again and sent again by every turn of the pump.
            notification.delivery = NotificationDelivery.SENT
            _deliver(notification, notification.seller)
            released += 1
    return released


_SQS_CLIENTS: dict[tuple[str, str], object] = {}
# boto3's default session is not safe to create clients from in several threads at once.
_SQS_CLIENTS_LOCK = threading.Lock()


def _sqs_client(endpoint_url: str, region: str):
    """One client per SQS server and region for the process (clients are thread-safe)."""
    key = (endpoint_url, region)
    with _SQS_CLIENTS_LOCK:
        if key not in _SQS_CLIENTS:
            _SQS_CLIENTS[key] = boto3.session.Session().client(
                "sqs",
                endpoint_url=endpoint_url,
                region_name=region,
                # The sandbox's queue is a local SQS server (moto): it takes any key.
                aws_access_key_id="sandbox",
                aws_secret_access_key="sandbox",  # noqa: S106 - a local fake's dummy key
                config=Config(connect_timeout=2, read_timeout=5, retries={"max_attempts": 1}),
            )
        return _SQS_CLIENTS[key]


def _deliver(notification: SandboxNotification, seller: SandboxSeller) -> None:
    """Send the notification's copies to its queue, with the seller's delay. A queue that
    cannot be reached marks it FAILED with the reason; nothing is raised."""
    _, _, _, region, account_id, queue_name = notification.queue_arn.split(":", 5)
    copies = max(1, seller.notification_copies)
    delay = min(seller.notification_delay_seconds, MAX_NOTIFICATION_DELAY_SECONDS)
    sent = 0
    try:
        client = _sqs_client(settings.SANDBOX_SQS_ENDPOINT_URL, region)
        queue_url = client.get_queue_url(QueueName=queue_name, QueueOwnerAWSAccountId=account_id)[
            "QueueUrl"
        ]
        # The "the body may arrive as a JSON string": the notification encoded twice.
        body = (
            json.dumps(notification.body)
            if seller.is_notification_body_a_string
            else notification.body
        )
        for _ in range(copies):
            client.send_message(QueueUrl=queue_url, MessageBody=body, DelaySeconds=delay)
            sent += 1
    except (BotoCoreError, ClientError) as error:  # any SQS or network failure is counted
        logger.warning(
            "sandbox notification %s to %s failed: %s",
            notification.notification_id,
            notification.queue_arn,
            error,
        )
        notification.delivery = NotificationDelivery.FAILED
        notification.error = str(error)[:300]
    notification.copies = sent
    notification.delay_seconds = delay
    notification.sent_at = timezone.now()
    notification.save(update_fields=["delivery", "error", "copies", "delay_seconds", "sent_at"])


def notification_counts(*, seller: SandboxSeller) -> dict[str, int]:
    """How many of the seller's notifications ended in each delivery state."""
    counts = dict.fromkeys(NotificationDelivery.values, 0)
    for delivery in SandboxNotification.objects.filter(seller=seller).values_list(
        "delivery", flat=True
    ):
        counts[delivery] += 1
    return counts
