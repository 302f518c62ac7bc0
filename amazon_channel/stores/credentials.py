"""Writes of the Amazon channel."""

from django.db import transaction

from amazon_channel.models import Store

CREDENTIAL_FIELDS = ("lwa_client_id", "lwa_client_secret", "refresh_token")


def store_credentials_reencrypt() -> int:
    """Re-encrypt every store's credentials with the primary (first) key; returns the count.

    Reading decrypts with any configured key, saving encrypts with the first, so after this the
    old keys can be dropped from CREDENTIALS_ENCRYPTION_KEYS. Raises ImproperlyConfigured when a
    credential cannot be decrypted with any configured key (nothing is written then for that store).
    """
    count = 0
    for store_id in Store.objects.order_by("pk").values_list("pk", flat=True):
        with transaction.atomic():
            store = Store.objects.select_for_update(of=("self",)).get(pk=store_id)
            store.save(update_fields=CREDENTIAL_FIELDS)
        count += 1
    return count
