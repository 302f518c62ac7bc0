"""Model fields: credentials encrypted at rest (Fernet, keys from the environment), and raw
payloads stored as compact JSON text."""

import json
import math
import zlib
from functools import lru_cache

import orjson
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models.query_utils import DeferredAttribute

ENCRYPTED_PREFIX = "fernet:"
# orjson writes what json.dumps would (compact, UTF-8), 25 times faster on an SP-API order;
# datetimes and anything it lacks go through Django's encoder, as JSONField would write them.
ORJSON_OPTIONS = orjson.OPT_NON_STR_KEYS | orjson.OPT_PASSTHROUGH_DATETIME
_django_json_default = DjangoJSONEncoder().default
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


class EncryptedCredential:
    """A credential as the database holds it, not yet decrypted: what a read of the column
    gives until the model's attribute is read (values() and values_list() give this too;
    `.decrypted()` gives the text). Its repr never shows the ciphertext."""

    __slots__ = ("ciphertext",)

    def __init__(self, ciphertext: str):
        self.ciphertext = ciphertext

    def decrypted(self) -> str:
        return decrypt(self.ciphertext)

    def __repr__(self):
        return "<EncryptedCredential>"


class DecryptedOnRead(DeferredAttribute):
    """The model attribute of an EncryptedTextField: decrypts the stored value the first time
    it is read and keeps the plain text on the instance. A page that lists stores never reads
    their credentials, so it pays no Fernet decryption (three a store before)."""

    def __get__(self, instance, cls=None):
        if instance is None:
            return self
        value = super().__get__(instance, cls)
        if isinstance(value, EncryptedCredential):
            value = value.decrypted()
            instance.__dict__[self.field.attname] = value
        return value

    def __set__(self, instance, value):
        instance.__dict__[self.field.attname] = value


class EncryptedTextField(models.TextField):
    """Stores text encrypted; reads give back plain text, decrypted when the attribute is first
    read (DecryptedOnRead). Not searchable, by design."""

    descriptor_class = DecryptedOnRead

    def from_db_value(self, value, expression, connection):
        if value is None or value == "":
            return value
        if not value.startswith(ENCRYPTED_PREFIX):
            raise ImproperlyConfigured("A stored credential is not encrypted.")
        return EncryptedCredential(value)

    def get_prep_value(self, value):
        if isinstance(value, EncryptedCredential):
            return value.ciphertext  # never read, so unchanged: stored as it is
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return encrypt(value)


def _finite(value):
    """The document with NaN and the infinities as null, as orjson writes them: json.dumps
    would write NaN and Infinity, which are not JSON (orjson.loads refuses them on the way
    back, and PostgreSQL's jsonb too). json.loads accepts them from Amazon."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {key: _finite(entry) for key, entry in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(entry) for entry in value]
    return value


def _json_bytes(value) -> bytes:
    try:
        return orjson.dumps(value, default=_django_json_default, option=ORJSON_OPTIONS)
    except orjson.JSONEncodeError:
        # What orjson refuses and json writes (an integer beyond 64 bits...).
        return json.dumps(
            _finite(value),
            ensure_ascii=False,
            separators=(",", ":"),
            cls=DjangoJSONEncoder,
            allow_nan=False,
        ).encode()


def json_bytes(value) -> bytes:
    """The compact JSON a JSONTextField stores for `value`; raises orjson.JSONEncodeError for
    what orjson cannot write (an integer beyond 64 bits, a lone surrogate)."""
    return orjson.dumps(value, default=_django_json_default, option=ORJSON_OPTIONS)


class SerializedJSON(dict):
    """A document with the JSON text it was serialized to, which JSONTextField stores as it is:
    the order parser reads a payload's text (for what PostgreSQL refuses) before it is stored,
    so the import need not make it twice. Not to be changed once made."""

    __slots__ = ("text",)

    def __init__(self, document: dict, text: str):
        super().__init__(document)
        self.text = text


class _WholeDocument:
    """A payload column: an empty document by default, not edited in forms."""

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


class JSONTextField(_WholeDocument, models.TextField):
    """A JSON document kept as compact text: for payloads stored as they came, read back whole
    and never queried inside.

    jsonb would make PostgreSQL parse every 5 KB SP-API order on insert, and compressing in
    Python costs more than the database does: the column is compressed by PostgreSQL with lz4
    (migration 0010), so only the text travels and nothing is parsed on the way in.
    """

    def get_prep_value(self, value):
        if value is None:
            return None
        if isinstance(value, SerializedJSON):
            return value.text
        return _json_bytes(value).decode()

    def from_db_value(self, value, expression, connection):
        if value is None:
            return None
        return orjson.loads(value) if value else {}

    def to_python(self, value):
        return value

    def value_to_string(self, obj):
        # As JSONField: serializers (dumpdata) embed the document itself, loaddata gives it back.
        return self.value_from_object(obj)


class CompressedJSONField(_WholeDocument, models.BinaryField):
    """The raw payload's column before migration 0010: zlib-compressed JSON in a binary column.
    Kept for the migrations that read and write it (0009, 0010)."""

    def get_prep_value(self, value):
        if value is None:
            return None
        if isinstance(value, bytes | memoryview):
            return value
        return zlib.compress(_json_bytes(value), COMPRESSION_LEVEL)

    def from_db_value(self, value, expression, connection):
        return self.to_python(value)

    def to_python(self, value):
        if value is None or isinstance(value, dict | list):
            return value
        data = bytes(value)
        if not data:
            return {}
        return orjson.loads(zlib.decompress(data))

    def value_to_string(self, obj):
        return json.dumps(self.value_from_object(obj), cls=DjangoJSONEncoder)
