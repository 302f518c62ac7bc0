from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.db import DataError, IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from amazon_channel.models import AmazonOrder, AmazonOrderPackage
from amazon_channel.orders.bulk_rows import BulkRows
from amazon_channel.tests.factories import AmazonOrderFactory, StoreFactory
from commerce_orders.notes import text_note

pytestmark = pytest.mark.django_db

PURCHASED = datetime(2026, 11, 1, 12, 0, 30, 123456, tzinfo=UTC)
FIELDS = (
    "store",
    "amazon_order_id",
    "status",
    "fulfillment_channel",
    "purchase_date",
    "last_update_date",
    "latest_ship_date",
    "shipping_address",
    "order_total",
    "is_prime",
    "number_of_items_unshipped",
    "raw_payload",
)
ROWS = BulkRows(AmazonOrder, FIELDS)
# The same rows as SQL literals: what SQLite always gets.
LITERAL_ROWS = BulkRows(AmazonOrder, FIELDS, is_copied=False)
# COPY is PostgreSQL's (the marker: skipped elsewhere, a failure under CI=true without it).
is_postgresql = pytest.mark.postgresql


@pytest.fixture(params=["copied", "literal"])
def rows_writer(request):
    """Each behaviour both ways: by COPY (PostgreSQL) and as SQL literals."""
    return ROWS if request.param == "copied" else LITERAL_ROWS


def values(store, amazon_order_id: str, **overrides) -> dict:
    given = {
        "store": store,
        "amazon_order_id": amazon_order_id,
        "status": "Unshipped",
        "fulfillment_channel": "MFN",
        "purchase_date": PURCHASED,
        "last_update_date": PURCHASED + timedelta(minutes=5),
        "latest_ship_date": None,
        "shipping_address": {"city": "Köln", "postalCode": "50667"},
        "order_total": Decimal("1234.50"),
        "is_prime": True,
        "number_of_items_unshipped": 3,
        "raw_payload": {"orderId": amazon_order_id, "total": Decimal("1234.50"), "ü": [1, None]},
    }
    given.update(overrides)
    return given


def row(given: dict) -> tuple:
    return tuple(given[name].pk if name == "store" else given[name] for name in FIELDS)


def test_an_inserted_row_reads_back_as_the_orm_stores_it(rows_writer):
    store = StoreFactory()
    orm = AmazonOrder.objects.create(**values(store, "302-0000000-0000001"))
    before = timezone.now()

    returned = rows_writer.insert([row(values(store, "302-0000000-0000002"))], returning=("id",))

    bulk = AmazonOrder.objects.get(pk=returned[0][0])
    orm.refresh_from_db()
    for field in AmazonOrder._meta.concrete_fields:
        if field.name not in ("id", "amazon_order_id", "raw_payload", "created_at", "updated_at"):
            assert getattr(bulk, field.attname) == getattr(orm, field.attname), field.name
    # The columns left out take their defaults, and now for auto_now / auto_now_add.
    assert bulk.channel_notes == [] and bulk.is_shipping_address_edited is False
    assert bulk.commerce_order_id is None
    # Stored as the ORM stores them, lookups included (SQLite compares datetimes as text).
    assert (
        AmazonOrder.objects.filter(purchase_date=PURCHASED, order_total=Decimal("1234.5")).count()
        == 2
    )
    assert before <= bulk.created_at == bulk.updated_at <= timezone.now()
    assert bulk.raw_payload == {
        "orderId": "302-0000000-0000002",
        "total": "1234.50",
        "ü": [1, None],
    }


def test_an_insert_over_a_stored_unique_key_raises_and_writes_nothing(rows_writer):
    store = StoreFactory()
    AmazonOrderFactory(store=store, amazon_order_id="302-0000000-0000001")

    with pytest.raises(IntegrityError), transaction.atomic():
        rows_writer.insert(
            [row(values(store, "302-0000000-0000009")), row(values(store, "302-0000000-0000001"))]
        )

    assert not AmazonOrder.objects.filter(amazon_order_id="302-0000000-0000009").exists()


def test_an_upsert_updates_the_named_fields_only_and_inserts_the_new_rows(rows_writer):
    store = StoreFactory()
    stored = AmazonOrderFactory(
        store=store,
        amazon_order_id="302-0000000-0000001",
        commerce_import_error=[text_note("SKU missing")],
    )
    AmazonOrder.objects.filter(pk=stored.pk).update(
        created_at=PURCHASED, updated_at=PURCHASED, buyer_name="Erika"
    )

    rows_writer.upsert(
        [
            row(values(store, "302-0000000-0000001", status="Shipped", order_total=None)),
            row(values(store, "302-0000000-0000002")),
        ],
        unique_fields=("store", "amazon_order_id"),
        update_fields=("status", "order_total", "updated_at"),
    )

    stored.refresh_from_db()
    assert (stored.status, stored.order_total) == ("Shipped", None)
    # Not named: left as they were, the purchase date and payload included.
    assert stored.commerce_import_error == [text_note("SKU missing")]
    assert stored.buyer_name == "Erika"
    assert stored.created_at == PURCHASED and stored.updated_at > PURCHASED
    assert stored.purchase_date != PURCHASED
    assert AmazonOrder.objects.filter(store=store).count() == 2


def test_rows_beyond_the_parameter_limit_go_in_several_statements(
    monkeypatch, django_assert_num_queries
):
    store = StoreFactory()
    width = len(LITERAL_ROWS.columns)
    monkeypatch.setattr(connection.features, "max_query_params", 2 * width)

    with django_assert_num_queries(3):
        returned = LITERAL_ROWS.insert(
            [row(values(store, f"302-0000000-000000{number}")) for number in range(5)],
            returning=("amazon_order_id",),
        )

    assert sorted(returned) == [(f"302-0000000-000000{number}",) for number in range(5)]
    assert AmazonOrder.objects.filter(store=store).count() == 5


def test_nothing_to_write_runs_no_statement(django_assert_num_queries):
    with django_assert_num_queries(0):
        assert ROWS.insert([], returning=("id",)) == []
        ROWS.upsert([], unique_fields=("store", "amazon_order_id"), update_fields=("status",))


@pytest.mark.parametrize("is_copied", [True, False])
def test_a_json_list_column_and_a_foreign_key_by_its_primary_key(is_copied):
    order = AmazonOrderFactory()
    packages = BulkRows(
        AmazonOrderPackage, ("order", "package_reference_id", "items"), is_copied=is_copied
    )

    packages.insert([(order.pk, "PKG-1", [{"orderItemId": "1", "quantity": 2}])])

    package = AmazonOrderPackage.objects.get(order=order)
    assert package.items == [{"orderItemId": "1", "quantity": 2}]
    assert (package.carrier, package.ship_time) == ("", None)


def test_an_upsert_skipping_unchanged_rows_writes_only_what_changed(rows_writer):
    store = StoreFactory()
    first, second, third = (
        values(store, f"302-0000000-000000{number}", latest_ship_date=None) for number in range(3)
    )
    rows_writer.insert([row(first), row(second), row(third)])
    update = {"unique_fields": ("store", "amazon_order_id"), "is_unchanged_skipped": True}
    fields = ("status", "latest_ship_date", "order_total", "updated_at")

    written = rows_writer.upsert(
        [
            row(first),  # the same values: left alone
            row({**second, "latest_ship_date": PURCHASED}),  # NULL -> a date
            row({**third, "order_total": None}),  # a total -> NULL
        ],
        update_fields=fields,
        returning=("amazon_order_id",),
        **update,
    )

    assert sorted(written) == [("302-0000000-0000001",), ("302-0000000-0000002",)]
    stored = {o.amazon_order_id: o for o in AmazonOrder.objects.filter(store=store)}
    assert stored["302-0000000-0000001"].latest_ship_date == PURCHASED
    assert stored["302-0000000-0000002"].order_total is None
    assert stored["302-0000000-0000000"].updated_at == stored["302-0000000-0000000"].created_at


TEXT_FIELDS = (
    "store",
    "amazon_order_id",
    "purchase_date",
    "last_update_date",
    "buyer_name",
    "shipping_address",
    "raw_payload",
)
# What COPY's text format must escape, NULL's spelling and COPY's end marker among them.
AWKWARD = "tab\there\\N back\\slash\\. line\nbreak\rreturn, Köln ✓"


@pytest.mark.parametrize("is_copied", [True, False])
def test_text_with_tabs_line_breaks_and_backslashes_reads_back_whole(is_copied):
    store = StoreFactory()
    writer = BulkRows(AmazonOrder, TEXT_FIELDS, is_copied=is_copied)
    document = {"note": AWKWARD, "nested": [AWKWARD, {"\\": 1}]}

    dates = (PURCHASED, PURCHASED)
    writer.insert([(store.pk, "302-0000000-0000001", *dates, AWKWARD, document, document)])
    writer.upsert(
        [(store.pk, "302-0000000-0000002", *dates, AWKWARD, document, document)],
        unique_fields=("store", "amazon_order_id"),
        update_fields=("buyer_name",),
    )

    for order in AmazonOrder.objects.filter(store=store):
        assert order.buyer_name == AWKWARD
        assert order.shipping_address == document and order.raw_payload == document


@is_postgresql
def test_rows_go_by_one_copy_whatever_their_number(monkeypatch, django_assert_num_queries):
    store = StoreFactory()
    monkeypatch.setattr(connection.features, "max_query_params", 2 * len(ROWS.columns))
    rows = [row(values(store, f"302-0000000-000000{number}")) for number in range(5)]

    with CaptureQueriesContext(connection) as captured:
        returned = ROWS.insert(rows[:3], returning=("id", "amazon_order_id"))
        ROWS.insert(rows[3:])

    # Keys from the sequence when they are asked for, then one COPY; just the COPY else.
    assert [query["sql"].split(None, 1)[0] for query in captured.captured_queries] == [
        "WITH",
        "COPY",
        "COPY",
    ]
    stored = dict(AmazonOrder.objects.filter(store=store).values_list("id", "amazon_order_id"))
    assert len(stored) == 5
    assert all(stored[key] == amazon_order_id for key, amazon_order_id in returned)


@is_postgresql
def test_a_nul_the_database_refuses_by_copy_is_a_data_error():
    store = StoreFactory()

    with pytest.raises(DataError), transaction.atomic():
        ROWS.insert([row(values(store, "302-0000000\x00-0000001"))])
    with pytest.raises(ValueError), transaction.atomic():
        ROWS.insert([row(values(store, "302-0000000\ud800-0000001"))])  # not UTF-8 at all

    assert not AmazonOrder.objects.filter(store=store).exists()


def test_an_upsert_after_another_in_one_transaction_writes_only_its_own_rows(rows_writer):
    store = StoreFactory()
    first, second = (values(store, f"302-0000000-000000{number}") for number in range(2))
    update = {"unique_fields": ("store", "amazon_order_id"), "update_fields": ("status",)}

    with transaction.atomic():
        rows_writer.upsert([row({**first, "status": "Shipped"})], **update)
        AmazonOrder.objects.filter(amazon_order_id=first["amazon_order_id"]).update(
            status="Canceled"
        )
        rows_writer.upsert([row(second)], **update)

    stored = dict(AmazonOrder.objects.filter(store=store).values_list("amazon_order_id", "status"))
    assert stored == {first["amazon_order_id"]: "Canceled", second["amazon_order_id"]: "Unshipped"}


def test_an_update_writes_the_named_fields_of_the_rows_keyed(rows_writer):
    store = StoreFactory()
    first, second = (values(store, f"302-0000000-000000{number}") for number in range(2))
    keys = [key for (key,) in ROWS.insert([row(first), row(second)], returning=("id",))]

    rows_writer.update(
        keys,
        [
            row({**first, "status": "Shipped", "is_prime": False}),
            row({**second, "status": "Canceled"}),
        ],
        update_fields=("status",),
    )

    stored = {o.pk: o for o in AmazonOrder.objects.filter(store=store)}
    assert (stored[keys[0]].status, stored[keys[1]].status) == ("Shipped", "Canceled")
    assert stored[keys[0]].is_prime is True  # not named: left as it was


@is_postgresql
def test_a_payload_written_through_the_staging_table_is_compressed_as_the_table_does():
    store = StoreFactory()
    # Large and compressible: stored compressed, by the column's method.
    payload = {"orderId": "x", "lines": [f"line {number} of a long order" for number in range(400)]}
    order = values(store, "302-0000000-0000001", raw_payload=payload)
    ROWS.insert([row(order)])
    ROWS.insert([row(values(store, "302-0000000-0000002", raw_payload=payload))])

    ROWS.upsert(
        [row({**order, "raw_payload": {**payload, "orderId": "y"}})],
        unique_fields=("store", "amazon_order_id"),
        update_fields=("raw_payload",),
    )

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT amazon_order_id, pg_column_compression(raw_payload) "
            "FROM amazon_channel_amazonorder WHERE store_id = %s ORDER BY amazon_order_id",
            [store.pk],
        )
        (_, staged), (_, copied) = cursor.fetchall()
    assert staged is not None and staged == copied


@pytest.mark.django_db(transaction=True)
def test_an_upsert_and_an_update_outside_a_transaction_write_their_rows(rows_writer):
    # In autocommit each statement would commit alone, and a commit empties the staging table.
    store = StoreFactory()
    first, second = (values(store, f"302-0000000-000000{number}") for number in range(2))
    (key,) = (key for (key,) in ROWS.insert([row(first)], returning=("id",)))

    rows_writer.upsert(
        [row(second)], unique_fields=("store", "amazon_order_id"), update_fields=("status",)
    )
    rows_writer.update([key], [row({**first, "status": "Shipped"})], update_fields=("status",))

    stored = dict(AmazonOrder.objects.filter(store=store).values_list("amazon_order_id", "status"))
    assert stored == {first["amazon_order_id"]: "Shipped", second["amazon_order_id"]: "Unshipped"}
