import os

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from demo.services import demo_notification_queue_ensure, demo_setup


class Command(BaseCommand):
    help = (
        "Create (or refresh) the demo merchant login, catalog and a store connected to the "
        "Seller Central sandbox, whose buyers have placed orders. Safe to run twice."
    )

    def add_arguments(self, parser):
        parser.add_argument("--orders", type=int, default=60)
        parser.add_argument("--seed", type=int, default=7)

    def handle(self, *args, orders, seed, **options):
        if not settings.SELLER_CENTRAL_SANDBOX_ENABLED:
            raise CommandError(
                "The demo needs the Seller Central sandbox: set DEBUG or "
                "SELLER_CENTRAL_SANDBOX_ENABLED."
            )
        # Before the store connects, so that its notifications have somewhere to go.
        queue_arn = demo_notification_queue_ensure()
        result = demo_setup(
            password=os.environ.get("DEMO_PASSWORD", "merchant-demo"),
            sandbox_url=settings.SANDBOX_URL,
            order_count=orders,
            seed=seed,
        )
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo ready: store '{result.store.name}' connected to the sandbox at "
                f"{settings.SANDBOX_URL}; its orders arrive with the first sync. "
                f"Login '{result.username}' / '{result.password}'."
            )
        )
        if queue_arn:
            self.stdout.write(f"Amazon's notifications go to {queue_arn}.")
        elif settings.AMAZON_NOTIFICATIONS_QUEUE_URL:
            self.stdout.write(
                "Amazon's notifications: the SQS server is not up yet; the consumer makes "
                "the queue when it starts."
            )
