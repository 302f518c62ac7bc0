"""manage.py sandbox: sellers, orders, lifecycle and faults from the command line."""

from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from seller_central_sandbox.models import SandboxOrder, SandboxOrderEvent, SandboxSeller
from seller_central_sandbox.tests.helpers import orders_without_ids

pytestmark = pytest.mark.django_db


def create_seller(seller_id="A1SANDBOX"):
    call_command(
        "sandbox",
        "seller-create",
        "--seller-id", seller_id,
        "--client-id", f"amzn1.application-oa2-client.{seller_id.lower()}",
        "--client-secret", "demo-secret",
        "--refresh-token", f"Atzr|demo-{seller_id}",
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


def generate(seller_id: str, *extra: str) -> None:
    call_command(
        "sandbox", "orders-generate", "--seller-id", seller_id, "--count", "12", "--seed", "4",
        *extra,
    )  # fmt: skip


def test_the_same_seed_and_now_generate_the_same_orders_for_two_sellers():
    first, second = create_seller("A1FIRST"), create_seller("A1SECOND")

    generate(first.seller_id, "--now", "2025-06-01T12:00:00Z")
    generate(second.seller_id, "--now", "2025-06-01T12:00:00Z")

    assert orders_without_ids(second) == orders_without_ids(first)
    # Without --days, buyers place their orders at the given now (Amazon's now by default).
    assert set(SandboxOrder.objects.values_list("created_time", flat=True)) == {
        datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
    }


def test_days_spread_a_history_before_the_given_now():
    seller = create_seller()

    generate(seller.seller_id, "--now", "2025-06-01T12:00:00Z", "--days", "2")

    created = SandboxOrder.objects.values_list("created_time", flat=True)
    assert all(
        datetime(2025, 5, 30, 12, 0, tzinfo=UTC)
        <= moment
        <= datetime(2025, 6, 1, 11, 55, tzinfo=UTC)
        for moment in created
    )


def test_without_now_orders_are_placed_before_the_current_time():
    seller = create_seller()
    started = timezone.now()

    generate(seller.seller_id, "--days", "1")

    created = SandboxOrder.objects.values_list("created_time", flat=True)
    assert all(started - timedelta(days=1) <= moment <= started for moment in created)


def test_a_lifecycle_step_at_a_given_now_stamps_that_time():
    seller = create_seller()
    generate(seller.seller_id, "--now", "2025-06-01T12:00:00Z")

    call_command(
        "sandbox", "lifecycle", "--seller-id", seller.seller_id, "--seed", "2",
        "--now", "2025-06-01T12:05:00+00:00",
    )  # fmt: skip

    moved = SandboxOrderEvent.objects.exclude(kind="placed")
    assert moved.exists()
    assert set(moved.values_list("created_at", flat=True)) == {
        datetime(2025, 6, 1, 12, 5, tzinfo=UTC)
    }


def test_a_now_that_is_no_date_is_an_error():
    seller = create_seller()

    with pytest.raises(CommandError, match="--now"):
        generate(seller.seller_id, "--now", "yesterday")
    assert not SandboxOrder.objects.exists()


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


def test_a_refresh_token_of_another_seller_is_an_error():
    create_seller("A1FIRST")

    with pytest.raises(CommandError, match="another seller"):
        call_command(
            "sandbox", "seller-create", "--seller-id", "A1OTHER", "--client-id", "other",
            "--client-secret", "other-secret", "--refresh-token", "Atzr|demo-A1FIRST",
        )  # fmt: skip
    assert not SandboxSeller.objects.filter(seller_id="A1OTHER").exists()


def test_an_unknown_seller_is_an_error():
    with pytest.raises(CommandError):
        call_command("sandbox", "lifecycle", "--seller-id", "NOBODY")


def test_amazons_behaviour_is_set_from_the_command_line(capsys):
    seller = create_seller()

    call_command(
        "sandbox", "amazon", "--seller-id", seller.seller_id,
        "--clock-offset", "-5",
        "--roles", "INVENTORY_AND_ORDER_TRACKING",
        "--usage-plan", "searchOrders=0.0028/10",
        "--usage-plan", "getOrder=1",
        "--report-compression", "gzip",
        "--fatal-next", "2", "--fatal-applied", "1", "--fatal-without-report",
    )  # fmt: skip

    seller.refresh_from_db()
    assert seller.clock_offset_seconds == -5
    assert seller.roles == ["INVENTORY_AND_ORDER_TRACKING"]
    assert seller.usage_plans == {
        "searchOrders": {"rate": "0.0028", "burst": 10},
        "getOrder": {"rate": "1"},
    }
    assert seller.result_compression == "gzip"
    assert (seller.fault_feed_fatal_next, seller.fault_feed_fatal_applied) == (2, 1)
    assert seller.fault_feed_fatal_report is False
    assert "clock_offset=-5" in capsys.readouterr().out

    call_command(
        "sandbox", "amazon", "--seller-id", seller.seller_id,
        "--default-usage-plan", "searchOrders", "--roles",
    )  # fmt: skip

    seller.refresh_from_db()
    assert seller.usage_plans == {"getOrder": {"rate": "1"}}
    assert seller.roles == []


def test_an_amazon_command_keeps_what_it_is_not_given():
    # Given a seller whose next 3 feeds end FATAL after 5 messages, without a report
    seller = create_seller()
    call_command(
        "sandbox", "amazon", "--seller-id", seller.seller_id,
        "--fatal-next", "3", "--fatal-applied", "5", "--fatal-without-report",
    )  # fmt: skip

    # When only the report compression is changed, then only what FATAL feeds apply
    call_command(
        "sandbox", "amazon", "--seller-id", seller.seller_id, "--report-compression", "gzip"
    )
    seller.refresh_from_db()
    assert seller.result_compression == "gzip"
    assert (seller.fault_feed_fatal_next, seller.fault_feed_fatal_applied) == (3, 5)
    assert seller.fault_feed_fatal_report is False

    call_command("sandbox", "amazon", "--seller-id", seller.seller_id, "--fatal-applied", "7")
    seller.refresh_from_db()
    assert (seller.fault_feed_fatal_next, seller.fault_feed_fatal_applied) == (3, 7)
    assert seller.fault_feed_fatal_report is False
    assert seller.result_compression == "gzip"

    # And a report comes back when asked for, on its own
    call_command("sandbox", "amazon", "--seller-id", seller.seller_id, "--fatal-report")
    seller.refresh_from_db()
    assert (seller.fault_feed_fatal_next, seller.fault_feed_fatal_applied) == (3, 7)
    assert seller.fault_feed_fatal_report is True


@pytest.mark.parametrize(
    "arguments",
    [
        ["orders-generate", "--now", "9999-12-31T00:00:00Z"],
        ["orders-generate", "--now", "0001-01-02T00:00:00Z"],
        ["lifecycle", "--now", "9999-12-31T00:00:00Z"],
        ["amazon", "--usage-plan", "getOrder=1e300"],
        ["amazon", "--usage-plan", "getOrder=0.00000001"],
        ["amazon", "--usage-plan", "getOrder=1/100001"],
    ],
)
def test_the_command_refuses_what_the_control_page_refuses(arguments):
    seller = create_seller()
    action, *rest = arguments

    with pytest.raises(CommandError):
        call_command("sandbox", action, "--seller-id", seller.seller_id, *rest)

    seller.refresh_from_db()
    assert seller.usage_plans == {}
    assert not seller.orders.exists()


def test_a_malformed_usage_plan_or_an_unknown_operation_is_an_error():
    seller = create_seller()

    with pytest.raises(CommandError):
        call_command(
            "sandbox", "amazon", "--seller-id", seller.seller_id, "--usage-plan", "searchOrders"
        )
    with pytest.raises(CommandError, match="Unknown operation"):
        call_command(
            "sandbox", "amazon", "--seller-id", seller.seller_id, "--usage-plan", "noSuchCall=1"
        )

    seller.refresh_from_db()
    assert seller.usage_plans == {}


def test_another_integration_submits_a_feed_of_its_own(capsys):
    from seller_central_sandbox.testing import order_in_status

    seller = create_seller()
    unshipped = order_in_status(seller=seller, status="UNSHIPPED", fulfilled_by="MERCHANT", seed=3)

    call_command("sandbox", "integration-feed", "--seller-id", seller.seller_id)

    feed = seller.feeds.get()
    assert feed.application == "ERP"
    assert feed.feed_type == "POST_ORDER_ACKNOWLEDGEMENT_DATA"
    content = bytes(feed.input_document.content)
    assert f"<AmazonOrderID>{unshipped.order_id}</AmazonOrderID>".encode() in content
    assert b"<StatusCode>Success</StatusCode>" in content
    assert f"ERP submitted feed {feed.feed_id}" in capsys.readouterr().out


def test_notification_delivery_faults_are_set_shown_and_cleared(capsys):
    seller = create_seller()

    call_command(
        "sandbox", "notifications", "--seller-id", seller.seller_id,
        "--copies", "3", "--delay-seconds", "30", "--drop-share", "0.25", "--swap-order",
        "--no-new-orders", "--body-as-string",
    )  # fmt: skip
    set_output = capsys.readouterr().out
    seller.refresh_from_db()
    set_values = (
        seller.notification_copies,
        seller.notification_delay_seconds,
        seller.notification_drop_share,
        seller.is_notification_order_swapped,
        seller.is_new_order_notified,
        seller.is_notification_body_a_string,
    )
    call_command("sandbox", "notifications", "--seller-id", seller.seller_id, "--clear", "--pump")
    cleared_output = capsys.readouterr().out
    seller.refresh_from_db()

    assert set_values == (3, 30, 0.25, True, False, True)
    assert "copies=3 delay_seconds=30 drop_share=0.25 swap_order=True new_orders=False" in (
        set_output
    )
    assert "sent=0" in set_output and "failed=0" in set_output
    assert (seller.notification_copies, seller.notification_delay_seconds) == (1, 0)
    assert (seller.notification_drop_share, seller.is_notification_order_swapped) == (0.0, False)
    assert seller.is_notification_body_a_string is False
    # --clear leaves whether new orders notify: it is Amazon's behaviour, not a fault.
    assert seller.is_new_order_notified is False
    assert "pump: feeds=0 released=0" in cleared_output


def test_notification_faults_out_of_range_are_an_error():
    seller = create_seller()

    with pytest.raises(CommandError, match="delay"):
        call_command(
            "sandbox", "notifications", "--seller-id", seller.seller_id, "--delay-seconds", "901"
        )
