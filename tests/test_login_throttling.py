"""Sign-in throttling per username, whatever the address: guesses at one username spread over
many addresses (or forged X-Forwarded-For headers) lock that username out; other usernames sign
in as before, from the same addresses."""

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from dashboard.tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

ADDRESSES = [f"203.0.113.{number}" for number in range(1, 40)]
PROXY = "10.0.0.2"


@pytest.fixture(autouse=True)
def users(db):
    for username in ("anna", "bruno"):
        get_user_model().objects.create_user(username, password=PASSWORD)


def sign_in(username: str, password: str, **meta):
    # A fresh client each time: no cookie or session ties the attempts together.
    return Client().post(reverse("login"), {"username": username, "password": password}, **meta)


def direct(address: str) -> dict:
    return {"REMOTE_ADDR": address}


def behind_a_proxy(address: str) -> dict:
    return {"REMOTE_ADDR": PROXY, "HTTP_X_FORWARDED_FOR": address}


@pytest.fixture(params=["direct", "behind_a_proxy"])
def client_address(request, settings):
    """How the visitor's address reaches us: REMOTE_ADDR, or X-Forwarded-For from one proxy
    (AXES_IPWARE_PROXY_COUNT=1, as README.md tells deployments behind a proxy to set)."""
    if request.param == "behind_a_proxy":
        settings.AXES_IPWARE_PROXY_COUNT = 1
        settings.AXES_IPWARE_META_PRECEDENCE_ORDER = ("HTTP_X_FORWARDED_FOR", "REMOTE_ADDR")
        return behind_a_proxy
    return direct


def test_failures_from_many_addresses_lock_the_username_out_everywhere(client_address):
    for address in ADDRESSES[: settings.AXES_FAILURE_LIMIT]:
        sign_in("anna", "wrong", **client_address(address))

    fresh_address = sign_in("anna", PASSWORD, **client_address(ADDRESSES[-1]))
    forged_header = sign_in(
        "anna", PASSWORD, REMOTE_ADDR=ADDRESSES[-2], HTTP_X_FORWARDED_FOR="198.51.100.1"
    )

    assert fresh_address.status_code == 429
    assert "Too many failed sign-in attempts" in fresh_address.content.decode()
    assert forged_header.status_code == 429


def test_one_failure_short_of_the_limit_from_many_addresses_locks_nothing(client_address):
    for address in ADDRESSES[: settings.AXES_FAILURE_LIMIT - 1]:
        assert sign_in("anna", "wrong", **client_address(address)).status_code == 200

    assert sign_in("anna", PASSWORD, **client_address(ADDRESSES[-1])).status_code == 302


def test_another_username_signs_in_from_the_addresses_that_locked_one(client_address):
    for address in ADDRESSES[: settings.AXES_FAILURE_LIMIT]:
        sign_in("anna", "wrong", **client_address(address))

    for address in ADDRESSES[: settings.AXES_FAILURE_LIMIT]:
        assert sign_in("bruno", PASSWORD, **client_address(address)).status_code == 302
    assert sign_in("anna", PASSWORD, **client_address(ADDRESSES[0])).status_code == 429


def test_spaces_around_the_username_count_as_the_same_username():
    # The sign-in form strips the username before it authenticates: so does the count.
    for number, variant in enumerate(["anna", " anna", "anna ", " anna ", "anna\t"]):
        sign_in(variant, "wrong", REMOTE_ADDR=ADDRESSES[number])

    assert sign_in("anna", PASSWORD, REMOTE_ADDR=ADDRESSES[-1]).status_code == 429
