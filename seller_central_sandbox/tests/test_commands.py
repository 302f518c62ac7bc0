"""manage.py sandbox: sellers, orders, lifecycle and faults from the command line."""

import pytest
from django.core.management import CommandError, call_command

from seller_central_sandbox.models import SandboxOrder, SandboxSeller

pytestmark = pytest.mark.django_db


def create_seller(seller_id="A1SANDBOX"):
    call_command(
        "sandbox",
        "seller-create",
        "--seller-id", seller_id,
        "--client-id", "amzn1.application-oa2-client.demo",
        "--client-secret", "demo-secret",
        "--refresh-token", "Atzr|demo",
        "--marketplace-id", "ATVPDKIKX0DER",
        "--marketplace-id", "A1PA6795UKMFR9",
    )  # fmt: skip
    return SandboxSeller.objects.get(seller_id=seller_id)


def test_a_seller_gets_orders_and_they_move_on(capsys):
    seller = create_seller()

    call_command(
        "sandbox",
        "orders-generate",
        "--seller-id",
        seller.seller_id,
        "--count",
        "40",
        "--seed",
        "4",
    )
    call_command("sandbox", "lifecycle", "--seller-id", seller.seller_id, "--seed", "4")

    assert seller.marketplace_ids == ["ATVPDKIKX0DER", "A1PA6795UKMFR9"]
    assert SandboxOrder.objects.filter(seller=seller).count() == 40
    paid = SandboxOrder.objects.filter(seller=seller, events__kind="payment").count()
    assert paid > 0
    assert f"paid={paid}" in capsys.readouterr().out


def test_faults_are_set_kept_and_cleared():
    seller = create_seller()

    call_command(
        "sandbox", "faults", "--seller-id", seller.seller_id, "--fail-next", "3", "--status", "500"
    )
    call_command(
        "sandbox",
        "faults",
        "--seller-id",
        seller.seller_id,
        "--latency-ms",
        "250",
        "--revoke-tokens",
    )
    seller.refresh_from_db()
    assert (seller.fault_fail_next, seller.fault_fail_status, seller.fault_latency_ms) == (
        3,
        500,
        250,
    )
    assert seller.is_refresh_token_revoked

    call_command(
        "sandbox", "faults", "--seller-id", seller.seller_id, "--clear", "--restore-tokens"
    )
    seller.refresh_from_db()
    assert (seller.fault_fail_next, seller.fault_latency_ms) == (0, 0)
    assert not seller.is_refresh_token_revoked


def test_an_unknown_seller_is_an_error():
    with pytest.raises(CommandError):
        call_command("sandbox", "lifecycle", "--seller-id", "NOBODY")
