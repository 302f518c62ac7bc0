"""What Amazon's Feeds API does that a client must survive, as the sandbox serves it over HTTP:
FATAL feeds that applied part of their messages, processing reports compressed with GZIP, and
the feeds of the seller's other tools listed beside ours (feeds_2021-06-30.json)."""

import gzip

import httpx
import pytest
from sp_api.api import Feeds

from seller_central_sandbox.models import (
    FulfillmentStatus,
    ResultCompression,
    SandboxFeed,
    SandboxOrder,
    SandboxRefund,
    SandboxSeller,
)
from seller_central_sandbox.services.feeds import feeds_foreign_create, seller_feed_faults_set
from seller_central_sandbox.services.sellers import SandboxError
from seller_central_sandbox.tests.helpers import (
    access_token,
    processing_report,
    submit_feed,
    unshipped_merchant_order,
    wait_for_feed,
)
from seller_central_sandbox.tests.test_api_adjustments import adjustment_xml, shipped_order

pytestmark = pytest.mark.django_db(transaction=True)

ACKNOWLEDGEMENT = "POST_ORDER_ACKNOWLEDGEMENT_DATA"


def cancel_feed_of(seller_id: str, orders, *, status_code: str = "Failure") -> bytes:
    """One OrderAcknowledgement message per order, numbered from 1, every item named."""
    messages = []
    for position, order in enumerate(orders, start=1):
        items = "".join(
            f"<Item><AmazonOrderItemCode>{item.order_item_id}</AmazonOrderItemCode>"
            "<CancelReason>NoInventory</CancelReason></Item>"
            for item in order.items.all()
        )
        messages.append(
            f"<Message><MessageID>{position}</MessageID><OrderAcknowledgement>"
            f"<AmazonOrderID>{order.order_id}</AmazonOrderID>"
            f"<StatusCode>{status_code}</StatusCode>{items}</OrderAcknowledgement></Message>"
        )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        "<AmazonEnvelope><Header><DocumentVersion>1.01</DocumentVersion>"
        f"<MerchantIdentifier>{seller_id}</MerchantIdentifier></Header>"
        f"<MessageType>OrderAcknowledgement</MessageType>{''.join(messages)}</AmazonEnvelope>"
    ).encode()


def three_unshipped_orders(seller) -> list[SandboxOrder]:
    return [unshipped_merchant_order(seller, seed=seed) for seed in (7, 400, 800)]


def status_of(order) -> str:
    return SandboxOrder.objects.get(pk=order.pk).status


def feed_document(server, seller, document_id: str) -> dict:
    """getFeedDocument's JSON as it goes over the wire."""
    response = httpx.get(
        f"{server.url}/feeds/2021-06-30/documents/{document_id}",
        headers={"x-amz-access-token": access_token(server, seller)},
    )
    assert response.status_code == 200
    return response.json()


def test_a_fatal_feed_applies_its_first_messages_and_reports_only_those(
    sandbox_seller, sandbox_client_kwargs
):
    # Given the FATAL fault for one feed, aborting after two messages, with a report
    orders = three_unshipped_orders(sandbox_seller)
    seller_feed_faults_set(seller=sandbox_seller, fatal_next=1, fatal_applied=2)
    content = cancel_feed_of(sandbox_seller.seller_id, orders)

    # When the feed is processed
    feed = wait_for_feed(sandbox_client_kwargs, submit_feed(sandbox_client_kwargs, content))

    # Then it is FATAL, "some, none, or all of the operations ... may have completed": the
    # first two orders are cancelled, the third is not, and the report counts only two
    assert feed["processingStatus"] == "FATAL"
    assert [status_of(order) for order in orders] == [
        FulfillmentStatus.CANCELLED,
        FulfillmentStatus.CANCELLED,
        FulfillmentStatus.UNSHIPPED,
    ]
    report = processing_report(sandbox_client_kwargs, feed)
    assert report.findtext(".//MessagesProcessed") == "2"
    assert report.findtext(".//MessagesSuccessful") == "2"
    assert report.find(".//Result") is None
    # The fault is used up: the next feed is DONE
    assert SandboxSeller.objects.get(pk=sandbox_seller.pk).fault_feed_fatal_next == 0
    again = cancel_feed_of(sandbox_seller.seller_id, orders[2:])
    done = wait_for_feed(sandbox_client_kwargs, submit_feed(sandbox_client_kwargs, again))
    assert done["processingStatus"] == "DONE"
    assert status_of(orders[2]) == FulfillmentStatus.CANCELLED


def test_a_fatal_feed_without_report_has_no_result_document(sandbox_seller, sandbox_client_kwargs):
    orders = three_unshipped_orders(sandbox_seller)[:2]
    seller_feed_faults_set(
        seller=sandbox_seller, fatal_next=1, fatal_applied=1, has_fatal_report=False
    )

    feed = wait_for_feed(
        sandbox_client_kwargs,
        submit_feed(sandbox_client_kwargs, cancel_feed_of(sandbox_seller.seller_id, orders)),
    )

    assert feed["processingStatus"] == "FATAL"
    assert "resultFeedDocumentId" not in feed
    assert [status_of(order) for order in orders] == [
        FulfillmentStatus.CANCELLED,
        FulfillmentStatus.UNSHIPPED,
    ]


def test_a_fatal_refund_feed_refunds_nothing_past_the_abort(sandbox_seller, sandbox_client_kwargs):
    order = shipped_order(sandbox_seller)
    seller_feed_faults_set(seller=sandbox_seller, fatal_next=1, fatal_applied=0)
    content = adjustment_xml(sandbox_seller.seller_id, order, principal="1.00")

    feed = wait_for_feed(
        sandbox_client_kwargs,
        submit_feed(sandbox_client_kwargs, content, feed_type="POST_PAYMENT_ADJUSTMENT_DATA"),
    )

    assert feed["processingStatus"] == "FATAL"
    assert processing_report(sandbox_client_kwargs, feed).findtext(".//MessagesProcessed") == "0"
    assert not SandboxRefund.objects.filter(order=order).exists()


def test_feed_faults_refuse_negative_counts_and_unknown_compressions(sandbox_seller):
    with pytest.raises(SandboxError):
        seller_feed_faults_set(seller=sandbox_seller, fatal_next=-1)
    with pytest.raises(SandboxError):
        seller_feed_faults_set(seller=sandbox_seller, result_compression="zip")


@pytest.mark.parametrize(
    ("compression", "expected"),
    [(ResultCompression.GZIP, ["GZIP", "GZIP"]), (ResultCompression.NONE, [None, None])],
)
def test_processing_reports_are_compressed_as_the_seller_says(
    sandbox_server, sandbox_seller, sandbox_client_kwargs, compression, expected
):
    seller_feed_faults_set(seller=sandbox_seller, result_compression=compression)

    found = [
        compressed_report(sandbox_server, sandbox_seller, sandbox_client_kwargs, order)
        for order in three_unshipped_orders(sandbox_seller)[:2]
    ]

    assert [algorithm for algorithm, _text in found] == expected
    assert all(b"<ProcessingReport>" in text for _algorithm, text in found)


def test_by_default_every_second_report_is_gzip(
    sandbox_server, sandbox_seller, sandbox_client_kwargs
):
    assert sandbox_seller.result_compression == ResultCompression.ALTERNATE

    found = [
        compressed_report(sandbox_server, sandbox_seller, sandbox_client_kwargs, order)
        for order in three_unshipped_orders(sandbox_seller)
    ]

    assert [algorithm for algorithm, _text in found] == ["GZIP", None, "GZIP"]
    assert all(b"<ProcessingReport>" in text for _algorithm, text in found)


def compressed_report(server, seller, client_kwargs, order) -> tuple[str | None, bytes]:
    """Cancel the order in a feed; returns the report's compressionAlgorithm and its text,
    gunzipped from the bytes at the URL when GZIP (FeedDocument: "you must decompress the
    feed when you download")."""
    content = cancel_feed_of(seller.seller_id, [order])
    feed = wait_for_feed(client_kwargs, submit_feed(client_kwargs, content))
    document = feed_document(server, seller, feed["resultFeedDocumentId"])
    body = httpx.get(document["url"]).content
    algorithm = document.get("compressionAlgorithm")
    if algorithm == "GZIP":
        assert body[:2] == b"\x1f\x8b"
        body = gzip.decompress(body)
    return algorithm, body


def test_get_feeds_lists_another_tools_feeds_alike_and_processes_them(
    sandbox_seller, sandbox_client_kwargs
):
    # Given our feed and the seller's ERP's feed cancelling another order, while the FATAL
    # fault is armed (it hits this application's feeds only)
    ours_order, erp_order = three_unshipped_orders(sandbox_seller)[:2]
    seller_feed_faults_set(seller=sandbox_seller, fatal_next=1, fatal_applied=1)
    erp = feeds_foreign_create(
        seller=sandbox_seller,
        feed_type=ACKNOWLEDGEMENT,
        content=cancel_feed_of(sandbox_seller.seller_id, [erp_order]),
        application="ERP",
    )
    ours = submit_feed(
        sandbox_client_kwargs, cancel_feed_of(sandbox_seller.seller_id, [ours_order])
    )
    wait_for_feed(sandbox_client_kwargs, ours)
    erp_feed = wait_for_feed(sandbox_client_kwargs, erp.feed_id)

    # When getFeeds lists the seller's acknowledgement feeds
    listed = Feeds(**sandbox_client_kwargs).get_feeds(feedTypes=[ACKNOWLEDGEMENT]).payload["feeds"]

    # Then both are there with the same fields (a Feed names no application), and the ERP's
    # was processed normally
    by_id = {feed["feedId"]: feed for feed in listed}
    assert set(by_id) == {ours, erp.feed_id}
    assert set(by_id[ours]) == set(by_id[erp.feed_id])
    assert "application" not in by_id[erp.feed_id]
    assert erp_feed["processingStatus"] == "DONE"
    assert by_id[ours]["processingStatus"] == "FATAL"
    assert status_of(erp_order) == FulfillmentStatus.CANCELLED
    assert SandboxFeed.objects.get(feed_id=erp.feed_id).application == "ERP"
