"""What must be impossible, checked where it matters: concurrent writers on PostgreSQL."""

import threading
from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from amazon_channel.models import AmazonOrder, AmazonOrderItem
from amazon_channel.tests.factories import AmazonOrderFactory, StoreFactory
from tests.concurrency import run_concurrently

pytestmark = [pytest.mark.postgresql, pytest.mark.django_db(transaction=True)]


def test_the_database_is_postgresql():
    assert connection.vendor == "postgresql"


def test_two_writers_of_one_amazon_order_leave_exactly_one_row():
    store = StoreFactory()

    def insert():
        with transaction.atomic():
            return AmazonOrder.objects.create(
                store=store,
                amazon_order_id="302-0000001-0000001",
                status="Unshipped",
                fulfillment_channel="MFN",
                purchase_date=timezone.now(),
                last_update_date=timezone.now(),
            )

    outcomes = run_concurrently(insert, 4)

    assert sum(isinstance(outcome, AmazonOrder) for outcome in outcomes) == 1
    assert sum(isinstance(outcome, IntegrityError) for outcome in outcomes) == 3
    assert AmazonOrder.objects.filter(amazon_order_id="302-0000001-0000001").count() == 1


def test_an_item_can_never_ship_more_than_was_ordered():
    order = AmazonOrderFactory()

    with pytest.raises(IntegrityError), transaction.atomic():
        AmazonOrderItem.objects.create(
            order=order,
            order_item_id="1",
            quantity_ordered=1,
            quantity_shipped=2,
            item_price=Decimal("1.00"),
        )


def test_a_locked_order_row_makes_the_second_writer_wait_for_the_first():
    order = AmazonOrderFactory(order_notes="")
    trace: list[str] = []

    def append_note(label: str):
        def work():
            with transaction.atomic():
                locked = AmazonOrder.objects.select_for_update(of=("self",)).get(pk=order.pk)
                trace.append(f"{label}:read:{locked.order_notes!r}")
                locked.order_notes = (locked.order_notes + f"{label};").lstrip(";")
                locked.save(update_fields=["order_notes"])
                trace.append(f"{label}:wrote")
            return label

        return work

    outcomes = run_concurrently(lambda: append_note(threading.current_thread().name)(), 2)

    assert all(isinstance(outcome, str) for outcome in outcomes)
    order.refresh_from_db()
    # Both appends survive: the second read happened after the first write committed.
    assert sorted(order.order_notes.rstrip(";").split(";")) == sorted(outcomes)
