"""The JSON shapes Amazon sends for the sandbox's rows (Orders 2026-01-01, Orders v0, Feeds)."""

from decimal import Decimal

from seller_central_sandbox.catalog import MARKETPLACES
from seller_central_sandbox.generator import isoformat
from seller_central_sandbox.models import (
    FulfilledBy,
    FulfillmentStatus,
    SandboxFeed,
    SandboxOrder,
    SandboxOrderItem,
)

V0_STATUS = {
    FulfillmentStatus.PENDING_AVAILABILITY: "PendingAvailability",
    FulfillmentStatus.PENDING: "Pending",
    FulfillmentStatus.UNSHIPPED: "Unshipped",
    FulfillmentStatus.PARTIALLY_SHIPPED: "PartiallyShipped",
    FulfillmentStatus.SHIPPED: "Shipped",
    FulfillmentStatus.CANCELLED: "Canceled",
    FulfillmentStatus.UNFULFILLABLE: "Unfulfillable",
}
STATUS_FROM_V0 = {value: key for key, value in V0_STATUS.items()}
INCLUDED_DATA = {
    "BUYER",
    "RECIPIENT",
    "PROCEEDS",
    "EXPENSE",
    "PROMOTION",
    "CANCELLATION",
    "FULFILLMENT",
    "PACKAGES",
    "TAX",
    "PAYMENT",
    "FULFILLMENT_ORDERS",
}


def _amount(value: Decimal, order: SandboxOrder) -> str:
    places = MARKETPLACES[order.marketplace_id].decimal_places
    return str(value.quantize(Decimal(1).scaleb(-places)))


def _money(value: Decimal, order: SandboxOrder) -> dict:
    return {"amount": _amount(value, order), "currencyCode": order.currency_code}


def _has_prices(order: SandboxOrder) -> bool:
    # Amazon shows no prices before the payment is authorized.
    return order.status not in (FulfillmentStatus.PENDING, FulfillmentStatus.PENDING_AVAILABILITY)


def _item_subtotal(item: SandboxOrderItem) -> Decimal:
    return item.unit_price * item.quantity_ordered


def order_2026(order: SandboxOrder, included: set[str]) -> dict:
    """An Order of searchOrders / getOrder; the optional sections only when `included` asks.
    Expects `items` and `packages` prefetched."""
    details = order.details
    marketplace = MARKETPLACES[order.marketplace_id]
    items = list(order.items.all())
    result = {
        "orderId": order.order_id,
        "createdTime": isoformat(order.created_time),
        "lastUpdatedTime": isoformat(order.last_updated_time),
        "programs": list(details.get("programs", [])),
        "salesChannel": {
            "channelName": "AMAZON",
            "marketplaceId": order.marketplace_id,
            "marketplaceName": marketplace.name,
        },
        "orderItems": [_item_2026(order, item, included) for item in items],
    }
    if "BUYER" in included:
        result["buyer"] = dict(details["buyer"])
    if "RECIPIENT" in included and details.get("address"):
        result["recipient"] = {"deliveryAddress": dict(details["address"])}
    if "PROCEEDS" in included and _has_prices(order):
        items_total = sum((_item_subtotal(item) for item in items), Decimal(0))
        tax_total = sum((item.item_tax for item in items), Decimal(0))
        shipping = Decimal(details.get("shippingPrice", "0"))
        result["proceeds"] = {
            "grandTotal": _money(items_total + tax_total + shipping, order),
            "breakdowns": [
                {"type": "ITEM", "subtotal": _money(items_total, order)},
                {"type": "SHIPPING", "subtotal": _money(shipping, order)},
                {"type": "TAX", "subtotal": _money(tax_total, order)},
            ],
        }
    if "FULFILLMENT" in included:
        result["fulfillment"] = {
            "fulfillmentStatus": order.status,
            "fulfilledBy": order.fulfilled_by,
            "fulfillmentServiceLevel": details.get("serviceLevel", "STANDARD"),
            "shipByWindow": dict(details["shipByWindow"]),
            "deliverByWindow": dict(details["deliverByWindow"]),
        }
    if "PACKAGES" in included:
        result["packages"] = [
            {
                "packageReferenceId": package.package_reference_id,
                "createdTime": isoformat(package.created_time),
                "packageStatus": {"status": "SHIPPED"},
                "carrier": package.carrier_name or package.carrier_code,
                "shipTime": isoformat(package.ship_date),
                "shippingService": package.shipping_method,
                "trackingNumber": package.tracking_number,
                "packageItems": [dict(entry) for entry in package.package_items],
            }
            for package in order.packages.all()
        ]
    if "PAYMENT" in included and _has_prices(order):
        total = sum((_item_subtotal(i) + i.item_tax for i in items), Decimal(0))
        total += Decimal(details.get("shippingPrice", "0"))
        result["payment"] = {
            "paymentExecutions": [{"paymentMethod": "CARD", "paymentAmount": _money(total, order)}]
        }
    if "FULFILLMENT_ORDERS" in included:
        result["fulfillmentOrders"] = []
    return result


def _item_2026(order: SandboxOrder, item: SandboxOrderItem, included: set[str]) -> dict:
    product = {
        "asin": item.asin,
        "title": item.title,
        "sellerSku": item.seller_sku,
        "condition": {"conditionType": "NEW", "conditionSubtype": "NEW"},
    }
    if _has_prices(order):
        product["price"] = {"unitPrice": _money(item.unit_price, order)}
        if order.details.get("isBusiness"):
            product["price"]["priceDesignation"] = "BUSINESS_PRICE"
    result = {
        "orderItemId": item.order_item_id,
        "quantityOrdered": item.quantity_ordered,
        "programs": [],
        "product": product,
    }
    if "PROCEEDS" in included and _has_prices(order):
        subtotal = _item_subtotal(item)
        result["proceeds"] = {
            "proceedsTotal": _money(subtotal + item.item_tax, order),
            "breakdowns": [
                {"type": "ITEM", "subtotal": _money(subtotal, order)},
                {"type": "TAX", "subtotal": _money(item.item_tax, order)},
            ],
        }
    if "CANCELLATION" in included:
        cancellation = {}
        if item.buyer_cancel_reason:
            cancellation["cancellationRequest"] = {
                "requester": "BUYER",
                "cancelReason": item.buyer_cancel_reason,
            }
        if item.quantity_cancelled:
            cancellation["cancellationExecution"] = {
                "cancelledBy": item.cancelled_by,
                "cancelReason": item.cancel_reason,
            }
        if cancellation:
            result["cancellation"] = cancellation
    if "FULFILLMENT" in included:
        fulfillment = {
            "quantityFulfilled": item.quantity_shipped,
            "quantityUnfulfilled": item.quantity_ordered - item.quantity_shipped,
        }
        if item.gift_message or item.gift_wrap_level:
            fulfillment["packing"] = {
                "giftOption": {
                    "giftMessage": item.gift_message,
                    "giftWrapLevel": item.gift_wrap_level,
                }
            }
        result["fulfillment"] = fulfillment
    return result


def _money_v0(value: Decimal, order: SandboxOrder) -> dict:
    return {"CurrencyCode": order.currency_code, "Amount": _amount(value, order)}


def order_v0(order: SandboxOrder) -> dict:
    """An Order of Orders v0 getOrders / getOrder. Expects `items` prefetched."""
    details = order.details
    marketplace = MARKETPLACES[order.marketplace_id]
    items = list(order.items.all())
    shipped = sum(item.quantity_shipped for item in items)
    unshipped = sum(item.quantity_unshipped for item in items)
    result = {
        "AmazonOrderId": order.order_id,
        "PurchaseDate": isoformat(order.created_time),
        "LastUpdateDate": isoformat(order.last_updated_time),
        "OrderStatus": V0_STATUS[order.status],
        "FulfillmentChannel": "AFN" if order.fulfilled_by == FulfilledBy.AMAZON else "MFN",
        "SalesChannel": marketplace.v0_sales_channel,
        "ShipServiceLevel": details.get("serviceLevel", "STANDARD").title(),
        "NumberOfItemsShipped": shipped,
        "NumberOfItemsUnshipped": unshipped,
        "PaymentMethod": "Other",
        "MarketplaceId": order.marketplace_id,
        "ShipmentServiceLevelCategory": details.get("serviceLevel", "STANDARD").title(),
        "OrderType": "StandardOrder",
        "EarliestShipDate": details["shipByWindow"]["earliestDateTime"],
        "LatestShipDate": details["shipByWindow"]["latestDateTime"],
        "EarliestDeliveryDate": details["deliverByWindow"]["earliestDateTime"],
        "LatestDeliveryDate": details["deliverByWindow"]["latestDateTime"],
        "IsBusinessOrder": bool(details.get("isBusiness")),
        "IsPrime": bool(details.get("isPrime")),
        "IsPremiumOrder": False,
        "IsGlobalExpressEnabled": False,
        "IsReplacementOrder": False,
        "IsSoldByAB": False,
        "IsISPU": False,
        "IsAccessPointOrder": False,
        "HasRegulatedItems": False,
        "BuyerInfo": {"BuyerEmail": details["buyer"]["buyerEmail"]},
    }
    if _has_prices(order):
        total = sum((_item_subtotal(i) + i.item_tax for i in items), Decimal(0))
        total += Decimal(details.get("shippingPrice", "0"))
        result["OrderTotal"] = _money_v0(total, order)
    address = details.get("address")
    if address:
        # Without a Restricted Data Token v0 shows only where the parcel goes, not to whom.
        result["ShippingAddress"] = {
            "City": address["city"],
            "StateOrRegion": address["stateOrRegion"],
            "PostalCode": address["postalCode"],
            "CountryCode": address["countryCode"],
        }
    return result


def order_items_v0(order: SandboxOrder) -> dict:
    items = []
    for item in order.items.all():
        entry = {
            "ASIN": item.asin,
            "SellerSKU": item.seller_sku,
            "OrderItemId": item.order_item_id,
            "Title": item.title,
            "QuantityOrdered": item.quantity_ordered,
            "QuantityShipped": item.quantity_shipped,
            "ProductInfo": {"NumberOfItems": "1"},
            "IsGift": "true" if item.gift_message or item.gift_wrap_level else "false",
            "ConditionId": "New",
            "ConditionSubtypeId": "New",
            "IsTransparency": False,
            "SerialNumberRequired": False,
        }
        if _has_prices(order):
            entry["ItemPrice"] = _money_v0(_item_subtotal(item), order)
            entry["ItemTax"] = _money_v0(item.item_tax, order)
            entry["PromotionDiscount"] = _money_v0(Decimal(0), order)
        if order.details.get("isBusiness"):
            entry["PriceDesignation"] = "BusinessPrice"
        if item.gift_message or item.gift_wrap_level:
            entry["BuyerInfo"] = {
                "GiftMessageText": item.gift_message,
                "GiftWrapLevel": item.gift_wrap_level,
            }
        if item.buyer_cancel_reason:
            entry["BuyerRequestedCancel"] = {
                "IsBuyerRequestedCancel": "true",
                "BuyerCancelReason": item.buyer_cancel_reason,
            }
        items.append(entry)
    return {"AmazonOrderId": order.order_id, "OrderItems": items}


def order_address_v0(order: SandboxOrder) -> dict:
    result = {"AmazonOrderId": order.order_id}
    address = order.details.get("address")
    if address:
        result["ShippingAddress"] = {
            "Name": address["name"],
            "AddressLine1": address["addressLine1"],
            "City": address["city"],
            "StateOrRegion": address["stateOrRegion"],
            "PostalCode": address["postalCode"],
            "CountryCode": address["countryCode"],
            "Phone": address.get("phone", ""),
            "AddressType": "Commercial"
            if address["addressType"] == "COMMERCIAL"
            else "Residential",
        }
        if address.get("companyName"):
            result["ShippingAddress"]["CompanyName"] = address["companyName"]
            result["BuyerCompanyName"] = address["companyName"]
    return result


def order_buyer_info_v0(order: SandboxOrder) -> dict:
    buyer = order.details["buyer"]
    result = {
        "AmazonOrderId": order.order_id,
        "BuyerEmail": buyer["buyerEmail"],
        "BuyerName": buyer["buyerName"],
    }
    if buyer.get("buyerPurchaseOrderNumber"):
        result["PurchaseOrderNumber"] = buyer["buyerPurchaseOrderNumber"]
    return result


def feed(feed: SandboxFeed) -> dict:
    result = {
        "feedId": feed.feed_id,
        "feedType": feed.feed_type,
        "marketplaceIds": list(feed.marketplace_ids),
        "createdTime": isoformat(feed.created_time),
        "processingStatus": feed.processing_status,
    }
    if feed.processing_start_time:
        result["processingStartTime"] = isoformat(feed.processing_start_time)
    if feed.processing_end_time:
        result["processingEndTime"] = isoformat(feed.processing_end_time)
    if feed.result_document_id:
        result["resultFeedDocumentId"] = feed.result_document.document_id
    return result
