"""The UI in French, German, Italian and Dutch: complete catalogs, compiled .mo files in step with
their .po files, and pages, forms and emails in the merchant's language and formats.

The committed .mo files are what runs, so a .po edited without `manage.py compilemessages` fails
here; and a string added to the code or a template without `make messages` fails too (that check
runs Django's makemessages, which needs GNU gettext: `.ci/run` installs it).
"""

import shutil
import subprocess
import sys
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import translation

from amazon_channel.buyer_emails import buyer_cancellation_email_send
from amazon_channel.models import CancelReason
from amazon_channel.tests.factories import AmazonOrderFactory, StoreFactory
from dashboard.tests.factories import user_with_permissions
from tests.helpers import PROJECT_DIR, project_environment

LOCALE_DIR = Path(settings.BASE_DIR) / "locale"
LANGUAGES = ("fr", "de", "it", "nl")
PURCHASED_AT = datetime(2025, 3, 7, 14, 5, tzinfo=UTC)

# The Adobe Commerce Amazon Sales Channel terms the merchants know, per language.
KEY_TERMS = {
    "fr": {
        "View Store": "Afficher le magasin",
        "Recent Orders": "Commandes récentes",
        "Amazon Order Details": "Détails de la commande Amazon",
        "Cancel Order": "Annuler la commande",
        "Reason for cancellation": "Motif d'annulation",
        "Order Settings": "Paramètres des commandes",
        "Import Amazon Orders": "Importer des commandes Amazon",
        "Unshipped": "Non expédiée",
        "Confirm": "Confirmer",
    },
    "de": {
        "View Store": "Store anzeigen",
        "Recent Orders": "Neueste Bestellungen",
        "Amazon Order Details": "Amazon-Bestelldetails",
        "Cancel Order": "Bestellung stornieren",
        "Reason for cancellation": "Stornierungsgrund",
        "Order Settings": "Bestelleinstellungen",
        "Import Amazon Orders": "Amazon-Bestellungen importieren",
        "Unshipped": "Nicht versandt",
        "Confirm": "Bestätigen",
    },
    "it": {
        "View Store": "Visualizza negozio",
        "Recent Orders": "Ordini recenti",
        "Amazon Order Details": "Dettagli ordine Amazon",
        "Cancel Order": "Annulla ordine",
        "Reason for cancellation": "Motivo dell'annullamento",
        "Order Settings": "Impostazioni ordini",
        "Import Amazon Orders": "Importa ordini Amazon",
        "Unshipped": "Non spedito",
        "Confirm": "Conferma",
    },
    "nl": {
        "View Store": "Winkel bekijken",
        "Recent Orders": "Recente bestellingen",
        "Amazon Order Details": "Amazon-bestelgegevens",
        "Cancel Order": "Bestelling annuleren",
        "Reason for cancellation": "Reden van annulering",
        "Order Settings": "Bestelinstellingen",
        "Import Amazon Orders": "Amazon-bestellingen importeren",
        "Unshipped": "Niet verzonden",
        "Confirm": "Bevestigen",
    },
}

# The store's marketplace as a card shows it.
MARKETPLACE_DE = {
    "fr": "DE (Allemagne)",
    "de": "DE (Deutschland)",
    "it": "DE (Germania)",
    "nl": "DE (Duitsland)",
}

# How a page shows 1234.50 EUR and 7 March 2025 14:05 UTC in each language (Django's formats).
FORMATS = {
    "en": ("1,234.50 EUR", "03/07/2025 2:05 p.m."),
    "fr": ("1\xa0234,50 EUR", "07/03/2025 14:05"),
    "de": ("1.234,50 EUR", "07.03.2025 14:05"),
    "it": ("1.234,50 EUR", "07/03/2025 14:05"),
    "nl": ("1.234,50 EUR", "7-3-2025 14:05"),
}


def po_path(language: str) -> Path:
    return LOCALE_DIR / language / "LC_MESSAGES" / "django.po"


def catalog(language: str) -> polib.POFile:
    return polib.pofile(str(po_path(language)))


def translations_of(entries) -> dict:
    """(context, msgid, plural msgid) -> the translation, or its plural forms in order."""
    result = {}
    for entry in entries:
        if not entry.msgid or entry.obsolete:
            continue
        key = (entry.msgctxt, entry.msgid, entry.msgid_plural or None)
        if entry.msgid_plural:
            result[key] = tuple(entry.msgstr_plural[index] for index in sorted(entry.msgstr_plural))
        else:
            result[key] = entry.msgstr
    return result


@pytest.fixture(autouse=True)
def _english_after_each_test():
    # A request leaves its language active in the thread; the next test starts in English.
    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture
def merchant_client(client, db):
    user = user_with_permissions(
        "marchand", "view_store", "change_store", "view_amazonorder", "cancel_amazonorder"
    )
    client.force_login(user)
    return client


@pytest.fixture
def order(db):
    store = StoreFactory(name="Köln Shop", marketplace_code="DE")
    return AmazonOrderFactory(
        store=store,
        amazon_order_id="302-1234567-7654321",
        order_total=Decimal("1234.50"),
        currency="EUR",
        purchase_date=PURCHASED_AT,
        buyer_name="Erika Mustermann",
    )


def page(client, url: str, language: str) -> str:
    response = client.get(url, headers={"accept-language": language})
    assert response.status_code == 200
    return response.content.decode()


# The catalogs


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_message_is_translated_and_none_is_fuzzy(language):
    po = catalog(language)

    assert not po.metadata_is_fuzzy
    assert po.metadata["Language"] == language
    assert [entry.msgid for entry in po.untranslated_entries()] == []
    assert [entry.msgid for entry in po.fuzzy_entries()] == []
    for entry in po.translated_entries():
        if entry.msgid_plural:
            assert all(entry.msgstr_plural.values()), entry.msgid


def catalog_messages(path: Path) -> set[tuple[str | None, str, str]]:
    return {
        (entry.msgctxt, entry.msgid, entry.msgid_plural)
        for entry in polib.pofile(str(path))
        if not entry.obsolete
    }


@pytest.mark.gettext
def test_every_string_of_the_code_and_templates_is_in_the_catalogs(tmp_path):
    # makemessages writes into the locale folder it finds: run it on a copy of the sources.
    tracked = (
        subprocess.run(["git", "ls-files", "-z"], cwd=PROJECT_DIR, capture_output=True, check=True)
        .stdout.decode()
        .split("\0")
    )
    copy = tmp_path / "project"
    for name in filter(None, tracked):
        source = PROJECT_DIR / name
        if source.is_file():
            target = copy / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    arguments = [f"-l{language}" for language in LANGUAGES]
    result = subprocess.run(
        [
            sys.executable,
            "manage.py",
            "makemessages",
            *arguments,
            "--no-obsolete",
            "--ignore=bench",
            "--ignore=var",
            "--ignore=artifacts",
        ],
        cwd=copy,
        env=project_environment(var_dir=tmp_path / "var", keep_services=False),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr

    for language in LANGUAGES:
        relative = Path("locale") / language / "LC_MESSAGES" / "django.po"
        extracted = catalog_messages(copy / relative)
        committed = catalog_messages(PROJECT_DIR / relative)
        assert extracted - committed == set(), f"run `make messages`: new strings ({language})"
        assert committed - extracted == set(), f"run `make messages`: unused strings ({language})"


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_compiled_catalog_holds_exactly_the_translations_of_its_po_file(language):
    po = catalog(language)
    mo = polib.mofile(str(po_path(language).with_suffix(".mo")))

    assert translations_of(mo) == translations_of(po.translated_entries()), (
        f"locale/{language}/LC_MESSAGES/django.mo is out of date: "
        "run `python manage.py compilemessages --ignore=.venv` and commit the .mo files"
    )
    assert mo.metadata["Plural-Forms"] == po.metadata["Plural-Forms"]


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_key_amazon_sales_channel_terms_use_adobe_commerce_wording(language):
    translations = translations_of(catalog(language).translated_entries())

    for english, expected in KEY_TERMS[language].items():
        assert translations.get((None, english, None)) == expected, english


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_ten_cancel_reasons_are_translated(language):
    with translation.override(language):
        labels = [str(label) for label in CancelReason.labels]

    english = [str(label) for label in CancelReason.labels]
    assert len(labels) == 10
    assert not set(labels) & set(english)


# Pages in the merchant's language


@pytest.mark.django_db
@pytest.mark.parametrize("language", LANGUAGES)
def test_the_store_cards_are_in_the_browser_language(merchant_client, order, language):
    html = page(merchant_client, reverse("dashboard:store_list"), language)

    assert f'<html lang="{language}">' in html
    assert KEY_TERMS[language]["View Store"] in html
    assert KEY_TERMS[language]["Order Settings"] in html
    assert MARKETPLACE_DE[language] in html
    assert "View Store" not in html


@pytest.mark.django_db
@pytest.mark.parametrize("language", LANGUAGES)
def test_the_store_dashboard_lists_recent_orders_with_local_money_and_dates(
    merchant_client, order, language
):
    html = page(merchant_client, reverse("dashboard:store_detail", args=[order.store_id]), language)
    money, date = FORMATS[language]

    assert KEY_TERMS[language]["Recent Orders"] in html
    assert KEY_TERMS[language]["Unshipped"] in html
    assert money in html
    assert date in html


@pytest.mark.django_db
@pytest.mark.parametrize("language", LANGUAGES)
def test_amazon_order_details_are_in_the_browser_language_and_format(
    merchant_client, order, language
):
    url = reverse("dashboard:order_detail", args=[order.store_id, order.pk])
    html = page(merchant_client, url, language)
    money, date = FORMATS[language]

    assert KEY_TERMS[language]["Amazon Order Details"] in html
    assert KEY_TERMS[language]["Cancel Order"] in html
    assert f"{money}</dd>" in html
    assert date in html
    assert "Amazon Order Details" not in html


@pytest.mark.django_db
def test_german_money_groups_thousands_with_dots_and_a_decimal_comma(merchant_client, order):
    url = reverse("dashboard:order_detail", args=[order.store_id, order.pk])

    html = page(merchant_client, url, "de")

    assert "1.234,50 EUR" in html
    assert "1,234.50" not in html
    assert "07.03.2025 14:05" in html


@pytest.mark.django_db
def test_english_stays_the_default_language(merchant_client, order):
    url = reverse("dashboard:order_detail", args=[order.store_id, order.pk])

    html = merchant_client.get(url).content.decode()
    money, date = FORMATS["en"]

    assert '<html lang="en">' in html
    assert "Amazon Order Details" in html
    assert money in html
    assert date in html


@pytest.mark.django_db
def test_the_cancel_form_offers_the_reasons_in_the_merchant_language(merchant_client, order):
    url = reverse("dashboard:order_cancel", args=[order.store_id, order.pk])

    html = page(merchant_client, url, "fr")

    assert "Motif d&#x27;annulation" in html
    assert "Rupture de stock" in html
    assert "Annulée par l&#x27;acheteur" in html
    assert "Confirmer" in html


@pytest.mark.django_db
def test_form_errors_are_in_the_merchant_language(merchant_client, order):
    cancel_url = reverse("dashboard:order_cancel_confirm", args=[order.store_id, order.pk])
    list_url = reverse("dashboard:order_list", args=[order.store_id])

    cancel = merchant_client.post(cancel_url, {"reason": ""}, headers={"accept-language": "de"})
    filters = merchant_client.get(
        list_url, {"total_min": "50", "total_max": "10"}, headers={"accept-language": "it"}
    )

    assert "Dieses Feld ist zwingend erforderlich." in cancel.content.decode()
    assert "Il totale massimo è inferiore al totale minimo." in filters.content.decode()


@pytest.mark.django_db
def test_the_language_switcher_changes_the_language_of_the_next_page(merchant_client, order):
    store_list = reverse("dashboard:store_list")

    response = merchant_client.post(reverse("set_language"), {"language": "nl", "next": store_list})

    assert response.status_code == 302
    assert response.url == store_list
    assert merchant_client.cookies[settings.LANGUAGE_COOKIE_NAME].value == "nl"
    dutch = merchant_client.get(store_list).content.decode()
    assert "Winkel bekijken" in dutch
    assert '<option value="nl" selected>' in dutch

    merchant_client.post(reverse("set_language"), {"language": "en", "next": store_list})

    assert "View Store" in merchant_client.get(store_list).content.decode()


@pytest.mark.django_db
def test_the_language_cookie_wins_over_the_browser_language(merchant_client, order):
    merchant_client.cookies[settings.LANGUAGE_COOKIE_NAME] = "it"

    html = page(merchant_client, reverse("dashboard:store_list"), "de")

    assert "Visualizza negozio" in html


# Emails


@pytest.mark.django_db
def test_the_buyer_email_is_in_the_language_of_the_marketplace(mailoutbox, order):
    buyer_cancellation_email_send(order=order, reason=CancelReason.NO_INVENTORY)

    (email,) = mailoutbox
    assert email.subject == "Ihre Bestellung 302-1234567-7654321 wurde storniert"
    assert "Ihre Amazon-Bestellung 302-1234567-7654321 bei Köln Shop wurde storniert." in email.body
    assert "Stornierungsgrund: Kein Bestand." in email.body
