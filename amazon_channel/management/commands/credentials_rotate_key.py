from django.core.management.base import BaseCommand

from amazon_channel.stores.credentials import store_credentials_reencrypt


class Command(BaseCommand):
    help = (
        "Re-encrypt stored Amazon credentials with the first key of CREDENTIALS_ENCRYPTION_KEYS. "
        "Rotation: prepend a new key, run this, then remove the old key."
    )

    def handle(self, *args, **options):
        count = store_credentials_reencrypt()
        self.stdout.write(self.style.SUCCESS(f"Re-encrypted the credentials of {count} store(s)."))
