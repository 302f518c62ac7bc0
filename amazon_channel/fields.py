"""Model fields: credentials encrypted at rest (Fernet, keys from the environment), and raw
payloads stored compressed."""

import json
import zlib
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models

ENCRYPTED_PREFIX = "fernet:"
# zlib's fastest level: most of the gain on JSON at a fraction of the time of the default.
COMPRESSION_LEVEL = 1


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


class CompressedJSONField(models.BinaryField):
    """A JSON document kept compressed (zlib) in a binary column: for payloads stored as they
    came, read back whole and never queried inside.

    A 5 KB SP-API order costs PostgreSQL a JSON parse and a TOAST compression as jsonb; here it
    is about 1.5 KB of bytes, compressed once in Python, which makes a bulk import about half
    as expensive.
    """

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("default", dict)
        kwargs.setdefault("editable", False)
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        if kwargs.get("default") is dict:
            del kwargs["default"]
        kwargs.pop("editable", None)
        return name, path, args, kwargs

    def get_prep_value(self, value):
        if value is None:
            return None
        if isinstance(value, bytes | memoryview):
            return value
        text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), cls=DjangoJSONEncoder)
        return zlib.compress(text.encode(), COMPRESSION_LEVEL)

    def from_db_value(self, value, expression, connection):
        return self.to_python(value)

    def to_python(self, value):
        if value is None or isinstance(value, dict | list):
            return value
        data = bytes(value)
        if not data:
            return {}
        return json.loads(zlib.decompress(data))

    def value_to_string(self, obj):
        return json.dumps(self.value_from_object(obj), cls=DjangoJSONEncoder)
