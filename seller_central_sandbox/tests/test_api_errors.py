"""Every operation's error answers (400, 403, 404, 429), each against Amazon's model of that
operation and response: the shape a client's error handling relies on."""

from dataclasses import dataclass

import httpx
import pytest

from seller_central_sandbox.tests.contract import find_operation, validate
from seller_central_sandbox.tests.helpers import access_token

pytestmark = pytest.mark.django_db(transaction=True)

UNKNOWN_ORDER = "999-0000000-0000000"
UNKNOWN_DOCUMENT = "amzn1.tortuga.4.na.00000000-0000-0000-0000-000000000000"
UNKNOWN_FEED = "50000000001"
PACKAGE = {
    "packageReferenceId": "1",
    "carrierCode": "UPS",
    "trackingNumber": "1Z1",
    "shipDate": "2025-06-01T10:00:00Z",
    "orderItems": [{"orderItemId": "10000000000000", "quantity": 1}],
}
SHIPMENT = {"marketplaceId": "ATVPDKIKX0DER", "packageDetail": PACKAGE}


@dataclass(frozen=True)
class Call:
    method: str
    path: str
    json: dict | None = None
    params: dict | None = None


# Per operation: its documented burst (Amazon's usage plan) and a call for each error status it
# can give without a fault injected; the first call is repeated to empty the bucket.
OPERATIONS = {
    "searchOrders": (
        20,
        {400: Call("GET", "/orders/2026-01-01/orders")},
    ),
    "getOrder": (
        30,
        {
            404: Call("GET", f"/orders/2026-01-01/orders/{UNKNOWN_ORDER}"),
            400: Call("GET", "/orders/2026-01-01/orders/not-an-order"),
        },
    ),
    "getOrders": (
        20,
        {400: Call("GET", "/orders/v0/orders", params={"CreatedAfter": "2025-01-01T00:00:00Z"})},
    ),
    "getOrderV0": (
        30,
        {
            404: Call("GET", f"/orders/v0/orders/{UNKNOWN_ORDER}"),
            400: Call("GET", "/orders/v0/orders/not-an-order"),
        },
    ),
    "getOrderItems": (
        30,
        {
            404: Call("GET", f"/orders/v0/orders/{UNKNOWN_ORDER}/orderItems"),
            400: Call("GET", "/orders/v0/orders/not-an-order/orderItems"),
        },
    ),
    "getOrderAddress": (
        30,
        {
            404: Call("GET", f"/orders/v0/orders/{UNKNOWN_ORDER}/address"),
            400: Call("GET", "/orders/v0/orders/not-an-order/address"),
        },
    ),
    "getOrderBuyerInfo": (
        30,
        {
            404: Call("GET", f"/orders/v0/orders/{UNKNOWN_ORDER}/buyerInfo"),
            400: Call("GET", "/orders/v0/orders/not-an-order/buyerInfo"),
        },
    ),
    "confirmShipment": (
        10,
        {
            404: Call("POST", f"/orders/v0/orders/{UNKNOWN_ORDER}/shipmentConfirmation", SHIPMENT),
            400: Call("POST", "/orders/v0/orders/not-an-order/shipmentConfirmation", SHIPMENT),
        },
    ),
    "createFeedDocument": (
        15,
        {400: Call("POST", "/feeds/2021-06-30/documents", {})},
    ),
    "getFeedDocument": (
        10,
        {
            404: Call("GET", f"/feeds/2021-06-30/documents/{UNKNOWN_DOCUMENT}"),
            400: Call("GET", "/feeds/2021-06-30/documents/not-a-document"),
        },
    ),
    "createFeed": (
        15,
        {
            400: Call(
                "POST",
                "/feeds/2021-06-30/feeds",
                {
                    "feedType": "POST_ORDER_ACKNOWLEDGEMENT_DATA",
                    "marketplaceIds": ["ATVPDKIKX0DER"],
                    "inputFeedDocumentId": UNKNOWN_DOCUMENT,
                },
            )
        },
    ),
    "getFeeds": (
        10,
        {400: Call("GET", "/feeds/2021-06-30/feeds")},
    ),
    "getFeed": (
        15,
        {
            404: Call("GET", f"/feeds/2021-06-30/feeds/{UNKNOWN_FEED}"),
            400: Call("GET", "/feeds/2021-06-30/feeds/not-a-feed"),
        },
    ),
    "cancelFeed": (
        15,
        {
            404: Call("DELETE", f"/feeds/2021-06-30/feeds/{UNKNOWN_FEED}"),
            400: Call("DELETE", "/feeds/2021-06-30/feeds/not-a-feed"),
        },
    ),
}
EXPECTED_CODES = {400: "InvalidInput", 403: "Unauthorized", 404: "NotFound", 429: "QuotaExceeded"}


def send(http: httpx.Client, call: Call, token: str | None) -> httpx.Response:
    headers = {"x-amz-access-token": token} if token else {}
    return http.request(call.method, call.path, params=call.params, json=call.json, headers=headers)


@pytest.mark.parametrize("operation", OPERATIONS)
def test_every_error_answer_honours_the_operations_model(
    operation, sandbox_server, sandbox_seller, rate_limit_clock
):
    burst, calls = OPERATIONS[operation]
    token = access_token(sandbox_server, sandbox_seller)
    first = next(iter(calls.values()))

    with httpx.Client(base_url=sandbox_server.url) as http:
        answers = {status: send(http, call, token) for status, call in calls.items()}
        answers[403] = send(http, first, None)
        drained = [send(http, first, token) for _ in range(burst - len(calls))]
        answers[429] = send(http, first, token)

    assert [response.status_code for response in drained] == [next(iter(calls))] * len(drained)
    for status, response in answers.items():
        call = calls.get(status, first)
        model, template = find_operation(call.method, call.path)
        assert response.status_code == status, (status, response.text)
        body = response.json()
        validate(model, template, call.method, status, body)
        assert [error["code"] for error in body["errors"]] == [EXPECTED_CODES[status]]
        assert body["errors"][0]["message"]
        assert response.headers["x-amzn-RequestId"]
        assert ("x-amzn-RateLimit-Limit" in response.headers) == (status in (400, 404))
