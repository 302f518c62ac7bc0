"""searchOrders as Amazon enforces it: a next page repeats the first call's parameters, and the
window's end is judged by Amazon's clock. Over real HTTP, through python-amazon-sp-api (and raw
requests where the spelling of a parameter is the point)."""

from datetime import timedelta

import httpx
import pytest
from django.utils import timezone
from sp_api.base.exceptions import SellingApiBadRequestException

from seller_central_sandbox.models import SandboxOrder
from seller_central_sandbox.services.orders import orders_generate
from seller_central_sandbox.services.sellers import seller_clock_offset_set
from seller_central_sandbox.tests.helpers import (
    access_token,
    minutes_ago,
    orders_client,
    three_days_ago,
)

pytestmark = pytest.mark.django_db(transaction=True)

SEARCH_PATH = "/orders/2026-01-01/orders"
US, DE = "ATVPDKIKX0DER", "A1PA6795UKMFR9"
# Amazon's words (amzn/selling-partner-api-sdk issue 717, amzn/selling-partner-api-models 5144).
PARAMETERS_DIFFER = (
    "The paginationToken you have submitted is not valid. All parameters must match the "
    "original request except maxResultsPerPage."
)


def iso(moment) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.fixture
def first_search(sandbox_seller):
    """Twelve orders and the parameters of a search that pages them four at a time."""
    orders_generate(seller=sandbox_seller, count=12, seed=41, now=minutes_ago(10))
    return {
        "lastUpdatedAfter": iso(minutes_ago(60)),
        "lastUpdatedBefore": iso(minutes_ago(5)),
        "marketplaceIds": [US],
        "includedData": ["BUYER", "FULFILLMENT"],
        "fulfillmentStatuses": ["PENDING", "UNSHIPPED", "SHIPPED"],
        "maxResultsPerPage": 4,
    }


def test_a_next_page_with_only_the_token_is_refused_in_amazons_words(
    sandbox_client_kwargs, first_search
):
    client = orders_client(sandbox_client_kwargs)
    first = client.search_orders(**first_search)
    assert first.next_token

    with pytest.raises(SellingApiBadRequestException) as refused:
        client.search_orders(paginationToken=first.next_token)

    assert refused.value.amzn_code == "InvalidInput"
    assert refused.value.message == PARAMETERS_DIFFER


@pytest.mark.parametrize(
    "change",
    [
        {"lastUpdatedBefore": lambda: iso(minutes_ago(6))},
        {"lastUpdatedAfter": lambda: iso(minutes_ago(61))},
        {"marketplaceIds": [US, DE]},
        {"fulfillmentStatuses": None},
        {"fulfilledBy": ["MERCHANT"]},
        {"lastUpdatedBefore": None},
    ],
    ids=[
        "an-earlier-end",
        "an-earlier-start",
        "another-marketplace",
        "no-status-filter",
        "a-new-filter",
        "no-end",
    ],
)
def test_a_next_page_whose_parameters_differ_from_the_first_calls_is_refused(
    sandbox_client_kwargs, first_search, change
):
    client = orders_client(sandbox_client_kwargs)
    first = client.search_orders(**first_search)
    changed = {**first_search}
    for name, value in change.items():
        if value is None:
            del changed[name]
        else:
            changed[name] = value() if callable(value) else value

    with pytest.raises(SellingApiBadRequestException) as refused:
        client.search_orders(**changed, paginationToken=first.next_token)

    assert refused.value.message == PARAMETERS_DIFFER


def test_a_next_page_may_change_only_max_results_per_page(
    sandbox_seller, sandbox_client_kwargs, first_search
):
    client = orders_client(sandbox_client_kwargs)
    first = client.search_orders(**first_search)

    second = client.search_orders(
        **{**first_search, "maxResultsPerPage": 3}, paginationToken=first.next_token
    )
    without_size = {
        name: value for name, value in first_search.items() if name != "maxResultsPerPage"
    }
    rest = client.search_orders(**without_size, paginationToken=second.next_token)

    pages = [first, second, rest]
    assert [len(page.payload["orders"]) for page in pages] == [4, 3, 5]
    assert rest.next_token is None
    served = [order["orderId"] for page in pages for order in page.payload["orders"]]
    assert sorted(served) == sorted(
        SandboxOrder.objects.filter(seller=sandbox_seller).values_list("order_id", flat=True)
    )


def test_a_next_page_may_ask_for_other_datasets_as_the_model_allows(
    sandbox_client_kwargs, first_search
):
    # orders_2026-01-01.json, Pagination: all other parameters must be the same "with the
    # exception of maxResultsPerPage and includedData, which can be modified between calls".
    # The 400's own words (sdk#717) name only maxResultsPerPage: our client never changes either.
    client = orders_client(sandbox_client_kwargs)
    first = client.search_orders(**first_search)

    second = client.search_orders(
        **{**first_search, "includedData": ["FULFILLMENT"]}, paginationToken=first.next_token
    )
    without_datasets = {
        name: value for name, value in first_search.items() if name != "includedData"
    }
    third = client.search_orders(**without_datasets, paginationToken=second.next_token)

    assert all("buyer" in order for order in first.payload["orders"])
    assert not any("buyer" in order for order in second.payload["orders"])
    assert all("fulfillment" in order for order in second.payload["orders"])
    assert not any("fulfillment" in order for order in third.payload["orders"])


def test_list_parameters_match_in_any_order_and_either_spelling(sandbox_server, sandbox_seller):
    # The model gives arrays no collectionFormat (Swagger's default: csv); python-amazon-sp-api
    # joins them with commas. Whether Amazon minds a different order is not documented: the
    # sandbox accepts any order and repetition of the same values.
    orders_generate(seller=sandbox_seller, count=6, seed=42, now=minutes_ago(10))
    headers = {"x-amz-access-token": access_token(sandbox_server, sandbox_seller)}
    window = {"createdAfter": iso(minutes_ago(60)), "createdBefore": iso(minutes_ago(5))}
    first = httpx.get(
        sandbox_server.url + SEARCH_PATH,
        params={
            **window,
            "fulfillmentStatuses": "PENDING,UNSHIPPED,SHIPPED",
            "includedData": "BUYER,FULFILLMENT",
            "maxResultsPerPage": 3,
        },
        headers=headers,
    )
    assert first.status_code == 200, first.text

    second = httpx.get(
        sandbox_server.url + SEARCH_PATH,
        params=[
            # The same instant, spelled with an offset instead of Z.
            ("createdAfter", window["createdAfter"].replace("Z", "+00:00")),
            ("createdBefore", window["createdBefore"]),
            ("fulfillmentStatuses", "SHIPPED"),
            ("fulfillmentStatuses", "UNSHIPPED,PENDING"),
            ("includedData", "FULFILLMENT"),
            ("includedData", "BUYER"),
            ("paginationToken", first.json()["pagination"]["nextToken"]),
            # A key the model does not know, as python-amazon-sp-api adds: ignored.
            ("MarketplaceId", US),
        ],
        headers=headers,
    )

    assert second.status_code == 200, second.text
    ids = [order["orderId"] for page in (first, second) for order in page.json()["orders"]]
    assert len(set(ids)) == 6


def test_a_window_is_judged_by_amazons_clock_not_the_callers(sandbox_seller, sandbox_client_kwargs):
    client = orders_client(sandbox_client_kwargs)
    ends_150_seconds_ago = iso(timezone.now() - timedelta(seconds=150))
    # Amazon's clock 60 s behind ours: for Amazon that end is only 90 s before the request.
    seller_clock_offset_set(seller=sandbox_seller, seconds=-60)

    with pytest.raises(SellingApiBadRequestException) as refused:
        client.search_orders(
            lastUpdatedAfter=three_days_ago(), lastUpdatedBefore=ends_150_seconds_ago
        )

    assert refused.value.amzn_code == "InvalidInput"
    assert "at least two minutes before the time of the request" in refused.value.message
    # Amazon's clock 60 s ahead: an end 90 s before our now is 150 s before Amazon's.
    seller_clock_offset_set(seller=sandbox_seller, seconds=60)
    ends_90_seconds_ago = iso(timezone.now() - timedelta(seconds=90))
    client.search_orders(lastUpdatedAfter=three_days_ago(), lastUpdatedBefore=ends_90_seconds_ago)


def test_the_default_end_is_two_minutes_before_amazons_now(sandbox_seller, sandbox_client_kwargs):
    seller_clock_offset_set(seller=sandbox_seller, seconds=-600)

    response = orders_client(sandbox_client_kwargs).search_orders(lastUpdatedAfter=three_days_ago())

    ends = timezone.datetime.fromisoformat(
        response.payload["lastUpdatedBefore"].replace("Z", "+00:00")
    )
    assert timedelta(minutes=12) <= timezone.now() - ends < timedelta(minutes=13)
