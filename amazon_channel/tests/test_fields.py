import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection

from amazon_channel.models import AmazonOrder, Store
from amazon_channel.tests.factories import AmazonOrderFactory, StoreFactory

pytestmark = pytest.mark.django_db


def stored_column(store: Store, column: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM amazon_channel_store WHERE id = %s", [store.pk])  # noqa: S608
        return cursor.fetchone()[0]


def test_credentials_are_encrypted_at_rest_and_read_back_in_plain():
    store = StoreFactory(lwa_client_secret="very-secret", refresh_token="Atzr|refresh")

    raw_secret = stored_column(store, "lwa_client_secret")
    raw_token = stored_column(store, "refresh_token")

    assert "very-secret" not in raw_secret and raw_secret.startswith("fernet:")
    assert "Atzr|refresh" not in raw_token
    reloaded = Store.objects.get(pk=store.pk)
    assert reloaded.lwa_client_secret == "very-secret"
    assert reloaded.refresh_token == "Atzr|refresh"


def test_key_rotation_reencrypts_so_the_old_key_can_be_dropped(settings, capsys):
    old_key = settings.CREDENTIALS_ENCRYPTION_KEYS[0]
    new_key = Fernet.generate_key().decode()
    store = StoreFactory(refresh_token="Atzr|keep-me")
    before = stored_column(store, "refresh_token")

    settings.CREDENTIALS_ENCRYPTION_KEYS = [new_key, old_key]
    call_command("credentials_rotate_key")
    settings.CREDENTIALS_ENCRYPTION_KEYS = [new_key]

    assert stored_column(store, "refresh_token") != before
    assert Store.objects.get(pk=store.pk).refresh_token == "Atzr|keep-me"
    assert "1 store(s)" in capsys.readouterr().out


def test_a_credential_under_an_unknown_key_is_a_clear_configuration_error(settings):
    store = StoreFactory()
    settings.CREDENTIALS_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]

    # Credentials are decrypted when read (issue 15), so the error comes with the first read.
    reloaded = Store.objects.get(pk=store.pk)
    with pytest.raises(ImproperlyConfigured, match="credentials_rotate_key"):
        reloaded.refresh_token  # noqa: B018 - the read is what decrypts


def count_decryptions(monkeypatch) -> list[str]:
    """The ciphertexts decrypted from now on (fields.decrypt, still called for real)."""
    from amazon_channel import fields

    decrypted = []
    real_decrypt = fields.decrypt

    def counting_decrypt(ciphertext):
        decrypted.append(ciphertext)
        return real_decrypt(ciphertext)

    monkeypatch.setattr(fields, "decrypt", counting_decrypt)
    return decrypted


def test_a_store_decrypts_only_the_credentials_read_and_each_once(monkeypatch):
    StoreFactory(lwa_client_secret="very-secret", refresh_token="Atzr|refresh")
    decrypted = count_decryptions(monkeypatch)

    store = Store.objects.get()
    assert decrypted == []

    assert store.refresh_token == "Atzr|refresh"
    assert store.refresh_token == "Atzr|refresh"
    assert len(decrypted) == 1
    assert store.lwa_client_secret == "very-secret"
    assert len(decrypted) == 2


def test_saving_a_store_keeps_credentials_it_never_read_and_encrypts_those_changed(
    monkeypatch,
):
    original = StoreFactory(lwa_client_secret="very-secret", refresh_token="Atzr|old")
    stored_secret = stored_column(original, "lwa_client_secret")

    store = Store.objects.get(pk=original.pk)
    store.refresh_token = "Atzr|new"
    store.name = "Renamed"
    store.save()

    assert stored_column(store, "lwa_client_secret").startswith("fernet:")
    assert "Atzr|new" not in stored_column(store, "refresh_token")
    reloaded = Store.objects.get(pk=store.pk)
    assert (reloaded.lwa_client_secret, reloaded.refresh_token) == ("very-secret", "Atzr|new")
    assert stored_secret.startswith("fernet:")


def test_a_deferred_credential_is_loaded_and_decrypted_when_read():
    StoreFactory(refresh_token="Atzr|deferred")

    store = Store.objects.defer("refresh_token").get()

    assert store.refresh_token == "Atzr|deferred"


def test_a_raw_payload_is_stored_as_compact_json_and_reads_back_as_django_would_encode_it():
    when = datetime(2026, 11, 1, 12, 0, 0, 123456, tzinfo=UTC)
    payload = {"orderId": "302-1", "total": Decimal("9.90"), "at": when, "ü": ["é", None, 1.5]}
    order = AmazonOrderFactory(raw_payload=payload)

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT raw_payload FROM amazon_channel_amazonorder WHERE id = %s", [order.pk]
        )
        stored = cursor.fetchone()[0]
    order.refresh_from_db()

    assert stored == json.dumps(
        payload, cls=DjangoJSONEncoder, ensure_ascii=False, separators=(",", ":")
    )
    assert order.raw_payload == json.loads(stored)
    assert order.raw_payload["at"] == "2026-11-01T12:00:00.123Z"


@pytest.mark.postgresql
def test_postgresql_compresses_the_raw_payloads_with_lz4():
    order = AmazonOrderFactory(raw_payload={"orderItems": [{"title": "Kaffee " * 2000}]})

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT attcompression FROM pg_attribute WHERE attname = 'raw_payload' "
            "AND attrelid = 'amazon_channel_amazonorder'::regclass"
        )
        column_compression = cursor.fetchone()[0]
        cursor.execute(
            "SELECT pg_column_compression(raw_payload), pg_column_size(raw_payload), "
            "octet_length(raw_payload) FROM amazon_channel_amazonorder WHERE id = %s",
            [order.pk],
        )
        method, stored_size, text_size = cursor.fetchone()

    assert column_compression == "l" and method == "lz4"
    assert stored_size < text_size / 10


def test_a_raw_payload_orjson_refuses_is_still_stored():
    order = AmazonOrderFactory(raw_payload={"orderId": "302-1", "quantity": 2**70})

    order.refresh_from_db()

    assert order.raw_payload == {"orderId": "302-1", "quantity": 2**70}


def test_a_raw_payload_survives_dumpdata_and_loaddata(tmp_path):
    order = AmazonOrderFactory(raw_payload={"orderId": "302-1", "items": [{"quantity": 2}]})
    dump = tmp_path / "orders.json"
    call_command("dumpdata", "amazon_channel.amazonorder", output=str(dump), verbosity=0)
    AmazonOrder.objects.filter(pk=order.pk).update(raw_payload={})

    call_command("loaddata", str(dump), verbosity=0)

    order.refresh_from_db()
    assert order.raw_payload == {"orderId": "302-1", "items": [{"quantity": 2}]}
