"""Migration 0025: a sync run's message loses the English sentence about the orders it skipped
(the pages now say it from orders_skipped, in the reader's language); nothing else changes."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("amazon_channel", "0024_store_changes_order_details")]
AFTER = [("amazon_channel", "0025_sync_run_message_without_skipped")]
FAILED = "Amazon refused searchOrders (400): Invalid input."


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


def test_the_skipped_orders_sentence_leaves_the_messages_that_had_it():
    apps = migrate(BEFORE)
    Store = apps.get_model("amazon_channel", "Store")
    SyncRun = apps.get_model("amazon_channel", "SyncRun")
    store = Store.objects.create(
        name="Before", region="EU", marketplace_code="DE", marketplace_id="A1PA6795UKMFR9"
    )
    window = {"window_start": "2026-11-01T12:00:00Z", "window_end": "2026-11-01T13:00:00Z"}
    rows = {
        "failed_and_skipped": (3, f"{FAILED} 3 orders without an id or dates were skipped."),
        "only_skipped": (1, "1 order without an id or dates was skipped."),
        "failed": (0, FAILED),
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

    apps = migrate(AFTER)

    SyncRun = apps.get_model("amazon_channel", "SyncRun")
    assert dict(SyncRun.objects.values_list("pagination_token", "message")) == {
        "failed_and_skipped": FAILED,
        "only_skipped": "",
        "failed": FAILED,
        "amazons_words": "Amazon: 2 orders without an id or dates were skipped, maybe",
    }
