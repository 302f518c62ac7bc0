"""Logs: JSON lines with the request and task ids, e-mail addresses redacted, and no buyer's
personal data in the logs of a full sync and cancel."""

import json
import logging

import pytest
from django.db import connection
from django.urls import reverse

from amazon_channel.models import AmazonOrder
from amazon_channel.orders.cancellation import amazon_order_cancel
from amazon_channel.tasks import store_sync_orders
from amazon_channel.tests.factories import AmazonOrderFactory, StoreFactory
from config.logging import (
    EMAIL_REPLACEMENT,
    JsonFormatter,
    LogContextFilter,
    PersonalDataFilter,
    PlainFormatter,
)
from dashboard.tests.factories import user_with_permissions
from tests.helpers import project_environment, run_python

FIELDS = {"time", "level", "logger", "message", "request_id", "task_id"}


@pytest.fixture
def json_records(caplog):
    """Every record from the root logger at DEBUG, formatted as production formats it (the
    e-mail safety net left out: the tests see what our code really logs)."""
    caplog.set_level(logging.DEBUG)
    caplog.handler.addFilter(LogContextFilter())
    caplog.handler.setFormatter(JsonFormatter())

    def read() -> list[dict]:
        return [json.loads(line) for line in caplog.text.splitlines()]

    yield read
    caplog.handler.filters.clear()


def format_record(record: logging.LogRecord, *filters) -> str:
    for log_filter in filters:
        log_filter.filter(record)
    return JsonFormatter().format(record)


def a_record(message, *args, exc_info=None) -> logging.LogRecord:
    return logging.LogRecord(
        "amazon_channel.test", logging.INFO, __file__, 1, message, args, exc_info
    )


def test_a_record_is_one_json_object_with_the_ids_and_the_exception():
    try:
        raise ValueError("boom")
    except ValueError:
        import sys

        record = a_record("store %s failed", 7, exc_info=sys.exc_info())

    entry = json.loads(format_record(record, LogContextFilter()))

    assert set(entry) == FIELDS | {"exception"}
    assert entry["message"] == "store 7 failed"
    assert entry["level"] == "INFO"
    assert entry["logger"] == "amazon_channel.test"
    assert entry["request_id"] is None
    assert entry["task_id"] is None
    assert "ValueError: boom" in entry["exception"]


def test_a_request_carries_its_request_id_back_and_into_its_records(client, json_records, db):
    client.force_login(user_with_permissions("merchant", "view_store", "change_store"))
    store = StoreFactory()

    response = client.get(
        reverse("dashboard:store_activate", args=[store.pk]), HTTP_X_REQUEST_ID="req-42.a:b"
    )

    assert response.status_code == 405
    assert response["X-Request-ID"] == "req-42.a:b"
    logged = [entry for entry in json_records() if entry["logger"] == "django.request"]
    assert [entry["request_id"] for entry in logged] == ["req-42.a:b"]
    assert "Method Not Allowed" in logged[0]["message"]


def test_a_response_logged_after_the_middleware_returned_still_carries_the_request_id(
    client, json_records, db
):
    # A view's own 400 is logged by Django's handler once the middleware chain has returned.
    client.force_login(
        user_with_permissions("merchant", "view_store", "view_amazonorder", "change_amazonorder")
    )
    order = AmazonOrderFactory()

    response = client.post(
        reverse("dashboard:order_shipping_address_update", args=[order.store_id, order.pk]),
        {"city": ""},
        HTTP_X_REQUEST_ID="invalid-form-1",
    )

    assert response.status_code == 400
    logged = [entry for entry in json_records() if entry["logger"] == "django.request"]
    assert [entry["request_id"] for entry in logged] == ["invalid-form-1"]


def test_an_unusable_request_id_is_replaced_by_a_fresh_one(client, json_records):
    first = client.get(reverse("login"), HTTP_X_REQUEST_ID='bad id" {injected}')
    second = client.get(reverse("login"))

    assert first["X-Request-ID"] != 'bad id" {injected}'
    assert len(first["X-Request-ID"]) == 32
    assert len(second["X-Request-ID"]) == 32
    assert first["X-Request-ID"] != second["X-Request-ID"]


def test_records_logged_inside_a_celery_task_carry_its_task_id(json_records, db, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    store = StoreFactory(is_active=False)

    result = store_sync_orders.delay(store_id=store.pk)
    logging.getLogger("amazon_channel.test").info("after the task")

    entries = json_records()
    skipped = [entry for entry in entries if "sync skipped" in entry["message"]]
    assert [entry["task_id"] for entry in skipped] == [result.id]
    assert result.id
    assert [entry["task_id"] for entry in entries if entry["message"] == "after the task"] == [None]


def test_the_personal_data_filter_redacts_email_addresses_everywhere_in_a_record():
    try:
        raise ValueError("duplicate key buyer_email=jane.doe+shop@example.co.uk")
    except ValueError:
        import sys

        record = a_record(
            "mail to %s failed; also %s",
            "Jane <jane.doe@example.com>",
            "https://x.test/?to=jane%40example.com",
            exc_info=sys.exc_info(),
        )

    line = format_record(record, LogContextFilter(), PersonalDataFilter())

    assert "jane.doe" not in line
    assert "jane%40" not in line
    assert "example.co" not in line
    entry = json.loads(line)
    assert entry["message"].count(EMAIL_REPLACEMENT) == 2
    assert EMAIL_REPLACEMENT in entry["exception"]


def test_the_filter_leaves_records_without_email_addresses_alone():
    record = a_record("order %s of store %s synced at 10:00@UTC", "302-1234567-1234567", 3)

    PersonalDataFilter().filter(record)

    assert record.args == ("302-1234567-1234567", 3)
    assert record.getMessage() == "order 302-1234567-1234567 of store 3 synced at 10:00@UTC"


def test_the_plain_format_shows_the_ids_or_dashes():
    record = a_record("hello")
    record.request_id = "req-1"

    line = PlainFormatter().format(record)

    assert line.endswith("INFO amazon_channel.test [req-1 -] hello")


LOGGING_PROBE = """
import json, logging, django
django.setup()
from django.conf import settings
handler = logging.getLogger().handlers[0]
logging.getLogger("amazon_channel.probe").warning("probe to jane@example.com")
print(json.dumps({
    "formatter": type(handler.formatter).__name__,
    "stream": getattr(handler.stream, "name", ""),
    "levels": {
        name: logging.getLogger(name).getEffectiveLevel()
        for name in ("sp_api", "sp_api.base.client", "sp_api.auth.access_token_client",
                     "httpcore", "httpx", "django.db.backends", "amazon_channel")
    },
}))
"""


@pytest.mark.parametrize(
    ("environment", "formatter"),
    [
        ({"DEBUG": "false"}, "JsonFormatter"),
        ({"DEBUG": "true"}, "PlainFormatter"),
        ({"DEBUG": "true", "LOG_FORMAT": "json"}, "JsonFormatter"),
    ],
)
def test_every_environment_logs_to_stderr_and_keeps_chatty_libraries_at_info(
    tmp_path, environment, formatter
):
    production = {
        "SECRET_KEY": "x" * 64,
        "CREDENTIALS_ENCRYPTION_KEYS": "S0-NJ8PLBqzU2uOn3AZpHVNcPoV0RMGxJ5yzYhD3h8E=",
        "ALLOWED_HOSTS": "channel.example.com",
        "DATABASE_URL": f"sqlite:///{tmp_path}/production.sqlite3",
    }
    result = run_python(
        LOGGING_PROBE,
        project_environment(
            var_dir=tmp_path,
            keep_services=False,
            DJANGO_SETTINGS_MODULE="config.settings",
            LOG_LEVEL="DEBUG",
            **production,
            **environment,
        ),
    )

    assert result.returncode == 0, result.stderr
    # Logs on stderr: a command's own output on stdout stays clean for scripts.
    log_line = result.stderr.strip().splitlines()[-1]
    found = json.loads(result.stdout.strip().splitlines()[-1])
    assert found["formatter"] == formatter
    assert found["stream"] == "<stderr>"
    assert "jane@example.com" not in log_line
    assert EMAIL_REPLACEMENT in log_line
    if formatter == "JsonFormatter":
        assert set(json.loads(log_line)) == FIELDS
    levels = found["levels"]
    assert levels["amazon_channel"] == logging.DEBUG
    for name in ("sp_api", "sp_api.base.client", "sp_api.auth.access_token_client", "httpcore"):
        assert levels[name] >= logging.INFO, name
    assert levels["django.db.backends"] >= logging.WARNING
    if environment["DEBUG"] == "false":
        assert levels["httpx"] >= logging.WARNING


# The key test: a full sync and a cancel, and not one buyer's detail in the logs.


def personal_data_of(orders) -> tuple[set[str], set[tuple[str, str]]]:
    """Buyer names, e-mails, address lines and phones; (city, postal code) pairs."""
    values, places = set(), set()
    for order in orders:
        values.update(value for value in (order.buyer_name, order.buyer_email) if value)
        address = order.shipping_address or {}
        for key in ("name", "addressLine1", "addressLine2", "addressLine3", "phone"):
            if address.get(key):
                values.add(str(address[key]))
        if address.get("city") and address.get("postalCode"):
            places.add((str(address["city"]), str(address["postalCode"])))
    return values, places


def leaks(lines: list[str], values: set[str], places: set[tuple[str, str]]) -> list[str]:
    found = [value for value in values for line in lines if value in line]
    found += [
        f"{city} {code}" for city, code in places for line in lines if city in line and code in line
    ]
    return found


@pytest.mark.django_db(transaction=True)
def test_a_full_sync_and_cancel_log_no_personal_data(
    sandbox_server, sandbox_seller_factory, settings, caplog
):
    from django.contrib.auth import get_user_model

    from commerce_orders.models import Product
    from seller_central_sandbox.services.orders import orders_generate
    from seller_central_sandbox.testing import TEST_TIME_SCALE
    from tests.sync_helpers import deliver_outbox, minutes_ago, store_for_seller, sync_to_the_end
    from tests.test_cancel_sandbox import an_unshipped_order
    from tests.test_commerce_import_sandbox import SKUS

    settings.AMAZON_RATE_LIMIT_SCALE = TEST_TIME_SCALE
    settings.AMAZON_RETRY_BASE_SECONDS = 0.05
    settings.AMAZON_FEED_POLL_SECONDS = 0.2
    seller = sandbox_seller_factory(marketplace_ids=["A1PA6795UKMFR9"])
    for sku in SKUS:
        Product.objects.create(sku=sku, name=sku, price="10.00", quantity_in_stock=100)
    orders_generate(seller=seller, count=30, seed=21, now=minutes_ago(30))
    merchant = get_user_model().objects.create_user("anna", password="x" * 20)
    caplog.set_level(logging.DEBUG)
    caplog.handler.addFilter(LogContextFilter())
    caplog.handler.setFormatter(JsonFormatter())
    # What DEBUG=True does in development: SQL with its parameters goes to django.db.backends.
    connection.force_debug_cursor = True
    try:
        store = store_for_seller(sandbox_server, seller, is_import_enabled=True)
        run = sync_to_the_end(store)
        order = an_unshipped_order(store)
        amazon_order_cancel(order=order, actor=merchant, reason="NoInventory")
        deliver_outbox(store)
        # What python-amazon-sp-api does with every response: held back at INFO.
        logging.getLogger("sp_api.base.client").debug("Response: %s", order.shipping_address)
    finally:
        connection.force_debug_cursor = False
        caplog.handler.filters.clear()

    assert run.status == "succeeded"
    order.refresh_from_db()
    assert order.status == "Canceled"
    orders = list(AmazonOrder.objects.filter(store=store))
    values, places = personal_data_of(orders)
    # The check means something only if the orders hold every kind of personal data.
    assert {order.buyer_email for order in orders} & values
    assert {order.buyer_name for order in orders} & values
    assert any((order.shipping_address or {}).get("phone") in values for order in orders)
    assert places
    lines = caplog.text.splitlines()
    # The capture saw the SP-API traffic and our own records.
    assert any("/orders/" in line and "HTTP Request" in line for line in lines)
    assert any("/feeds/" in line and "HTTP Request" in line for line in lines)
    assert all(set(json.loads(line)) >= FIELDS for line in lines)

    assert leaks(lines, values, places) == []
    # The scan itself finds a leak when there is one.
    assert leaks([json.dumps({"message": f"to {order.buyer_email}"})], values, places)
