"""Every number the sandbox's controls take has a range: a value outside it is refused with a
message and changes nothing (a latency of 999999999999 ms once hung every sandbox thread, and
overflowed PostgreSQL's integer column into a 500)."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.contrib.messages import get_messages
from django.core.management import CommandError, call_command
from django.forms import model_to_dict

from seller_central_sandbox.forms import MAX_USAGE_PLAN_BURST
from seller_central_sandbox.models import SandboxOrder, SandboxSeller
from seller_central_sandbox.services.feeds import seller_feed_faults_set
from seller_central_sandbox.services.sellers import (
    MAX_FAULT_COUNT,
    MAX_FAULT_LATENCY_MS,
    FaultSettings,
    SandboxError,
    seller_faults_update,
)

pytestmark = pytest.mark.django_db

FAULTS = {
    "fail_next": 0,
    "fail_status": 503,
    "fail_probability": 0,
    "latency_ms": 0,
    "malformed_next": 0,
}
BEHAVIOUR = {
    "clock_offset_seconds": 0,
    "roles": ["INVENTORY_AND_ORDER_TRACKING"],
    "result_compression": "gzip",
    "fatal_next": 0,
    "fatal_applied": 1,
}
USAGE_PLAN = {"operation": "getOrder", "rate": "2.5", "burst": 40}
GENERATE = {"count": 3, "seed": 1}
# (form URL, valid data, field, a value outside the range)
OUT_OF_RANGE = [
    ("faults", FAULTS, "latency_ms", 999_999_999_999),
    ("faults", FAULTS, "latency_ms", MAX_FAULT_LATENCY_MS + 1),
    ("faults", FAULTS, "fail_next", 2**31),
    ("faults", FAULTS, "fail_next", MAX_FAULT_COUNT + 1),
    ("faults", FAULTS, "malformed_next", MAX_FAULT_COUNT + 1),
    ("behaviour", BEHAVIOUR, "fatal_next", 2**31),
    ("behaviour", BEHAVIOUR, "fatal_applied", MAX_FAULT_COUNT + 1),
    ("behaviour", BEHAVIOUR, "clock_offset_seconds", 24 * 3600 + 1),
    ("behaviour", BEHAVIOUR, "clock_offset_seconds", -(2**40)),
    ("usage-plan", USAGE_PLAN, "rate", "1000.000001"),
    ("usage-plan", USAGE_PLAN, "burst", 2**63),
    ("usage-plan", USAGE_PLAN, "burst", MAX_USAGE_PLAN_BURST + 1),
    ("generate", GENERATE, "now", "9999-12-31T23:59:59Z"),
    ("lifecycle", {"seed": 1}, "now", "0001-01-01T00:00:00Z"),
]
# (form URL, valid data, field, the limit of its range, the seller's column that stores it)
LIMITS = [
    ("faults", FAULTS, "latency_ms", MAX_FAULT_LATENCY_MS, "fault_latency_ms"),
    ("faults", FAULTS, "fail_next", MAX_FAULT_COUNT, "fault_fail_next"),
    ("faults", FAULTS, "malformed_next", MAX_FAULT_COUNT, "fault_malformed_next"),
    ("behaviour", BEHAVIOUR, "fatal_next", MAX_FAULT_COUNT, "fault_feed_fatal_next"),
    ("behaviour", BEHAVIOUR, "fatal_applied", MAX_FAULT_COUNT, "fault_feed_fatal_applied"),
    ("behaviour", BEHAVIOUR, "clock_offset_seconds", -24 * 3600, "clock_offset_seconds"),
]


def url(seller, view: str) -> str:
    return f"/sandbox/sellers/{seller.seller_id}/{view}"


def messages_of(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def seller_state(seller) -> dict:
    return model_to_dict(SandboxSeller.objects.get(pk=seller.pk))


@pytest.fixture
def operator_client(client):
    user = get_user_model().objects.create_user("operator", password="pw-12345-long")
    user.user_permissions.add(Permission.objects.get(codename="control_sandbox"))
    client.force_login(user)
    return client


@pytest.mark.parametrize(("view", "data", "field", "outside"), OUT_OF_RANGE)
def test_a_control_value_out_of_range_is_refused_and_changes_nothing(
    operator_client, sandbox_seller, view, data, field, outside
):
    before = seller_state(sandbox_seller)

    response = operator_client.post(url(sandbox_seller, view), {**data, field: outside})

    assert response.status_code == 302
    [message] = messages_of(response)
    assert message.startswith("Please correct the form") and field in message
    assert seller_state(sandbox_seller) == before
    assert not SandboxOrder.objects.exists()


@pytest.mark.postgresql
@pytest.mark.parametrize(("view", "data", "field", "limit", "column"), LIMITS)
def test_the_limit_of_each_range_is_accepted_and_stored_on_postgresql(
    operator_client, sandbox_seller, view, data, field, limit, column
):
    response = operator_client.post(url(sandbox_seller, view), {**data, field: limit})

    assert response.status_code == 302
    assert not messages_of(response)[0].startswith("Please correct the form")
    assert getattr(SandboxSeller.objects.get(pk=sandbox_seller.pk), column) == limit


@pytest.mark.postgresql
def test_the_limits_of_a_usage_plan_are_accepted(operator_client, sandbox_seller):
    data = {"operation": "getOrder", "rate": "1000", "burst": MAX_USAGE_PLAN_BURST}

    response = operator_client.post(url(sandbox_seller, "usage-plan"), data)

    assert messages_of(response) == ["Usage plan of getOrder saved."]
    assert SandboxSeller.objects.get(pk=sandbox_seller.pk).usage_plans == {
        "getOrder": {"rate": "1000", "burst": MAX_USAGE_PLAN_BURST}
    }


@pytest.mark.parametrize(
    "faults",
    [
        FaultSettings(latency_ms=MAX_FAULT_LATENCY_MS + 1),
        FaultSettings(latency_ms=999_999_999_999),
        FaultSettings(latency_ms=-1),
        FaultSettings(fail_next=MAX_FAULT_COUNT + 1),
        FaultSettings(malformed_next=2**31),
        FaultSettings(fail_next=-1),
    ],
)
def test_the_faults_service_refuses_values_out_of_range(sandbox_seller, faults):
    before = seller_state(sandbox_seller)

    with pytest.raises(SandboxError):
        seller_faults_update(seller=sandbox_seller, faults=faults)

    assert seller_state(sandbox_seller) == before


def test_the_faults_command_refuses_a_latency_out_of_range(sandbox_seller):
    before = seller_state(sandbox_seller)

    with pytest.raises(CommandError, match="latency must be from 0 to 60000 ms"):
        call_command(
            "sandbox", "faults", "--seller-id", sandbox_seller.seller_id,
            "--latency-ms", "999999999999", "--fail-next", "3",
        )  # fmt: skip

    assert seller_state(sandbox_seller) == before


def test_feed_faults_refuse_counts_beyond_a_million(sandbox_seller):
    with pytest.raises(SandboxError):
        seller_feed_faults_set(seller=sandbox_seller, fatal_next=10**12)
    with pytest.raises(CommandError):
        call_command(
            "sandbox",
            "amazon",
            "--seller-id",
            sandbox_seller.seller_id,
            "--fatal-next",
            "99999999999",
        )

    sandbox_seller.refresh_from_db()
    assert sandbox_seller.fault_feed_fatal_next == 0
