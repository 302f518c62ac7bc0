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
