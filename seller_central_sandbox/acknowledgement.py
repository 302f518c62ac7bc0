"""POST_ORDER_ACKNOWLEDGEMENT_DATA: reading the seller's XML and writing Amazon's ProcessingReport.

Pure functions; seller_central_sandbox.services.feeds applies the messages to the orders.
"""

import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass, field

# Amazon's numeric result codes for the cases the sandbox reports.
CODE_XML_PARSING_ERROR = "5001"
CODE_INVALID_VALUE = "8560"
CODE_ORDER_NOT_FOUND = "18028"
CODE_ORDER_NOT_CANCELLABLE = "18029"
CODE_UNSUPPORTED = "90208"


class FeedParseError(Exception):
    pass


@dataclass
class AcknowledgementItem:
    amazon_order_item_code: str
    cancel_reason: str | None


@dataclass
class AcknowledgementMessage:
    message_id: str
    amazon_order_id: str
    status_code: str
    items: list[AcknowledgementItem] = field(default_factory=list)


@dataclass
class ResultRow:
    message_id: str
    code: str
    description: str
    result_code: str = "Error"
    amazon_order_id: str = ""


def element_text(element: ElementTree.Element | None, name: str) -> str:
    child = element.find(name) if element is not None else None
    return (child.text or "").strip() if child is not None else ""


def parse_envelope(content: bytes, *, message_type: str) -> ElementTree.Element:
    """The AmazonEnvelope of a feed document of this MessageType; raises FeedParseError on
    malformed XML, a DOCTYPE (entity expansion is refused outright) or another message type."""
    head = content[:4096].lower()
    if b"<!doctype" in head or b"<!entity" in content.lower():
        raise FeedParseError("DOCTYPE and ENTITY declarations are not allowed.")
    try:
        # Safe here: no DOCTYPE can reach the parser, so no entity is ever expanded.
        root = ElementTree.fromstring(content)  # noqa: S314
    except ElementTree.ParseError as error:
        raise FeedParseError(f"XML Parsing Fatal Error: {error}") from error
    if root.tag != "AmazonEnvelope":
        raise FeedParseError("The root element must be AmazonEnvelope.")
    found = element_text(root, "MessageType")
    if found != message_type:
        raise FeedParseError(f"MessageType '{found}' is not {message_type}.")
    return root


def parse_acknowledgements(content: bytes) -> list[AcknowledgementMessage]:
    """The messages of an acknowledgement feed; raises FeedParseError on malformed XML,
    a DOCTYPE (entity expansion is refused outright) or the wrong message type."""
    root = parse_envelope(content, message_type="OrderAcknowledgement")
    messages = []
    for message in root.findall("Message"):
        acknowledgement = message.find("OrderAcknowledgement")
        messages.append(
            AcknowledgementMessage(
                message_id=element_text(message, "MessageID"),
                amazon_order_id=element_text(acknowledgement, "AmazonOrderID"),
                status_code=element_text(acknowledgement, "StatusCode"),
                items=[
                    AcknowledgementItem(
                        amazon_order_item_code=element_text(item, "AmazonOrderItemCode"),
                        cancel_reason=element_text(item, "CancelReason") or None,
                    )
                    for item in (
                        acknowledgement.findall("Item") if acknowledgement is not None else []
                    )
                ],
            )
        )
    return messages


def processing_report(
    *,
    merchant_identifier: str,
    document_transaction_id: str,
    messages_processed: int,
    results: list[ResultRow],
) -> bytes:
    """Amazon's ProcessingReport document for a feed."""
    envelope = ElementTree.Element("AmazonEnvelope")
    envelope.set("xmlns:xsi", "http://www.w3.org/2001/XMLSchema-instance")
    envelope.set("xsi:noNamespaceSchemaLocation", "amzn-envelope.xsd")
    header = ElementTree.SubElement(envelope, "Header")
    ElementTree.SubElement(header, "DocumentVersion").text = "1.02"
    ElementTree.SubElement(header, "MerchantIdentifier").text = merchant_identifier
    ElementTree.SubElement(envelope, "MessageType").text = "ProcessingReport"
    message = ElementTree.SubElement(envelope, "Message")
    ElementTree.SubElement(message, "MessageID").text = "1"
    report = ElementTree.SubElement(message, "ProcessingReport")
    ElementTree.SubElement(report, "DocumentTransactionID").text = document_transaction_id
    ElementTree.SubElement(report, "StatusCode").text = "Complete"
    summary = ElementTree.SubElement(report, "ProcessingSummary")
    errors = len({row.message_id for row in results if row.result_code == "Error"})
    warnings = len({row.message_id for row in results if row.result_code == "Warning"})
    ElementTree.SubElement(summary, "MessagesProcessed").text = str(messages_processed)
    ElementTree.SubElement(summary, "MessagesSuccessful").text = str(
        max(messages_processed - errors, 0)
    )
    ElementTree.SubElement(summary, "MessagesWithError").text = str(errors)
    ElementTree.SubElement(summary, "MessagesWithWarning").text = str(warnings)
    for row in results:
        result = ElementTree.SubElement(report, "Result")
        ElementTree.SubElement(result, "MessageID").text = row.message_id
        ElementTree.SubElement(result, "ResultCode").text = row.result_code
        ElementTree.SubElement(result, "ResultMessageCode").text = row.code
        ElementTree.SubElement(result, "ResultDescription").text = row.description
        if row.amazon_order_id:
            info = ElementTree.SubElement(result, "AdditionalInfo")
            ElementTree.SubElement(info, "AmazonOrderID").text = row.amazon_order_id
    return ElementTree.tostring(envelope, encoding="utf-8", xml_declaration=True)
