from django.core.management.base import BaseCommand

from amazon_channel.notifications.consumer import (
    RECEIVE_WAIT_SECONDS,
    STATUS_INTERVAL_SECONDS,
    NotificationConsumer,
)


class Command(BaseCommand):
    help = (
        "Read Amazon's notifications from AMAZON_NOTIFICATIONS_QUEUE_URL (SQS long polling), "
        "record each once and hand its work to Celery, until SIGTERM or Ctrl-C (the current "
        "batch is finished first). Run exactly one or more; a copy is recorded once anyway."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--wait-seconds",
            type=int,
            choices=range(0, RECEIVE_WAIT_SECONDS + 1),
            default=RECEIVE_WAIT_SECONDS,
            metavar=f"0-{RECEIVE_WAIT_SECONDS}",
            help="How long one receive waits for messages (SQS long polling).",
        )
        parser.add_argument(
            "--status-seconds",
            type=float,
            default=STATUS_INTERVAL_SECONDS,
            help="How often the queues' depths are read for the health check.",
        )

    def handle(self, *args, wait_seconds, status_seconds, **options):
        consumer = NotificationConsumer.from_settings(
            wait_seconds=wait_seconds, status_interval=max(1.0, status_seconds)
        )
        consumer.stop_on_signals()
        consumer.run()
