"""One SQS message from Amazon's queue, read as a notification and checked against the schema
Amazon publishes for its type (schemas/, copied from amzn/selling-partner-api-models).

What a message may be, and what comes of it:
- a notification of a type we subscribe to, valid against its schema: a ParsedNotification;
- a valid envelope of another type (someone subscribed the queue to more): a ParsedNotification
  with `is_known_type` False, which the consumer records as ignored;
- anything else (not JSON, not an object, invalid against the schema, ids the database could not
  keep): MessageInvalid, a poison message. SQS delivers it again and, after
  AMAZON_NOTIFICATIONS_MAX_RECEIVES, moves it to the dead-letter queue.

ORDER_CHANGE's envelope is PascalCase (OrderChangeNotification.json), FEED_PROCESSING_FINISHED's
camelCase (FeedProcessingFinishedNotification.json); the body may arrive as a JSON string holding
the JSON (the issue's evidence; the sandbox's is_body_a_string fault). Schemas are checked as
Amazon publishes them, not strictly: a field Amazon adds later is accepted, a value outside one
of its enums is not (the doubt: Amazon may add an OrderStatus before the schema says so; such a
notification ends in the dead-letter queue, where the health check shows it, and the poll still
brings the order in).
"""

import json
import re
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from pathlib import Path

import jsonschema

from amazon_channel.models import AmazonNotification, NotificationType, Store
from amazon_channel.spapi.order_payload import clean_document

SCHEMAS_DIR = Path(__file__).resolve().parent / "schemas"
SCHEMA_FILES = {
    NotificationType.ORDER_CHANGE: "OrderChangeNotification.json",
    NotificationType.FEED_PROCESSING_FINISHED: "FeedProcessingFinishedNotification.json",
}
# Amazon SQS takes messages of up to 1 MiB; a body longer than that is not Amazon's.
MAX_BODY_CHARACTERS = 1024 * 1024
# Amazon's notification types are upper-case words joined by underscores.
NOTIFICATION_TYPE_PATTERN = re.compile(r"[A-Z][A-Z0-9_]*")
# Ids are printable, without spaces or control characters (NUL cannot be stored in PostgreSQL).
ID_PATTERN = re.compile(r"[\x21-\x7e]+")


def _max_length(model, name: str) -> int:
    return model._meta.get_field(name).max_length


# The longest value of each id the database keeps; a longer one is refused, never cut.
MAX_LENGTHS = {
    "notification_id": _max_length(AmazonNotification, "notification_id"),
    "notification_type": _max_length(AmazonNotification, "notification_type"),
    "subscription_id": _max_length(AmazonNotification, "subscription_id"),
    "amazon_order_id": _max_length(AmazonNotification, "amazon_order_id"),
    "feed_id": _max_length(AmazonNotification, "feed_id"),
    "seller_id": _max_length(Store, "seller_id"),
    "marketplace_id": _max_length(Store, "marketplace_id"),
}


class MessageInvalid(Exception):
    """A message that is no notification we can record: a poison message. The reason names
    what is wrong, never the values (they may carry personal data)."""


@dataclass(frozen=True)
class ParsedNotification:
    notification_id: str
    notification_type: str
    subscription_id: str
    is_known_type: bool
    seller_id: str = ""
    marketplace_id: str = ""
    amazon_order_id: str = ""
    feed_id: str = ""
    event_time: datetime | None = None
    publish_time: datetime | None = None
    # The notification as it came, with NUL characters removed (PostgreSQL's jsonb refuses them).
    payload: dict = field(default_factory=dict, repr=False)


@cache
def _validator(notification_type: str) -> jsonschema.Draft7Validator:
    schema = json.loads((SCHEMAS_DIR / SCHEMA_FILES[notification_type]).read_text())
    return jsonschema.Draft7Validator(schema)


def message_parse(body) -> ParsedNotification:
    """The notification one SQS message body carries. Raises MessageInvalid for a poison message."""
    document = _decoded(body)
    notification_type = _envelope(document, "NotificationType", "notificationType")
    if not isinstance(notification_type, str) or not NOTIFICATION_TYPE_PATTERN.fullmatch(
        notification_type
    ):
        raise MessageInvalid("no notification type")
    _checked("notification_type", notification_type)
    if notification_type not in SCHEMA_FILES:
        return _unknown_type(document, notification_type)
    error = jsonschema.exceptions.best_match(_validator(notification_type).iter_errors(document))
    if error is not None:
        where = "/".join(str(part) for part in error.absolute_path) or "(root)"
        raise MessageInvalid(f"{notification_type} does not match Amazon's schema at {where}")
    if notification_type == NotificationType.ORDER_CHANGE:
        return _order_change(document)
    return _feed_processing_finished(document)


def _decoded(body) -> dict:
    if not isinstance(body, str):
        raise MessageInvalid("the body is not text")
    if len(body) > MAX_BODY_CHARACTERS:
        raise MessageInvalid(f"the body is longer than {MAX_BODY_CHARACTERS} characters")
    document = body
    # The JSON itself, or a JSON string holding it (encoded once more); no deeper.
    for _ in range(2):
        if not isinstance(document, str):
            break
        try:
            document = json.loads(document)
        except (ValueError, RecursionError) as error:
            raise MessageInvalid("the body is not JSON") from error
    if not isinstance(document, dict):
        raise MessageInvalid("the body is not a JSON object")
    return document


def _envelope(document: dict, pascal: str, camel: str):
    return document.get(pascal, document.get(camel))


def _checked(name: str, value, *, is_required: bool = True) -> str:
    """The id as the database can keep it; raises MessageInvalid otherwise."""
    if value is None and not is_required:
        return ""
    if not isinstance(value, str) or not ID_PATTERN.fullmatch(value):
        raise MessageInvalid(f"{name} is missing or not a printable id")
    if len(value) > MAX_LENGTHS[name]:
        raise MessageInvalid(f"{name} is longer than {MAX_LENGTHS[name]} characters")
    return value


def _time(value) -> datetime | None:
    # A time Amazon wrote wrongly is not worth losing the notification over: kept empty.
    if not isinstance(value, str) or len(value) > 40:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


def _order_change(document: dict) -> ParsedNotification:
    change = document["Payload"]["OrderChangeNotification"]
    metadata = document["NotificationMetadata"]
    return ParsedNotification(
        notification_id=_checked("notification_id", metadata["NotificationId"]),
        notification_type=NotificationType.ORDER_CHANGE,
        subscription_id=_checked("subscription_id", metadata["SubscriptionId"]),
        is_known_type=True,
        seller_id=_checked("seller_id", change["SellerId"]),
        marketplace_id=_checked("marketplace_id", change["Summary"]["MarketplaceId"]),
        amazon_order_id=_checked("amazon_order_id", change["AmazonOrderId"]),
        event_time=_time(document["EventTime"]),
        publish_time=_time(metadata["PublishTime"]),
        payload=clean_document(document),
    )


def _feed_processing_finished(document: dict) -> ParsedNotification:
    finished = document["payload"]["feedProcessingFinishedNotification"]
    metadata = document["notificationMetadata"]
    return ParsedNotification(
        notification_id=_checked("notification_id", metadata["notificationId"]),
        notification_type=NotificationType.FEED_PROCESSING_FINISHED,
        subscription_id=_checked("subscription_id", metadata["subscriptionId"]),
        is_known_type=True,
        # A vendor's has only accountId (the schema's second example): no seller.
        seller_id=_checked("seller_id", finished.get("sellerId"), is_required=False),
        feed_id=_checked("feed_id", finished["feedId"]),
        event_time=_time(document["eventTime"]),
        publish_time=_time(metadata["publishTime"]),
        payload=clean_document(document),
    )


def _unknown_type(document: dict, notification_type: str) -> ParsedNotification:
    metadata = _envelope(document, "NotificationMetadata", "notificationMetadata")
    if not isinstance(metadata, dict):
        raise MessageInvalid(f"{notification_type} has no notification metadata")
    subscription_id = _envelope(metadata, "SubscriptionId", "subscriptionId")
    return ParsedNotification(
        notification_id=_checked(
            "notification_id", _envelope(metadata, "NotificationId", "notificationId")
        ),
        notification_type=notification_type,
        subscription_id=_checked("subscription_id", subscription_id, is_required=False),
        is_known_type=False,
        event_time=_time(_envelope(document, "EventTime", "eventTime")),
        publish_time=_time(_envelope(metadata, "PublishTime", "publishTime")),
    )
