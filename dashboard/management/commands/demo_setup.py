import os

from django.core.management.base import BaseCommand

from amazon_channel.demo import demo_setup


class Command(BaseCommand):
    help = "Create (or refresh) the demo merchant login, demo store and orders. Safe to run twice."

    def add_arguments(self, parser):
        parser.add_argument("--orders", type=int, default=40)
        parser.add_argument("--seed", type=int, default=7)
        parser.add_argument(
            "--sandbox-url",
            default=os.environ.get("SANDBOX_URL", "http://127.0.0.1:8001"),
            help="Base URL of the Seller Central sandbox the demo store talks to.",
        )

    def handle(self, *args, orders, seed, sandbox_url, **options):
        result = demo_setup(
            password=os.environ.get("DEMO_PASSWORD", "merchant-demo"),
            sp_api_endpoint=sandbox_url,
            token_endpoint=f"{sandbox_url}/auth/o2/token",
            order_count=orders,
            seed=seed,
        )
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo ready: store '{result.store.name}' with {result.order_count} orders; "
                f"login '{result.username}' / '{result.password}'."
            )
        )
