"""Store health where the merchant looks: the badge, Reauthorize, what waits for it, the tiles
and their lists, Sync now's JSON and the Sync log."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from amazon_channel.models import (
    AmazonOrderCancellation,
    OutboxMessage,
    StoreEvent,
    SyncRun,
    SyncState,
)
from amazon_channel.tests.factories import AmazonOrderFactory, StoreFactory
from commerce_orders import services as commerce_services
from commerce_orders.tests.factories import placed_order
from dashboard.tests.factories import (
    COMMERCE_PERMISSIONS,
    CancellationFactory,
    OutboxMessageFactory,
    SyncRunFactory,
    user_with_app_permissions,
)

pytestmark = pytest.mark.django_db

PAUSED = {
    "sync_state": SyncState.NEEDS_REAUTHORIZATION,
    "sync_state_message": "The request has an invalid grant parameter : refresh_token",
}


def badge_of(content: str, store) -> str:
    match = re.search(
        rf'data-store-status="{store.pk}"><span class="[^"]*" data-status="(\w+)"', content
    )
    assert match, content
    return match.group(1)


# The badge


@pytest.mark.parametrize(
    ("values", "badge", "label"),
    [
        ({}, "active", "Active"),
        (PAUSED, "needs_reauthorization", "Needs reauthorization"),
        ({"sync_state": SyncState.ERROR, "sync_state_message": "500"}, "error", "Error"),
        ({"is_active": False, **PAUSED}, "inactive", "Inactive"),
    ],
)
def test_the_badge_follows_the_sync_state(merchant_client, values, badge, label):
    store = StoreFactory(**values)

    for url in (
        reverse("dashboard:store_list"),
        reverse("dashboard:store_detail", args=[store.pk]),
    ):
        content = merchant_client.get(url).content.decode()

        assert badge_of(content, store) == badge
        assert f'data-status="{badge}">{label}</span>' in content


def test_a_paused_store_offers_reauthorize_to_who_may_change_it_only(merchant_client, viewer):
    store = StoreFactory(**PAUSED)
    url = reverse("dashboard:store_reauthorize", args=[store.pk])
    viewer_client = Client()  # merchant_client is the `client` fixture
    viewer_client.force_login(viewer)

    assert f'data-action="reauthorize" href="{url}"' in merchant_client.get("/").content.decode()
    assert url not in viewer_client.get("/").content.decode()
    assert viewer_client.get(url).status_code == 403


# Reauthorize


def test_reauthorize_stores_the_new_token_encrypted_clears_the_pause_and_requests_a_sync(
    merchant_client, merchant, django_capture_on_commit_callbacks
):
    store = StoreFactory(refresh_token="Atzr|revoked", **PAUSED)
    page = merchant_client.get(reverse("dashboard:store_reauthorize", args=[store.pk]))
    assert "invalid grant parameter" in page.content.decode()

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = merchant_client.post(
            reverse("dashboard:store_reauthorize_save", args=[store.pk]),
            {"refresh_token": "  Atzr|authorized-again  "},
        )

    assert response.status_code == 302
    store.refresh_from_db()
    assert store.refresh_token == "Atzr|authorized-again"
    assert (store.sync_state, store.sync_state_message) == (SyncState.OK, "")
    with connection.cursor() as cursor:
        cursor.execute("SELECT refresh_token FROM amazon_channel_store WHERE id = %s", [store.pk])
        stored = cursor.fetchone()[0]
    assert "authorized-again" not in stored
    event = StoreEvent.objects.get(store=store, kind=StoreEvent.Kind.REAUTHORIZED)
    assert event.actor == merchant
    assert "authorized-again" not in f"{event.changes}{event.message}"
    # The sync, and the delivery of the messages that waited.
    assert len(callbacks) == 2
    assert (
        "is reauthorized: a sync has been requested"
        in merchant_client.get(response["Location"]).content.decode()
    )


def test_reauthorize_refuses_a_blank_token_and_changes_nothing(merchant_client):
    store = StoreFactory(refresh_token="Atzr|revoked", **PAUSED)

    response = merchant_client.post(
        reverse("dashboard:store_reauthorize_save", args=[store.pk]), {"refresh_token": "  "}
    )

    assert response.status_code == 400
    store.refresh_from_db()
    assert (store.refresh_token, store.sync_state) == ("Atzr|revoked", PAUSED["sync_state"])
    assert not StoreEvent.objects.filter(store=store).exists()


# What waits for the reauthorization


def test_sync_now_on_a_paused_store_says_it_waits_and_queues_nothing(
    merchant_client, django_capture_on_commit_callbacks
):
    store = StoreFactory(**PAUSED)

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = merchant_client.post(
            reverse("dashboard:store_sync", args=[store.pk]), follow=True
        )

    content = response.content.decode()
    assert "Waiting for the store to be reauthorized." in content
    assert "has been requested" not in content
    assert callbacks == []


def test_sync_now_by_script_on_a_paused_store_says_it_waits(merchant_client):
    store = StoreFactory(**PAUSED)

    answer = merchant_client.post(
        reverse("dashboard:store_sync", args=[store.pk]), HTTP_ACCEPT="application/json"
    ).json()

    assert answer["is_finished"] is True
    assert answer["status_url"] == ""
    assert "Waiting for the store to be reauthorized." in answer["html"]
    assert 'data-status="needs_reauthorization"' in answer["status_html"]


def test_a_cancellation_on_a_paused_store_says_what_it_waits_for(merchant_client):
    store = StoreFactory(**PAUSED)
    order = AmazonOrderFactory(store=store, status="Unshipped")

    response = merchant_client.post(
        reverse("dashboard:order_cancel_confirm", args=[store.pk, order.pk]),
        {"reason": "NoInventory"},
        follow=True,
    )

    content = response.content.decode()
    assert "The Amazon order has been canceled." in content
    assert "submitted to Amazon" not in content
    notice = re.search(r'data-notice="cancellation-pending".*?</div>', content, re.S).group(0)
    assert "Waiting for the store to be reauthorized." in notice
    assert "The cancellation is sent to Amazon once it is." in notice
    assert reverse("dashboard:store_reauthorize", args=[store.pk]) in notice


def test_the_cancel_success_message_shows_once(merchant_client):
    order = AmazonOrderFactory(status="Unshipped")
    success = "The Amazon order has been canceled and the request has been submitted to Amazon."

    response = merchant_client.post(
        reverse("dashboard:order_cancel_confirm", args=[order.store_id, order.pk]),
        {"reason": "NoInventory"},
        follow=True,
    )

    content = response.content.decode()
    assert content.count(success) == 1
    assert "Waiting for Amazon to confirm the cancellation." in content


def test_a_shipment_of_a_paused_store_says_that_it_waits(client):
    amazon_order = AmazonOrderFactory(store=StoreFactory(is_import_enabled=True, **PAUSED))
    order = placed_order(external_channel="amazon", external_order_id=amazon_order.amazon_order_id)
    amazon_order.commerce_order = order
    amazon_order.save(update_fields=["commerce_order"])
    commerce_services.invoice_create(actor=None, order=order)
    client.force_login(user_with_app_permissions("clerk", *COMMERCE_PERMISSIONS))
    quantities = {f"quantity_{item.pk}": 0 for item in order.items.all()}
    quantities[f"quantity_{order.items.first().pk}"] = 1

    response = client.post(
        reverse("dashboard:commerce_order_ship_save", args=[order.pk]),
        {
            **quantities,
            "carrier_code": "DHL",
            "tracking_number": "00340434161094042557",
        },
        follow=True,
    )

    content = response.content.decode()
    assert "Waiting for the store to be reauthorized." in content
    assert 'data-amazon-state="waiting"' in content
    assert 'data-amazon-state="sent"' not in content


# The tiles and their lists


def listed_order_numbers(client, url) -> set[str]:
    content = client.get(url).content.decode()
    return set(re.findall(r'<tr data-order="[^"]*"[^>]*>.*?(\d{3}-\d{7}-\d{7})', content, re.S))


def tile_of(content: str, name: str) -> tuple[str, int]:
    match = re.search(
        rf'data-count="{name}"[^>]*><a href="([^"]+)"><strong>(\d+)</strong>', content
    )
    assert match, name
    return match.group(1).replace("&amp;", "&"), int(match.group(2))


def refused_shipment_of(amazon_order):
    OutboxMessageFactory(
        store=amazon_order.store,
        kind=OutboxMessage.Kind.CONFIRM_SHIPMENT,
        key=f"ship:test-{amazon_order.pk}",
        payload={"amazon_order_id": amazon_order.amazon_order_id},
        state=OutboxMessage.State.FAILED,
        result="Amazon refused: tracking number required",
    )


def test_a_refused_shipment_flags_its_store_card(merchant_client):
    store = StoreFactory()
    calm = StoreFactory()
    AmazonOrderFactory(store=calm, status="Unshipped")
    refused_shipment_of(AmazonOrderFactory(store=store, status="Unshipped"))

    content = merchant_client.get(reverse("dashboard:store_list")).content.decode()

    assert re.search(rf'class="card card-flagged" data-store="{store.pk}"', content)
    assert re.search(rf'class="card" data-store="{calm.pk}"', content)


def test_each_tile_links_to_the_list_of_the_orders_it_counts(merchant_client):
    store = StoreFactory()
    other = StoreFactory()
    unshipped = AmazonOrderFactory.create_batch(2, store=store, status="Unshipped")
    AmazonOrderFactory(store=store, status="Error")
    buyer_asks = AmazonOrderFactory(
        store=store, status="Unshipped", is_buyer_requested_cancellation=True
    )
    AmazonOrderFactory(store=store, status="Canceled", is_buyer_requested_cancellation=True)
    AmazonOrderFactory(store=store, status="Shipped", needs_attention=True)
    refused = AmazonOrderFactory(store=store, status="Unshipped")
    refused_shipment_of(refused)
    refused_shipment_of(AmazonOrderFactory(store=other, status="Unshipped"))
    OutboxMessageFactory(
        store=store,
        kind=OutboxMessage.Kind.CONFIRM_SHIPMENT,
        payload={"amazon_order_id": unshipped[0].amazon_order_id},
        state=OutboxMessage.State.DONE,
    )
    CancellationFactory(order__store=store)
    CancellationFactory(order__store=store, state=AmazonOrderCancellation.State.REJECTED)

    for page in (
        reverse("dashboard:store_list"),
        reverse("dashboard:store_detail", args=[store.pk]),
    ):
        content = merchant_client.get(page).content.decode()
        content = content[content.index(f'data-store="{store.pk}"') :] if page == "/" else content
        expected = {
            "unshipped": 4,
            "buyer-cancellation": 1,
            "cancellation-pending": 1,
            "cancellation-rejected": 1,
            "refused-shipments": 1,
            "import-errors": 1,
            "error-orders": 1,
        }
        for name, count in expected.items():
            url, shown = tile_of(content, name)
            assert shown == count, name
            assert url.startswith(reverse("dashboard:order_list", args=[store.pk]) + "?")
            assert len(listed_order_numbers(merchant_client, url)) == count, name

    refused_url, _count = tile_of(content, "refused-shipments")
    assert listed_order_numbers(merchant_client, refused_url) == {refused.amazon_order_id}
    buyer_url, _count = tile_of(content, "buyer-cancellation")
    assert listed_order_numbers(merchant_client, buyer_url) == {buyer_asks.amazon_order_id}
    chip = merchant_client.get(buyer_url).content.decode()
    assert re.search(
        r'class="chip" data-filter="attention">.*?Cancellation requested by the buyer', chip, re.S
    )


@pytest.mark.parametrize("zone", ["UTC", "America/Los_Angeles", "Pacific/Kiritimati"])
def test_orders_in_the_last_30_days_agree_with_the_list_they_link_to(
    merchant_client, settings, zone
):
    settings.TIME_ZONE = zone
    store = StoreFactory()
    today = timezone.localdate()
    first_day = today - timedelta(days=29)
    local = timezone.get_current_timezone()
    start = datetime(first_day.year, first_day.month, first_day.day, tzinfo=local)
    # Just inside and just outside the first day, in the merchant's time zone; and today.
    for moment in (
        start + timedelta(minutes=1),
        start - timedelta(minutes=1),
        start - timedelta(hours=13),
        start + timedelta(hours=13),
        timezone.now() - timedelta(minutes=5),
    ):
        AmazonOrderFactory(store=store, purchase_date=moment.astimezone(UTC))

    content = merchant_client.get(reverse("dashboard:store_list")).content.decode()

    match = re.search(
        r'<a href="([^"]+)" data-link="recent-orders">(\d+) orders in the last 30 days', content
    )
    assert match
    url, total = match.group(1).replace("&amp;", "&"), int(match.group(2))
    assert f"purchase_date_from={first_day.isoformat()}" in url
    assert total == 3
    assert len(listed_order_numbers(merchant_client, url)) == total


# Sync now's JSON


def test_sync_now_by_script_answers_where_to_follow_the_requested_sync(
    merchant_client, settings, django_capture_on_commit_callbacks
):
    settings.AMAZON_CLOCK_SKEW_MARGIN_SECONDS = 60
    store = StoreFactory()
    earlier = SyncRunFactory(store=store)

    with django_capture_on_commit_callbacks(execute=False):
        answer = merchant_client.post(
            reverse("dashboard:store_sync", args=[store.pk]), HTTP_ACCEPT="application/json"
        ).json()

    assert answer["is_finished"] is False
    assert "Waiting for a worker to start it." in answer["html"]
    status_url = reverse("dashboard:store_sync_status", args=[store.pk])
    assert answer["status_url"] == f"{status_url}?after={earlier.pk}"
    run = SyncRunFactory(store=store, status=SyncRun.Status.RUNNING, pages=3, orders_created=7)
    running = merchant_client.get(answer["status_url"]).json()
    assert running["is_finished"] is False
    assert "3 pages read: 7 new orders, 0 updated so far." in running["html"]
    SyncRun.objects.filter(pk=run.pk).update(status=SyncRun.Status.SUCCEEDED)
    done = merchant_client.get(answer["status_url"]).json()
    assert done["is_finished"] is True
    assert "7 new orders, 0 updated." in done["html"]
    assert (
        "Amazon's last 2 minutes, plus our 60-second clock margin, come with the next sync."
        in done["html"]
    )


def test_the_sync_status_needs_login_and_view_store(merchant_client):
    store = StoreFactory()
    url = reverse("dashboard:store_sync_status", args=[store.pk])
    client = Client()

    assert client.get(url).status_code == 302
    client.force_login(user_with_app_permissions("stranger", "amazon_channel.sync_store"))
    assert client.get(url).status_code == 403
    assert merchant_client.get(url).status_code == 200


def test_the_cancellation_status_tells_amazons_answer(merchant_client):
    cancellation = CancellationFactory()
    url = reverse(
        "dashboard:order_cancellation_status",
        args=[cancellation.store_id, cancellation.order_id],
    )

    assert merchant_client.get(url).json()["state"] == "pending"
    AmazonOrderCancellation.objects.filter(pk=cancellation.pk).update(state="confirmed")
    answer = merchant_client.get(url).json()
    assert answer["state"] == "confirmed"
    assert "Amazon confirmed the cancellation." in answer["html"]
    assert answer["order_status"] == "Canceled"


# Sync log


def test_the_sync_log_shows_the_store_problem_and_each_failed_run_message(merchant_client):
    store = StoreFactory(**PAUSED)
    SyncRunFactory(
        store=store,
        status=SyncRun.Status.FAILED,
        message="Access to requested resource is denied.",
    )

    content = merchant_client.get(
        reverse("dashboard:store_sync_log", args=[store.pk])
    ).content.decode()

    notice = re.search(r'data-notice="store-sync-state".*?</div>', content, re.S).group(0)
    assert "invalid grant parameter" in notice
    assert reverse("dashboard:store_reauthorize", args=[store.pk]) in notice
    assert re.search(
        r'class="note note-error" data-run-message>Message: Access to requested resource is '
        r"denied.<",
        content,
    )
