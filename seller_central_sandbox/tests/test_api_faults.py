"""Fault injection: 5xx answers, malformed bodies, latency, per seller."""

import time

import pytest
from sp_api.base.exceptions import (
    SellingApiServerException,
    SellingApiTemporarilyUnavailableException,
)

from seller_central_sandbox.services.sellers import FaultSettings, seller_faults_update
from seller_central_sandbox.testing import client_kwargs_for
from seller_central_sandbox.tests.helpers import orders_client, three_days_ago

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_next_calls_fail_with_503_then_the_api_answers_again(
    sandbox_seller, sandbox_client_kwargs
):
    seller_faults_update(seller=sandbox_seller, faults=FaultSettings(fail_next=2, fail_status=503))
    client = orders_client(sandbox_client_kwargs)

    for _ in range(2):
        with pytest.raises(SellingApiTemporarilyUnavailableException) as failed:
            client.search_orders(createdAfter=three_days_ago())
        assert failed.value.amzn_code == "ServiceUnavailable"

    assert client.search_orders(createdAfter=three_days_ago()).payload["orders"] == []


def test_a_certain_failure_probability_answers_500(sandbox_seller, sandbox_client_kwargs):
    seller_faults_update(
        seller=sandbox_seller, faults=FaultSettings(fail_probability=1.0, fail_status=500)
    )

    with pytest.raises(SellingApiServerException) as failed:
        orders_client(sandbox_client_kwargs).search_orders(createdAfter=three_days_ago())

    assert failed.value.amzn_code == "InternalFailure"


def test_a_malformed_body_comes_with_200_once(
    sandbox_server, sandbox_seller, sandbox_client_kwargs
):
    seller_faults_update(seller=sandbox_seller, faults=FaultSettings(malformed_next=1))
    client = orders_client(sandbox_client_kwargs)

    broken = client.search_orders(createdAfter=three_days_ago())
    healthy = client.search_orders(createdAfter=three_days_ago())

    assert broken.payload == {}
    assert sandbox_server.exchanges[-2].status == 200
    assert healthy.payload["orders"] == []


def test_added_latency_slows_the_seller_only(
    sandbox_server, sandbox_seller, sandbox_seller_factory, sandbox_client_kwargs
):
    seller_faults_update(seller=sandbox_seller, faults=FaultSettings(latency_ms=400))
    other = client_kwargs_for(sandbox_server, sandbox_seller_factory())
    orders_client(sandbox_client_kwargs).search_orders(createdAfter=three_days_ago())
    orders_client(other).search_orders(createdAfter=three_days_ago())

    started = time.monotonic()
    orders_client(sandbox_client_kwargs).search_orders(createdAfter=three_days_ago())
    slow = time.monotonic() - started
    started = time.monotonic()
    orders_client(other).search_orders(createdAfter=three_days_ago())
    fast = time.monotonic() - started

    assert slow >= 0.4
    assert fast < 0.3
