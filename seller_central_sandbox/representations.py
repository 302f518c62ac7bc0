"""The JSON shapes Amazon sends for the sandbox's rows (Orders 2026-01-01, Orders v0, Feeds).

What a seller's application may see of the buyer follows Amazon's rules, not our client's needs:
the personal data (Amazon's "Access Orders PII",
https://developer-docs.amazon.com/sp-api/docs/access-orders-pii: buyer name and email, gift
message, and the recipient's name, address lines, postal code, phone and extended fields) comes
only to an application holding the restricted Direct-to-Consumer Shipping role, and only for
orders in UNSHIPPED, PARTIALLY_SHIPPED or SHIPPED. Otherwise Amazon omits those fields and still
sends the rest (city, region, country, company). The roles are the seller's `roles`.
"""

from decimal import Decimal

from django.utils import timezone
from django.utils.dateparse import parse_datetime

from seller_central_sandbox.catalog import MARKETPLACES
from seller_central_sandbox.generator import isoformat
from seller_central_sandbox.models import (
    FulfilledBy,
    FulfillmentStatus,
    SandboxFeed,
    SandboxOrder,
    SandboxOrderItem,
    SellerRole,
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
# ordersV0.json OrderStatuses also accepts InvoiceUnconfirmed (an order of a marketplace where
# Amazon waits for the seller's invoice): a valid filter that no sandbox order matches.
V0_STATUS_FILTERS = {**STATUS_FROM_V0, "InvoiceUnconfirmed": "INVOICE_UNCONFIRMED"}
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


# Amazon shares the buyer's personal data of these orders only (Access Orders PII: "The order is
# in UNSHIPPED, PARTIALLY_SHIPPED, or SHIPPED status"; ordersV0.json Order.ShippingAddress).
PERSONAL_DATA_STATUSES = {
    FulfillmentStatus.UNSHIPPED,
    FulfillmentStatus.PARTIALLY_SHIPPED,
    FulfillmentStatus.SHIPPED,
}
# CustomerAddress fields Amazon lists as PII (Access Orders PII): the rest is always sent.
PERSONAL_ADDRESS_KEYS = {
    "name",
    "addressLine1",
    "addressLine2",
    "addressLine3",
    "postalCode",
    "phone",
    "extendedFields",
}
PERSONAL_BUYER_KEYS = {"buyerName", "buyerEmail"}


def _roles(order: SandboxOrder, roles) -> set[str]:
    # Callers that know the seller pass its roles: reading order.seller costs a query per order.
    return set(order.seller.roles if roles is None else roles)


def _is_personal_data_shared(order: SandboxOrder, roles: set[str]) -> bool:
    is_role_granted = SellerRole.DIRECT_TO_CONSUMER_SHIPPING.value in roles
    return is_role_granted and order.status in PERSONAL_DATA_STATUSES


def _is_phone_suppressed(order: SandboxOrder) -> bool:
    """CustomerAddress.phone (orders_2026-01-01.json) and Address.Phone (ordersV0.json): the
    phone is suppressed for every FBA order, and for a shipped FBM order once the latest
    delivery date has passed."""
    if order.fulfilled_by == FulfilledBy.AMAZON:
        return True
    window = order.details.get("deliverByWindow") or {}
    latest = parse_datetime(str(window.get("latestDateTime")))
    return order.status == FulfillmentStatus.SHIPPED and (latest is None or latest < timezone.now())


def _delivery_address(order: SandboxOrder, is_shared: bool) -> dict:
    address = dict(order.details["address"])
    if not is_shared:
        address = {key: value for key, value in address.items() if key not in PERSONAL_ADDRESS_KEYS}
    if _is_phone_suppressed(order):
        address.pop("phone", None)
    return address


def _shipping_shares(order: SandboxOrder, items: list[SandboxOrderItem]) -> list[Decimal]:
    """The order's shipping charge split over its items, as Amazon reports it: SHIPPING in each
    item's proceeds, the order's SHIPPING being their sum (orders_2026-01-01.json
    ItemProceedsBreakdown; OrderProceedsBreakdown: "aggregated across all order items").

    In proportion to the items' subtotals; the smallest currency units left over go to the
    items with the largest remainders (the first on a tie), so the shares add up exactly."""
    if not items:
        return []
    unit = Decimal(1).scaleb(-MARKETPLACES[order.marketplace_id].decimal_places)
    total_units = int(Decimal(order.details.get("shippingPrice") or "0").quantize(unit) / unit)
    weights = [int(_item_subtotal(item).scaleb(2)) for item in items]
    if not any(weights):
        weights = [item.quantity_ordered or 1 for item in items]
    whole = sum(weights)
    shares = [total_units * weight // whole for weight in weights]
    remainders = [total_units * weight % whole for weight in weights]
    leftover = total_units - sum(shares)
    for position in sorted(range(len(items)), key=lambda index: -remainders[index])[:leftover]:
        shares[position] += 1
    return [unit * share for share in shares]


def order_2026(order: SandboxOrder, included: set[str], *, roles=None) -> dict:
    """An Order of searchOrders / getOrder; the optional sections only when `included` asks,
    the buyer's personal data only as the seller's `roles` (default: read from the seller) and
    the order's status allow. Expects `items` and `packages` prefetched."""
    details = order.details
    marketplace = MARKETPLACES[order.marketplace_id]
    items = list(order.items.all())
    is_shared = _is_personal_data_shared(order, _roles(order, roles))
    shipping_shares = _shipping_shares(order, items) if _has_prices(order) else []
    has_shipping = any(shipping_shares)
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
        "orderItems": [
            _item_2026(
                order,
                item,
                included,
                shipping=shipping_shares[position] if has_shipping else None,
                is_shared=is_shared,
            )
            for position, item in enumerate(items)
        ],
    }
    if "BUYER" in included:
        result["buyer"] = {
            key: value
            for key, value in details["buyer"].items()
            if is_shared or key not in PERSONAL_BUYER_KEYS
        }
    if "RECIPIENT" in included and details.get("address"):
        result["recipient"] = {"deliveryAddress": _delivery_address(order, is_shared)}
    if "PROCEEDS" in included and _has_prices(order):
        items_total = sum((_item_subtotal(item) for item in items), Decimal(0))
        tax_total = sum((item.item_tax for item in items), Decimal(0))
        shipping = sum(shipping_shares, Decimal(0))
        breakdowns = [{"type": "ITEM", "subtotal": _money(items_total, order)}]
        if shipping:
            breakdowns.append({"type": "SHIPPING", "subtotal": _money(shipping, order)})
        breakdowns.append({"type": "TAX", "subtotal": _money(tax_total, order)})
        result["proceeds"] = {
            "grandTotal": _money(items_total + tax_total + shipping, order),
            "breakdowns": breakdowns,
        }
    if "FULFILLMENT" in included:
        result["fulfillment"] = {
            "fulfillmentStatus": order.status,
            "fulfilledBy": order.fulfilled_by,
            "fulfillmentServiceLevel": details.get("serviceLevel", "STANDARD"),
        }
        # Amazon's own FBA example (searchOrders' sandbox case) has no windows: both optional.
        for window in ("shipByWindow", "deliverByWindow"):
            if details.get(window):
                result["fulfillment"][window] = dict(details[window])
    # Order.packages: "Only available for merchant-fulfilled (FBM) orders".
    if "PACKAGES" in included and order.fulfilled_by == FulfilledBy.MERCHANT:
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
        result["payment"] = {
            "paymentExecutions": [
                {"paymentMethod": "CARD", "paymentAmount": _money(_order_total(order), order)}
            ]
        }
    if "FULFILLMENT_ORDERS" in included:
        result["fulfillmentOrders"] = []
    return result


def _order_total(order: SandboxOrder) -> Decimal:
    """What the buyer pays: items, their tax and the shipping charge (the grand total)."""
    items = list(order.items.all())
    total = sum((_item_subtotal(item) + item.item_tax for item in items), Decimal(0))
    return total + sum(_shipping_shares(order, items), Decimal(0))


def _item_2026(
    order: SandboxOrder,
    item: SandboxOrderItem,
    included: set[str],
    *,
    shipping: Decimal | None,
    is_shared: bool,
) -> dict:
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
        breakdowns = [{"type": "ITEM", "subtotal": _money(subtotal, order)}]
        # Amazon's getOrder example (orders_2026-01-01.json): an item's proceeds carry its
        # SHIPPING, and its proceedsTotal includes it.
        if shipping is not None:
            breakdowns.append({"type": "SHIPPING", "subtotal": _money(shipping, order)})
        breakdowns.append({"type": "TAX", "subtotal": _money(item.item_tax, order)})
        result["proceeds"] = {
            "proceedsTotal": _money(subtotal + item.item_tax + (shipping or 0), order),
            "breakdowns": breakdowns,
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
            gift_option = {"giftWrapLevel": item.gift_wrap_level}
            # The gift message is the buyer's personal data too (Access Orders PII).
            if is_shared:
                gift_option["giftMessage"] = item.gift_message
            fulfillment["packing"] = {"giftOption": gift_option}
        result["fulfillment"] = fulfillment
    return result


def _money_v0(value: Decimal, order: SandboxOrder) -> dict:
    return {"CurrencyCode": order.currency_code, "Amount": _amount(value, order)}


def order_v0(order: SandboxOrder, *, roles=None) -> dict:
    """An Order of Orders v0 getOrders / getOrder. Expects `items` prefetched.

    ordersV0.json Order: ShippingAddress "is only available for orders with the following
    status values: Unshipped, PartiallyShipped, Shipped"; without the restricted role it shows
    where the parcel goes (city, region, postal code, country), not to whom; BuyerInfo is
    restricted data."""
    details = order.details
    marketplace = MARKETPLACES[order.marketplace_id]
    items = list(order.items.all())
    is_shared = _is_personal_data_shared(order, _roles(order, roles))
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
        "IsBusinessOrder": bool(details.get("isBusiness")),
        "IsPrime": bool(details.get("isPrime")),
        "IsPremiumOrder": False,
        "IsGlobalExpressEnabled": False,
        "IsReplacementOrder": False,
        "IsSoldByAB": False,
        "IsISPU": False,
        "IsAccessPointOrder": False,
        "HasRegulatedItems": False,
    }
    for name, window, key in (
        ("EarliestShipDate", "shipByWindow", "earliestDateTime"),
        ("LatestShipDate", "shipByWindow", "latestDateTime"),
        ("EarliestDeliveryDate", "deliverByWindow", "earliestDateTime"),
        ("LatestDeliveryDate", "deliverByWindow", "latestDateTime"),
    ):
        if (details.get(window) or {}).get(key):
            result[name] = details[window][key]
    if is_shared and details["buyer"].get("buyerEmail"):
        result["BuyerInfo"] = {"BuyerEmail": details["buyer"]["buyerEmail"]}
    if _has_prices(order):
        result["OrderTotal"] = _money_v0(_order_total(order), order)
    address = details.get("address")
    if address and order.status in PERSONAL_DATA_STATUSES:
        result["ShippingAddress"] = _where_v0(address)
    return result


def _where_v0(address: dict) -> dict:
    """The parts of a v0 Address that say where the parcel goes, not to whom: PostalCode is not
    among the restricted parts listed on ordersV0.json Order.ShippingAddress."""
    parts = {
        "City": "city",
        "StateOrRegion": "stateOrRegion",
        "PostalCode": "postalCode",
        "CountryCode": "countryCode",
    }
    return {name: address[key] for name, key in parts.items() if address.get(key)}


def order_items_v0(order: SandboxOrder, *, roles=None) -> dict:
    """getOrderItems. GiftMessageText is restricted data (ordersV0.json OrderItem.BuyerInfo)."""
    items = list(order.items.all())
    is_shared = _is_personal_data_shared(order, _roles(order, roles))
    shipping_shares = _shipping_shares(order, items)
    has_shipping = any(shipping_shares)
    entries = []
    for item, shipping in zip(items, shipping_shares, strict=True):
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
            if has_shipping:
                # ordersV0.json OrderItem.ShippingPrice: the item's share of the order's shipping.
                entry["ShippingPrice"] = _money_v0(shipping, order)
            entry["PromotionDiscount"] = _money_v0(Decimal(0), order)
        if order.details.get("isBusiness"):
            entry["PriceDesignation"] = "BusinessPrice"
        if item.gift_message or item.gift_wrap_level:
            entry["BuyerInfo"] = {"GiftWrapLevel": item.gift_wrap_level}
            if is_shared:
                entry["BuyerInfo"]["GiftMessageText"] = item.gift_message
        if item.buyer_cancel_reason:
            entry["BuyerRequestedCancel"] = {
                "IsBuyerRequestedCancel": "true",
                "BuyerCancelReason": item.buyer_cancel_reason,
            }
        entries.append(entry)
    return {"AmazonOrderId": order.order_id, "OrderItems": entries}


def order_address_v0(order: SandboxOrder, *, roles=None) -> dict:
    """getOrderAddress: ShippingAddress only for Unshipped, PartiallyShipped and Shipped orders;
    its restricted data (Name, AddressLine1-3, Phone, AddressType, ExtendedFields: the note on
    ordersV0.json Order.ShippingAddress) only with the restricted role."""
    result = {"AmazonOrderId": order.order_id}
    address = order.details.get("address")
    if address and order.status in PERSONAL_DATA_STATUSES:
        shipping_address = _where_v0(address)
        if _is_personal_data_shared(order, _roles(order, roles)):
            for name, key in (("Name", "name"), ("AddressLine1", "addressLine1")):
                if address.get(key):
                    shipping_address[name] = address[key]
            shipping_address["AddressType"] = (
                "Commercial" if address.get("addressType") == "COMMERCIAL" else "Residential"
            )
            if address.get("phone") and not _is_phone_suppressed(order):
                shipping_address["Phone"] = address["phone"]
        if address.get("companyName"):
            shipping_address["CompanyName"] = address["companyName"]
            result["BuyerCompanyName"] = address["companyName"]
        result["ShippingAddress"] = shipping_address
    return result


def order_buyer_info_v0(order: SandboxOrder, *, roles=None) -> dict:
    """getOrderBuyerInfo: BuyerEmail, BuyerName and PurchaseOrderNumber are restricted data
    (ordersV0.json Order.BuyerInfo), shared for Unshipped, PartiallyShipped and Shipped orders
    only (amzn/selling-partner-api-models#4536)."""
    result = {"AmazonOrderId": order.order_id}
    if not _is_personal_data_shared(order, _roles(order, roles)):
        return result
    buyer = order.details["buyer"]
    result["BuyerEmail"] = buyer["buyerEmail"]
    result["BuyerName"] = buyer["buyerName"]
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
