"""POST_PAYMENT_ADJUSTMENT_DATA: reading the seller's OrderAdjustment XML (refunds).

Pure functions; seller_central_sandbox.services.feeds applies the messages to the orders.
"""

import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from seller_central_sandbox.acknowledgement import element_text as _text
from seller_central_sandbox.acknowledgement import parse_envelope

ADJUSTMENT_REASONS = {
    "NoInventory", "CustomerReturn", "GeneralAdjustment", "CouldNotShip", "DifferentItem",
    "Abandoned", "CustomerCancel", "PriceError", "ProductOutofStock", "CustomerAddressIncorrect",
    "Exchange", "Other", "CarrierCreditDecision", "RiskAssessmentInformationNotValid",
    "CarrierCoverageFailure", "TransactionRecord", "Undeliverable", "RefusedDelivery",
}  # fmt: skip
COMPONENT_TYPES = {"Principal", "Shipping", "Tax", "ShippingTax", "GiftWrap", "GiftWrapTax"}


@dataclass
class AdjustedItem:
    amazon_order_item_code: str
    reason: str
    amounts: dict[str, Decimal] = field(default_factory=dict)
    currency: str = ""
    problem: str = ""


@dataclass
class AdjustmentMessage:
    message_id: str
    amazon_order_id: str
    items: list[AdjustedItem] = field(default_factory=list)


def _item(node: ElementTree.Element) -> AdjustedItem:
    item = AdjustedItem(
        amazon_order_item_code=_text(node, "AmazonOrderItemCode"),
        reason=_text(node, "AdjustmentReason"),
    )
    for component in node.findall("ItemPriceAdjustments/Component"):
        kind = _text(component, "Type")
        amount = component.find("Amount")
        if kind not in COMPONENT_TYPES or amount is None:
            item.problem = f"Unknown price component {kind!r}."
            continue
        try:
            value = Decimal((amount.text or "").strip())
        except InvalidOperation:
            item.problem = f"Amount {amount.text!r} of {kind} is not a number."
            continue
        item.amounts[kind] = item.amounts.get(kind, Decimal(0)) + value
        item.currency = amount.get("currency", item.currency)
    return item


def parse_adjustments(content: bytes) -> list[AdjustmentMessage]:
    """The messages of a payment adjustment feed; raises FeedParseError (see parse_envelope)."""
    root = parse_envelope(content, message_type="OrderAdjustment")
    messages = []
    for message in root.findall("Message"):
        adjustment = message.find("OrderAdjustment")
        messages.append(
            AdjustmentMessage(
                message_id=_text(message, "MessageID"),
                amazon_order_id=_text(adjustment, "AmazonOrderID"),
                items=[
                    _item(node)
                    for node in (
                        adjustment.findall("AdjustedItem") if adjustment is not None else []
                    )
                ],
            )
        )
    return messages
