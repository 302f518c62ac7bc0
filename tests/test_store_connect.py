"""Connecting a store: the dashboard page with Test connection, and `manage.py store_connect`."""

import io
import socket

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.management import call_command
from django.urls import reverse
from django.utils import translation
from django_celery_beat.models import PeriodicTask

from amazon_channel.models import AmazonOrder, Store
from seller_central_sandbox.services.orders import orders_generate
from seller_central_sandbox.testing import TEST_TIME_SCALE
from tests.sync_helpers import minutes_ago

pytestmark = pytest.mark.django_db(transaction=True)

DE = "A1PA6795UKMFR9"


@pytest.fixture
def seller(sandbox_seller_factory, settings):
    settings.AMAZON_RATE_LIMIT_SCALE = TEST_TIME_SCALE
    settings.AMAZON_RETRY_BASE_SECONDS = 0.05
    return sandbox_seller_factory(marketplace_ids=[DE])


@pytest.fixture
def merchant_client(client):
    user = get_user_model().objects.create_user("anna", password="x" * 20)
    user.user_permissions.add(*Permission.objects.filter(codename__in=["view_store", "add_store"]))
    client.force_login(user)
    return client


def form_data(server, seller, **overrides) -> dict:
    data = {
        "name": "Berlin",
        "marketplace_code": "DE",
        "seller_id": seller.seller_id,
        "environment": "sandbox",
        "lwa_client_id": seller.client_id,
        "lwa_client_secret": seller.client_secret,
        "refresh_token": seller.refresh_token,
        "sp_api_endpoint": server.url,
        "token_endpoint": f"{server.url}/auth/o2/token",
    }
    data.update(overrides)
    return data


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_test_connection_says_amazon_accepted_the_credentials(
    merchant_client, sandbox_server, seller
):
    response = merchant_client.post(
        reverse("dashboard:store_connect_save"),
        {**form_data(sandbox_server, seller), "test_connection": "1"},
        follow=True,
    )

    assert "Amazon accepted the credentials." in response.content.decode()
    assert not Store.objects.exists()


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"lwa_client_secret": "wrong"}, "rejected the store's credentials (invalid_client)"),
        ({"refresh_token": "Atzr|unknown"}, "rejected the store's credentials (invalid_grant)"),
    ],
)
def test_test_connection_says_what_amazon_rejected(
    merchant_client, sandbox_server, seller, change, expected
):
    response = merchant_client.post(
        reverse("dashboard:store_connect_save"),
        {**form_data(sandbox_server, seller, **change), "test_connection": "1"},
    )

    content = response.content.decode().replace("&#x27;", "'")
    assert "Test connection failed" in content
    assert expected in content


def test_test_connection_says_when_amazon_cannot_be_reached(
    merchant_client, sandbox_server, seller
):
    port = closed_port()
    response = merchant_client.post(
        reverse("dashboard:store_connect_save"),
        {
            **form_data(
                sandbox_server,
                seller,
                sp_api_endpoint=f"http://127.0.0.1:{port}",
                token_endpoint=f"http://127.0.0.1:{port}/auth/o2/token",
            ),
            "test_connection": "1",
        },
    )

    # One message whatever answered (tests/test_connection_test_ssrf.py): it names no host.
    content = response.content.decode()
    assert "Test connection failed" in content
    assert "Could not reach Amazon for getMarketplaceParticipations" in content


def test_save_connects_the_store_and_schedules_its_sync(merchant_client, sandbox_server, seller):
    response = merchant_client.post(
        reverse("dashboard:store_connect_save"), {**form_data(sandbox_server, seller), "save": "1"}
    )

    store = Store.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("dashboard:store_detail", args=[store.pk])
    assert store.refresh_token == seller.refresh_token
    assert PeriodicTask.objects.get(kwargs=f'{{"store_id": {store.pk}}}').enabled


def test_connecting_needs_the_add_store_permission(client):
    user = get_user_model().objects.create_user("viewer", password="x" * 20)
    user.user_permissions.add(Permission.objects.get(codename="view_store"))
    client.force_login(user)

    assert client.get(reverse("dashboard:store_connect")).status_code == 403
    assert client.post(reverse("dashboard:store_connect_save"), {}).status_code == 403


def test_store_connect_command_creates_then_updates_and_prints_the_id(sandbox_server, seller):
    arguments = [
        "store_connect",
        "--name", "Berlin",
        "--marketplace", "de",
        "--seller-id", seller.seller_id,
        "--client-id", seller.client_id,
        "--client-secret", seller.client_secret,
        "--refresh-token", seller.refresh_token,
        "--endpoint", sandbox_server.url,
        "--token-endpoint", f"{sandbox_server.url}/auth/o2/token",
    ]  # fmt: skip
    first, second = io.StringIO(), io.StringIO()

    call_command(*arguments, stdout=first, stderr=io.StringIO())
    call_command(
        *arguments[:2], "Berlin Mitte", *arguments[3:], stdout=second, stderr=io.StringIO()
    )

    store = Store.objects.get()
    assert first.getvalue().strip() == second.getvalue().strip() == str(store.pk)
    assert store.name == "Berlin Mitte"
    assert store.environment == "sandbox"


@pytest.mark.parametrize(
    ("environment_arguments", "environment", "endpoint"),
    [
        ([], "sandbox", "https://sandbox.sellingpartnerapi-eu.amazon.com"),
        (
            ["--environment", "sandbox"],
            "sandbox",
            "https://sandbox.sellingpartnerapi-eu.amazon.com",
        ),
        (["--environment", "production"], "production", "https://sellingpartnerapi-eu.amazon.com"),
    ],
)
def test_store_connect_defaults_to_amazons_endpoints_of_the_region_and_environment(
    environment_arguments, environment, endpoint
):
    call_command(
        "store_connect",
        "--name", "Paris",
        "--marketplace", "FR",
        "--seller-id", "A2SELLERFR01",
        "--client-id", "amzn1.application-oa2-client.x",
        "--client-secret", "secret",
        "--refresh-token", "Atzr|x",
        *environment_arguments,
        stdout=io.StringIO(),
        stderr=io.StringIO(),
    )  # fmt: skip

    store = Store.objects.get()
    assert store.sp_api_endpoint == endpoint
    assert store.token_endpoint == "https://api.amazon.com/auth/o2/token"
    assert store.environment == environment


def test_sync_command_recovers_one_order_and_syncs_in_the_foreground(sandbox_server, seller):
    orders = orders_generate(seller=seller, count=12, seed=41, now=minutes_ago(10))
    call_command(
        "store_connect",
        "--name", "Berlin",
        "--marketplace", "DE",
        "--seller-id", seller.seller_id,
        "--client-id", seller.client_id,
        "--client-secret", seller.client_secret,
        "--refresh-token", seller.refresh_token,
        "--endpoint", sandbox_server.url,
        "--token-endpoint", f"{sandbox_server.url}/auth/o2/token",
        stdout=io.StringIO(),
        stderr=io.StringIO(),
    )  # fmt: skip
    store = Store.objects.get()
    output = io.StringIO()

    call_command(
        "sync_amazon_orders", "--store", str(store.pk), "--order", orders[0].order_id, stdout=output
    )
    assert AmazonOrder.objects.get().amazon_order_id == orders[0].order_id
    assert f"{orders[0].order_id}: created." in output.getvalue()

    call_command(
        "sync_amazon_orders", "--store", str(store.pk), stdout=output, stderr=io.StringIO()
    )
    assert AmazonOrder.objects.count() == 12
    assert "Succeeded: 1 pages, 11 created, 0 updated" in output.getvalue()


def test_test_connection_says_it_in_the_merchants_language(merchant_client, sandbox_server, seller):
    port = closed_port()
    data = form_data(
        sandbox_server,
        seller,
        sp_api_endpoint=f"http://127.0.0.1:{port}",
        token_endpoint=f"http://127.0.0.1:{port}/auth/o2/token",
    )
    try:
        response = merchant_client.post(
            reverse("dashboard:store_connect_save"),
            {**data, "test_connection": "1"},
            headers={"accept-language": "de"},
        )
    finally:
        translation.activate("en")  # the request's language stays active in this thread

    content = response.content.decode()
    assert "Verbindungstest fehlgeschlagen: Amazon war für getMarketplaceParticipations" in content
    assert "Could not reach Amazon" not in content
