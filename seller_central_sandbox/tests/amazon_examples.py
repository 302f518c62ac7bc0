"""Amazon's own sandbox cases (the models' `x-amzn-api-sandbox` static cases) as test data.

Each case is a request and the answer Amazon's sandbox gives to it. `static_cases()` lists those of
the operations our sandbox serves; `order_from_example()` puts an order of such an answer into our
sandbox, so that the same request can be replayed against it and the answers compared.
"""

import json
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from django.utils.dateparse import parse_datetime

from seller_central_sandbox.models import SandboxOrder, SandboxOrderItem, SandboxSeller
from seller_central_sandbox.tests.contract import MODEL_FILES, SERVED

MODELS_DIR = Path(__file__).resolve().parents[1] / "sp_api_models"


@dataclass(frozen=True)
class StaticCase:
    model: str
    operation: str
    method: str
    template: str
    status: int
    number: int
    parameters: dict  # name -> value
    response: dict | None
    # Where each parameter goes: "query", "path" or "body".
    locations: dict

    @property
    def case_id(self) -> str:
        return f"{self.operation}-{self.status}-{self.number}"


def static_cases() -> list[StaticCase]:
    cases = []
    for name in MODEL_FILES:
        model = json.loads((MODELS_DIR / name).read_text())
        for template, methods in model["paths"].items():
            shared = methods.get("parameters", [])
            for method, operation in methods.items():
                if method == "parameters" or operation["operationId"] not in SERVED:
                    continue
                locations = {
                    parameter["name"]: parameter["in"]
                    for parameter in [*shared, *operation.get("parameters", [])]
                    if "name" in parameter
                }
                for status, response in operation["responses"].items():
                    sandbox = response.get("x-amzn-api-sandbox", {}).get("static", [])
                    for number, case in enumerate(sandbox):
                        parameters = {
                            key: value["value"]
                            for key, value in case["request"].get("parameters", {}).items()
                        }
                        cases.append(
                            StaticCase(
                                model=name,
                                operation=operation["operationId"],
                                method=method.upper(),
                                template=template,
                                status=int(status),
                                number=number,
                                parameters=parameters,
                                response=case.get("response"),
                                locations=locations,
                            )
                        )
    return cases


def _amount(money: dict | None) -> Decimal:
    return Decimal(str((money or {}).get("amount") or "0"))


def _breakdown(item: dict, kind: str) -> Decimal:
    return sum(
        (
            _amount(entry.get("subtotal"))
            for entry in (item.get("proceeds") or {}).get("breakdowns") or []
            if entry.get("type") == kind
        ),
        Decimal(0),
    )


def order_from_example(*, seller: SandboxSeller, example: dict) -> SandboxOrder:
    """Store an Orders 2026-01-01 `Order` of Amazon's examples as a sandbox order: the buyer,
    the delivery address, the windows, the items with their prices, tax and shipping."""
    fulfillment = example.get("fulfillment") or {}
    items = example["orderItems"]
    programs = list(example.get("programs") or [])
    currency = (example.get("proceeds") or {}).get("grandTotal", {}).get("currencyCode") or (
        items[0]["product"]["price"]["unitPrice"]["currencyCode"]
    )
    details = {
        "buyer": dict(example.get("buyer") or {}),
        "address": dict((example.get("recipient") or {}).get("deliveryAddress") or {}) or None,
        "serviceLevel": fulfillment.get("fulfillmentServiceLevel", "STANDARD"),
        "programs": programs,
        "isPrime": "PRIME" in programs,
        "isBusiness": "AMAZON_BUSINESS" in programs,
        "shippingPrice": str(sum((_breakdown(item, "SHIPPING") for item in items), Decimal(0))),
    }
    for window in ("shipByWindow", "deliverByWindow"):
        if fulfillment.get(window):
            details[window] = dict(fulfillment[window])
    order = SandboxOrder.objects.create(
        seller=seller,
        order_id=example["orderId"],
        marketplace_id=example["salesChannel"]["marketplaceId"],
        status=fulfillment["fulfillmentStatus"],
        fulfilled_by=fulfillment["fulfilledBy"],
        currency_code=currency,
        created_time=parse_datetime(example["createdTime"]),
        last_updated_time=parse_datetime(example["lastUpdatedTime"]),
        details=details,
    )
    for item in items:
        product = item["product"]
        item_fulfillment = item.get("fulfillment") or {}
        SandboxOrderItem.objects.create(
            order=order,
            order_item_id=item["orderItemId"],
            asin=product.get("asin", ""),
            seller_sku=product.get("sellerSku", ""),
            title=product.get("title", "")[:300],
            quantity_ordered=item["quantityOrdered"],
            quantity_shipped=item_fulfillment.get("quantityFulfilled", 0),
            unit_price=_amount((product.get("price") or {}).get("unitPrice")),
            item_tax=_breakdown(item, "TAX"),
        )
    return order


def served_projection(order: dict, included: set[str]) -> dict:
    """What our sandbox serves of an order, comparable with Amazon's example of it."""
    projection = {
        "orderId": order["orderId"],
        "createdTime": order["createdTime"],
        "lastUpdatedTime": order["lastUpdatedTime"],
        "marketplaceId": order["salesChannel"]["marketplaceId"],
        "items": [
            (
                item["orderItemId"],
                item["quantityOrdered"],
                item["product"].get("sellerSku"),
                item["product"].get("asin"),
                _amount((item["product"].get("price") or {}).get("unitPrice")),
            )
            for item in order["orderItems"]
        ],
    }
    if "FULFILLMENT" in included:
        fulfillment = order.get("fulfillment") or {}
        projection["status"] = (
            fulfillment.get("fulfillmentStatus"),
            fulfillment.get("fulfilledBy"),
        )
    if "PROCEEDS" in included:
        projection["grandTotal"] = (order.get("proceeds") or {}).get("grandTotal")
    if "BUYER" in included:
        projection["buyerName"] = (order.get("buyer") or {}).get("buyerName")
    if "RECIPIENT" in included:
        address = (order.get("recipient") or {}).get("deliveryAddress") or {}
        projection["address"] = {
            key: address.get(key) for key in ("name", "addressLine1", "city", "postalCode")
        }
    return projection
