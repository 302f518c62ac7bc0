"""Amazon's own sandbox cases, replayed against our sandbox: same request, same status, same shape.

Amazon's models carry static sandbox cases (`x-amzn-api-sandbox`): a request, and what Amazon's
sandbox answers. For every case of an operation we serve, the test seeds our sandbox with what the
answer describes (the orders of an Orders answer, a feed, a document), sends the request over HTTP,
and checks the status, the body against the model (the autouse fixture of conftest.py validates
every answer strictly), and for orders that what we serve of the same order equals Amazon's example.

Amazon's static sandbox matches requests against canned values, some of them placeholders that
production would refuse (an orderId `TEST_CASE_200`, a feedId `feedId1`): those are replaced by the
id of the seeded object, and PLACEHOLDERS says why for each. A placeholder's own request is replayed
too, and must be refused as production refuses it.
"""

import json
from datetime import timedelta
from decimal import Decimal

import httpx
import pytest
from django.utils import timezone

from seller_central_sandbox.models import (
    FeedProcessingStatus,
    FulfilledBy,
    FulfillmentStatus,
    SandboxFeed,
    SandboxFeedDocument,
    SandboxOrder,
)
from seller_central_sandbox.testing import order_in_status
from seller_central_sandbox.tests.amazon_examples import (
    StaticCase,
    order_from_example,
    served_projection,
    static_cases,
)
from seller_central_sandbox.tests.contract import SERVED
from seller_central_sandbox.tests.helpers import access_token

pytestmark = pytest.mark.django_db(transaction=True)

# (operation, parameter, Amazon's value): why it is replaced by a seeded object's id.
PLACEHOLDERS = {
    ("getFeed", "feedId", "feedId1"): "Amazon's feed ids are numbers (createFeed's own case "
    "answers 3485934); its static sandbox answers any string it was given.",
    ("cancelFeed", "feedId", "ID1"): "as for getFeed",
    ("getFeedDocument", "feedDocumentId", "0356cf79-b8b0-4226-b4b9-0ee058ea5760"): "production "
    "document ids read amzn1.tortuga.3.<uuid>.<suffix> (amzn/selling-partner-api-models#959, "
    "#1559); the static sandbox's is a bare uuid.",
    ("createFeed", "inputFeedDocumentId", "3d4e42b5-1d6e-44e8-a89c-2abfca0625bb"): "the document "
    "must exist for the seller: a made-up id is refused with 400 InvalidInput in production "
    "(amzn/selling-partner-api-models#1832).",
    ("getOrder", "orderId", "TEST_CASE_200"): "Orders v0 order ids are 3-7-7 digits; the static "
    "sandbox's magic value is refused by production as malformed (400, like TEST_CASE_400).",
    ("getOrder", "orderId", "TEST_CASE_IBA_200"): "as TEST_CASE_200",
    ("getOrderItems", "orderId", "TEST_CASE_200"): "as for getOrder",
    ("getOrderAddress", "orderId", "TEST_CASE_200"): "as for getOrder",
    ("getOrderBuyerInfo", "orderId", "TEST_CASE_200"): "as for getOrder",
    ("getOrders", "CreatedAfter", "TEST_CASE_200"): "CreatedAfter is an ISO 8601 date-time "
    "(ordersV0.json); production refuses the magic value with 400 as it does TEST_CASE_400.",
    ("getOrders", "CreatedAfter", "TEST_CASE_200_NEXT_TOKEN"): "as TEST_CASE_200",
}
# Amazon's sandbox tokens are its own; ours are issued by the first page of the same search.
TOKEN_PARAMETERS = {"paginationToken", "NextToken"}
CASES = static_cases()


def _send(server, token: str, case: StaticCase, parameters: dict) -> httpx.Response:
    path = case.template
    query, body = {}, None
    for name, value in parameters.items():
        location = "body" if name == "body" else case.locations.get(name, "query")
        if location == "path":
            path = path.replace("{" + name + "}", str(value))
        elif location == "body":
            body = value
        else:
            # Swagger 2.0's default collectionFormat is csv.
            query[name] = ",".join(value) if isinstance(value, list) else str(value)
    return httpx.request(
        case.method,
        server.url + path,
        params=query,
        content=json.dumps(body) if body is not None else None,
        headers={"x-amz-access-token": token, "content-type": "application/json"},
        timeout=10,
    )


def _placeholders(case: StaticCase) -> dict:
    found = {}
    for name, value in case.parameters.items():
        if isinstance(value, dict):
            for key, inner in value.items():
                if isinstance(inner, str) and (case.operation, key, inner) in PLACEHOLDERS:
                    found[key] = inner
        elif isinstance(value, str) and (case.operation, name, value) in PLACEHOLDERS:
            found[name] = value
    return found


def _substituted(parameters: dict, replacements: dict) -> dict:
    result = {}
    for name, value in parameters.items():
        if isinstance(value, dict):
            result[name] = {key: replacements.get(key, inner) for key, inner in value.items()}
        else:
            result[name] = replacements.get(name, value)
    return result


def _case_orders(case: StaticCase) -> list[dict]:
    response = case.response or {}
    return [*response.get("orders", []), *([response["order"]] if "order" in response else [])]


def _seed_v0_order(seller, order_id: str, *, item_ids=(), marketplace_id="ATVPDKIKX0DER"):
    order = order_in_status(
        seller=seller,
        status=FulfillmentStatus.UNSHIPPED,
        fulfilled_by=FulfilledBy.MERCHANT,
        seed=7,
    )
    an_hour_ago = timezone.now() - timedelta(hours=1)
    SandboxOrder.objects.filter(pk=order.pk).update(
        order_id=order_id,
        marketplace_id=marketplace_id,
        created_time=an_hour_ago,
        last_updated_time=an_hour_ago,
    )
    order.refresh_from_db()
    for item, item_id in zip(order.items.order_by("pk"), item_ids, strict=False):
        item.order_item_id = item_id
        item.save(update_fields=["order_item_id"])
    return order


def _seed_feed(seller, *, status: str, feed_type: str = "POST_PRODUCT_DATA") -> SandboxFeed:
    now = timezone.now()
    document = SandboxFeedDocument.objects.create(
        seller=seller,
        document_id=f"amzn1.tortuga.3.{seller.pk:08d}-seed.T1",
        url_token=f"seed-{seller.pk}",
        url_expires_at=now + timedelta(minutes=5),
        content_type="text/xml; charset=UTF-8",
        content=b"<AmazonEnvelope/>",
        created_at=now,
    )
    return SandboxFeed.objects.create(
        seller=seller,
        feed_id="50012345678",
        feed_type=feed_type,
        marketplace_ids=list(seller.marketplace_ids),
        input_document=document,
        processing_status=status,
        created_time=now - timedelta(minutes=1),
        processing_start_time=now if status != FeedProcessingStatus.IN_QUEUE else None,
        processing_end_time=now if status == FeedProcessingStatus.CANCELLED else None,
    )


def _marketplaces(case: StaticCase) -> list[str]:
    found = {order["salesChannel"]["marketplaceId"] for order in _case_orders(case)}
    found |= set(case.parameters.get("marketplaceIds") or [])
    found |= set(case.parameters.get("MarketplaceIds") or [])
    body = case.parameters.get("body")
    if isinstance(body, dict):
        found |= set(body.get("marketplaceIds") or [])
        if body.get("marketplaceId") and len(body["marketplaceId"]) > 1:
            found.add(body["marketplaceId"])
    return sorted(found) or ["ATVPDKIKX0DER"]


def _seed(case: StaticCase, seller) -> dict:
    """Put into the sandbox what the case's answer describes; returns the placeholders'
    replacements."""
    for example in _case_orders(case):
        order_from_example(seller=seller, example=example)
    replacements = {}
    for name in _placeholders(case):
        if case.operation in ("getFeed", "cancelFeed"):
            status = (
                FeedProcessingStatus.IN_QUEUE
                if case.operation == "cancelFeed"
                else (case.response or {}).get("processingStatus", "DONE")
            )
            replacements[name] = _seed_feed(seller, status=status).feed_id
        elif case.operation == "getFeedDocument":
            replacements[name] = _seed_feed(seller, status="DONE").input_document.document_id
        elif case.operation == "createFeed":
            document = _seed_feed(seller, status="DONE").input_document
            SandboxFeed.objects.filter(seller=seller).delete()
            replacements[name] = document.document_id
        elif case.operation == "getOrders":
            _seed_v0_order(seller, "902-3159896-1390916")
            replacements[name] = (timezone.now() - timedelta(days=2)).isoformat()
        else:
            answer = (case.response or {}).get("payload") or {}
            replacements[name] = _seed_v0_order(seller, answer["AmazonOrderId"]).order_id
    if case.operation == "confirmShipment":
        item_ids = [
            entry["orderItemId"] for entry in case.parameters["body"]["packageDetail"]["orderItems"]
        ]
        _seed_v0_order(
            seller,
            case.parameters["orderId"],
            item_ids=item_ids,
            marketplace_id=case.parameters["body"]["marketplaceId"],
        )
    if case.operation == "getFeeds" and case.status == 200:
        _seed_feed(seller, status=FeedProcessingStatus.CANCELLED)
    return replacements


def _first_page_token(server, token: str, case: StaticCase, seller) -> str:
    """Our own token for the case's search: one more order, placed just before the case's, is
    served first when pages hold one order."""
    example = _case_orders(case)[0]
    earlier = dict(example, orderId="202-0000001-0000001")
    order_from_example(seller=seller, example=earlier)
    SandboxOrder.objects.filter(order_id=earlier["orderId"]).update(
        created_time=SandboxOrder.objects.get(order_id=example["orderId"]).created_time
        - timedelta(minutes=1)
    )
    first = {name: value for name, value in case.parameters.items() if name not in TOKEN_PARAMETERS}
    response = _send(server, token, case, {**first, "maxResultsPerPage": 1})
    assert response.status_code == 200, response.text
    assert [order["orderId"] for order in response.json()["orders"]] == [earlier["orderId"]]
    return response.json()["pagination"]["nextToken"]


def _first_page_token_v0(server, token: str, case: StaticCase, parameters: dict) -> str:
    """Our own NextToken for the case's getOrders: pages of one order over two orders."""
    seller_id = SandboxOrder.objects.get(order_id="902-3159896-1390916").seller
    _seed_v0_order(seller_id, "902-3159896-1390917")
    first = {name: value for name, value in parameters.items() if name not in TOKEN_PARAMETERS}
    response = _send(server, token, case, {**first, "MaxResultsPerPage": 1})
    assert response.status_code == 200, response.text
    return response.json()["payload"]["NextToken"]


@pytest.mark.parametrize("case", CASES, ids=[case.case_id for case in CASES])
def test_amazon_sandbox_case_gets_the_same_status_and_shape(
    case, sandbox_server, sandbox_seller_factory, settings
):
    # Given a seller in the case's marketplaces, with what the case's answer describes.
    settings.SANDBOX_TIME_SCALE = 0.01  # a feed seeded IN_QUEUE stays there during the test
    seller = sandbox_seller_factory(marketplace_ids=_marketplaces(case))
    token = access_token(sandbox_server, seller)
    replacements = _seed(case, seller)
    parameters = _substituted(case.parameters, replacements)
    if "paginationToken" in parameters:
        parameters["paginationToken"] = _first_page_token(sandbox_server, token, case, seller)
    if "NextToken" in parameters:
        parameters["NextToken"] = _first_page_token_v0(sandbox_server, token, case, parameters)

    # When the case's request is sent.
    response = _send(sandbox_server, token, case, parameters)

    # Then the status is Amazon's, and the answer has its shape.
    assert response.status_code == case.status, response.text
    if case.status >= 400:
        assert response.json()["errors"][0]["code"]
        return
    if case.response is None or case.status == 204:
        # The model documents no body (cancelFeed's 200, confirmShipment's 204).
        assert not response.content
        return
    body = response.json()
    answer = case.response or {}
    assert set(answer) <= set(body) | {"nextToken", "pagination"}, (set(answer), set(body))
    examples = _case_orders(case)
    if examples:
        served = [*body.get("orders", []), *([body["order"]] if "order" in body else [])]
        included = set(parameters.get("includedData") or [])
        assert [served_projection(order, included) for order in served] == [
            served_projection(order, included) for order in examples
        ]
    if isinstance(answer.get("payload"), list):
        # getMarketplaceParticipations: the seller's marketplaces, each with Amazon's keys.
        expected, served = answer["payload"], body["payload"]
        assert [entry["marketplace"]["id"] for entry in served] == [
            entry["marketplace"]["id"] for entry in expected
        ]
        assert all(set(expected[0]) <= set(entry) for entry in served)
    elif "payload" in answer:
        assert set(answer["payload"]) & set(body["payload"])
    if case.operation in ("getFeed", "getFeeds"):
        feeds = body.get("feeds", [body])
        assert feeds
        assert {feed["processingStatus"] for feed in feeds} <= set(
            parameters.get("processingStatuses") or ["CANCELLED"]
        )


PLACEHOLDER_CASES = [case for case in CASES if _placeholders(case)]


@pytest.mark.parametrize(
    "case", PLACEHOLDER_CASES, ids=[case.case_id for case in PLACEHOLDER_CASES]
)
def test_amazon_sandbox_placeholder_is_refused_as_production_refuses_it(
    case, sandbox_server, sandbox_seller_factory
):
    # Given a seller with nothing that answers to the placeholder.
    seller = sandbox_seller_factory(marketplace_ids=_marketplaces(case))
    token = access_token(sandbox_server, seller)

    # When the placeholder itself is sent.
    parameters = {
        name: value for name, value in case.parameters.items() if name not in TOKEN_PARAMETERS
    }
    response = _send(sandbox_server, token, case, parameters)

    # Then it is refused: a malformed value is 400, an unknown well-formed id is 404.
    assert response.status_code in (400, 404), response.text
    assert response.json()["errors"]


def test_every_static_case_of_a_served_operation_is_replayed():
    # The models carry cases for every operation we serve but getOrder v0's regulated-info
    # relatives; a model update that adds cases adds them here.
    operations = {case.operation for case in CASES}
    assert operations == SERVED
    assert len(CASES) >= 30
    assert sum(Decimal(1) for case in CASES if case.status >= 400) >= 12
