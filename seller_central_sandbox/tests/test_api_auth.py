"""Login with Amazon and the x-amz-access-token check, through python-amazon-sp-api."""

from datetime import timedelta

import httpx
import pytest
from django.utils import timezone
from sp_api.auth.exceptions import AuthorizationError
from sp_api.base.exceptions import SellingApiForbiddenException

from seller_central_sandbox.services.orders import orders_generate
from seller_central_sandbox.services.sellers import (
    seller_access_tokens_expire,
    seller_tokens_revoke,
)
from seller_central_sandbox.testing import client_kwargs_for
from seller_central_sandbox.tests.helpers import an_hour_ago, orders_client

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_refresh_token_grant_returns_a_bearer_token_for_an_hour(sandbox_server, sandbox_seller):
    response = httpx.post(
        f"{sandbox_server.url}/auth/o2/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": sandbox_seller.refresh_token,
            "client_id": sandbox_seller.client_id,
            "client_secret": sandbox_seller.client_secret,
        },
    )

    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "bearer"
    assert body["access_token"].startswith("Atza|")
    assert 3590 <= body["expires_in"] <= 3600


def test_the_client_authenticates_and_reads_orders(sandbox_seller, sandbox_client_kwargs):
    placed = orders_generate(
        seller=sandbox_seller, count=3, seed=1, now=timezone.now(), window=timedelta(minutes=30)
    )

    response = orders_client(sandbox_client_kwargs).search_orders(createdAfter=an_hour_ago())

    assert {order["orderId"] for order in response.payload["orders"]} == {
        order.order_id for order in placed
    }
    assert response.headers["x-amzn-RateLimit-Limit"] == "0.0056"
    assert response.headers["x-amzn-RequestId"]


def test_a_wrong_client_secret_is_refused_as_login_with_amazon_does(sandbox_server, sandbox_seller):
    kwargs = client_kwargs_for(sandbox_server, sandbox_seller)
    kwargs["credentials"] = {**kwargs["credentials"], "lwa_client_secret": "wrong"}

    with pytest.raises(AuthorizationError) as refused:
        orders_client(kwargs).search_orders(createdAfter=an_hour_ago())

    assert refused.value.status_code == 401
    assert refused.value.error_code == "invalid_client"


def test_an_unknown_refresh_token_is_an_invalid_grant(sandbox_server, sandbox_seller):
    response = httpx.post(
        f"{sandbox_server.url}/auth/o2/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": "Atzr|unknown",
            "client_id": sandbox_seller.client_id,
            "client_secret": sandbox_seller.client_secret,
        },
    )

    assert response.status_code == 400
    assert response.json() == {
        "error": "invalid_grant",
        "error_description": "The request has an invalid grant parameter : refresh_token",
    }


@pytest.mark.parametrize("token", [None, "Atza|not-a-token"])
def test_a_call_without_a_valid_token_is_denied(sandbox_server, token):
    headers = {"x-amz-access-token": token} if token else {}

    response = httpx.get(
        f"{sandbox_server.url}/orders/2026-01-01/orders",
        params={"createdAfter": an_hour_ago()},
        headers=headers,
    )

    assert response.status_code == 403
    assert response.json()["errors"][0]["code"] == "Unauthorized"
    assert response.json()["errors"][0]["message"] == "Access to requested resource is denied."
    assert "x-amzn-RateLimit-Limit" not in response.headers


def test_a_revoked_authorization_denies_calls_and_new_tokens(sandbox_server, sandbox_seller):
    kwargs = client_kwargs_for(sandbox_server, sandbox_seller)
    orders_client(kwargs).search_orders(createdAfter=an_hour_ago())

    seller_tokens_revoke(seller=sandbox_seller)

    with pytest.raises(SellingApiForbiddenException) as denied:
        orders_client(kwargs).search_orders(createdAfter=an_hour_ago())
    assert denied.value.amzn_code == "Unauthorized"
    token = httpx.post(
        f"{sandbox_server.url}/auth/o2/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": sandbox_seller.refresh_token,
            "client_id": sandbox_seller.client_id,
            "client_secret": sandbox_seller.client_secret,
        },
    )
    assert token.status_code == 400
    assert token.json()["error"] == "invalid_grant"


def test_an_expired_access_token_is_denied(sandbox_server, sandbox_seller):
    kwargs = client_kwargs_for(sandbox_server, sandbox_seller)
    orders_client(kwargs).search_orders(createdAfter=an_hour_ago())

    seller_access_tokens_expire(seller=sandbox_seller)

    with pytest.raises(SellingApiForbiddenException):
        orders_client(kwargs).search_orders(createdAfter=an_hour_ago())
