"""The seller's other tools: feeds that an ERP or a repricer submits beside our application.

Amazon lists every feed of a seller in getFeeds, whoever submitted it (feeds_2021-06-30.json: a
`Feed` names no application), so a client must never take a feed it finds there for its own.
"""

from xml.sax.saxutils import escape

from seller_central_sandbox.models import (
    FulfillmentStatus,
    SandboxFeed,
    SandboxOrder,
    SandboxSeller,
)
from seller_central_sandbox.services.feeds import ACKNOWLEDGEMENT_FEED_TYPE, feeds_foreign_create


def _acknowledgements(seller: SandboxSeller, order_ids: list[str]) -> bytes:
    messages = "".join(
        f"<Message><MessageID>{position}</MessageID><OrderAcknowledgement>"
        f"<AmazonOrderID>{escape(order_id)}</AmazonOrderID>"
        f"<MerchantOrderID>ERP-{position:06d}</MerchantOrderID>"
        "<StatusCode>Success</StatusCode></OrderAcknowledgement></Message>"
        for position, order_id in enumerate(order_ids, start=1)
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<AmazonEnvelope xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
        'xsi:noNamespaceSchemaLocation="amzn-envelope.xsd">'
        f"<Header><DocumentVersion>1.01</DocumentVersion>"
        f"<MerchantIdentifier>{escape(seller.seller_id)}</MerchantIdentifier></Header>"
        f"<MessageType>OrderAcknowledgement</MessageType>{messages}</AmazonEnvelope>"
    ).encode()


def integration_acknowledgements_submit(
    *, seller: SandboxSeller, application: str = "ERP", limit: int = 5
) -> SandboxFeed:
    """Another tool of the seller acknowledges (StatusCode Success: no change to the orders) the
    seller's newest unshipped orders, in an order acknowledgement feed of its own: the kind of
    feed our client's recovery finds in getFeeds and must not adopt. Raises SandboxError without
    an application name."""
    order_ids = list(
        SandboxOrder.objects.filter(seller=seller, status=FulfillmentStatus.UNSHIPPED)
        .order_by("-created_time", "-pk")
        .values_list("order_id", flat=True)[:limit]
    )
    return feeds_foreign_create(
        seller=seller,
        feed_type=ACKNOWLEDGEMENT_FEED_TYPE,
        content=_acknowledgements(seller, order_ids),
        application=application,
    )
