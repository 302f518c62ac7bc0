"""A queue message read as Amazon's notification: the examples of Amazon's own schemas are read,
anything else costs only itself (a poison message), and what the database cannot keep is
refused rather than cut."""

import copy
import json
from datetime import UTC, datetime

import pytest

from amazon_channel.notifications.messages import (
    MAX_BODY_CHARACTERS,
    SCHEMAS_DIR,
    MessageInvalid,
    message_parse,
)


def amazon_example(file_name: str, index: int = 0) -> dict:
    return copy.deepcopy(json.loads((SCHEMAS_DIR / file_name).read_text())["examples"][index])


@pytest.fixture
def order_change() -> dict:
    return amazon_example("OrderChangeNotification.json")


@pytest.fixture
def feed_finished() -> dict:
    return amazon_example("FeedProcessingFinishedNotification.json")


def test_amazons_order_change_example_is_read_from_its_pascal_case_envelope(order_change):
    notification = message_parse(json.dumps(order_change))

    assert notification.is_known_type
    assert notification.notification_type == "ORDER_CHANGE"
    assert notification.notification_id == "d0e9e693-c3ad-4373-979f-ed4ec98dd746"
    assert notification.subscription_id == "subscription-id-d0e9e693-c3ad-4373-979f-ed4ec98dd746"
    assert notification.seller_id == "A3TH9S8BH6GOGM"
    assert notification.marketplace_id == "ATVPDKIKX0DER"
    assert notification.amazon_order_id == "903-8868176-2219830"
    assert notification.feed_id == ""
    assert notification.event_time == datetime(2020, 1, 11, 0, 9, 53, 109000, tzinfo=UTC)
    assert notification.publish_time == datetime(2020, 7, 13, 19, 42, 4, 284000, tzinfo=UTC)
    assert notification.payload == order_change


def test_amazons_feed_finished_examples_are_read_from_their_camel_case_envelope(feed_finished):
    notification = message_parse(json.dumps(feed_finished))
    # Amazon's second example: a vendor's feed, with an accountId and no sellerId.
    vendor = message_parse(json.dumps(amazon_example("FeedProcessingFinishedNotification.json", 1)))

    assert notification.notification_type == "FEED_PROCESSING_FINISHED"
    assert notification.feed_id == "53347018456"
    assert notification.seller_id == "A3TH9S8BH6GOGM"
    assert notification.amazon_order_id == ""
    assert notification.publish_time == datetime(2020, 7, 13, 19, 42, 4, 284000, tzinfo=UTC)
    assert vendor.seller_id == "" and vendor.feed_id == "53347018456"


def test_a_body_that_is_a_json_string_holding_the_notification_is_read(order_change):
    body = json.dumps(json.dumps(order_change))

    assert message_parse(body).notification_id == "d0e9e693-c3ad-4373-979f-ed4ec98dd746"


def test_another_notification_type_is_told_apart_from_an_invalid_message(order_change):
    order_change["NotificationType"] = "ANY_OFFER_CHANGED"
    order_change["Payload"] = {"AnyOfferChangedNotification": {}}

    notification = message_parse(json.dumps(order_change))

    assert not notification.is_known_type
    assert notification.notification_type == "ANY_OFFER_CHANGED"
    assert notification.notification_id == "d0e9e693-c3ad-4373-979f-ed4ec98dd746"


def _without(document: dict, *path: str) -> dict:
    part = document
    for key in path[:-1]:
        part = part[key]
    del part[path[-1]]
    return document


@pytest.mark.parametrize(
    "spoil",
    [
        lambda n: _without(n, "NotificationMetadata", "NotificationId"),
        lambda n: _without(n, "Payload", "OrderChangeNotification", "Summary", "MarketplaceId"),
        lambda n: n["Payload"]["OrderChangeNotification"].update(AmazonOrderId=12345),
        lambda n: n["Payload"]["OrderChangeNotification"].update(OrderChangeType="Whatever"),
        lambda n: n["Payload"]["OrderChangeNotification"]["Summary"].update(OrderItems="none"),
        lambda n: n.update(Payload=[1, 2, 3]),
        # camelCase is FEED_PROCESSING_FINISHED's envelope, not ORDER_CHANGE's.
        lambda n: n.update(notificationMetadata=n.pop("NotificationMetadata")),
        lambda n: n.update(NotificationType=None),
        lambda n: n.update(NotificationType="order change; DROP TABLE"),
        lambda n: n["NotificationMetadata"].update(NotificationId="d0e9\x00e693"),
        lambda n: n["NotificationMetadata"].update(NotificationId="x" * 101),
        lambda n: n["NotificationMetadata"].update(NotificationId=""),
        lambda n: n["NotificationMetadata"].update(SubscriptionId="a b"),
        lambda n: n["Payload"]["OrderChangeNotification"].update(SellerId="A" * 33),
        lambda n: n["Payload"]["OrderChangeNotification"].update(AmazonOrderId="9" * 51),
        lambda n: n["Payload"]["OrderChangeNotification"]["Summary"].update(MarketplaceId="M" * 21),
    ],
    ids=[
        "no notification id",
        "no marketplace",
        "order id a number",
        "unknown change type",
        "items a string",
        "payload a list",
        "camel case metadata",
        "type null",
        "type not a name",
        "NUL in the id",
        "id too long",
        "empty id",
        "space in the subscription",
        "seller too long",
        "order id too long",
        "marketplace too long",
    ],
)
def test_a_message_that_is_not_a_valid_notification_is_poison(order_change, spoil):
    spoil(order_change)

    with pytest.raises(MessageInvalid):
        message_parse(json.dumps(order_change))


def test_a_feed_notification_with_an_over_long_feed_id_is_poison(feed_finished):
    feed_finished["payload"]["feedProcessingFinishedNotification"]["feedId"] = "1" * 101

    with pytest.raises(MessageInvalid, match="feed_id"):
        message_parse(json.dumps(feed_finished))


@pytest.mark.parametrize(
    "body",
    [
        None,
        b"{}",
        "",
        "not json",
        "[1, 2]",
        '"a string"',
        json.dumps(json.dumps(json.dumps({"NotificationType": "ORDER_CHANGE"}))),
        "[" * 100_000 + "]" * 100_000,
        "{}",
        '{"NotificationType": "ORDER_CHANGE"}',
    ],
    ids=[
        "no body",
        "bytes",
        "empty",
        "not JSON",
        "a list",
        "a string",
        "encoded three times",
        "nested deeply",
        "empty object",
        "envelope only",
    ],
)
def test_bodies_that_are_no_notification_are_poison(body):
    with pytest.raises(MessageInvalid):
        message_parse(body)


def test_a_body_longer_than_sqs_allows_is_refused_before_it_is_read(order_change):
    order_change["Payload"]["OrderChangeNotification"]["OrderChangeTrigger"]["ChangeReason"] = (
        "x" * MAX_BODY_CHARACTERS
    )

    with pytest.raises(MessageInvalid, match="longer than"):
        message_parse(json.dumps(order_change))


def test_nul_characters_in_free_text_are_dropped_and_bad_times_kept_empty(order_change):
    change = order_change["Payload"]["OrderChangeNotification"]
    change["OrderChangeTrigger"]["ChangeReason"] = "Buyer\x00 Requested Cancel"
    order_change["EventTime"] = "2020-13-45T99:00:00Z"
    order_change["NotificationMetadata"]["PublishTime"] = "2020-07-13T19:42:04"  # no zone

    notification = message_parse(json.dumps(order_change))

    trigger = notification.payload["Payload"]["OrderChangeNotification"]["OrderChangeTrigger"]
    assert trigger["ChangeReason"] == "Buyer Requested Cancel"
    assert "\x00" not in json.dumps(notification.payload)
    assert notification.event_time is None and notification.publish_time is None


def test_a_field_amazon_adds_later_is_accepted(order_change):
    order_change["Payload"]["OrderChangeNotification"]["Summary"]["SomethingNew"] = {"a": 1}

    assert message_parse(json.dumps(order_change)).amazon_order_id == "903-8868176-2219830"
