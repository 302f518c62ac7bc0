"""The Sellers API's getMarketplaceParticipations (sellers.json) over real HTTP, through
python-amazon-sp-api: the seller's marketplaces in `payload`, Amazon's usage plan, Amazon's 403.
Every answer is also validated against sellers.json by the conftest."""

import httpx
import pytest
from sp_api.api import Sellers
from sp_api.base.exceptions import SellingApiRequestThrottledException

from seller_central_sandbox.catalog import MARKETPLACE_LANGUAGES, MARKETPLACES
from seller_central_sandbox.testing import client_kwargs_for
from seller_central_sandbox.tests.contract import load_model

pytestmark = pytest.mark.django_db(transaction=True)

DE, IT = "A1PA6795UKMFR9", "APJ6JRA9NG5V4"
PATH = "/sellers/v1/marketplaceParticipations"


def sellers_client(server, seller) -> Sellers:
    return Sellers(**client_kwargs_for(server, seller))


def test_participations_list_each_marketplace_of_the_seller_in_amazons_shape(
    sandbox_server, sandbox_seller_factory
):
    seller = sandbox_seller_factory(marketplace_ids=[DE, IT])

    response = sellers_client(sandbox_server, seller).get_marketplace_participation()

    assert response.payload == [
        {
            "marketplace": {
                "id": DE,
                "name": "Amazon.de",
                "countryCode": "DE",
                "defaultCurrencyCode": "EUR",
                "defaultLanguageCode": "de_DE",
                "domainName": "www.amazon.de",
            },
            "participation": {"isParticipating": True, "hasSuspendedListings": False},
            "storeName": seller.name,
        },
        {
            "marketplace": {
                "id": IT,
                "name": "Amazon.it",
                "countryCode": "IT",
                "defaultCurrencyCode": "EUR",
                "defaultLanguageCode": "it_IT",
                "domainName": "www.amazon.it",
            },
            "participation": {"isParticipating": True, "hasSuspendedListings": False},
            "storeName": seller.name,
        },
    ]


def test_participations_answer_with_the_documented_usage_plan(
    sandbox_server, sandbox_seller_factory, rate_limit_clock, settings
):
    # sellers.json, getMarketplaceParticipations: "| 0.016 | 15 |".
    description = load_model("sellers.json")["paths"][PATH]["get"]["description"]
    assert "| 0.016 | 15 |" in description
    seller = sandbox_seller_factory(marketplace_ids=[DE])
    client = sellers_client(sandbox_server, seller)

    answers = [client.get_marketplace_participation() for _ in range(15)]
    with pytest.raises(SellingApiRequestThrottledException) as throttled:
        client.get_marketplace_participation()

    assert {answer.headers["x-amzn-RateLimit-Limit"] for answer in answers} == {"0.016"}
    assert throttled.value.error[0]["code"] == "QuotaExceeded"
    # One token back after 1 / 0.016 s (sped up by the time scale), not before.
    rate_limit_clock.advance(0.9 / 0.016 / settings.SANDBOX_TIME_SCALE)
    with pytest.raises(SellingApiRequestThrottledException):
        client.get_marketplace_participation()
    rate_limit_clock.advance(0.2 / 0.016 / settings.SANDBOX_TIME_SCALE)
    assert client.get_marketplace_participation().payload[0]["marketplace"]["id"] == DE


def test_participations_without_a_valid_access_token_are_denied(sandbox_server):
    response = httpx.get(f"{sandbox_server.url}{PATH}", headers={"x-amz-access-token": "Atza|x"})

    assert response.status_code == 403
    assert response.json()["errors"][0]["code"] == "Unauthorized"


def test_every_catalog_marketplace_can_be_described_as_amazon_describes_it():
    # The view reads these for each marketplace a seller may have.
    assert {marketplace.country_code for marketplace in MARKETPLACES.values()} <= set(
        MARKETPLACE_LANGUAGES
    )
