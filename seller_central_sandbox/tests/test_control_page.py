"""The control page at /sandbox/: staff only, POST forms that drive the services."""

import pytest
from django.contrib.auth import get_user_model

from seller_central_sandbox.models import SandboxOrder
from seller_central_sandbox.services.orders import orders_generate

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client):
    user = get_user_model().objects.create_user("operator", password="pw-12345-long", is_staff=True)
    client.force_login(user)
    return client


def test_anonymous_visitors_are_sent_to_login(client):
    response = client.get("/sandbox/")

    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_non_staff_users_are_forbidden(client):
    client.force_login(get_user_model().objects.create_user("merchant", password="pw-12345-long"))

    assert client.get("/sandbox/").status_code == 403


def test_staff_see_sellers_and_generate_orders(staff_client, sandbox_seller):
    page = staff_client.get("/sandbox/")
    assert sandbox_seller.seller_id in page.content.decode()

    response = staff_client.post(
        f"/sandbox/sellers/{sandbox_seller.seller_id}/generate", {"count": 4, "seed": 2}
    )

    assert response.status_code == 302
    assert SandboxOrder.objects.filter(seller=sandbox_seller).count() == 4


def test_staff_set_faults_and_move_one_order(
    staff_client, sandbox_seller, django_assert_max_num_queries
):
    orders_generate(seller=sandbox_seller, count=10, seed=1)
    order = SandboxOrder.objects.filter(status="PENDING").order_by("pk").first()
    staff_client.post(
        f"/sandbox/sellers/{sandbox_seller.seller_id}/faults",
        {
            "fail_next": 2,
            "fail_status": 500,
            "fail_probability": 0,
            "latency_ms": 10,
            "malformed_next": 1,
        },
    )

    staff_client.post(
        f"/sandbox/sellers/{sandbox_seller.seller_id}/orders/{order.order_id}/step", {"step": "pay"}
    )
    with django_assert_max_num_queries(8):
        detail = staff_client.get(f"/sandbox/sellers/{sandbox_seller.seller_id}/")

    sandbox_seller.refresh_from_db()
    order.refresh_from_db()
    assert (sandbox_seller.fault_fail_next, sandbox_seller.fault_fail_status) == (2, 500)
    assert order.status == "UNSHIPPED"
    assert order.order_id in detail.content.decode()


def test_a_forged_post_without_csrf_is_refused(sandbox_seller):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    user = get_user_model().objects.create_user("op2", password="pw-12345-long", is_staff=True)
    client.force_login(user)

    response = client.post(
        f"/sandbox/sellers/{sandbox_seller.seller_id}/generate", {"count": 1, "seed": 1}
    )

    assert response.status_code == 403
    assert not SandboxOrder.objects.exists()
