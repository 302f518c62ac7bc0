"""A store's environment decides its Amazon host, and a Sandbox store never reaches Amazon's
production (Amazon's sandbox takes the same credentials, so only the host keeps a test away from
real orders): the service, `manage.py store_connect`, the dashboard's Add Store, Django admin, and
the client itself for a bad row already in the database."""

import io

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext

from amazon_channel.models import Store
from amazon_channel.spapi.client import AmazonClient, AmazonRequestError
from amazon_channel.stores.services import StoreCredentials, store_connect
from amazon_channel.tests.factories import StoreFactory
from amazon_channel.tests.test_admin import posted_form
from tests.sync_helpers import store_for_seller

pytestmark = pytest.mark.django_db(transaction=True)

CREDENTIALS = StoreCredentials("amzn1.application-oa2-client.env", "env-secret", "Atzr|env")
# Ways of writing Amazon's production host that all reach it.
PRODUCTION_HOSTS = [
    "https://sellingpartnerapi-eu.amazon.com",
    "https://SellingPartnerAPI-EU.Amazon.com/",
    "https://sellingpartnerapi-eu.amazon.com.",
    "https://sellingpartnerapi-eu.amazon.com:443",
    "https://someone@sellingpartnerapi-eu.amazon.com",
    "https://sellingpartnerapi-na.amazon.com",
    "http://sellingpartnerapi-fe.amazon.com",
]
SANDBOX_HOSTS = [
    "https://sandbox.sellingpartnerapi-eu.amazon.com",
    "https://Sandbox.SellingPartnerAPI-NA.amazon.com/",
]


def connect(**arguments):
    values = {
        "actor": None,
        "name": "Environment",
        "marketplace_code": "DE",
        "seller_id": "A1ENVIRONMENT",
        "credentials": CREDENTIALS,
    }
    values.update(arguments)
    return store_connect(**values)


@pytest.fixture
def merchant_client(client):
    user = get_user_model().objects.create_user("anna", password="x" * 20)
    user.user_permissions.add(*Permission.objects.filter(codename__in=["view_store", "add_store"]))
    client.force_login(user)
    return client


def add_store_form(**overrides) -> dict:
    data = {
        "name": "Berlin",
        "marketplace_code": "DE",
        "seller_id": "A1ADDSTORE",
        "environment": "sandbox",
        "lwa_client_id": CREDENTIALS.lwa_client_id,
        "lwa_client_secret": CREDENTIALS.lwa_client_secret,
        "refresh_token": CREDENTIALS.refresh_token,
        "sp_api_endpoint": "",
        "token_endpoint": "",
    }
    data.update(overrides)
    return data


def page_text(response) -> str:
    return response.content.decode().replace("&#x27;", "'")


# The service


@pytest.mark.parametrize(
    ("marketplace_code", "environment", "endpoint"),
    [
        ("DE", "sandbox", "https://sandbox.sellingpartnerapi-eu.amazon.com"),
        ("US", "sandbox", "https://sandbox.sellingpartnerapi-na.amazon.com"),
        ("JP", "sandbox", "https://sandbox.sellingpartnerapi-fe.amazon.com"),
        ("DE", "production", "https://sellingpartnerapi-eu.amazon.com"),
        ("US", "production", "https://sellingpartnerapi-na.amazon.com"),
        ("JP", "production", "https://sellingpartnerapi-fe.amazon.com"),
    ],
)
def test_a_store_without_an_endpoint_gets_amazons_host_of_its_region_and_environment(
    marketplace_code, environment, endpoint
):
    store, _ = connect(marketplace_code=marketplace_code, environment=environment)

    assert store.sp_api_endpoint == endpoint


@pytest.mark.parametrize("endpoint", PRODUCTION_HOSTS)
def test_a_sandbox_store_is_refused_an_amazon_production_host(endpoint):
    from amazon_channel.stores.services import StoreEndpointRefused

    with pytest.raises(StoreEndpointRefused) as refused:
        connect(environment="sandbox", sp_api_endpoint=endpoint)

    assert "cannot use Amazon's production endpoint" in refused.value.message
    assert "https://sandbox.sellingpartnerapi-eu.amazon.com" in refused.value.message
    assert not Store.objects.exists()


@pytest.mark.parametrize("endpoint", SANDBOX_HOSTS)
def test_a_production_store_is_refused_an_amazon_sandbox_host(endpoint):
    from amazon_channel.stores.services import StoreEndpointRefused

    with pytest.raises(StoreEndpointRefused) as refused:
        connect(environment="production", sp_api_endpoint=endpoint)

    assert "cannot use Amazon's sandbox endpoint" in refused.value.message
    assert not Store.objects.exists()


def test_a_sandbox_store_may_use_our_seller_central_sandbox():
    store, _ = connect(environment="sandbox", sp_api_endpoint="http://127.0.0.1:8001")

    assert store.sp_api_endpoint == "http://127.0.0.1:8001"


def test_a_store_saved_as_a_whole_cannot_move_to_the_other_environments_host(admin_user):
    from amazon_channel.stores.services import StoreEndpointRefused, store_save

    store = StoreFactory(environment="sandbox")
    store.sp_api_endpoint = "https://sellingpartnerapi-eu.amazon.com"

    with pytest.raises(StoreEndpointRefused):
        store_save(store=store, actor=admin_user)

    store.refresh_from_db()
    assert store.sp_api_endpoint == "http://127.0.0.1:8001"


# Test connection before saving


def test_test_connection_of_a_sandbox_store_at_a_production_host_sends_nothing(sandbox_server):
    from amazon_channel.stores.services import store_connection_test

    problem = store_connection_test(
        marketplace_code="DE",
        seller_id="A1ENVIRONMENT",
        credentials=CREDENTIALS,
        environment="sandbox",
        sp_api_endpoint="https://sellingpartnerapi-eu.amazon.com",
        token_endpoint=f"{sandbox_server.url}/auth/o2/token",
    )

    assert "cannot use Amazon's production endpoint" in problem
    assert sandbox_server.exchanges == []


# manage.py store_connect


def store_connect_arguments(*extra) -> list[str]:
    return [
        "store_connect",
        "--name", "Paris",
        "--marketplace", "FR",
        "--seller-id", "A2SELLERFR01",
        "--client-id", CREDENTIALS.lwa_client_id,
        "--client-secret", CREDENTIALS.lwa_client_secret,
        "--refresh-token", CREDENTIALS.refresh_token,
        *extra,
    ]  # fmt: skip


@pytest.mark.parametrize(
    "extra",
    [
        ["--endpoint", "https://sellingpartnerapi-eu.amazon.com"],
        ["--environment", "sandbox", "--endpoint", "https://sellingpartnerapi-eu.amazon.com"],
        ["--environment", "production", "--endpoint", "https://sandbox.sellingpartnerapi-eu.amazon.com"],
    ],
)  # fmt: skip
def test_store_connect_command_refuses_an_amazon_host_of_the_other_environment(extra):
    with pytest.raises(CommandError, match="cannot use Amazon's"):
        call_command(*store_connect_arguments(*extra), stdout=io.StringIO(), stderr=io.StringIO())

    assert not Store.objects.exists()


def test_store_connect_command_says_the_default_environment_in_its_help():
    from django.core.management import load_command_class

    parser = load_command_class("amazon_channel", "store_connect").create_parser(
        "manage.py", "store_connect"
    )
    help_text = " ".join(parser.format_help().split())

    assert "sandbox (default) or production" in help_text
    assert "https://sandbox.sellingpartnerapi-<region>.amazon.com for a sandbox store" in help_text


# The dashboard's Add Store


def test_add_store_saves_a_sandbox_store_without_endpoint_at_amazons_sandbox_host(merchant_client):
    response = merchant_client.post(
        reverse("dashboard:store_connect_save"), {**add_store_form(), "save": "1"}
    )

    assert response.status_code == 302
    store = Store.objects.get()
    assert store.environment == "sandbox"
    assert store.sp_api_endpoint == "https://sandbox.sellingpartnerapi-eu.amazon.com"


@pytest.mark.parametrize(
    ("environment", "endpoint", "expected"),
    [
        ("sandbox", "https://sellingpartnerapi-eu.amazon.com", "production endpoint"),
        ("production", "https://sandbox.sellingpartnerapi-eu.amazon.com", "sandbox endpoint"),
    ],
)
@pytest.mark.parametrize("button", ["save", "test_connection"])
def test_add_store_refuses_an_amazon_host_of_the_other_environment(
    merchant_client, sandbox_server, environment, endpoint, expected, button
):
    form = add_store_form(
        environment=environment,
        sp_api_endpoint=endpoint,
        token_endpoint=f"{sandbox_server.url}/auth/o2/token",
    )

    response = merchant_client.post(reverse("dashboard:store_connect_save"), {**form, button: "1"})

    assert response.status_code == 200
    assert f"cannot use Amazon's {expected}" in page_text(response)
    assert not Store.objects.exists()
    assert sandbox_server.exchanges == []


@pytest.mark.parametrize("button", ["save", "test_connection"])
def test_add_store_says_why_an_endpoint_is_refused_in_the_merchants_language(
    merchant_client, sandbox_server, button
):
    production, sandbox = (
        "https://sellingpartnerapi-eu.amazon.com",
        "https://sandbox.sellingpartnerapi-eu.amazon.com",
    )
    form = add_store_form(
        environment="sandbox",
        sp_api_endpoint=production,
        token_endpoint=f"{sandbox_server.url}/auth/o2/token",
    )
    try:
        response = merchant_client.post(
            reverse("dashboard:store_connect_save"),
            {**form, button: "1"},
            headers={"accept-language": "de"},
        )
    finally:
        translation.activate("en")  # the request's language stays active in this thread
    with translation.override("de"):
        german = gettext(
            "A Sandbox store cannot use Amazon's production endpoint %(endpoint)s: Amazon "
            "accepts the same credentials there and it would act on real orders. Use "
            "%(expected)s, or leave the endpoint empty to get it."
        ) % {"endpoint": production, "expected": sandbox}

    assert german.startswith("Ein Sandbox-Store") and german in page_text(response)
    assert "cannot use Amazon's" not in page_text(response)
    assert not Store.objects.exists()


# Django admin


def admin_store_form(admin_client, **overrides) -> dict:
    page = admin_client.get(reverse("admin:amazon_channel_store_add"))
    values = {
        "name": "Admin Store",
        "region": "EU",
        "marketplace_code": "DE",
        "marketplace_id": "A1PA6795UKMFR9",
        "seller_id": "A1ADMINSTORE",
        "environment": "sandbox",
        "sp_api_endpoint": "",
        "token_endpoint": "",
        "lwa_client_id": "amzn1.application-oa2-client.admin",
        "lwa_client_secret": "admin-secret",
        "refresh_token": "Atzr|admin",
    }
    values.update(overrides)
    return posted_form(page, **values)


@pytest.mark.parametrize(
    ("environment", "endpoint"),
    [
        ("sandbox", "https://sandbox.sellingpartnerapi-eu.amazon.com"),
        ("production", "https://sellingpartnerapi-eu.amazon.com"),
    ],
)
def test_a_store_added_in_the_admin_without_endpoints_gets_amazons_hosts_of_its_environment(
    admin_client, environment, endpoint
):
    data = admin_store_form(admin_client, environment=environment)

    response = admin_client.post(reverse("admin:amazon_channel_store_add"), data)

    assert response.status_code == 302
    store = Store.objects.get()
    assert store.sp_api_endpoint == endpoint
    assert store.token_endpoint == "https://api.amazon.com/auth/o2/token"


@pytest.mark.parametrize(
    ("environment", "endpoint", "expected"),
    [
        ("sandbox", "https://sellingpartnerapi-eu.amazon.com", "production endpoint"),
        ("production", "https://sandbox.sellingpartnerapi-eu.amazon.com", "sandbox endpoint"),
    ],
)
def test_the_admin_refuses_an_amazon_host_of_the_other_environment(
    admin_client, environment, endpoint, expected
):
    data = admin_store_form(admin_client, environment=environment, sp_api_endpoint=endpoint)

    response = admin_client.post(reverse("admin:amazon_channel_store_add"), data)

    assert response.status_code == 200
    assert f"cannot use Amazon's {expected}" in page_text(response)
    assert not Store.objects.exists()


def test_switching_a_store_to_sandbox_in_the_admin_keeps_it_off_the_production_host(
    admin_client,
):
    store = StoreFactory(
        environment="production", sp_api_endpoint="https://sellingpartnerapi-eu.amazon.com"
    )
    url = reverse("admin:amazon_channel_store_change", args=[store.pk])
    data = posted_form(admin_client.get(url), environment="sandbox")

    response = admin_client.post(url, data)

    assert "cannot use Amazon's production endpoint" in page_text(response)
    store.refresh_from_db()
    assert store.environment == "production"


# The client: a bad row in the database sends nothing


@pytest.mark.parametrize(
    ("environment", "endpoint", "expected"),
    [
        ("sandbox", "https://sellingpartnerapi-eu.amazon.com", "production endpoint"),
        ("production", "https://sandbox.sellingpartnerapi-eu.amazon.com", "sandbox endpoint"),
    ],
)
@pytest.mark.parametrize(
    "call",
    [
        lambda client: client.get_order("302-1234567-1234567"),
        lambda client: client.confirm_shipment(
            amazon_order_id="302-1234567-1234567", package_detail={}
        ),
        lambda client: client.check_connection(),
    ],
    ids=["getOrder", "confirmShipment", "check_connection"],
)  # fmt: skip
def test_the_client_sends_nothing_to_an_amazon_host_of_the_other_environment(
    sandbox_server, sandbox_seller_factory, environment, endpoint, expected, call
):
    # A row written before the rule (or by hand): its token endpoint is our sandbox, so any
    # attempt to log in would show up among the sandbox's exchanges.
    seller = sandbox_seller_factory(marketplace_ids=["A1PA6795UKMFR9"])
    store = store_for_seller(
        sandbox_server, seller, environment=environment, sp_api_endpoint=endpoint
    )

    with pytest.raises(AmazonRequestError) as refused:
        call(AmazonClient(store))

    assert f"cannot use Amazon's {expected}" in refused.value.message
    assert "was not sent" in refused.value.message
    assert sandbox_server.exchanges == []
