"""The control page at /sandbox/: for holders of the control_sandbox permission only (being staff
is not enough), POST forms that drive the services."""

from datetime import UTC, datetime

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.contrib.messages import get_messages
from django.test import Client
from django.utils import timezone
from sp_api.base.exceptions import SellingApiRequestThrottledException

from seller_central_sandbox.models import (
    SandboxAccessToken,
    SandboxOrder,
    SandboxOrderEvent,
    SandboxSeller,
)
from seller_central_sandbox.services.orders import orders_generate
from seller_central_sandbox.services.sellers import access_token_grant, seller_create
from seller_central_sandbox.tests.helpers import orders_client, orders_without_ids, three_days_ago

pytestmark = pytest.mark.django_db

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)


def url(seller, view: str) -> str:
    return f"/sandbox/sellers/{seller.seller_id}/{view}"


def messages_of(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def lifecycle_moved(seller) -> bool:
    return SandboxOrderEvent.objects.filter(order__seller=seller).exclude(kind="placed").exists()


def tokens_revoked(seller) -> bool:
    return SandboxSeller.objects.get(pk=seller.pk).is_refresh_token_revoked


def clock_moved(seller) -> bool:
    return SandboxSeller.objects.get(pk=seller.pk).clock_offset_seconds == -30


def search_plan_lowered(seller) -> bool:
    return SandboxSeller.objects.get(pk=seller.pk).usage_plans == {
        "searchOrders": {"rate": "0.0028", "burst": 5}
    }


def integration_feed_submitted(seller) -> bool:
    return seller.feeds.filter(application="ERP").exists()


BEHAVIOUR = {
    "clock_offset_seconds": -30,
    "roles": ["INVENTORY_AND_ORDER_TRACKING"],
    "result_compression": "gzip",
    "fatal_next": 1,
    "fatal_applied": 0,
}
# The POST forms without a test of their own elsewhere: data, and how to tell they took effect.
FORMS = {
    "lifecycle": ({"seed": 9}, lifecycle_moved),
    "tokens": ({"action": "revoke"}, tokens_revoked),
    "behaviour": (BEHAVIOUR, clock_moved),
    "usage-plan": (
        {"operation": "searchOrders", "rate": "0.00280", "burst": 5},
        search_plan_lowered,
    ),
    "integration-feed": ({"application": "ERP"}, integration_feed_submitted),
}


def live_access_token(seller) -> SandboxAccessToken:
    return access_token_grant(
        grant_type="refresh_token",
        refresh_token=seller.refresh_token,
        client_id=seller.client_id,
        client_secret=seller.client_secret,
    )


def operator(username: str):
    """A user who may drive the sandbox, and nothing else."""
    user = get_user_model().objects.create_user(username, password="pw-12345-long")
    user.user_permissions.add(Permission.objects.get(codename="control_sandbox"))
    return user


@pytest.fixture
def operator_client(client):
    client.force_login(operator("operator"))
    return client


def test_anonymous_visitors_are_sent_to_login(client):
    response = client.get("/sandbox/")

    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_users_without_the_sandbox_permission_are_forbidden_even_staff(client):
    merchant = get_user_model().objects.create_user("merchant", password="pw-12345-long")
    staff = get_user_model().objects.create_user("staff", password="pw-12345-long", is_staff=True)

    for user in (merchant, staff):
        client.force_login(user)
        assert client.get("/sandbox/").status_code == 403
        assert client.get("/sandbox/sellers/A1/").status_code == 403


def test_the_operations_role_and_superusers_drive_the_sandbox(client):
    # Not the transactional sandbox_seller fixture: its flush would drop the migration's groups.
    seller = seller_create(
        seller_id="A1ROLES",
        client_id="amzn1.application-oa2-client.roles",
        client_secret="roles-secret",
        refresh_token="Atzr|roles-refresh-token",
    )
    member = get_user_model().objects.create_user("ops", password="pw-12345-long")
    member.groups.add(Group.objects.get(name="Operations"))
    superuser = get_user_model().objects.create_superuser("root", password="pw-12345-long")

    for user in (member, superuser):
        client.force_login(user)
        assert client.get("/sandbox/").status_code == 200
        response = client.post(url(seller, "tokens"), {"action": "revoke"})
        assert response.status_code == 302
        assert tokens_revoked(seller)
        client.post(url(seller, "tokens"), {"action": "restore"})


def test_operators_see_sellers_and_generate_orders(operator_client, sandbox_seller):
    page = operator_client.get("/sandbox/")
    assert sandbox_seller.seller_id in page.content.decode()

    response = operator_client.post(
        f"/sandbox/sellers/{sandbox_seller.seller_id}/generate", {"count": 4, "seed": 2}
    )

    assert response.status_code == 302
    assert SandboxOrder.objects.filter(seller=sandbox_seller).count() == 4


def test_operators_set_faults_and_move_one_order(
    operator_client, sandbox_seller, django_assert_max_num_queries
):
    orders_generate(seller=sandbox_seller, count=10, seed=1)
    order = SandboxOrder.objects.filter(status="PENDING").order_by("pk").first()
    operator_client.post(
        f"/sandbox/sellers/{sandbox_seller.seller_id}/faults",
        {
            "fail_next": 2,
            "fail_status": 500,
            "fail_probability": 0,
            "latency_ms": 10,
            "malformed_next": 1,
        },
    )

    operator_client.post(
        f"/sandbox/sellers/{sandbox_seller.seller_id}/orders/{order.order_id}/step", {"step": "pay"}
    )
    with django_assert_max_num_queries(8):
        detail = operator_client.get(f"/sandbox/sellers/{sandbox_seller.seller_id}/")

    sandbox_seller.refresh_from_db()
    order.refresh_from_db()
    assert (sandbox_seller.fault_fail_next, sandbox_seller.fault_fail_status) == (2, 500)
    assert order.status == "UNSHIPPED"
    assert order.order_id in detail.content.decode()


def test_a_forged_post_without_csrf_is_refused(sandbox_seller):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(operator("op2"))

    response = client.post(
        f"/sandbox/sellers/{sandbox_seller.seller_id}/generate", {"count": 1, "seed": 1}
    )

    assert response.status_code == 403
    assert not SandboxOrder.objects.exists()


def test_the_same_seed_and_time_on_the_page_generate_the_same_orders(
    operator_client, sandbox_seller_factory
):
    first, second = sandbox_seller_factory(), sandbox_seller_factory()

    for seller in (first, second):
        operator_client.post(
            url(seller, "generate"), {"count": 6, "seed": 2, "now": "2025-06-01T12:00:00Z"}
        )

    assert len(orders_without_ids(first)) == 6
    assert orders_without_ids(second) == orders_without_ids(first)
    # Buyers place them at the time given: new orders happen at Amazon's now.
    assert set(SandboxOrder.objects.values_list("created_time", flat=True)) == {NOW}


def test_operators_advance_lifecycles_at_the_time_they_give(operator_client, sandbox_seller):
    orders_generate(seller=sandbox_seller, count=20, seed=3, now=NOW)

    response = operator_client.post(
        url(sandbox_seller, "lifecycle"), {"seed": 9, "now": "2025-06-01T12:05:00+00:00"}
    )

    assert response.status_code == 302
    moved = SandboxOrderEvent.objects.filter(order__seller=sandbox_seller).exclude(kind="placed")
    paid = moved.filter(kind="payment").count()
    assert paid > 0
    assert set(moved.values_list("created_at", flat=True)) == {
        datetime(2025, 6, 1, 12, 5, tzinfo=UTC)
    }
    [message] = messages_of(response)
    assert message.startswith("Lifecycle advanced:") and f"paid {paid}" in message


def test_operators_revoke_restore_and_expire_tokens(operator_client, sandbox_seller):
    revoked = live_access_token(sandbox_seller)

    operator_client.post(url(sandbox_seller, "tokens"), {"action": "revoke"})
    revoked.refresh_from_db()
    assert revoked.is_revoked and tokens_revoked(sandbox_seller)

    operator_client.post(url(sandbox_seller, "tokens"), {"action": "restore"})
    assert not tokens_revoked(sandbox_seller)

    expiring = live_access_token(sandbox_seller)
    response = operator_client.post(url(sandbox_seller, "tokens"), {"action": "expire"})
    expiring.refresh_from_db()
    assert expiring.expires_at <= timezone.now()
    assert not expiring.is_revoked
    assert messages_of(response)[-1] == "Done."


def test_an_unknown_token_action_is_refused_and_changes_nothing(operator_client, sandbox_seller):
    response = operator_client.post(url(sandbox_seller, "tokens"), {"action": "delete"})

    assert response.status_code == 302
    [message] = messages_of(response)
    assert message.startswith("Please correct the form")
    assert not tokens_revoked(sandbox_seller)


@pytest.mark.django_db(transaction=True)
def test_operators_refill_the_rate_limits_of_a_throttled_seller(
    operator_client, sandbox_seller, sandbox_client_kwargs, rate_limit_clock
):
    client = orders_client(sandbox_client_kwargs)
    for _ in range(20):
        client.search_orders(createdAfter=three_days_ago())
    with pytest.raises(SellingApiRequestThrottledException):
        client.search_orders(createdAfter=three_days_ago())

    operator_client.post(url(sandbox_seller, "tokens"), {"action": "refill"})

    assert client.search_orders(createdAfter=three_days_ago()).payload["orders"] == []


@pytest.mark.parametrize("view", FORMS)
def test_only_operators_may_post_the_lifecycle_and_tokens_forms(client, sandbox_seller, view):
    orders_generate(seller=sandbox_seller, count=20, seed=3, now=NOW)
    data, took_effect = FORMS[view]

    anonymous = client.post(url(sandbox_seller, view), data)
    client.force_login(
        get_user_model().objects.create_user("staff", password="pw-12345-long", is_staff=True)
    )
    staff = client.post(url(sandbox_seller, view), data)

    assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"]
    assert staff.status_code == 403
    assert not took_effect(sandbox_seller)


@pytest.mark.parametrize("view", FORMS)
def test_a_forged_lifecycle_or_tokens_post_is_refused(sandbox_seller, view):
    orders_generate(seller=sandbox_seller, count=20, seed=3, now=NOW)
    data, took_effect = FORMS[view]
    forged = Client(enforce_csrf_checks=True)
    forged.force_login(operator("op3"))
    page = forged.get("/sandbox/")

    refused = forged.post(url(sandbox_seller, view), data)
    assert refused.status_code == 403
    assert not took_effect(sandbox_seller)
    # The same POST with the page's CSRF token goes through: the refusal was the missing token.
    accepted = forged.post(
        url(sandbox_seller, view), {**data, "csrfmiddlewaretoken": page.context["csrf_token"]}
    )
    assert accepted.status_code == 302
    assert took_effect(sandbox_seller)


def test_operators_set_amazons_behaviour_on_the_seller_page(operator_client, sandbox_seller):
    page = operator_client.get(f"/sandbox/sellers/{sandbox_seller.seller_id}/")
    assert page.status_code == 200
    assert b'data-panel="behaviour"' in page.content

    response = operator_client.post(url(sandbox_seller, "behaviour"), BEHAVIOUR)

    assert response.status_code == 302
    seller = SandboxSeller.objects.get(pk=sandbox_seller.pk)
    assert seller.clock_offset_seconds == -30
    assert seller.roles == ["INVENTORY_AND_ORDER_TRACKING"]
    assert seller.result_compression == "gzip"
    assert (seller.fault_feed_fatal_next, seller.fault_feed_fatal_applied) == (1, 0)
    # An unticked checkbox posts nothing: the FATAL feeds come without a report.
    assert seller.fault_feed_fatal_report is False
    assert messages_of(response) == ["Amazon's behaviour saved."]


def test_a_usage_plan_is_changed_then_restored_from_the_seller_page(
    operator_client, sandbox_seller
):
    operator_client.post(
        url(sandbox_seller, "usage-plan"), {"operation": "getOrder", "rate": "2.5", "burst": 40}
    )
    page = operator_client.get(f"/sandbox/sellers/{sandbox_seller.seller_id}/")
    assert SandboxSeller.objects.get(pk=sandbox_seller.pk).usage_plans == {
        "getOrder": {"rate": "2.5", "burst": 40}
    }
    assert b'<tr data-operation="getOrder"><td>getOrder</td><td>2.5 *</td><td>40</td>' in (
        page.content
    )

    response = operator_client.post(url(sandbox_seller, "usage-plan"), {"operation": "getOrder"})

    assert SandboxSeller.objects.get(pk=sandbox_seller.pk).usage_plans == {}
    assert messages_of(response) == ["getOrder is back on its documented usage plan."]


def test_the_usage_plan_table_shows_the_plan_the_api_applies(operator_client, sandbox_seller):
    # Given a stored override whose rate the API ignores (usage_plan_for keeps the documented
    # one) and whose burst it applies
    SandboxSeller.objects.filter(pk=sandbox_seller.pk).update(
        usage_plans={"getOrder": {"rate": "fast", "burst": 40}}
    )

    page = operator_client.get(f"/sandbox/sellers/{sandbox_seller.seller_id}/")

    assert b'<tr data-operation="getOrder"><td>getOrder</td><td>0.5 *</td><td>40</td>' in (
        page.content
    )


def test_a_bad_usage_plan_is_refused_and_changes_nothing(operator_client, sandbox_seller):
    response = operator_client.post(
        url(sandbox_seller, "usage-plan"), {"operation": "getOrder", "rate": "-1"}
    )

    assert SandboxSeller.objects.get(pk=sandbox_seller.pk).usage_plans == {}
    assert "Please correct the form" in messages_of(response)[0]


def test_operators_set_how_notifications_are_delivered_on_the_seller_page(
    operator_client, sandbox_seller
):
    page = operator_client.get(f"/sandbox/sellers/{sandbox_seller.seller_id}/")

    response = operator_client.post(
        url(sandbox_seller, "notifications"),
        {
            "copies": "2",
            "delay_seconds": "10",
            "drop_share": "0.5",
            "is_order_swapped": "on",
            "is_body_a_string": "on",
            "next": f"/sandbox/sellers/{sandbox_seller.seller_id}/",
        },
    )
    refused = operator_client.post(
        url(sandbox_seller, "notifications"),
        {"copies": "0", "delay_seconds": "0", "drop_share": "0"},
    )
    sandbox_seller.refresh_from_db()

    assert 'data-panel="notifications"' in page.content.decode()
    assert "Notification delivery saved." in messages_of(response)
    assert (
        sandbox_seller.notification_copies,
        sandbox_seller.notification_delay_seconds,
        sandbox_seller.notification_drop_share,
        sandbox_seller.is_notification_order_swapped,
        sandbox_seller.is_new_order_notified,
        sandbox_seller.is_notification_body_a_string,
    ) == (2, 10, 0.5, True, False, True)
    assert refused.status_code == 302
    assert sandbox_seller.notification_copies == 2
