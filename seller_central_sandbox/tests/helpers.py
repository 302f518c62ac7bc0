"""Shared steps of the sandbox tests: the seller's side of the wire, through the real client."""

import io
import time
import xml.etree.ElementTree as ElementTree
from datetime import timedelta

import httpx
from django.utils import timezone
from sp_api.api import Feeds, Orders

from seller_central_sandbox.models import FulfilledBy, FulfillmentStatus, SandboxOrder
from seller_central_sandbox.representations import INCLUDED_DATA, order_2026
from seller_central_sandbox.selectors import orders_with_details
from seller_central_sandbox.services.orders import orders_generate

ALL_INCLUDED = ["BUYER", "RECIPIENT", "PROCEEDS", "CANCELLATION", "FULFILLMENT", "PACKAGES"]


def orders_client(kwargs: dict) -> Orders:
    return Orders(version="2026-01-01", **kwargs)


def orders_v0_client(kwargs: dict) -> Orders:
    return Orders(version="v0", **kwargs)


class ManualClock:
    """A monotonic clock that moves only when the test advances it."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def access_token(server, seller) -> str:
    """An access token of the seller, from the sandbox's Login with Amazon endpoint."""
    response = httpx.post(
        f"{server.url}/auth/o2/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": seller.refresh_token,
            "client_id": seller.client_id,
            "client_secret": seller.client_secret,
        },
    )
    response.raise_for_status()
    return response.json()["access_token"]


def minutes_ago(minutes: float):
    return timezone.now() - timedelta(minutes=minutes)


def an_hour_ago() -> str:
    return (timezone.now() - timedelta(hours=1)).isoformat()


def three_days_ago() -> str:
    return (timezone.now() - timedelta(days=3)).isoformat()


def orders_without_ids(seller) -> list[dict]:
    """The seller's orders in the order they were placed, all they are except their order id:
    every section searchOrders can serve, and the exact timestamps."""
    orders = orders_with_details(SandboxOrder.objects.filter(seller=seller).order_by("pk"))
    return [
        {
            **{
                key: value
                for key, value in order_2026(order, INCLUDED_DATA).items()
                if key != "orderId"
            },
            "exactTimes": (order.created_time, order.last_updated_time),
        }
        for order in orders
    ]


def unshipped_merchant_order(seller, *, seed: int = 7) -> SandboxOrder:
    """An MFN order ready to ship, generated with the seller's first matching seed, placed ten
    minutes ago (a search window ending two minutes ago holds it)."""
    for attempt in range(seed, seed + 200):
        order = orders_generate(seller=seller, count=1, seed=attempt, now=minutes_ago(10))[0]
        if (
            order.fulfilled_by == FulfilledBy.MERCHANT
            and order.status == FulfillmentStatus.UNSHIPPED
        ):
            return order
        order.delete()
    raise AssertionError("no unshipped MFN order in 200 seeds")


def multi_item_merchant_order(seller, *, seed: int = 100) -> SandboxOrder:
    """An unshipped MFN order with at least two items."""
    for attempt in range(seed, seed + 300):
        order = unshipped_merchant_order(seller, seed=attempt)
        if order.items.count() >= 2:
            return order
        order.delete()
    raise AssertionError("no unshipped MFN order with two items")


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
