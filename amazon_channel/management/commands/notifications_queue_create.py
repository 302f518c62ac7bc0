from botocore.exceptions import BotoCoreError, ClientError
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from amazon_channel.notifications.queues import DEFAULT_QUEUE_NAME, notification_queue_create


class Command(BaseCommand):
    help = (
        "Create (or bring up to date) the SQS standard queue for Amazon's notifications, its "
        "dead-letter queue (after AMAZON_NOTIFICATIONS_MAX_RECEIVES receives) and the policy "
        "that lets Amazon send to it. Idempotent. Prints the queue URL (set it as "
        "AMAZON_NOTIFICATIONS_QUEUE_URL) and ARN. AWS credentials and region: boto3's usual "
        "ones; AMAZON_SQS_ENDPOINT_URL for another SQS server."
    )

    def add_arguments(self, parser):
        parser.add_argument("--name", default=DEFAULT_QUEUE_NAME)
        parser.add_argument("--region", default=None)

    def handle(self, *args, name, region, **options):
        try:
            reference = notification_queue_create(
                name=name, region=region, max_receives=settings.AMAZON_NOTIFICATIONS_MAX_RECEIVES
            )
        except (BotoCoreError, ClientError, ValueError) as error:
            raise CommandError(f"The queue was not created: {error}") from error
        self.stdout.write(f"Queue URL: {reference.url}")
        self.stdout.write(f"Queue ARN: {reference.arn}")
        self.stdout.write(f"Dead-letter queue URL: {reference.dead_letter_url}")
