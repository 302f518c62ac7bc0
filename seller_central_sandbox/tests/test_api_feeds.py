"""Feeds 2021-06-30 and the order acknowledgement feed, through python-amazon-sp-api."""

import threading
from datetime import timedelta

import httpx
import pytest
from django.db import connection
from django.db.models import F
from django.utils import timezone
from sp_api.api import Feeds
from sp_api.base.exceptions import SellingApiBadRequestException

from seller_central_sandbox.models import (
    FulfillmentStatus,
    SandboxFeed,
    SandboxFeedDocument,
    SandboxOrder,
    SandboxOrderEvent,
)
from seller_central_sandbox.services.feeds import (
    feed_advance,
    feed_create,
    feed_document_create,
    feed_document_upload,
)
from seller_central_sandbox.services.orders import ShipmentItem, order_shipment_confirm
from seller_central_sandbox.tests.helpers import (
    cancel_feed_xml,
    multi_item_merchant_order,
    orders_client,
    processing_report,
    submit_feed,
    three_days_ago,
    unshipped_merchant_order,
    wait_for_feed,
)

pytestmark = pytest.mark.django_db(transaction=True)


def all_items(order, reason="NoInventory") -> dict[str, str]:
    return {item.order_item_id: reason for item in order.items.all()}


def order_state(order) -> dict:
    """What a refused cancellation must leave as it was: the order, its items, its events."""
    order = SandboxOrder.objects.get(pk=order.pk)
    return {
        "status": order.status,
        "last_updated_time": order.last_updated_time,
        "items": list(
            order.items.order_by("pk").values_list(
                "quantity_shipped", "quantity_cancelled", "cancelled_by", "cancel_reason"
            )
        ),
        "events": list(order.events.order_by("pk").values_list("kind", flat=True)),
    }


def test_a_cancel_feed_cancels_an_unshipped_order(sandbox_seller, sandbox_client_kwargs):
    order = unshipped_merchant_order(sandbox_seller)
    content = cancel_feed_xml(sandbox_seller.seller_id, order.order_id, all_items(order))

    feed = wait_for_feed(sandbox_client_kwargs, submit_feed(sandbox_client_kwargs, content))

    report = processing_report(sandbox_client_kwargs, feed)
    assert feed["processingStatus"] == "DONE"
    assert report.findtext(".//MessagesProcessed") == "1"
    assert report.findtext(".//MessagesWithError") == "0"
    assert report.find(".//Result") is None
    cancelled = SandboxOrder.objects.get(pk=order.pk)
    assert cancelled.status == FulfillmentStatus.CANCELLED
    assert cancelled.last_updated_time > order.last_updated_time
    served = orders_client(sandbox_client_kwargs).get_order(
        order.order_id, includedData=["CANCELLATION", "FULFILLMENT"]
    )
    item = served.payload["order"]["orderItems"][0]
    assert item["cancellation"]["cancellationExecution"]["cancelReason"] == "NoInventory"


def test_a_cancel_feed_for_a_shipped_order_reports_why_and_changes_nothing(
    sandbox_seller, sandbox_client_kwargs
):
    order = unshipped_merchant_order(sandbox_seller)
    order_shipment_confirm(
        seller=sandbox_seller,
        order_id=order.order_id,
        marketplace_id=order.marketplace_id,
        package_reference_id="1",
        carrier_code="UPS",
        tracking_number="1Z1",
        ship_date="2025-06-01T10:00:00Z",
        items=[ShipmentItem(i.order_item_id, i.quantity_ordered) for i in order.items.all()],
    )
    content = cancel_feed_xml(sandbox_seller.seller_id, order.order_id, all_items(order))

    feed = wait_for_feed(sandbox_client_kwargs, submit_feed(sandbox_client_kwargs, content))

    report = processing_report(sandbox_client_kwargs, feed)
    assert report.findtext(".//MessagesWithError") == "1"
    assert report.findtext(".//Result/MessageID") == "1"
    assert report.findtext(".//Result/ResultCode") == "Error"
    assert report.findtext(".//Result/ResultMessageCode")
    assert "SHIPPED" in report.findtext(".//Result/ResultDescription")
    assert SandboxOrder.objects.get(pk=order.pk).status == FulfillmentStatus.SHIPPED


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"<AmazonEnvelope><Message>", "XML Parsing"),
        (b'<!DOCTYPE x [<!ENTITY a "b">]><AmazonEnvelope/>', "DOCTYPE"),
    ],
)
def test_a_malformed_feed_is_reported_without_touching_orders(
    sandbox_seller, sandbox_client_kwargs, content, expected
):
    order = unshipped_merchant_order(sandbox_seller)

    feed = wait_for_feed(sandbox_client_kwargs, submit_feed(sandbox_client_kwargs, content))

    report = processing_report(sandbox_client_kwargs, feed)
    assert report.findtext(".//ResultMessageCode") == "5001"
    assert expected in report.findtext(".//ResultDescription")
    assert SandboxOrder.objects.get(pk=order.pk).status == FulfillmentStatus.UNSHIPPED


def test_an_unknown_order_or_a_bad_reason_is_reported_per_message(
    sandbox_seller, sandbox_client_kwargs
):
    order = unshipped_merchant_order(sandbox_seller)
    bad_reason = cancel_feed_xml(sandbox_seller.seller_id, order.order_id, all_items(order, "Whim"))

    feed = wait_for_feed(sandbox_client_kwargs, submit_feed(sandbox_client_kwargs, bad_reason))
    unknown = wait_for_feed(
        sandbox_client_kwargs,
        submit_feed(
            sandbox_client_kwargs,
            cancel_feed_xml(sandbox_seller.seller_id, "999-0000000-0000000", {}),
        ),
    )

    assert "Whim" in processing_report(sandbox_client_kwargs, feed).findtext(".//ResultDescription")
    assert "was not found" in processing_report(sandbox_client_kwargs, unknown).findtext(
        ".//ResultDescription"
    )
    assert SandboxOrder.objects.get(pk=order.pk).status == FulfillmentStatus.UNSHIPPED


def feed_ages(feed_id: str, seconds: float) -> None:
    """Time passes for one feed: its clock readings move back by `seconds`."""
    SandboxFeed.objects.filter(feed_id=feed_id).update(
        created_time=F("created_time") - timedelta(seconds=seconds),
        processing_start_time=F("processing_start_time") - timedelta(seconds=seconds),
    )


def test_a_cancel_feed_for_a_partially_shipped_order_reports_why_and_changes_nothing(
    sandbox_seller, sandbox_client_kwargs
):
    order = multi_item_merchant_order(sandbox_seller)
    first = order.items.order_by("pk").first()
    order_shipment_confirm(
        seller=sandbox_seller,
        order_id=order.order_id,
        marketplace_id=order.marketplace_id,
        package_reference_id="1",
        carrier_code="UPS",
        tracking_number="1Z1",
        ship_date="2025-06-01T10:00:00Z",
        items=[ShipmentItem(first.order_item_id, first.quantity_ordered)],
    )
    before = order_state(order)
    assert before["status"] == FulfillmentStatus.PARTIALLY_SHIPPED

    # Only the unshipped items are named: Amazon still refuses once anything shipped.
    unshipped = {item.order_item_id: "NoInventory" for item in order.items.exclude(pk=first.pk)}
    content = cancel_feed_xml(sandbox_seller.seller_id, order.order_id, unshipped)
    feed = wait_for_feed(sandbox_client_kwargs, submit_feed(sandbox_client_kwargs, content))

    report = processing_report(sandbox_client_kwargs, feed)
    assert feed["processingStatus"] == "DONE"
    assert report.findtext(".//MessagesWithError") == "1"
    assert report.findtext(".//Result/ResultCode") == "Error"
    assert report.findtext(".//Result/ResultMessageCode") == "18029"
    assert report.findtext(".//Result/AdditionalInfo/AmazonOrderID") == order.order_id
    assert "PARTIALLY_SHIPPED" in report.findtext(".//Result/ResultDescription")
    assert order_state(order) == before


def test_one_bad_reason_among_several_items_leaves_the_whole_order_untouched(
    sandbox_seller, sandbox_client_kwargs
):
    order = multi_item_merchant_order(sandbox_seller)
    reasons = all_items(order)
    reasons[order.items.order_by("pk").last().order_item_id] = "Whim"
    before = order_state(order)

    content = cancel_feed_xml(sandbox_seller.seller_id, order.order_id, reasons)
    feed = wait_for_feed(sandbox_client_kwargs, submit_feed(sandbox_client_kwargs, content))

    report = processing_report(sandbox_client_kwargs, feed)
    assert len(reasons) >= 2
    assert report.findtext(".//MessagesWithError") == "1"
    assert report.findtext(".//Result/ResultMessageCode") == "8560"
    assert "Whim" in report.findtext(".//Result/ResultDescription")
    assert order_state(order) == before


def test_a_feed_moves_through_the_queue_and_processing_over_time(
    settings, sandbox_seller, sandbox_client_kwargs
):
    # 30 s queued, then 30 s processing: far longer than the test takes between two reads.
    settings.SANDBOX_TIME_SCALE = 0.1
    order = unshipped_merchant_order(sandbox_seller)
    feeds = Feeds(**sandbox_client_kwargs)
    feed_id = submit_feed(
        sandbox_client_kwargs,
        cancel_feed_xml(sandbox_seller.seller_id, order.order_id, all_items(order)),
    )

    queued = feeds.get_feed(feed_id).payload
    feed_ages(feed_id, 31)
    in_progress = feeds.get_feed(feed_id).payload
    status_while_processing = SandboxOrder.objects.get(pk=order.pk).status
    feed_ages(feed_id, 30)
    done = feeds.get_feed(feed_id).payload

    assert [queued["processingStatus"], in_progress["processingStatus"]] == [
        "IN_QUEUE",
        "IN_PROGRESS",
    ]
    assert "processingStartTime" not in queued and "processingEndTime" not in in_progress
    assert status_while_processing == FulfillmentStatus.UNSHIPPED
    assert done["processingStatus"] == "DONE"
    assert done["resultFeedDocumentId"]
    assert SandboxOrder.objects.get(pk=order.pk).status == FulfillmentStatus.CANCELLED


def test_only_a_queued_feed_can_be_cancelled(settings, sandbox_seller, sandbox_client_kwargs):
    settings.SANDBOX_TIME_SCALE = 1
    order = unshipped_merchant_order(sandbox_seller)
    feeds = Feeds(**sandbox_client_kwargs)
    feed_id = submit_feed(
        sandbox_client_kwargs,
        cancel_feed_xml(sandbox_seller.seller_id, order.order_id, all_items(order)),
    )

    feeds.cancel_feed(feed_id)

    assert feeds.get_feed(feed_id).payload["processingStatus"] == "CANCELLED"
    with pytest.raises(SellingApiBadRequestException):
        feeds.cancel_feed(feed_id)
    assert SandboxOrder.objects.get(pk=order.pk).status == FulfillmentStatus.UNSHIPPED


def test_get_feeds_filters_by_type_and_status(sandbox_seller, sandbox_client_kwargs):
    order = unshipped_merchant_order(sandbox_seller)
    feed_id = submit_feed(
        sandbox_client_kwargs,
        cancel_feed_xml(sandbox_seller.seller_id, order.order_id, all_items(order)),
    )
    wait_for_feed(sandbox_client_kwargs, feed_id)
    feeds = Feeds(**sandbox_client_kwargs)

    done = feeds.get_feeds(
        feedTypes=["POST_ORDER_ACKNOWLEDGEMENT_DATA"], processingStatuses=["DONE"]
    ).payload["feeds"]
    queued = feeds.get_feeds(
        feedTypes=["POST_ORDER_ACKNOWLEDGEMENT_DATA"], processingStatuses=["IN_QUEUE"]
    ).payload["feeds"]
    other = feeds.get_feeds(feedTypes=["POST_PRODUCT_DATA"]).payload["feeds"]

    assert [feed["feedId"] for feed in done] == [feed_id]
    assert queued == other == []
    with pytest.raises(SellingApiBadRequestException):
        feeds.get_feeds()


def test_a_feed_needs_a_known_input_document(sandbox_client_kwargs):
    with pytest.raises(SellingApiBadRequestException):
        Feeds(**sandbox_client_kwargs).create_feed(
            "POST_ORDER_ACKNOWLEDGEMENT_DATA", "amzn1.tortuga.4.na.unknown"
        )


def test_orders_created_earlier_stay_visible_in_search_after_cancel(
    sandbox_seller, sandbox_client_kwargs
):
    order = unshipped_merchant_order(sandbox_seller)
    wait_for_feed(
        sandbox_client_kwargs,
        submit_feed(
            sandbox_client_kwargs,
            cancel_feed_xml(sandbox_seller.seller_id, order.order_id, all_items(order)),
        ),
    )

    found = orders_client(sandbox_client_kwargs).search_orders(
        createdAfter=three_days_ago(), includedData=["FULFILLMENT"]
    )

    [served] = found.payload["orders"]
    assert served["fulfillment"]["fulfillmentStatus"] == "CANCELLED"


def test_an_upload_url_expires_after_five_minutes(sandbox_server, sandbox_seller):
    document = feed_document_create(seller=sandbox_seller, content_type="text/xml")
    SandboxFeedDocument.objects.filter(pk=document.pk).update(
        url_expires_at=timezone.now() - timedelta(seconds=1)
    )

    response = httpx.put(
        f"{sandbox_server.url}/feed-documents/{document.url_token}", content=b"<x/>"
    )

    assert response.status_code == 403
    assert response.json()["errors"][0]["code"] == "AccessDenied"
    document.refresh_from_db()
    assert document.content is None


@pytest.mark.postgresql
def test_concurrent_reads_of_a_due_feed_apply_it_exactly_once(sandbox_seller):
    order = unshipped_merchant_order(sandbox_seller)
    document = feed_document_create(seller=sandbox_seller, content_type="text/xml")
    feed_document_upload(
        url_token=document.url_token,
        content=cancel_feed_xml(sandbox_seller.seller_id, order.order_id, all_items(order)),
    )
    feed = feed_create(
        seller=sandbox_seller,
        feed_type="POST_ORDER_ACKNOWLEDGEMENT_DATA",
        marketplace_ids=sandbox_seller.marketplace_ids,
        input_document_id=document.document_id,
    )
    SandboxFeed.objects.filter(pk=feed.pk).update(created_time=timezone.now() - timedelta(hours=1))
    barrier = threading.Barrier(6)

    def read():
        try:
            barrier.wait()
            feed_advance(seller=sandbox_seller, feed_id=feed.feed_id)
        finally:
            connection.close()

    threads = [threading.Thread(target=read) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert SandboxFeedDocument.objects.filter(seller=sandbox_seller, is_result=True).count() == 1
    assert SandboxOrderEvent.objects.filter(order=order, kind="cancelled").count() == 1
    assert SandboxFeed.objects.get(pk=feed.pk).processing_status == "DONE"
