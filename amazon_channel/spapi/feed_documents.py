"""The XML of the order acknowledgement feed, and reading Amazon's processing report."""

import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass

from defusedxml import ElementTree as SafeElementTree
from defusedxml.common import DefusedXmlException

ACKNOWLEDGEMENT_FEED_TYPE = "POST_ORDER_ACKNOWLEDGEMENT_DATA"
PAYMENT_ADJUSTMENT_FEED_TYPE = "POST_PAYMENT_ADJUSTMENT_DATA"
XML_CONTENT_TYPE = "text/xml; charset=UTF-8"


@dataclass(frozen=True)
class CancelMessage:
    message_id: int
    amazon_order_id: str
    order_item_ids: list[str]
    reason: str


@dataclass(frozen=True)
class AdjustedItem:
    order_item_id: str
    principal: str
    shipping: str = "0.00"
    tax: str = "0.00"


@dataclass(frozen=True)
class RefundMessage:
    message_id: int
    amazon_order_id: str
    currency: str
    reason: str
    items: list[AdjustedItem]


def _envelope(*, seller_id: str, message_type: str) -> ElementTree.Element:
    envelope = ElementTree.Element("AmazonEnvelope")
    envelope.set("xmlns:xsi", "http://www.w3.org/2001/XMLSchema-instance")
    envelope.set("xsi:noNamespaceSchemaLocation", "amzn-envelope.xsd")
    header = ElementTree.SubElement(envelope, "Header")
    ElementTree.SubElement(header, "DocumentVersion").text = "1.01"
    ElementTree.SubElement(header, "MerchantIdentifier").text = seller_id
    ElementTree.SubElement(envelope, "MessageType").text = message_type
    return envelope


def payment_adjustment_feed(*, seller_id: str, messages: list[RefundMessage]) -> bytes:
    """An AmazonEnvelope of OrderAdjustment messages: what to refund, per item and component."""
    envelope = _envelope(seller_id=seller_id, message_type="OrderAdjustment")
    for message in messages:
        node = ElementTree.SubElement(envelope, "Message")
        ElementTree.SubElement(node, "MessageID").text = str(message.message_id)
        adjustment = ElementTree.SubElement(node, "OrderAdjustment")
        ElementTree.SubElement(adjustment, "AmazonOrderID").text = message.amazon_order_id
        for item in message.items:
            adjusted = ElementTree.SubElement(adjustment, "AdjustedItem")
            ElementTree.SubElement(adjusted, "AmazonOrderItemCode").text = item.order_item_id
            ElementTree.SubElement(adjusted, "AdjustmentReason").text = message.reason
            prices = ElementTree.SubElement(adjusted, "ItemPriceAdjustments")
            for component_type, amount in (
                ("Principal", item.principal),
                ("Shipping", item.shipping),
                ("Tax", item.tax),
            ):
                component = ElementTree.SubElement(prices, "Component")
                ElementTree.SubElement(component, "Type").text = component_type
                value = ElementTree.SubElement(component, "Amount")
                value.set("currency", message.currency)
                value.text = amount
    return ElementTree.tostring(envelope, encoding="UTF-8", xml_declaration=True)


def acknowledgement_feed(*, seller_id: str, messages: list[CancelMessage]) -> bytes:
    """An AmazonEnvelope cancelling each order (StatusCode Failure, every item with the reason)."""
    envelope = _envelope(seller_id=seller_id, message_type="OrderAcknowledgement")
    for message in messages:
        node = ElementTree.SubElement(envelope, "Message")
        ElementTree.SubElement(node, "MessageID").text = str(message.message_id)
        acknowledgement = ElementTree.SubElement(node, "OrderAcknowledgement")
        ElementTree.SubElement(acknowledgement, "AmazonOrderID").text = message.amazon_order_id
        ElementTree.SubElement(acknowledgement, "StatusCode").text = "Failure"
        for item_id in message.order_item_ids:
            item = ElementTree.SubElement(acknowledgement, "Item")
            ElementTree.SubElement(item, "AmazonOrderItemCode").text = item_id
            ElementTree.SubElement(item, "CancelReason").text = message.reason
    return ElementTree.tostring(envelope, encoding="UTF-8", xml_declaration=True)


class UnreadableReport(ValueError):
    pass


@dataclass(frozen=True)
class ProcessingReport:
    errors: dict[int, str]  # MessageID -> Amazon's description; 0 for the whole feed
    # ProcessingSummary's counts; None when the report does not give them.
    messages_processed: int | None = None
    messages_successful: int | None = None

    def outcome(self, message_id: int) -> str | None:
        """None when the message has no error row, else Amazon's description."""
        return self.errors.get(message_id)

    def feed_error(self) -> str | None:
        """An error row that names no message (MessageID 0 or none): about the whole feed."""
        return self.errors.get(0)

    def accounts_for_all(self, message_ids: list[int]) -> bool:
        """True when the summary proves that every message without an error row succeeded:
        all of them were processed, and as many succeeded as have no error row. A report of a
        feed that stopped half-way lists only what it processed, so a message it does not
        mention may not have been processed at all."""
        if self.messages_processed is None or self.messages_successful is None:
            return False
        without_error = [message_id for message_id in message_ids if message_id not in self.errors]
        return self.messages_processed >= len(message_ids) and self.messages_successful >= len(
            without_error
        )


def _integer(node, path: str) -> int | None:
    text = (node.findtext(path) or "").strip()
    return int(text) if text.isdigit() else None


def processing_report_parse(text: str | bytes) -> ProcessingReport:
    """Read a ProcessingReport. Raises UnreadableReport for anything that is not one."""
    try:
        root = SafeElementTree.fromstring(text.encode() if isinstance(text, str) else text)
    except (ElementTree.ParseError, DefusedXmlException) as error:
        raise UnreadableReport(f"processing report is not XML: {error}") from error
    report = root.find(".//ProcessingReport")
    if report is None:
        raise UnreadableReport("no ProcessingReport element")
    errors: dict[int, str] = {}
    for result in report.findall("Result"):
        if (result.findtext("ResultCode") or "").strip() != "Error":
            continue
        message_id = (result.findtext("MessageID") or "").strip()
        description = (result.findtext("ResultDescription") or "").strip()
        code = (result.findtext("ResultMessageCode") or "").strip()
        text_out = f"{description} ({code})" if code else description
        key = int(message_id) if message_id.isdigit() else 0
        errors[key] = "; ".join(filter(None, [errors.get(key), text_out]))
    return ProcessingReport(
        errors=errors,
        messages_processed=_integer(report, "ProcessingSummary/MessagesProcessed"),
        messages_successful=_integer(report, "ProcessingSummary/MessagesSuccessful"),
    )
