"""Notifications API v1 (notifications_v1.json): grantless destinations, the seller's
subscriptions, their conflicts and usage plans, through python-amazon-sp-api where it can."""

import re

import httpx
import pytest
from sp_api.api import Notifications
from sp_api.base.exceptions import (
    SellingApiBadRequestException,
    SellingApiException,
    SellingApiForbiddenException,
    SellingApiNotFoundException,
)

from seller_central_sandbox.ratelimit import USAGE_PLANS
from seller_central_sandbox.services.notifications import application_id
from seller_central_sandbox.testing import client_kwargs_for
from seller_central_sandbox.tests.contract import (
    NOTIFICATIONS_SERVED,
    load_model,
    validate,
)
from seller_central_sandbox.tests.helpers import access_token

pytestmark = pytest.mark.django_db(transaction=True)

QUEUE_ARN = "arn:aws:sqs:us-east-1:123456789012:channel-notifications"
BASE = "/notifications/v1"


def notifications_client(server, seller) -> Notifications:
    return Notifications(**client_kwargs_for(server, seller))


def grantless_token(server, seller, *, scope="sellingpartnerapi::notifications") -> str:
    response = httpx.post(
        f"{server.url}/auth/o2/token",
        data={
            "grant_type": "client_credentials",
            "scope": scope,
            "client_id": seller.client_id,
            "client_secret": seller.client_secret,
        },
    )
    response.raise_for_status()
    return response.json()["access_token"]


def create_destination(server, seller, arn: str = QUEUE_ARN) -> str:
    payload = notifications_client(server, seller).create_destination(name="channel", arn=arn)
    return payload.payload["destinationId"]


def test_a_client_credentials_grant_returns_a_grantless_token_for_an_hour(
    sandbox_server, sandbox_seller
):
    # developer-docs `connecting-to-the-selling-partner-api`: grantless operations take an LWA
    # token of grant_type client_credentials with the scope sellingpartnerapi::notifications.
    response = httpx.post(
        f"{sandbox_server.url}/auth/o2/token",
        data={
            "grant_type": "client_credentials",
            "scope": "sellingpartnerapi::notifications",
            "client_id": sandbox_seller.client_id,
            "client_secret": sandbox_seller.client_secret,
        },
    )

    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 3600
    assert body["scope"] == "sellingpartnerapi::notifications"
    assert "refresh_token" not in body


def test_a_client_credentials_grant_needs_the_right_secret_and_a_grantless_scope(
    sandbox_server, sandbox_seller
):
    def grant(**changes):
        data = {
            "grant_type": "client_credentials",
            "scope": "sellingpartnerapi::notifications",
            "client_id": sandbox_seller.client_id,
            "client_secret": sandbox_seller.client_secret,
            **changes,
        }
        return httpx.post(f"{sandbox_server.url}/auth/o2/token", data=data)

    wrong_secret = grant(client_secret="not-it")
    wrong_scope = grant(scope="sellingpartnerapi::orders")

    assert (wrong_secret.status_code, wrong_secret.json()["error"]) == (401, "invalid_client")
    assert (wrong_scope.status_code, wrong_scope.json()["error"]) == (400, "invalid_scope")


def test_destinations_are_created_read_and_deleted_with_the_applications_own_token(
    sandbox_server, sandbox_seller
):
    client = notifications_client(sandbox_server, sandbox_seller)

    created = client.create_destination(name="channel", arn=QUEUE_ARN).payload
    listed = client.get_destinations().payload
    read = client.get_destination(created["destinationId"]).payload
    client.delete_destination(created["destinationId"])

    assert created["resource"] == {"sqs": {"arn": QUEUE_ARN}}
    assert created["name"] == "channel"
    assert listed == [created]
    assert read == created
    client.get_destinations()
    # python-amazon-sp-api turns an empty payload into {}: read the wire.
    assert sandbox_server.exchanges[-1].body == b'{"payload": []}'
    # Every call went with the grantless token: no seller's token was asked for.
    grants = [
        exchange for exchange in sandbox_server.exchanges if exchange.path == "/auth/o2/token"
    ]
    assert grants and all(b"refresh_token" not in exchange.body for exchange in grants)


def test_a_second_destination_for_the_same_queue_is_a_conflict_in_amazons_words(
    sandbox_server, sandbox_seller
):
    # models#2281, docs#1800, docs#2072: 409 Conflict, "A destination with arn ... already
    # exists for the application ...".
    create_destination(sandbox_server, sandbox_seller)

    with pytest.raises(SellingApiException) as refused:
        create_destination(sandbox_server, sandbox_seller)

    assert refused.value.code == 409
    # notifications_v1.json declares no x-amzn-RateLimit-Limit on a 409.
    assert "x-amzn-RateLimit-Limit" not in refused.value.headers
    error = refused.value.error[0]
    assert error["code"] == "Conflict"
    assert error["message"] == "The requested resource conflict with a resource in the server."
    assert error["details"] == (
        f"A destination with arn {QUEUE_ARN} already exists for the application "
        f"{application_id(sandbox_seller.client_id)}"
    )
    assert len(notifications_client(sandbox_server, sandbox_seller).get_destinations().payload) == 1


def test_another_application_may_use_the_same_queue_and_sees_only_its_own_destinations(
    sandbox_server, sandbox_seller_factory
):
    ours, theirs = sandbox_seller_factory(), sandbox_seller_factory()
    destination_id = create_destination(sandbox_server, ours)

    create_destination(sandbox_server, theirs)

    assert len(notifications_client(sandbox_server, theirs).get_destinations().payload) == 1
    with pytest.raises(SellingApiNotFoundException):
        notifications_client(sandbox_server, theirs).get_destination(destination_id)


def test_destination_operations_refuse_a_sellers_token(sandbox_server, sandbox_seller):
    # notifications_v1.json: createDestination, getDestinations, getDestination and
    # deleteDestination "are grantless".
    token = access_token(sandbox_server, sandbox_seller)

    response = httpx.get(
        f"{sandbox_server.url}{BASE}/destinations", headers={"x-amz-access-token": token}
    )

    assert response.status_code == 403
    assert response.json()["errors"][0]["code"] == "Unauthorized"


def test_a_malformed_destination_is_invalid_input(sandbox_server, sandbox_seller):
    token = grantless_token(sandbox_server, sandbox_seller)
    bodies = [
        {"name": "channel"},
        {"name": "channel", "resourceSpecification": {"sqs": {"arn": "not-an-arn"}}},
        {
            "name": "channel",
            "resourceSpecification": {
                "sqs": {"arn": QUEUE_ARN},
                "eventBridge": {"region": "us-east-1", "accountId": "123456789012"},
            },
        },
        {"resourceSpecification": {"sqs": {"arn": QUEUE_ARN}}},
    ]

    answers = [
        httpx.post(
            f"{sandbox_server.url}{BASE}/destinations",
            json=body,
            headers={"x-amz-access-token": token},
        )
        for body in bodies
    ]

    assert [answer.status_code for answer in answers] == [400] * len(bodies)


def test_an_event_bridge_destination_is_stored_but_takes_no_order_or_feed_subscription(
    sandbox_server, sandbox_seller
):
    client = notifications_client(sandbox_server, sandbox_seller)

    created = client.create_destination(
        name="bridge", account_id="123456789012", region="us-east-1"
    ).payload
    with pytest.raises(SellingApiBadRequestException):
        client.create_subscription("ORDER_CHANGE", destination_id=created["destinationId"])

    assert created["resource"]["eventBridge"]["accountId"] == "123456789012"
    assert created["resource"]["eventBridge"]["region"] == "us-east-1"
    assert created["resource"]["eventBridge"]["name"].startswith("aws.partner/")


def test_a_subscription_needs_the_sellers_token_and_a_destination_of_the_application(
    sandbox_server, sandbox_seller, sandbox_seller_factory
):
    destination_id = create_destination(sandbox_server, sandbox_seller)
    others = create_destination(sandbox_server, sandbox_seller_factory())
    grantless = grantless_token(sandbox_server, sandbox_seller)
    client = notifications_client(sandbox_server, sandbox_seller)

    # models#4491: "CreateSubscription is not a grantless operation".
    with_grantless = httpx.post(
        f"{sandbox_server.url}{BASE}/subscriptions/ORDER_CHANGE",
        json={"destinationId": destination_id, "payloadVersion": "1.0"},
        headers={"x-amz-access-token": grantless},
    )
    with pytest.raises(SellingApiBadRequestException) as foreign:
        client.create_subscription("ORDER_CHANGE", destination_id=others)
    created = client.create_subscription("ORDER_CHANGE", destination_id=destination_id).payload

    assert with_grantless.status_code == 403
    assert foreign.value.error[0]["details"].startswith("Invalid Input, recheck that the AppId")
    assert created["destinationId"] == destination_id
    assert created["payloadVersion"] == "1.0"
    assert created["subscriptionId"]


def test_a_second_subscription_of_the_same_type_is_a_state_conflict(sandbox_server, sandbox_seller):
    # docs#1564 = models#1960: 409 StateConflict "The resource specified conflicts with the
    # current state."; docs#1850: one subscription per type and application.
    destination_id = create_destination(sandbox_server, sandbox_seller)
    client = notifications_client(sandbox_server, sandbox_seller)
    client.create_subscription("ORDER_CHANGE", destination_id=destination_id)

    with pytest.raises(SellingApiException) as refused:
        client.create_subscription("ORDER_CHANGE", destination_id=destination_id)

    assert refused.value.code == 409
    assert refused.value.error[0]["code"] == "StateConflict"
    assert refused.value.error[0]["message"] == (
        "The resource specified conflicts with the current state."
    )


def test_a_subscription_is_read_by_type_and_by_id_and_deleted(sandbox_server, sandbox_seller):
    destination_id = create_destination(sandbox_server, sandbox_seller)
    client = notifications_client(sandbox_server, sandbox_seller)
    created = client.create_subscription(
        "FEED_PROCESSING_FINISHED", destination_id=destination_id, payload_version="2020-09-04"
    ).payload
    subscription_id = created["subscriptionId"]
    grantless = grantless_token(sandbox_server, sandbox_seller)

    by_type = client.get_subscription("FEED_PROCESSING_FINISHED").payload
    by_id_as_seller = client.get_subscription_by_id(
        "FEED_PROCESSING_FINISHED", subscription_id
    ).payload
    by_id_grantless = httpx.get(
        f"{sandbox_server.url}{BASE}/subscriptions/FEED_PROCESSING_FINISHED/{subscription_id}",
        headers={"x-amz-access-token": grantless},
    )
    deleted = httpx.delete(
        f"{sandbox_server.url}{BASE}/subscriptions/FEED_PROCESSING_FINISHED/{subscription_id}",
        headers={"x-amz-access-token": grantless},
    )

    assert by_type == by_id_as_seller == created
    assert by_id_grantless.json()["payload"] == created
    assert deleted.status_code == 200
    with pytest.raises(SellingApiNotFoundException):
        client.get_subscription("FEED_PROCESSING_FINISHED")
    with pytest.raises(SellingApiNotFoundException):
        client.delete_notification_subscription("FEED_PROCESSING_FINISHED", subscription_id)


def test_a_subscription_keeps_its_processing_directive_and_refuses_unknown_change_types(
    sandbox_server, sandbox_seller
):
    destination_id = create_destination(sandbox_server, sandbox_seller)
    client = notifications_client(sandbox_server, sandbox_seller)
    directive = {
        "eventFilter": {
            "eventFilterType": "ORDER_CHANGE",
            "orderChangeTypes": ["BuyerRequestedChange"],
        }
    }

    with pytest.raises(SellingApiBadRequestException):
        client.create_subscription(
            "ORDER_CHANGE",
            destination_id=destination_id,
            processingDirective={"eventFilter": {"orderChangeTypes": ["PriceChange"]}},
        )
    created = client.create_subscription(
        "ORDER_CHANGE", destination_id=destination_id, processingDirective=directive
    ).payload

    assert created["processingDirective"] == directive


def test_a_destination_with_subscriptions_cannot_be_deleted(sandbox_server, sandbox_seller):
    # docs#1800: "Unauthorized", "The requested action is forbidden.", "Destination has
    # subscriptions".
    destination_id = create_destination(sandbox_server, sandbox_seller)
    client = notifications_client(sandbox_server, sandbox_seller)
    client.create_subscription("ORDER_CHANGE", destination_id=destination_id)

    with pytest.raises(SellingApiForbiddenException) as refused:
        client.delete_destination(destination_id)

    assert refused.value.error[0] == {
        "code": "Unauthorized",
        "message": "The requested action is forbidden.",
        "details": "Destination has subscriptions",
    }
    assert client.get_destination(destination_id).payload["destinationId"] == destination_id


def test_another_sellers_subscription_is_not_found_with_the_sellers_token(
    sandbox_server, sandbox_seller_factory
):
    ours = sandbox_seller_factory()
    destination_id = create_destination(sandbox_server, ours)
    subscription_id = (
        notifications_client(sandbox_server, ours)
        .create_subscription("ORDER_CHANGE", destination_id=destination_id)
        .payload["subscriptionId"]
    )
    stranger = sandbox_seller_factory()

    with pytest.raises(SellingApiNotFoundException):
        notifications_client(sandbox_server, stranger).get_subscription_by_id(
            "ORDER_CHANGE", subscription_id
        )


def test_notification_operations_answer_their_burst_of_five_then_429(
    sandbox_server, sandbox_seller, rate_limit_clock
):
    # notifications_v1.json, every operation's Usage Plan: rate 1, burst 5.
    token = grantless_token(sandbox_server, sandbox_seller)
    seller_token = access_token(sandbox_server, sandbox_seller)

    with httpx.Client(base_url=sandbox_server.url) as http:
        listed = [
            http.get(f"{BASE}/destinations", headers={"x-amz-access-token": token})
            for _ in range(6)
        ]
        read = [
            http.get(
                f"{BASE}/subscriptions/ORDER_CHANGE", headers={"x-amz-access-token": seller_token}
            )
            for _ in range(6)
        ]
        rate_limit_clock.advance(1.0)
        refilled = http.get(f"{BASE}/destinations", headers={"x-amz-access-token": token})

    assert [answer.status_code for answer in listed] == [200] * 5 + [429]
    assert [answer.status_code for answer in read] == [404] * 5 + [429]
    assert listed[0].headers["x-amzn-RateLimit-Limit"] == "1"
    assert "x-amzn-RateLimit-Limit" not in listed[-1].headers
    assert refilled.status_code == 200


def test_every_notification_operation_has_the_models_usage_plan():
    model = load_model("notifications_v1.json")
    plans = {}
    for methods in model["paths"].values():
        for operation in methods.values():
            if isinstance(operation, dict) and operation.get("operationId") in (
                NOTIFICATIONS_SERVED
            ):
                rate, burst = re.search(
                    r"\|\s*([\d.]+)\s*\|\s*(\d+)\s*\|", operation["description"]
                ).groups()
                plans[operation["operationId"]] = (rate, int(burst))

    assert set(plans) == NOTIFICATIONS_SERVED
    for operation, (rate, burst) in plans.items():
        assert (USAGE_PLANS[operation].rate, USAGE_PLANS[operation].burst) == (rate, burst)


def test_amazons_notification_examples_validate():
    model = load_model("notifications_v1.json")
    checked = 0
    for template, methods in model["paths"].items():
        for method, operation in methods.items():
            if not isinstance(operation, dict) or operation.get("operationId") not in (
                NOTIFICATIONS_SERVED
            ):
                continue
            for status, response in operation["responses"].items():
                for example in (response.get("examples") or {}).values():
                    validate("notifications_v1.json", template, method, int(status), example)
                    checked += 1

    assert checked == len(NOTIFICATIONS_SERVED)


def test_a_misspelled_destination_field_is_refused_by_the_contract():
    import jsonschema

    with pytest.raises(jsonschema.ValidationError):
        validate(
            "notifications_v1.json",
            "/notifications/v1/destinations",
            "post",
            200,
            {"payload": {"destinationId": "1", "name": "n", "resource": {"sqs": {"ARN": "x"}}}},
        )
