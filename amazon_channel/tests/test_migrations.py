import zlib

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("amazon_channel", "0009_order_writes_cheaper")]
AFTER = [("amazon_channel", "0010_raw_payload_text")]


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


def test_payloads_compressed_in_python_become_json_text_and_back():
    apps = migrate(BEFORE)
    Store = apps.get_model("amazon_channel", "Store")
    AmazonOrder = apps.get_model("amazon_channel", "AmazonOrder")
    store = Store.objects.create(
        name="Before",
        region="EU",
        marketplace_code="DE",
        marketplace_id="A1PA6795UKMFR9",
        seller_id="AOLD",
    )
    common = {
        "store": store,
        "status": "Unshipped",
        "fulfillment_channel": "MFN",
        "purchase_date": "2026-11-01T12:00:00Z",
        "last_update_date": "2026-11-01T12:00:00Z",
    }
    AmazonOrder.objects.create(
        amazon_order_id="302-1", raw_payload={"orderId": "302-1", "city": "Köln"}, **common
    )
    AmazonOrder.objects.create(amazon_order_id="302-2", raw_payload={}, **common)
    with connection.cursor() as cursor:
        cursor.execute("SELECT raw_payload FROM amazon_channel_amazonorder ORDER BY id")
        before = [bytes(row[0]) for row in cursor.fetchall()]
    assert zlib.decompress(before[0]) == '{"orderId":"302-1","city":"Köln"}'.encode()

    apps = migrate(AFTER)
    orders = apps.get_model("amazon_channel", "AmazonOrder").objects.order_by("pk")

    assert [order.raw_payload for order in orders] == [{"orderId": "302-1", "city": "Köln"}, {}]
    with connection.cursor() as cursor:
        cursor.execute("SELECT raw_payload FROM amazon_channel_amazonorder ORDER BY id")
        assert [row[0] for row in cursor.fetchall()] == ['{"orderId":"302-1","city":"Köln"}', "{}"]

    apps = migrate(BEFORE)
    orders = apps.get_model("amazon_channel", "AmazonOrder").objects.order_by("pk")
    assert [order.raw_payload for order in orders] == [{"orderId": "302-1", "city": "Köln"}, {}]
    migrate(AFTER)


def test_a_run_left_by_the_code_before_stored_parameters_gets_what_it_first_sent():
    from datetime import UTC, datetime

    apps = migrate([("amazon_channel", "0012_roles")])
    Store = apps.get_model("amazon_channel", "Store")
    SyncRun = apps.get_model("amazon_channel", "SyncRun")

    def store(seller_id):
        return Store.objects.create(
            name=seller_id,
            region="EU",
            marketplace_code="DE",
            marketplace_id="A1PA6795UKMFR9",
            seller_id=seller_id,
        )

    window = {
        "window_start": datetime(2026, 11, 1, 12, 0, 5, tzinfo=UTC),
        "window_end": datetime(2026, 11, 2, 8, 30, tzinfo=UTC),
    }
    # A run of the code before: one page read, its token kept, its parameters not
    left = SyncRun.objects.create(
        store=store("AOLD"),
        kind="scheduled",
        status="running",
        pagination_token="token-2",
        **window,
    )
    stored = {"lastUpdatedAfter": "2026-11-01T12:00:05Z", "includedData": ["BUYER"]}
    current = SyncRun.objects.create(
        store=store("ACURRENT"),
        kind="scheduled",
        status="running",
        pagination_token="token-3",
        search_parameters=stored,
        **window,
    )
    starting = SyncRun.objects.create(
        store=store("ASTARTING"), kind="scheduled", status="running", **window
    )

    apps = migrate([("amazon_channel", "0017_mend_runs_before_parameters")])
    runs = apps.get_model("amazon_channel", "SyncRun").objects

    assert runs.get(pk=left.pk).search_parameters == {
        "lastUpdatedAfter": "2026-11-01T12:00:05Z",
        "lastUpdatedBefore": "2026-11-02T08:30:00Z",
        "marketplaceIds": ["A1PA6795UKMFR9"],
        "includedData": [
            "BUYER",
            "RECIPIENT",
            "PROCEEDS",
            "FULFILLMENT",
            "PACKAGES",
            "CANCELLATION",
        ],
        "maxResultsPerPage": 100,
    }
    assert runs.get(pk=current.pk).search_parameters == stored
    # A run without a token starts from its first page with today's parameters
    assert runs.get(pk=starting.pk).search_parameters == {}


# Migration 0025: a sync run's message loses the English sentence about the orders it skipped
# (the pages say it from orders_skipped, in the reader's language); nothing else changes.
SYNC_FAILED = "Amazon refused searchOrders (400): Invalid input."


def test_the_skipped_orders_sentence_leaves_the_messages_that_had_it():
    apps = migrate([("amazon_channel", "0024_store_changes_order_details")])
    Store = apps.get_model("amazon_channel", "Store")
    SyncRun = apps.get_model("amazon_channel", "SyncRun")
    store = Store.objects.create(
        name="Before", region="EU", marketplace_code="DE", marketplace_id="A1PA6795UKMFR9"
    )
    window = {"window_start": "2026-11-01T12:00:00Z", "window_end": "2026-11-01T13:00:00Z"}
    rows = {
        "failed_and_skipped": (3, f"{SYNC_FAILED} 3 orders without an id or dates were skipped."),
        "only_skipped": (1, "1 order without an id or dates was skipped."),
        "failed": (0, SYNC_FAILED),
        "amazons_words": (2, "Amazon: 2 orders without an id or dates were skipped, maybe"),
    }
    for kind, (skipped, message) in rows.items():
        SyncRun.objects.create(
            store=store,
            kind="command",
            status="failed",
            orders_skipped=skipped,
            message=message,
            pagination_token=kind,
            **window,
        )

    apps = migrate([("amazon_channel", "0025_sync_run_message_without_skipped")])

    SyncRun = apps.get_model("amazon_channel", "SyncRun")
    assert dict(SyncRun.objects.values_list("pagination_token", "message")) == {
        "failed_and_skipped": SYNC_FAILED,
        "only_skipped": "",
        "failed": SYNC_FAILED,
        "amazons_words": "Amazon: 2 orders without an id or dates were skipped, maybe",
    }
