"""Two people press Confirm on the same order at the same moment: one cancellation."""

import threading

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from amazon_channel.models import AmazonOrderCancellation, AmazonOrderEvent, OutboxMessage
from amazon_channel.tests.factories import AmazonOrderFactory, AmazonOrderItemFactory
from dashboard.tests.factories import user_with_permissions

pytestmark = [pytest.mark.postgresql, pytest.mark.django_db(transaction=True)]

# The messages of the page each user lands on (the order page also states the cancellation).
SUCCESS = (
    'class="message success" role="status">The Amazon order has been canceled and the request '
    "has been submitted to Amazon."
)
REFUSAL = 'class="message error" role="status">The order is already canceled.'


def test_two_concurrent_confirms_give_one_cancellation_event_and_outbox_message(settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    order = AmazonOrderFactory(status="Unshipped")
    AmazonOrderItemFactory(order=order)
    users = [
        user_with_permissions(name, "view_amazonorder", "cancel_amazonorder")
        for name in ("anna", "ben")
    ]
    url = reverse("dashboard:order_cancel", args=[order.store_id, order.pk])
    barrier = threading.Barrier(len(users))
    outcomes, errors = [], []

    def confirm(user):
        client = Client()
        client.force_login(user)
        try:
            barrier.wait(timeout=10)
            response = client.post(url, {"reason": "NoInventory"}, follow=True)
            outcomes.append(response.content.decode())
        except Exception as error:  # noqa: BLE001 - reported below, in the test thread
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=confirm, args=(user,)) for user in users]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert errors == []
    assert sorted(SUCCESS in page for page in outcomes) == [False, True]
    assert sum(REFUSAL in page for page in outcomes) == 1
    assert AmazonOrderCancellation.objects.filter(order=order).count() == 1
    assert AmazonOrderEvent.objects.filter(order=order, kind="cancel_requested").count() == 1
    assert OutboxMessage.objects.filter(key=f"cancel:{order.pk}").count() == 1
