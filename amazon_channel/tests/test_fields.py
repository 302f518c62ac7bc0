import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.db import connection

from amazon_channel.models import Store
from amazon_channel.tests.factories import StoreFactory

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

    with pytest.raises(ImproperlyConfigured, match="credentials_rotate_key"):
        Store.objects.get(pk=store.pk)
