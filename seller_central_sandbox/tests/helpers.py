"""Shared steps of the sandbox tests: the seller's side of the wire, through the real client."""

import io
import time
import xml.etree.ElementTree as ElementTree
from datetime import timedelta

from django.utils import timezone
from sp_api.api import Feeds, Orders

from seller_central_sandbox.models import FulfilledBy, FulfillmentStatus, SandboxOrder
from seller_central_sandbox.services.orders import orders_generate

ALL_INCLUDED = ["BUYER", "RECIPIENT", "PROCEEDS", "CANCELLATION", "FULFILLMENT", "PACKAGES"]


def orders_client(kwargs: dict) -> Orders:
    return Orders(version="2026-01-01", **kwargs)


def orders_v0_client(kwargs: dict) -> Orders:
    return Orders(version="v0", **kwargs)


def an_hour_ago() -> str:
    return (timezone.now() - timedelta(hours=1)).isoformat()


def three_days_ago() -> str:
    return (timezone.now() - timedelta(days=3)).isoformat()


def unshipped_merchant_order(seller, *, seed: int = 7) -> SandboxOrder:
    """An MFN order ready to ship, generated with the seller's first matching seed."""
    for attempt in range(seed, seed + 200):
        order = orders_generate(seller=seller, count=1, seed=attempt)[0]
        if (
            order.fulfilled_by == FulfilledBy.MERCHANT
            and order.status == FulfillmentStatus.UNSHIPPED
        ):
            return order
        order.delete()
    raise AssertionError("no unshipped MFN order in 200 seeds")


def cancel_feed_xml(seller_id: str, order_id: str, reasons: dict[str, str]) -> bytes:
    items = "".join(
        f"<Item><AmazonOrderItemCode>{item}</AmazonOrderItemCode>"
        f"<CancelReason>{reason}</CancelReason></Item>"
        for item, reason in reasons.items()
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        "<AmazonEnvelope><Header><DocumentVersion>1.01</DocumentVersion>"
        f"<MerchantIdentifier>{seller_id}</MerchantIdentifier></Header>"
        "<MessageType>OrderAcknowledgement</MessageType>"
        "<Message><MessageID>1</MessageID><OrderAcknowledgement>"
        f"<AmazonOrderID>{order_id}</AmazonOrderID><StatusCode>Failure</StatusCode>{items}"
        "</OrderAcknowledgement></Message></AmazonEnvelope>"
    ).encode()


def submit_feed(
    kwargs: dict, content: bytes, *, feed_type: str = "POST_ORDER_ACKNOWLEDGEMENT_DATA"
) -> str:
    _, feed = Feeds(**kwargs).submit_feed(
        feed_type,
        io.BytesIO(content),
        content_type="text/xml; charset=UTF-8",
    )
    return feed.payload["feedId"]


def wait_for_feed(kwargs: dict, feed_id: str, *, timeout: float = 10) -> dict:
    feeds = Feeds(**kwargs)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        feed = feeds.get_feed(feed_id).payload
        if feed["processingStatus"] in ("DONE", "FATAL", "CANCELLED"):
            return feed
        time.sleep(0.05)
    raise AssertionError(f"feed {feed_id} did not finish in {timeout} s")


def processing_report(kwargs: dict, feed: dict) -> ElementTree.Element:
    document = Feeds(**kwargs).get_feed_document(feed["resultFeedDocumentId"])
    return ElementTree.fromstring(document.encode())  # noqa: S314 - our own test server's XML
