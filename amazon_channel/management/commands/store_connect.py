from django.core.management.base import BaseCommand, CommandError

from amazon_channel.marketplaces import MARKETPLACES
from amazon_channel.models import Store
from amazon_channel.services.stores import StoreCredentials, store_connect


class Command(BaseCommand):
    help = (
        "Create or update the store of a seller in a marketplace and print its id. Endpoints "
        "default to Amazon's production ones for the marketplace's region."
    )

    def add_arguments(self, parser):
        parser.add_argument("--name", required=True)
        parser.add_argument("--marketplace", required=True, help="Country code, e.g. DE, FR, US")
        parser.add_argument("--seller-id", required=True)
        parser.add_argument("--client-id", required=True, help="LWA client id")
        parser.add_argument("--client-secret", required=True, help="LWA client secret")
        parser.add_argument("--refresh-token", required=True)
        parser.add_argument("--endpoint", help="SP-API endpoint (e.g. the sandbox's URL)")
        parser.add_argument("--token-endpoint", help="Login with Amazon token URL")
        parser.add_argument(
            "--environment",
            choices=[choice for choice, _ in Store.Environment.choices],
            help="Default: sandbox when --endpoint is given, else production.",
        )

    def handle(self, *args, **options):
        code = options["marketplace"].upper()
        if code not in MARKETPLACES:
            raise CommandError(
                f"Unknown marketplace {code!r}; one of: {', '.join(sorted(MARKETPLACES))}."
            )
        environment = options["environment"] or (
            Store.Environment.SANDBOX if options["endpoint"] else Store.Environment.PRODUCTION
        )
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
            environment=environment,
            sp_api_endpoint=options["endpoint"],
            token_endpoint=options["token_endpoint"],
        )
        self.stderr.write(f"{'Created' if created else 'Updated'} store '{store.name}'.")
        self.stdout.write(str(store.pk))
