"""The store warns when Amazon's notifications go quiet while the poll finds changes no
notification announced (push misses), and the sync log shows those misses."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from amazon_channel.models import (
    NotificationDestination,
    NotificationSubscription,
    NotificationType,
    SyncRun,
)
from amazon_channel.tests.factories import StoreFactory
from dashboard.tests.factories import SyncRunFactory

pytestmark = pytest.mark.django_db

WARNING = 'data-warning="notifications-quiet"'


def hours_ago(hours: float):
    return timezone.now() - timedelta(hours=hours)


def subscribed_store(*, last_notification_hours: float | None, **values):
    store = StoreFactory(
        last_notification_at=(
            hours_ago(last_notification_hours) if last_notification_hours is not None else None
        ),
        **values,
    )
    destination = NotificationDestination.objects.create(
        sp_api_endpoint=store.sp_api_endpoint,
        application_key="0" * 64,
        queue_arn="arn:aws:sqs:us-east-1:123456789012:notifications",
        destination_id=f"destination-{store.pk}",
    )
    NotificationSubscription.objects.create(
        destination=destination,
        seller_id=store.seller_id,
        notification_type=NotificationType.ORDER_CHANGE,
        subscription_id=f"subscription-{store.pk}",
    )
    NotificationSubscription.objects.filter(seller_id=store.seller_id).update(
        created_at=hours_ago(48)
    )
    return store


def run_started(store, *, hours: float, push_misses: int):
    run = SyncRunFactory(store=store, push_misses=push_misses)
    SyncRun.objects.filter(pk=run.pk).update(started_at=hours_ago(hours))  # auto_now_add
    return run


def pages(client, store) -> list[str]:
    return [
        client.get(url).content.decode()
        for url in (
            reverse("dashboard:store_list"),
            reverse("dashboard:store_detail", args=[store.pk]),
        )
    ]


def test_a_store_warns_when_notifications_went_quiet_while_the_poll_found_changes(
    merchant_client, settings
):
    # Given notifications on, the last one seven hours ago, and a sync an hour ago that found
    # three changes no notification had announced
    settings.AMAZON_NOTIFICATIONS_QUIET_SECONDS = 6 * 3600
    store = subscribed_store(last_notification_hours=7)
    run_started(store, hours=1, push_misses=3)

    # Then the card and the store's dashboard warn, and the sync log counts the misses
    for content in pages(merchant_client, store):
        assert content.count(WARNING) == 1
        assert "the sync found order changes that no notification announced" in content
    log = merchant_client.get(reverse("dashboard:store_sync_log", args=[store.pk]))
    assert '<b data-counter="push_misses">3</b>' in log.content.decode()


@pytest.mark.parametrize(
    ("last_notification_hours", "run_hours", "push_misses", "is_subscribed"),
    [
        (1, 0.5, 3, True),  # a notification came lately
        (7, 8, 3, True),  # the misses were found before the last notification
        (7, 1, 0, True),  # the poll found nothing notifications missed
        (7, 1, 3, False),  # notifications are off for this seller
    ],
)
def test_no_warning_while_notifications_come_or_miss_nothing(
    merchant_client, settings, last_notification_hours, run_hours, push_misses, is_subscribed
):
    settings.AMAZON_NOTIFICATIONS_QUIET_SECONDS = 6 * 3600
    if is_subscribed:
        store = subscribed_store(last_notification_hours=last_notification_hours)
    else:
        store = StoreFactory(last_notification_at=hours_ago(last_notification_hours))
    run_started(store, hours=run_hours, push_misses=push_misses)

    for content in pages(merchant_client, store):
        assert WARNING not in content


def test_a_subscription_that_never_brought_a_notification_warns_once_quiet_long_enough(
    merchant_client, settings
):
    settings.AMAZON_NOTIFICATIONS_QUIET_SECONDS = 6 * 3600
    store = subscribed_store(last_notification_hours=None)
    run_started(store, hours=1, push_misses=1)

    for content in pages(merchant_client, store):
        assert WARNING in content

    # A subscription made an hour ago is not quiet yet
    NotificationSubscription.objects.update(created_at=hours_ago(1))
    run_started(store, hours=0.5, push_misses=1)
    for content in pages(merchant_client, store):
        assert WARNING not in content
