"""Test connection asks Amazon what the credentials may do: getMarketplaceParticipations
(sellers.json), and the store's marketplace must be one the seller participates in. A token got
with the right client secret never answers for a wrong one."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.urls import reverse

from amazon_channel.models import Store
from amazon_channel.spapi import client as spapi
from amazon_channel.spapi.client import AmazonAuthorizationError, AmazonClient
from amazon_channel.stores.services import store_connection_check
from seller_central_sandbox.testing import TEST_TIME_SCALE
from tests.sync_helpers import store_for_seller

pytestmark = pytest.mark.django_db(transaction=True)

DE, FR, IT = "A1PA6795UKMFR9", "A13V1IB3VIYZZH", "APJ6JRA9NG5V4"


@pytest.fixture
def merchant_client(client):
    user = get_user_model().objects.create_user("anna", password="x" * 20)
    user.user_permissions.add(*Permission.objects.filter(codename__in=["view_store", "add_store"]))
    client.force_login(user)
    return client


@pytest.fixture(autouse=True)
def fast_rate_limits(settings):
    settings.AMAZON_RATE_LIMIT_SCALE = TEST_TIME_SCALE


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
        "test_connection": "1",
    }
    data.update(overrides)
    return data


def page_text(response) -> str:
    return response.content.decode().replace("&#x27;", "'")


def test_test_connection_with_a_wrong_secret_fails_after_a_good_one(
    merchant_client, sandbox_server, sandbox_seller_factory
):
    seller = sandbox_seller_factory(marketplace_ids=[DE])
    url = reverse("dashboard:store_connect_save")
    good = merchant_client.post(url, form_data(sandbox_server, seller), follow=True)
    assert "Amazon accepted the credentials." in page_text(good)

    wrong = merchant_client.post(url, form_data(sandbox_server, seller, lwa_client_secret="wrong"))

    assert "Test connection failed" in page_text(wrong)
    assert "rejected the store's credentials (invalid_client)" in page_text(wrong)
    assert "Amazon accepted the credentials." not in page_text(wrong)
    logins = [
        exchange for exchange in sandbox_server.exchanges if exchange.path == "/auth/o2/token"
    ]
    assert [exchange.status for exchange in logins] == [200, 401]


def test_a_client_with_a_wrong_secret_is_refused_after_one_with_the_right_secret(
    sandbox_server, sandbox_seller_factory
):
    seller = sandbox_seller_factory(marketplace_ids=[DE])
    store = store_for_seller(sandbox_server, seller)
    AmazonClient(store).check_connection()
    store.lwa_client_secret = "wrong"

    with pytest.raises(AmazonAuthorizationError) as refused:
        AmazonClient(store).check_connection()

    assert "invalid_client" in refused.value.message


def test_the_token_cache_keeps_no_credential_in_its_keys(sandbox_server, sandbox_seller_factory):
    seller = sandbox_seller_factory(marketplace_ids=[DE])

    AmazonClient(store_for_seller(sandbox_server, seller)).check_connection()

    keys = " ".join(str(key) for key in spapi._token_cache)
    assert keys
    assert seller.client_secret not in keys
    assert seller.refresh_token not in keys


def test_test_connection_reads_the_sellers_marketplace_participations(
    merchant_client, sandbox_server, sandbox_seller_factory
):
    seller = sandbox_seller_factory(marketplace_ids=[DE])

    response = merchant_client.post(
        reverse("dashboard:store_connect_save"), form_data(sandbox_server, seller), follow=True
    )

    assert "Amazon accepted the credentials." in page_text(response)
    assert [
        (exchange.method, exchange.path, exchange.status)
        for exchange in sandbox_server.exchanges
        if exchange.path != "/auth/o2/token"
    ] == [("GET", "/sellers/v1/marketplaceParticipations", 200)]
    assert not Store.objects.exists()


def test_test_connection_names_the_marketplaces_the_seller_participates_in(
    merchant_client, sandbox_server, sandbox_seller_factory
):
    seller = sandbox_seller_factory(marketplace_ids=[DE, IT])

    response = merchant_client.post(
        reverse("dashboard:store_connect_save"),
        form_data(sandbox_server, seller, marketplace_code="FR"),
    )

    text = page_text(response)
    assert "Test connection failed" in text
    assert f"does not participate in the store's marketplace FR ({FR})" in text
    assert f"Amazon.de ({DE}), Amazon.it ({IT})" in text


def test_a_saved_store_passes_the_check_in_a_marketplace_of_the_seller(
    sandbox_server, sandbox_seller_factory
):
    seller = sandbox_seller_factory(marketplace_ids=[FR, DE])

    assert store_connection_check(store=store_for_seller(sandbox_server, seller)) is None


# Amazon's list as hostile input (sellers.json MarketplaceParticipation; non-Amazon marketplaces:
# amzn/selling-partner-api-models#1367; a loose isParticipating: amzn/selling-partner-api-docs#254)


def participation(marketplace_id, name=None, *, is_participating=True):
    marketplace = {"id": marketplace_id, "countryCode": "DE", "defaultCurrencyCode": "EUR"}
    if name:
        marketplace["name"] = name
    return {
        "marketplace": marketplace,
        "participation": {"isParticipating": is_participating, "hasSuspendedListings": False},
        "storeName": "Shop",
    }


def problem(participations):
    return spapi.marketplace_participation_problem(
        participations, marketplace_id=DE, marketplace_label=f"DE ({DE})"
    )


def test_a_marketplace_amazon_lists_as_not_participating_is_refused():
    text = problem(
        [participation(DE, "Amazon.de", is_participating=False), participation(FR, "Amazon.fr")]
    )

    assert f"does not participate in the store's marketplace DE ({DE})" in text
    assert text.endswith(f"The seller participates in: Amazon.fr ({FR}).")


def test_unknown_and_incomplete_participations_do_not_hide_the_stores_marketplace():
    participations = [
        {"storeName": "no marketplace"},
        {"marketplace": "not an object"},
        participation("A1ZFFQZ3HTUKT9"),  # a "Non-Amazon" marketplace, without a name
        {"marketplace": {"id": DE}},  # no participation flags at all
    ]

    assert problem(participations) is None


def test_a_seller_amazon_lists_in_no_marketplace_is_told_so():
    text = problem([participation(FR, "Amazon.fr", is_participating=False)])

    assert "lists no marketplace this seller participates in" in text
    assert f"DE ({DE})" in text
