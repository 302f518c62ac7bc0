"""Encryption at rest for stored credentials (Fernet, keys from the environment)."""

from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models

ENCRYPTED_PREFIX = "fernet:"


@lru_cache(maxsize=4)
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    try:
        return MultiFernet([Fernet(key.encode()) for key in keys])
    except ValueError as error:
        raise ImproperlyConfigured(
            "CREDENTIALS_ENCRYPTION_KEYS must hold comma-separated Fernet keys."
        ) from error


def credentials_fernet() -> MultiFernet:
    return _fernet(tuple(settings.CREDENTIALS_ENCRYPTION_KEYS))


def encrypt(plaintext: str) -> str:
    return ENCRYPTED_PREFIX + credentials_fernet().encrypt(plaintext.encode()).decode()


def decrypt(ciphertext: str) -> str:
    if not ciphertext.startswith(ENCRYPTED_PREFIX):
        raise ImproperlyConfigured("A stored credential is not encrypted.")
    try:
        return credentials_fernet().decrypt(ciphertext[len(ENCRYPTED_PREFIX) :].encode()).decode()
    except InvalidToken as error:
        raise ImproperlyConfigured(
            "A stored credential cannot be decrypted with CREDENTIALS_ENCRYPTION_KEYS: "
            "keep the old key in the list until `manage.py credentials_rotate_key` has run."
        ) from error


class EncryptedTextField(models.TextField):
    """Stores text encrypted; reads give back plain text. Not searchable, by design."""

    def from_db_value(self, value, expression, connection):
        if value is None or value == "":
            return value
        return decrypt(value)

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return encrypt(value)
