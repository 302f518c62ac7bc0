"""The SP-API operations of the sandbox: parse the request, call a selector or a service, answer
in Amazon's shape. The pipeline (auth, faults, usage plans, headers) is in api.py."""

import re
from datetime import UTC, timedelta

from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import timezone

from seller_central_sandbox import representations
from seller_central_sandbox.api import (
    error_response,
    int_parameter,
    json_body,
    json_response,
    list_parameter,
    public_endpoint,
    sp_api_operation,
)
from seller_central_sandbox.catalog import MARKETPLACE_LANGUAGES, MARKETPLACES
from seller_central_sandbox.generator import isoformat
from seller_central_sandbox.models import (
    FeedProcessingStatus,
    FulfillmentStatus,
    SandboxFeedDocument,
)
from seller_central_sandbox.selectors import (
    PAGINATION_PARAMETERS_DIFFER,
    FeedQuery,
    OrderQuery,
    amazon_now,
    checked_window,
    decode_token,
    encode_token,
    feed_search,
    feeds_unfinished,
    order_get,
    order_query_from_token,
    order_query_to_token,
    order_search,
    parse_timestamp,
)
from seller_central_sandbox.services.feeds import (
    feed_advance,
    feed_cancel,
    feed_create,
    feed_document_create,
    feed_document_download,
    feed_document_upload,
    feed_document_url_refresh,
    feeds_advance,
)
from seller_central_sandbox.services.orders import ShipmentItem, order_shipment_confirm
from seller_central_sandbox.services.sellers import (
    SandboxError,
    TokenGrantError,
    access_token_grant,
    application_token_grant,
)

# Amazon checks identifiers before looking them up: a malformed one is 400, an unknown one 404.
ORDER_ID = re.compile(r"\d{3}-\d{7}-\d{7}")
FEED_ID = re.compile(r"\d{1,20}")
FEED_DOCUMENT_ID = re.compile(r"amzn1\.tortuga\.[\w.-]{1,90}")

SEARCH_PAGES = "searchOrders"
V0_PAGES = "getOrders"
FEEDS_PAGES = "getFeeds"


@public_endpoint
def token(request: HttpRequest) -> HttpResponse:
    """Login with Amazon: POST /auth/o2/token, refresh-token and client_credentials grants."""
    if request.method != "POST":
        return json_response(
            {"error": "invalid_request", "error_description": "Use POST."}, status=405
        )
    if request.POST.get("grant_type") == "client_credentials":
        return _application_token(request)
    try:
        access = access_token_grant(
            grant_type=request.POST.get("grant_type", ""),
            refresh_token=request.POST.get("refresh_token", ""),
            client_id=request.POST.get("client_id", ""),
            client_secret=request.POST.get("client_secret", ""),
        )
    except TokenGrantError as error:
        return json_response(
            {"error": error.error, "error_description": error.description}, status=error.status
        )
    return json_response(
        {
            "access_token": access.token,
            "refresh_token": access.seller.refresh_token,
            "token_type": "bearer",
            "expires_in": int((access.expires_at - timezone.now()).total_seconds() + 0.5),
        }
    )


def _application_token(request: HttpRequest) -> HttpResponse:
    """The client_credentials grant: a grantless token, with no refresh token (developer-docs
    `connecting-to-the-selling-partner-api`, grantless operations)."""
    try:
        access = application_token_grant(
            client_id=request.POST.get("client_id", ""),
            client_secret=request.POST.get("client_secret", ""),
            scope=request.POST.get("scope", ""),
        )
    except TokenGrantError as error:
        return json_response(
            {"error": error.error, "error_description": error.description}, status=error.status
        )
    return json_response(
        {
            "access_token": access.token,
            "scope": access.scope,
            "token_type": "bearer",
            "expires_in": int((access.expires_at - timezone.now()).total_seconds() + 0.5),
        }
    )


def _checked_id(value: str, pattern: re.Pattern, name: str) -> str:
    if not pattern.fullmatch(value):
        raise SandboxError(f"{name} '{value}' is not valid.")
    return value


def _order_get(seller, order_id: str):
    return order_get(seller=seller, order_id=_checked_id(order_id, ORDER_ID, "orderId"))


def _enum_list(request: HttpRequest, name: str, allowed) -> list[str]:
    values = list_parameter(request, name)
    unknown = [value for value in values if value not in allowed]
    if unknown:
        raise SandboxError(f"{name} has invalid values: {', '.join(unknown)}.")
    return values


@sp_api_operation("searchOrders")
def search_orders(request: HttpRequest, seller) -> HttpResponse:
    pagination_token = request.GET.get("paginationToken")
    if pagination_token:
        query = order_query_from_token(pagination_token, SEARCH_PAGES)
        # Amazon's rule: a next page repeats every parameter of the first call. The model's
        # Pagination lets maxResultsPerPage and includedData change between calls (the
        # 400's own words name only maxResultsPerPage: our client never changes either).
        if _search_parameters(request) != query.parameters:
            raise SandboxError(PAGINATION_PARAMETERS_DIFFER)
        query.page_size = _search_page_size(request)
        query.included = sorted(_enum_list(request, "includedData", representations.INCLUDED_DATA))
    else:
        query = _search_orders_query(request, seller)
    orders, following = order_search(seller=seller, query=query)
    included = set(query.included)
    body = {
        "orders": [
            representations.order_2026(order, included, roles=seller.roles) for order in orders
        ]
    }
    if following is not None:
        body["pagination"] = {"nextToken": order_query_to_token(following, SEARCH_PAGES)}
    before_key = "lastUpdatedBefore" if query.mode == "updated" else "createdBefore"
    body[before_key] = isoformat(parse_timestamp(query.before, before_key))
    return json_response(body)


# The searchOrders parameters a next page must repeat (orders_2026-01-01.json), by kind.
SEARCH_TIME_PARAMETERS = ("createdAfter", "createdBefore", "lastUpdatedAfter", "lastUpdatedBefore")
# Not includedData: orders_2026-01-01.json Pagination, "with the exception of maxResultsPerPage
# and includedData, which can be modified between calls".
SEARCH_LIST_PARAMETERS = ("fulfillmentStatuses", "marketplaceIds", "fulfilledBy")


def _search_parameters(request: HttpRequest) -> dict:
    """The call's searchOrders parameters that a next page must repeat, normalised so that
    spellings of the same value compare equal: a time as the instant it names, a list as its
    sorted set of values (repeated or comma-separated, the model's default csv format). Amazon
    does not say whether the order of a list counts: the sandbox is lenient there. Absent stays
    absent (a next page omitting a parameter differs); maxResultsPerPage, paginationToken and
    keys the model does not know (python-amazon-sp-api appends spellings of marketplaceIds) are
    left out. Never raises: a value that does not parse is kept as written."""
    parameters = {}
    for name in SEARCH_TIME_PARAMETERS:
        value = request.GET.get(name)
        if value:
            try:
                parameters[name] = parse_timestamp(value, name).astimezone(UTC).isoformat()
            except (SandboxError, ValueError):
                parameters[name] = value
    for name in SEARCH_LIST_PARAMETERS:
        values = list_parameter(request, name)
        if values:
            parameters[name] = sorted(set(values))
    return parameters


def _search_page_size(request: HttpRequest) -> int:
    return int_parameter(request, "maxResultsPerPage", default=100, low=1, high=100)


def _search_orders_query(request: HttpRequest, seller) -> OrderQuery:
    created_after = request.GET.get("createdAfter")
    created_before = request.GET.get("createdBefore")
    updated_after = request.GET.get("lastUpdatedAfter")
    updated_before = request.GET.get("lastUpdatedBefore")
    if bool(created_after) == bool(updated_after):
        raise SandboxError("Exactly one of createdAfter and lastUpdatedAfter must be provided.")
    if created_after and updated_before:
        raise SandboxError("lastUpdatedBefore cannot be used with createdAfter.")
    if updated_after and created_before:
        raise SandboxError("createdBefore cannot be used with lastUpdatedAfter.")
    if created_after:
        mode, (after, before) = (
            "created",
            checked_window(
                after_value=created_after,
                before_value=created_before,
                after_name="createdAfter",
                before_name="createdBefore",
                now=amazon_now(seller),
            ),
        )
    else:
        mode, (after, before) = (
            "updated",
            checked_window(
                after_value=updated_after,
                before_value=updated_before,
                after_name="lastUpdatedAfter",
                before_name="lastUpdatedBefore",
                now=amazon_now(seller),
            ),
        )
    marketplace_ids = list_parameter(request, "marketplaceIds")
    if len(marketplace_ids) > 50:
        raise SandboxError("marketplaceIds accepts at most 50 values.")
    return OrderQuery(
        mode=mode,
        after=after.isoformat(),
        before=before.isoformat(),
        statuses=_enum_list(request, "fulfillmentStatuses", FulfillmentStatus.values),
        fulfilled_by=_enum_list(request, "fulfilledBy", ("MERCHANT", "AMAZON")),
        marketplace_ids=marketplace_ids,
        page_size=_search_page_size(request),
        included=sorted(_enum_list(request, "includedData", representations.INCLUDED_DATA)),
        parameters=_search_parameters(request),
    )


@sp_api_operation("getOrder")
def get_order(request: HttpRequest, seller, order_id: str) -> HttpResponse:
    included = set(_enum_list(request, "includedData", representations.INCLUDED_DATA))
    order = _order_get(seller, order_id)
    return json_response({"order": representations.order_2026(order, included, roles=seller.roles)})


@sp_api_operation("getOrders")
def get_orders_v0(request: HttpRequest, seller) -> HttpResponse:
    next_token = request.GET.get("NextToken")
    if next_token:
        query = order_query_from_token(next_token, V0_PAGES)
    else:
        query = _get_orders_query(request, seller)
    orders, following = order_search(seller=seller, query=query)
    payload = {"Orders": [representations.order_v0(order, roles=seller.roles) for order in orders]}
    if following is not None:
        payload["NextToken"] = order_query_to_token(following, V0_PAGES)
    if query.mode == "updated":
        payload["LastUpdatedBefore"] = isoformat(parse_timestamp(query.before, "before"))
    elif query.mode == "created":
        payload["CreatedBefore"] = isoformat(parse_timestamp(query.before, "before"))
    return json_response({"payload": payload})


def _get_orders_query(request: HttpRequest, seller) -> OrderQuery:
    marketplace_ids = list_parameter(request, "MarketplaceIds")
    if not marketplace_ids:
        raise SandboxError("MarketplaceIds is required.")
    if len(marketplace_ids) > 50:
        raise SandboxError("MarketplaceIds accepts at most 50 values.")
    order_ids = list_parameter(request, "AmazonOrderIds")
    if len(order_ids) > 50:
        # ordersV0.json AmazonOrderIds: maxItems 50.
        raise SandboxError("AmazonOrderIds accepts at most 50 values.")
    created_after = request.GET.get("CreatedAfter")
    updated_after = request.GET.get("LastUpdatedAfter")
    if created_after and updated_after:
        raise SandboxError("CreatedAfter and LastUpdatedAfter cannot both be provided.")
    statuses = [
        representations.V0_STATUS_FILTERS[value]
        for value in _enum_list(request, "OrderStatuses", representations.V0_STATUS_FILTERS)
    ]
    channels = _enum_list(request, "FulfillmentChannels", ("AFN", "MFN"))
    query = OrderQuery(
        mode="ids",
        statuses=statuses,
        fulfilled_by=["AMAZON" if value == "AFN" else "MERCHANT" for value in channels],
        marketplace_ids=marketplace_ids,
        order_ids=order_ids,
        page_size=int_parameter(request, "MaxResultsPerPage", default=100, low=1, high=100),
    )
    if created_after:
        after, before = checked_window(
            after_value=created_after,
            before_value=request.GET.get("CreatedBefore"),
            after_name="CreatedAfter",
            before_name="CreatedBefore",
            now=amazon_now(seller),
        )
        query.mode = "created"
    elif updated_after:
        after, before = checked_window(
            after_value=updated_after,
            before_value=request.GET.get("LastUpdatedBefore"),
            after_name="LastUpdatedAfter",
            before_name="LastUpdatedBefore",
            now=amazon_now(seller),
        )
        query.mode = "updated"
    elif not order_ids:
        raise SandboxError("One of CreatedAfter, LastUpdatedAfter or AmazonOrderIds is required.")
    if query.mode != "ids":
        query.after, query.before = after.isoformat(), before.isoformat()
    return query


@sp_api_operation("getOrderV0")
def get_order_v0(request: HttpRequest, seller, order_id: str) -> HttpResponse:
    order = _order_get(seller, order_id)
    return json_response({"payload": representations.order_v0(order, roles=seller.roles)})


@sp_api_operation("getOrderItems")
def get_order_items_v0(request: HttpRequest, seller, order_id: str) -> HttpResponse:
    order = _order_get(seller, order_id)
    return json_response({"payload": representations.order_items_v0(order, roles=seller.roles)})


@sp_api_operation("getOrderAddress")
def get_order_address_v0(request: HttpRequest, seller, order_id: str) -> HttpResponse:
    order = _order_get(seller, order_id)
    return json_response({"payload": representations.order_address_v0(order, roles=seller.roles)})


@sp_api_operation("getOrderBuyerInfo")
def get_order_buyer_info_v0(request: HttpRequest, seller, order_id: str) -> HttpResponse:
    order = _order_get(seller, order_id)
    return json_response(
        {"payload": representations.order_buyer_info_v0(order, roles=seller.roles)}
    )


@sp_api_operation("confirmShipment", methods=("POST",))
def confirm_shipment(request: HttpRequest, seller, order_id: str) -> HttpResponse:
    _checked_id(order_id, ORDER_ID, "orderId")
    body = json_body(request)
    detail = body.get("packageDetail")
    marketplace_id = body.get("marketplaceId")
    if not isinstance(marketplace_id, str) or not marketplace_id:
        raise SandboxError("marketplaceId is required.")
    if not isinstance(detail, dict):
        raise SandboxError("packageDetail is required.")
    # ordersV0.json PackageDetail.required; amzn/selling-partner-api-models#4329: the
    # trackingNumber is required by confirmShipment, in the EU stores too.
    for name in ("packageReferenceId", "carrierCode", "trackingNumber", "shipDate"):
        if not isinstance(detail.get(name), str) or not detail[name]:
            raise SandboxError(f"packageDetail.{name} is required.")
    # ordersV0.json PackageDetail.carrierName: "Required when `carrierCode` is "Other"";
    # amzn/selling-partner-api-docs#772: an unlisted carrier is Other with its name.
    carrier_name = detail.get("carrierName")
    if detail["carrierCode"] == "Other" and (
        not isinstance(carrier_name, str) or not carrier_name.strip()
    ):
        raise SandboxError('packageDetail.carrierName is required when carrierCode is "Other".')
    reference = detail["packageReferenceId"]
    if not reference.isascii() or not reference.isdigit() or int(reference) < 1:
        # ordersV0.json PackageReferenceId: "Only positive numeric values are supported";
        # amzn/selling-partner-api-models#5094: production answers 400 for other values.
        raise SandboxError(
            "packageDetail.packageReferenceId must be a positive number (given "
            f"'{reference[:40]}')."
        )
    entries = detail.get("orderItems")
    if not isinstance(entries, list) or not all(
        isinstance(entry, dict)
        and isinstance(entry.get("orderItemId"), str)
        and isinstance(entry.get("quantity"), int)
        and not isinstance(entry.get("quantity"), bool)
        for entry in entries
    ):
        raise SandboxError("packageDetail.orderItems must list {orderItemId, quantity}.")
    order_shipment_confirm(
        seller=seller,
        order_id=order_id,
        marketplace_id=marketplace_id,
        package_reference_id=detail["packageReferenceId"],
        carrier_code=detail["carrierCode"],
        carrier_name=str(detail.get("carrierName") or ""),
        shipping_method=str(detail.get("shippingMethod") or ""),
        tracking_number=detail["trackingNumber"],
        ship_date=detail["shipDate"],
        items=[ShipmentItem(entry["orderItemId"], entry["quantity"]) for entry in entries],
    )
    return HttpResponse(status=204)


def _document_url(request: HttpRequest, document: SandboxFeedDocument) -> str:
    return request.build_absolute_uri(
        reverse("sandbox_feed_document_content", args=[document.url_token])
    )


@sp_api_operation("createFeedDocument", methods=("POST",))
def create_feed_document(request: HttpRequest, seller) -> HttpResponse:
    content_type = json_body(request).get("contentType")
    if not isinstance(content_type, str):
        raise SandboxError("contentType is required.")
    document = feed_document_create(seller=seller, content_type=content_type)
    return json_response(
        {"feedDocumentId": document.document_id, "url": _document_url(request, document)},
        status=201,
    )


@sp_api_operation("getFeedDocument")
def get_feed_document(request: HttpRequest, seller, document_id: str) -> HttpResponse:
    _checked_id(document_id, FEED_DOCUMENT_ID, "feedDocumentId")
    document = SandboxFeedDocument.objects.filter(seller=seller, document_id=document_id).first()
    if document is None:
        raise SandboxError(
            f"Feed document {document_id} was not found.", code="NotFound", status=404
        )
    document = feed_document_url_refresh(document=document)
    body = {"feedDocumentId": document.document_id, "url": _document_url(request, document)}
    if document.compression_algorithm:
        # FeedDocument.compressionAlgorithm (feeds_2021-06-30.json): the bytes at the URL are
        # compressed and "you must decompress the feed when you download".
        body["compressionAlgorithm"] = document.compression_algorithm
    return json_response(body)


@public_endpoint
def feed_document_content(request: HttpRequest, url_token: str) -> HttpResponse:
    """The presigned URL of a document: PUT uploads the bytes, GET downloads them."""
    try:
        if request.method == "PUT":
            feed_document_upload(url_token=url_token, content=request.body)
            return HttpResponse(status=200)
        if request.method == "GET":
            document = feed_document_download(url_token=url_token)
            # The stored bytes as they are: a GZIP document is served compressed, with no
            # Content-Encoding, so the caller must decompress it itself.
            return HttpResponse(bytes(document.content), content_type=document.content_type)
    except SandboxError as error:
        return error_response(error.status, error.code, error.message, "")
    return error_response(405, "MethodNotAllowed", f"{request.method} is not supported.", "")


@public_endpoint
def feeds(request: HttpRequest) -> HttpResponse:
    """/feeds/2021-06-30/feeds: getFeeds (GET) and createFeed (POST) share the path."""
    if request.method == "POST":
        return create_feed(request)
    return get_feeds(request)


@sp_api_operation("createFeed", methods=("POST",))
def create_feed(request: HttpRequest, seller) -> HttpResponse:
    body = json_body(request)
    feed = feed_create(
        seller=seller,
        feed_type=body.get("feedType"),
        marketplace_ids=body.get("marketplaceIds"),
        input_document_id=body.get("inputFeedDocumentId"),
    )
    return json_response({"feedId": feed.feed_id}, status=202)


@sp_api_operation("getFeeds")
def get_feeds(request: HttpRequest, seller) -> HttpResponse:
    next_token = request.GET.get("nextToken")
    if next_token and set(request.GET) - {"nextToken"}:
        # feeds_2021-06-30.json, nextToken: "include this token as the only parameter.
        # Specifying nextToken with any other parameters will cause the request to fail."
        raise SandboxError("nextToken must be the only parameter.")
    if next_token:
        query = FeedQuery(**decode_token(FEEDS_PAGES, next_token))
    else:
        query = _get_feeds_query(request)
    # Statuses are computed lazily: bring unfinished feeds up to date before filtering on them.
    feeds_advance(seller=seller, feed_ids=feeds_unfinished(seller=seller))
    page, following = feed_search(seller=seller, query=query)
    body = {"feeds": [representations.feed(feed) for feed in page]}
    if following is not None:
        body["nextToken"] = encode_token(FEEDS_PAGES, following.__dict__)
    return json_response(body)


def _get_feeds_query(request: HttpRequest) -> FeedQuery:
    feed_types = list_parameter(request, "feedTypes")
    if not 1 <= len(feed_types) <= 10:
        raise SandboxError("feedTypes (1 to 10 values) or nextToken is required.")
    marketplace_ids = list_parameter(request, "marketplaceIds")
    if len(marketplace_ids) > 10:
        raise SandboxError("marketplaceIds accepts at most 10 values.")
    now = timezone.now()
    since = request.GET.get("createdSince")
    until = request.GET.get("createdUntil")
    created_since = parse_timestamp(since, "createdSince") if since else now - timedelta(days=90)
    created_until = parse_timestamp(until, "createdUntil") if until else now
    if created_since > created_until:
        raise SandboxError("createdSince must be before createdUntil.")
    return FeedQuery(
        feed_types=feed_types,
        marketplace_ids=marketplace_ids,
        statuses=_enum_list(request, "processingStatuses", FeedProcessingStatus.values),
        created_since=created_since.isoformat(),
        created_until=created_until.isoformat(),
        page_size=int_parameter(request, "pageSize", default=10, low=1, high=100),
    )


@public_endpoint
def feed(request: HttpRequest, feed_id: str) -> HttpResponse:
    """/feeds/2021-06-30/feeds/{feedId}: getFeed (GET) and cancelFeed (DELETE)."""
    if request.method == "DELETE":
        return cancel_feed(request, feed_id)
    return get_feed(request, feed_id)


@sp_api_operation("getFeed")
def get_feed(request: HttpRequest, seller, feed_id: str) -> HttpResponse:
    _checked_id(feed_id, FEED_ID, "feedId")
    return json_response(representations.feed(feed_advance(seller=seller, feed_id=feed_id)))


@sp_api_operation("cancelFeed", methods=("DELETE",))
def cancel_feed(request: HttpRequest, seller, feed_id: str) -> HttpResponse:
    _checked_id(feed_id, FEED_ID, "feedId")
    feed_cancel(seller=seller, feed_id=feed_id)
    return HttpResponse(status=200)


@sp_api_operation("getMarketplaceParticipations")
def get_marketplace_participations(request: HttpRequest, seller) -> HttpResponse:
    """GET /sellers/v1/marketplaceParticipations: the seller's marketplaces in `payload`, as
    sellers.json's GetMarketplaceParticipationsResponse (no parameters; the region's endpoint and
    the seller's token decide the answer)."""
    payload = []
    for marketplace_id in seller.marketplace_ids:
        marketplace = MARKETPLACES[marketplace_id]
        payload.append(
            {
                "marketplace": {
                    "id": marketplace.marketplace_id,
                    "name": marketplace.name,
                    "countryCode": marketplace.country_code,
                    "defaultCurrencyCode": marketplace.currency_code,
                    "defaultLanguageCode": MARKETPLACE_LANGUAGES[marketplace.country_code],
                    # Amazon's example: name "Amazon.com", domainName "www.amazon.com".
                    "domainName": "www." + marketplace.name.lower(),
                },
                "participation": {"isParticipating": True, "hasSuspendedListings": False},
                "storeName": seller.name or seller.seller_id,
            }
        )
    return json_response({"payload": payload})


@public_endpoint
def not_found(request: HttpRequest, path: str = "") -> HttpResponse:
    return error_response(404, "NotFound", "The requested resource was not found.", "")
