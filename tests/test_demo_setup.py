"""`make run`'s demo: a login, a store connected to the sandbox, orders through the real sync."""

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django_celery_beat.models import PeriodicTask

from amazon_channel.models import AmazonOrder, Store, StoreEvent
from amazon_channel.notifications.queues import sqs_client
from commerce_orders.models import CommerceOrder, Product
from seller_central_sandbox.models import SandboxOrder, SandboxSeller
from tests.sync_helpers import sync_to_the_end

pytestmark = pytest.mark.django_db(transaction=True)


def counts() -> tuple[int, ...]:
    return (
        Store.objects.count(),
        SandboxSeller.objects.count(),
        SandboxOrder.objects.count(),
        Product.objects.count(),
        PeriodicTask.objects.filter(task="amazon_channel.tasks.store_sync_orders").count(),
        StoreEvent.objects.count(),
    )


def test_demo_setup_twice_duplicates_nothing(settings):
    settings.SANDBOX_URL = "http://127.0.0.1:8001"
    call_command("demo_setup", "--orders", "12")
    first = counts()
    call_command("demo_setup", "--orders", "12")

    assert counts() == first
    assert first == (1, 1, 12, first[3], 1, 1)


def test_the_demo_store_syncs_from_the_sandbox_and_its_login_reaches_admin(
    sandbox_server, settings
):
    settings.SANDBOX_URL = sandbox_server.url
    settings.AMAZON_RATE_LIMIT_SCALE = 50
    call_command("demo_setup", "--orders", "25")
    store = Store.objects.get()

    run = sync_to_the_end(store)

    # Orders placed in the last two minutes wait for the next sync (Amazon's 2-minute rule).
    readable = SandboxOrder.objects.filter(last_updated_time__lte=run.window_end)
    assert run.status == "succeeded"
    assert AmazonOrder.objects.filter(store=store).count() == readable.count() > 0
    assert store.is_import_enabled
    assert CommerceOrder.objects.filter(external_channel="amazon").exists()
    client = Client()
    assert client.login(username="merchant", password="merchant-demo")
    stores_page = client.get(reverse("admin:amazon_channel_store_changelist"))
    orders_page = client.get(reverse("admin:amazon_channel_amazonorder_changelist"))
    assert "Demo Store (DE)" in stores_page.content.decode()
    order = AmazonOrder.objects.first()
    assert order.amazon_order_id in orders_page.content.decode()


def test_demo_setup_makes_the_notification_queue_where_the_demo_has_one(
    sqs_server_url, settings, monkeypatch, capsys
):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "demo")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "demo")
    settings.SANDBOX_URL = "http://127.0.0.1:8001"
    settings.AMAZON_SQS_ENDPOINT_URL = sqs_server_url
    settings.AMAZON_NOTIFICATIONS_QUEUE_URL = f"{sqs_server_url}/123456789012/demo-notifications"

    call_command("demo_setup", "--orders", "1")

    assert "arn:aws:sqs:us-east-1:123456789012:demo-notifications" in capsys.readouterr().out
    client = sqs_client(queue=settings.AMAZON_NOTIFICATIONS_QUEUE_URL)
    redrive = client.get_queue_attributes(
        QueueUrl=settings.AMAZON_NOTIFICATIONS_QUEUE_URL, AttributeNames=["RedrivePolicy"]
    )["Attributes"]["RedrivePolicy"]
    assert "demo-notifications-dead-letter" in redrive


def test_demo_setup_leaves_the_queue_to_the_consumer_while_no_sqs_server_is_up(settings, capsys):
    settings.SANDBOX_URL = "http://127.0.0.1:8001"
    settings.AMAZON_SQS_ENDPOINT_URL = "http://127.0.0.1:9"  # discard: nothing listens
    settings.AMAZON_NOTIFICATIONS_QUEUE_URL = "http://127.0.0.1:9/123456789012/demo"

    call_command("demo_setup", "--orders", "1")

    assert "the consumer makes the queue when it starts" in capsys.readouterr().out
