from django.core.management.base import BaseCommand, CommandError

from amazon_channel.models import Store
from amazon_channel.spapi.marketplaces import MARKETPLACES
from amazon_channel.stores.services import StoreCredentials, StoreEndpointRefused, store_connect


class Command(BaseCommand):
    help = (
        "Create or update the store of a seller in a marketplace and print its id. The store is "
        "a Sandbox store unless --environment production is given. Without --endpoint it uses "
        "Amazon's host of the marketplace's region for its environment: "
        "https://sandbox.sellingpartnerapi-<region>.amazon.com for a sandbox store, "
        "https://sellingpartnerapi-<region>.amazon.com for a production store. A sandbox store "
        "is refused an Amazon production host, and a production store an Amazon sandbox host."
    )

    def add_arguments(self, parser):
        parser.add_argument("--name", required=True)
        parser.add_argument("--marketplace", required=True, help="Country code, e.g. DE, FR, US")
        parser.add_argument("--seller-id", required=True)
        parser.add_argument("--client-id", required=True, help="LWA client id")
        parser.add_argument("--client-secret", required=True, help="LWA client secret")
        parser.add_argument("--refresh-token", required=True)
        parser.add_argument(
            "--environment",
            choices=[choice for choice, _ in Store.Environment.choices],
            default=Store.Environment.SANDBOX,
            # Sandbox by default: forgetting the flag must never act on real orders.
            help="sandbox (default) or production: it decides the default endpoint, and an "
            "Amazon endpoint of the other environment is refused.",
        )
        parser.add_argument(
            "--endpoint",
            help="SP-API endpoint. Default: Amazon's host of the marketplace's region for the "
            "environment. Our Seller Central sandbox's URL (e.g. http://127.0.0.1:8001) is "
            "allowed with --environment sandbox.",
        )
        parser.add_argument(
            "--token-endpoint",
            help="Login with Amazon token URL. Default: https://api.amazon.com/auth/o2/token.",
        )

    def handle(self, *args, **options):
        code = options["marketplace"].upper()
        if code not in MARKETPLACES:
            raise CommandError(
                f"Unknown marketplace {code!r}; one of: {', '.join(sorted(MARKETPLACES))}."
            )
        try:
            store, created = store_connect(
                actor=None,
                name=options["name"],
                marketplace_code=code,
                seller_id=options["seller_id"],
                credentials=StoreCredentials(
                    lwa_client_id=options["client_id"],
                    lwa_client_secret=options["client_secret"],
                    refresh_token=options["refresh_token"],
                ),
                environment=options["environment"],
                sp_api_endpoint=options["endpoint"],
                token_endpoint=options["token_endpoint"],
            )
        except StoreEndpointRefused as error:
            raise CommandError(error.message) from error
        self.stderr.write(
            f"{'Created' if created else 'Updated'} {store.environment} store '{store.name}' "
            f"at {store.sp_api_endpoint}."
        )
        self.stdout.write(str(store.pk))
