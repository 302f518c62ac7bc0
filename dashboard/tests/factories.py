from datetime import timedelta

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.utils import timezone

from amazon_channel.models import AmazonOrderCancellation, OutboxMessage, SyncRun
from amazon_channel.tests.factories import AmazonOrderFactory, StoreFactory

PASSWORD = "correct horse battery"


def user_with_permissions(username: str, *codenames: str):
    """A user (password PASSWORD) holding these amazon_channel permissions."""
    user = get_user_model().objects.create_user(username, password=PASSWORD)
    user.user_permissions.set(
        Permission.objects.filter(content_type__app_label="amazon_channel", codename__in=codenames)
    )
    return user


class SyncRunFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SyncRun

    store = factory.SubFactory(StoreFactory)
    kind = SyncRun.Kind.SCHEDULED
    status = SyncRun.Status.SUCCEEDED
    window_start = factory.LazyFunction(lambda: timezone.now() - timedelta(minutes=20))
    window_end = factory.LazyFunction(lambda: timezone.now() - timedelta(minutes=2))
    finished_at = factory.LazyFunction(timezone.now)


class OutboxMessageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OutboxMessage

    store = factory.SubFactory(StoreFactory)
    kind = OutboxMessage.Kind.CANCEL_ORDER
    key = factory.Sequence(lambda n: f"cancel:test-{n}")


class CancellationFactory(factory.django.DjangoModelFactory):
    """A cancellation as the service leaves it (the order Canceled), in the given state."""

    class Meta:
        model = AmazonOrderCancellation

    order = factory.SubFactory(AmazonOrderFactory, status="Canceled")
    store = factory.SelfAttribute("order.store")
    reason = "NoInventory"
    state = AmazonOrderCancellation.State.PENDING
    outbox_message = factory.SubFactory(
        OutboxMessageFactory, store=factory.SelfAttribute("..order.store")
    )


COMMERCE_PERMISSIONS = (
    "commerce_orders.view_commerceorder",
    "commerce_orders.change_commerceorder",
    "commerce_orders.add_invoice",
    "commerce_orders.add_shipment",
    "commerce_orders.add_creditmemo",
)


def user_with_app_permissions(username: str, *permissions: str):
    """A user (password PASSWORD) holding these "app_label.codename" permissions."""
    user = get_user_model().objects.create_user(username, password=PASSWORD)
    for permission in permissions:
        app_label, codename = permission.split(".")
        user.user_permissions.add(
            Permission.objects.get(content_type__app_label=app_label, codename=codename)
        )
    return user
