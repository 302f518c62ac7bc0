"""The work a recorded notification asks for (run by Celery's notification_handle task).

Placeholder until the handlers land: a notification is marked handled and nothing is re-read.
"""

from django.utils import timezone

from amazon_channel.models import AmazonNotification


def notification_handle(*, notification_pk: int) -> None:
    """Do what the notification asks, once; idempotent (a copy or a retry does nothing new)."""
    AmazonNotification.objects.filter(
        pk=notification_pk, state=AmazonNotification.State.RECEIVED
    ).update(state=AmazonNotification.State.HANDLED, handled_at=timezone.now())
