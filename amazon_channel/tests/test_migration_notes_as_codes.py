"""The migrations that turn the English notes and history of before into codes: our sentences
become their codes, anything else (Amazon's words, a merchant's) stays text; and back."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import translation

from commerce_orders.notes import note, notes_text, text_note

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [
    ("amazon_channel", "0014_health_reauthorized_and_buyer_cancellations"),
    ("commerce_orders", "0005_grid_sort_indexes"),
]
AFTER = [
    ("amazon_channel", "0015_lang_notes_as_codes"),
    ("commerce_orders", "0007_lang_event_notes"),
]
FULFILLED_BY_AMAZON = "Amazon fulfils this order and shares no shipping address."


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.fixture(autouse=True)
def latest_schema_afterwards():
    """Leave the test database at the newest migrations: the tests after this one expect them."""
    yield
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    migrate(executor.loader.graph.leaf_nodes())


def old_rows(apps) -> dict:
    Store = apps.get_model("amazon_channel", "Store")
    AmazonOrder = apps.get_model("amazon_channel", "AmazonOrder")
    store = Store.objects.create(
        name="Before", region="EU", marketplace_code="DE", marketplace_id="A1PA6795UKMFR9"
    )
    common = {
        "store": store,
        "status": "Unshipped",
        "fulfillment_channel": "MFN",
        "purchase_date": "2026-11-01T12:00:00Z",
        "last_update_date": "2026-11-01T12:00:00Z",
    }
    noted = AmazonOrder.objects.create(
        amazon_order_id="302-1",
        order_notes=f"{FULFILLED_BY_AMAZON}\nGift wrap, please",
        channel_notes="Amazon refused the shipment #000000003: Carrier code unknown",
        commerce_import_error="Commerce order not created: SKU MUG-1 is not in the catalog.",
        **common,
    )
    plain = AmazonOrder.objects.create(amazon_order_id="302-2", **common)
    Event = apps.get_model("amazon_channel", "AmazonOrderEvent")
    Event.objects.create(order=noted, kind="cancel_requested", message="Buyer canceled")
    Event.objects.create(order=noted, kind="cancel_rejected", message="Error 18028: shipped.")
    CommerceOrder = apps.get_model("commerce_orders", "CommerceOrder")
    commerce = CommerceOrder.objects.create(
        increment_id="000000001", currency="EUR", payment_method="checkmo"
    )
    CommerceEvent = apps.get_model("commerce_orders", "CommerceOrderEvent")
    CommerceEvent.objects.create(
        order=commerce, action="cancel", comment="Order canceled.\nCustomer changed their mind"
    )
    CommerceEvent.objects.create(order=commerce, action="comment", comment="Called the buyer.")
    return {"noted": noted.pk, "plain": plain.pk}


def test_english_notes_of_before_become_codes_and_other_text_stays_text():
    rows = old_rows(migrate(BEFORE))

    apps = migrate(AFTER)

    AmazonOrder = apps.get_model("amazon_channel", "AmazonOrder")
    noted = AmazonOrder.objects.get(pk=rows["noted"])
    assert noted.order_notes == [
        note("order.fulfilled_by_amazon"),
        text_note("Gift wrap, please"),
    ]
    assert noted.channel_notes == [
        note(
            "refusal.numbered",
            kind=note("part.shipment"),
            number="000000003",
            reason="Carrier code unknown",
        )
    ]
    assert noted.commerce_import_error == [
        note(
            "import.not_created_problems",
            problems=note("commerce.sku_not_in_catalog", sku="MUG-1"),
        )
    ]
    plain = AmazonOrder.objects.get(pk=rows["plain"])
    assert (plain.order_notes, plain.channel_notes, plain.commerce_import_error) == ([], [], [])
    events = apps.get_model("amazon_channel", "AmazonOrderEvent").objects.order_by("pk")
    assert [(event.notes, event.message) for event in events] == [
        ([note("cancel_reason.BuyerCanceled")], ""),
        ([], "Error 18028: shipped."),
    ]
    commerce_events = apps.get_model("commerce_orders", "CommerceOrderEvent").objects.order_by("pk")
    assert [(event.notes, event.comment) for event in commerce_events] == [
        ([note("commerce.order_canceled")], "Customer changed their mind"),
        ([], "Called the buyer."),
    ]
    # Shown in the reader's language now.
    with translation.override("fr"):
        french = notes_text(noted.order_notes + noted.commerce_import_error)
    assert FULFILLED_BY_AMAZON not in french and "Gift wrap, please" in french
    assert "MUG-1" in french and "is not in the catalog" not in french


def test_the_migrations_reverse_to_the_english_text():
    rows = old_rows(migrate(BEFORE))
    migrate(AFTER)

    apps = migrate(BEFORE)

    AmazonOrder = apps.get_model("amazon_channel", "AmazonOrder")
    noted = AmazonOrder.objects.get(pk=rows["noted"])
    assert noted.order_notes == f"{FULFILLED_BY_AMAZON}\nGift wrap, please"
    assert noted.channel_notes == "Amazon refused the shipment #000000003: Carrier code unknown"
    assert noted.commerce_import_error == (
        "Commerce order not created: SKU MUG-1 is not in the catalog."
    )
    comments = apps.get_model("commerce_orders", "CommerceOrderEvent").objects.order_by("pk")
    assert [event.comment for event in comments] == [
        "Order canceled.\nCustomer changed their mind",
        "Called the buyer.",
    ]
