"""The registry of message codes: every code translated, notes stored as codes and shown in the
reader's language, old English lines read back as codes."""

import re
from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext_lazy

from commerce_orders.notes import (
    MESSAGES,
    note,
    note_from_english,
    note_render,
    notes_from_english,
    text_note,
)

LANGUAGES = ("fr", "de", "it", "nl")
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]")


def english(template) -> str:
    with translation.override("en"):
        return str(template)


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_message_code_has_a_translation_with_the_same_placeholders(language):
    po = polib.pofile(str(Path(settings.BASE_DIR) / "locale" / language / "LC_MESSAGES/django.po"))
    catalog = {
        entry.msgid: entry
        for entry in po
        if not entry.msgctxt and not entry.obsolete and "fuzzy" not in entry.flags
    }
    # The registry holds both apps' codes (amazon_channel registers its own when ready).
    assert "order.priceless_pending" in MESSAGES and "commerce.order_placed" in MESSAGES

    untranslated = []
    for code, template in MESSAGES.items():
        msgid = english(template)
        entry = catalog.get(msgid)
        if entry is None or not entry.msgstr:
            untranslated.append(code)
            continue
        assert sorted(PLACEHOLDER.findall(entry.msgstr)) == sorted(PLACEHOLDER.findall(msgid)), code
    assert untranslated == []


def test_one_spelling_per_message():
    sentences = [english(template) for template in MESSAGES.values()]
    assert len(sentences) == len(set(sentences))


def test_a_note_is_stored_as_its_code_and_shown_in_the_readers_language():
    stored = note("history.shipped_on_amazon")

    assert stored == {"code": "history.shipped_on_amazon"}
    with translation.override("fr"):
        assert note_render(stored) == "Expédiée sur Amazon."
    with translation.override("en"):
        assert note_render(stored) == "Shipped on Amazon."


def test_parameters_that_are_notes_or_lists_of_notes_follow_the_language():
    stored = note(
        "import.not_created_problems",
        problems=[
            note("commerce.sku_not_in_catalog", sku="MUG-1"),
            note("commerce.sku_out_of_stock", sku="CUP-2", ordered=3, available=1),
        ],
    )

    with translation.override("en"):
        assert note_render(stored) == (
            "Commerce order not created: SKU MUG-1 is not in the catalog; "
            "SKU CUP-2 is out of stock (3 ordered, 1 available)."
        )
    with translation.override("de"):
        german = note_render(stored)
    assert "MUG-1" in german and "CUP-2" in german
    assert "not in the catalog" not in german and "Commerce order not created" not in german


def test_labels_in_a_list_read_as_a_list():
    stored = note(
        "order.address_withheld_shipped",
        parts=[note("part.address_name"), note("part.address_street")],
    )
    with translation.override("en"):
        assert "recipient's name, street for this shipped order" in note_render(stored)


def test_an_unknown_code_is_refused_where_it_is_written():
    with pytest.raises(KeyError):
        note("order.no_such_message")


def test_text_a_person_or_amazon_wrote_stays_as_written_in_every_language():
    stored = text_note("Bitte als Geschenk verpacken")
    with translation.override("fr"):
        assert note_render(stored) == "Bitte als Geschenk verpacken"


def test_an_old_english_line_becomes_its_code_with_its_parameters():
    assert note_from_english("Amazon fulfils this order and shares no shipping address.") == {
        "code": "order.fulfilled_by_amazon"
    }
    assert note_from_english(
        "Invoice #000000007 created. Captured amount of 12.50 EUR offline."
    ) == (
        note(
            "commerce.invoice_captured_offline", number="000000007", amount="12.50", currency="EUR"
        )
    )
    # The most specific sentence wins over "Commerce order not created: %(error)s".
    withheld = note_from_english(
        "Commerce order not created: Amazon withheld the recipient's name, street "
        "(the seller's authorization of this app may lack the Direct-to-Consumer Shipping "
        "role). Retried on every sync until they arrive."
    )
    assert withheld["code"] == "import.address_withheld"
    # A label inside a sentence gets its code back, so that it follows the language too.
    refused = note_from_english("Amazon refused the shipment #000000003: Carrier unknown")
    assert refused == note(
        "refusal.numbered", kind=note("part.shipment"), number="000000003", reason="Carrier unknown"
    )


def test_an_old_line_that_is_no_sentence_of_ours_stays_text():
    assert note_from_english("Order: gift wrap please") == text_note("Order: gift wrap please")
    assert notes_from_english("Shipment #000000002 created.\nCall before delivery") == [
        note("commerce.shipment_created", number="000000002"),
        text_note("Call before delivery"),
    ]


def test_a_credit_memo_line_of_two_sentences_becomes_two_notes():
    assert notes_from_english(
        "Credit Memo #000000001 created. We refunded 5.00 EUR offline. "
        "The refunded items were returned to stock."
    ) == [
        note("commerce.credit_memo_created", number="000000001", amount="5.00", currency="EUR"),
        note("commerce.refunded_items_returned"),
    ]


def test_a_translated_label_as_a_parameter_is_refused_it_needs_a_code():
    with pytest.raises(TypeError):
        note("history.accepted", kind=gettext_lazy("shipment"))
