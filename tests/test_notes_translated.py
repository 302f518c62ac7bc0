"""Order notes and history in the merchant's language: what the import, the Commerce import and
Amazon's answers write is stored as codes, so French and German pages show no English note."""

import copy
from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import translation

from amazon_channel.models import AmazonOrder, AmazonOrderStatus, OutboxMessage, SyncState
from amazon_channel.orders.cancellation import cancellation_reject
from amazon_channel.orders.commerce_import import commerce_orders_follow
from amazon_channel.orders.upsert import amazon_orders_upsert
from amazon_channel.outbox.messages import outbox_message_settle
from amazon_channel.stores.services import store_problem_report
from amazon_channel.tests.factories import StoreFactory
from amazon_channel.tests.test_services_orders import order_payload
from commerce_orders.notes import (
    MESSAGES,
    note,
    note_english,
    note_render,
    notes_text,
    sentence_render,
)
from commerce_orders.tests.factories import ProductFactory
from dashboard.tests.factories import (
    COMMERCE_PERMISSIONS,
    CancellationFactory,
    user_with_app_permissions,
)

pytestmark = pytest.mark.django_db

LANGUAGES = ("fr", "de")
AMAZON_PERMISSIONS = ("amazon_channel.view_store", "amazon_channel.view_amazonorder")


@pytest.fixture(autouse=True)
def _english_after_each_test():
    yield
    translation.activate(settings.LANGUAGE_CODE)


def translated(language: str, english: str) -> str:
    """The catalog's translation of an English sentence (asserting it has one)."""
    po = polib.pofile(str(Path(settings.BASE_DIR) / "locale" / language / "LC_MESSAGES/django.po"))
    [entry] = [entry for entry in po if entry.msgid == english and not entry.msgctxt]
    assert entry.msgstr and entry.msgstr != english
    return entry.msgstr


def page(client, url: str, language: str) -> str:
    response = client.get(url, headers={"accept-language": language})
    assert response.status_code == 200
    return response.content.decode()


@pytest.fixture
def merchant(client):
    client.force_login(
        user_with_app_permissions("marchand", *AMAZON_PERMISSIONS, *COMMERCE_PERMISSIONS)
    )
    return client


@pytest.fixture
def store():
    return StoreFactory(name="Boutique", marketplace_code="DE", is_import_enabled=True)


def imported(store, payloads) -> list[AmazonOrder]:
    """The orders as the sync stores them, their Commerce side followed as after a sync."""
    result = amazon_orders_upsert(store=store, payloads=payloads)
    commerce_orders_follow(store=store, order_ids=result.changed_order_ids)
    return list(AmazonOrder.objects.filter(store=store).order_by("amazon_order_id"))


def pending_without_prices(number: int) -> dict:
    payload = order_payload(number, status="PENDING")
    payload.pop("proceeds", None)
    for item in payload["orderItems"]:
        item.pop("proceeds", None)
        item.get("product", {}).pop("price", None)
    return payload


def fulfilled_by_amazon(number: int) -> dict:
    payload = order_payload(number, status="SHIPPED")
    payload["fulfillment"]["fulfilledBy"] = "AMAZON"
    payload.pop("recipient", None)
    return payload


def skus(payload: dict) -> list[str]:
    return [item["product"]["sellerSku"] for item in payload["orderItems"]]


@pytest.mark.parametrize("language", LANGUAGES)
def test_order_notes_written_by_the_import_show_in_the_merchants_language(
    merchant, store, language
):
    [pending, amazon_fulfilled] = imported(
        store, [pending_without_prices(1), fulfilled_by_amazon(2)]
    )
    english = [
        "Amazon gives no prices while the order is pending; they will be read when it is paid.",
        "Amazon fulfils this order and shares no shipping address.",
    ]

    recent = page(merchant, reverse("dashboard:store_detail", args=[store.pk]), language)
    details = [
        page(merchant, reverse("dashboard:order_detail", args=[store.pk, order.pk]), language)
        for order in (pending, amazon_fulfilled)
    ]

    for html in (recent, "".join(details)):
        for sentence in english:
            assert sentence not in html
            assert translated(language, sentence) in html.replace("&#x27;", "'")


@pytest.mark.parametrize("language", LANGUAGES)
def test_an_import_error_and_amazons_refusal_show_in_the_merchants_language(
    merchant, store, language
):
    payload = order_payload(3)
    [order] = imported(store, [payload])
    assert order.commerce_order is None  # its SKUs are not in the catalog
    message = OutboxMessage.objects.create(
        store=store,
        kind=OutboxMessage.Kind.CONFIRM_SHIPMENT,
        key="ship:test",
        payload={"amazon_order_id": order.amazon_order_id, "commerce_shipment": "000000003"},
        state=OutboxMessage.State.FAILED,
        result="Amazon cancelled the feed before processing it.",
    )
    outbox_message_settle(message=message, problem=message.result)

    html = page(merchant, reverse("dashboard:order_detail", args=[store.pk, order.pk]), language)
    text = html.replace("&#x27;", "'")

    assert "Commerce order not created" not in text and "is not in the catalog" not in text
    assert "Amazon refused the" not in text and "Amazon cancelled the feed" not in text
    assert translated(language, "Amazon cancelled the feed before processing it.") in text
    sku = skus(payload)[0]
    assert translated(language, "SKU %(sku)s is not in the catalog") % {"sku": sku} in text


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_history_of_an_imported_order_shows_in_the_merchants_language(
    merchant, store, language
):
    payload = order_payload(4, status="SHIPPED")
    for sku in skus(payload):
        ProductFactory(sku=sku, quantity_in_stock=100)
    [order] = imported(store, [payload])
    commerce_order = order.commerce_order
    assert commerce_order is not None

    commerce = page(
        merchant, reverse("dashboard:commerce_order_detail", args=[commerce_order.pk]), language
    )
    amazon = page(merchant, reverse("dashboard:order_detail", args=[store.pk, order.pk]), language)

    for english in ("Shipped on Amazon.", "Order placed through", "Captured amount of"):
        assert english not in commerce
    assert translated(language, "Shipped on Amazon.") in commerce.replace("&#x27;", "'")
    assert "Commerce order " + commerce_order.increment_id + " created." not in amazon
    created = translated(language, "Commerce order %(number)s created.")
    assert created % {"number": commerce_order.increment_id} in amazon.replace("&#x27;", "'")


def test_english_stays_the_default(merchant, store):
    [order] = imported(store, [fulfilled_by_amazon(5)])
    html = page(merchant, reverse("dashboard:order_detail", args=[store.pk, order.pk]), "en")
    assert "Amazon fulfils this order and shares no shipping address." in html


def test_a_payload_problem_is_stored_as_codes_not_sentences(store):
    payload = copy.deepcopy(order_payload(6))
    payload["orderItems"][0]["product"].pop("sellerSku")

    [order] = imported(store, [payload])

    assert order.needs_attention
    assert all("code" in entry for entry in order.order_notes), order.order_notes
    with translation.override("de"):
        german = notes_text(order.order_notes)
    assert "has no seller SKU" not in german and "SKU" in german


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_rejection_in_our_words_shows_in_the_merchants_language(merchant, store, language):
    english = "Amazon does not find the order: the cancellation was not applied."
    cancellation = CancellationFactory(order__store=store)
    # What the feed's verification writes when Amazon no longer knows the order.
    cancellation_reject(cancellation=cancellation, amazon_message=english)
    order = cancellation.order

    html = page(merchant, reverse("dashboard:order_detail", args=[store.pk, order.pk]), language)

    assert english not in html
    assert html.replace("&#x27;", "'").count(translated(language, english)) == 2  # notice, history


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_store_history_says_why_it_needs_reauthorization_in_the_merchants_language(
    merchant, store, language
):
    amazon_words = "The refresh token is invalid."
    # What the sync does with AmazonAuthorizationError's message (spapi.py).
    store_problem_report(
        store.pk,
        SyncState.NEEDS_REAUTHORIZATION,
        f"Amazon rejected the store's credentials (invalid_grant): {amazon_words}",
    )

    html = page(merchant, reverse("dashboard:store_detail", args=[store.pk]), language)
    history = html[html.index('data-section="store-history"') :].replace("&#x27;", "'")

    sentence = translated(
        language, "Amazon rejected the store's credentials (%(code)s): %(message)s"
    )
    assert sentence % {"code": "invalid_grant", "message": amazon_words} in history
    assert "Amazon rejected the store's credentials" not in history


# What a worker writes as text when Amazon cannot be talked to (spapi/client.py's errors, a sync
# run's stop): a page reads each sentence back in its reader's language, Amazon's words inside.
SAID_CODES = sorted(
    code
    for code in MESSAGES
    if code.startswith(("spapi.", "sync.", "feed.", "cancellation.", "endpoint."))
    or code in ("store.credentials_rejected", "store.login_unavailable")
)
SAMPLES = {
    "operation": "searchOrders",
    "code": "400",
    "message": "Invalid Input (seller words)",
    "seconds": "1.5",
    "marketplace": "DE (A1PA6795UKMFR9)",
    "participating": "Amazon.fr (A13V1IB3VIYZZH)",
    "error": "ConnectError",
    "status": "503",
    "algorithm": "'ZSTD'",
    "reason": note("store.credentials_rejected", code="invalid_grant", message="Revoked."),
    "answer": "Amazon's words (answer)",
    "endpoint": "https://sellingpartnerapi-eu.amazon.com",
    "expected": "https://sandbox.sellingpartnerapi-eu.amazon.com",
    "hosts": "https://sellingpartnerapi-eu.amazon.com, https://sellingpartnerapi-fe.amazon.com",
    "endpoints": "https://api.amazon.com/auth/o2/token",
    "problem": note("endpoint.token_hosts_only", endpoints="https://api.amazon.com/auth/o2/token"),
}


def test_every_sentence_of_amazons_errors_has_a_code_read_back():
    assert len(SAID_CODES) > 55


@pytest.mark.parametrize("language", ["de", "fr", "it", "nl"])
@pytest.mark.parametrize("code", SAID_CODES)
def test_an_error_written_in_english_reads_in_the_merchants_language(code, language):
    with translation.override("en"):
        template = str(MESSAGES[code])
    params = {name: value for name, value in SAMPLES.items() if f"%({name})" in template}
    with translation.override("en"):
        stored = note_english(code, **params)
    translated(language, template)  # the catalog has it

    with translation.override(language):
        shown = sentence_render(stored)
        expected = note_render(note(code, **params))

    assert shown == expected != stored
    for name in ("operation", "message", "marketplace", "error", "endpoint", "expected"):
        if name in params:
            assert params[name] in shown
    if "reason" in params:  # a sentence of ours inside one: both translated
        assert "Revoked." in shown and "rejected the store's credentials" not in shown
    if "problem" in params:
        assert "api.amazon.com" in shown and "must be one of" not in shown


def test_amazons_own_words_stay_as_they_are():
    with translation.override("de"):
        assert sentence_render("The request has an invalid grant parameter") == (
            "The request has an invalid grant parameter"
        )


@pytest.mark.parametrize("language", ["de", "nl"])
def test_the_order_status_inside_amazons_verdict_reads_in_the_merchants_language(language):
    with translation.override("en"):
        stored = note_english(
            "cancellation.shown_as", status=note(f"part.order_status.{AmazonOrderStatus.PENDING}")
        )
    assert "shows the order as Pending:" in stored

    with translation.override(language):
        shown = sentence_render(stored)
        label = str(AmazonOrderStatus.PENDING.label)

    assert label != "Pending" and label in shown and "Pending" not in shown
