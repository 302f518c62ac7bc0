"""All Orders: the buyer's name searched without regard to accents, sorted, and counted."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone

from amazon_channel.models import AmazonOrder
from amazon_channel.selectors import ORDER_COUNT_CAP
from amazon_channel.tests.factories import AmazonOrderFactory, StoreFactory
from commerce_orders.search import UnaccentedIContains, unaccent_fold
from commerce_orders.selectors import _filtered_orders as commerce_filtered_orders
from commerce_orders.tests.factories import CommerceOrderFactory
from dashboard.tests.factories import COMMERCE_PERMISSIONS, user_with_app_permissions

pytestmark = pytest.mark.django_db


@pytest.fixture
def store():
    return StoreFactory()


def all_orders(client, store, **params):
    return client.get(reverse("dashboard:order_list", args=[store.pk]), params)


def shown_names(response):
    return [order.buyer_name for order in response.context["page"].orders]


def test_accents_are_folded_as_postgresql_unaccent_folds_them():
    assert unaccent_fold("Müller") == "Muller"
    assert unaccent_fold("Ørsted Straße Œuvre Łódź") == "Orsted Strasse OEuvre Lodz"
    assert unaccent_fold("François Nuñez Dvořák") == "Francois Nunez Dvorak"
    assert unaccent_fold(None) is None


@pytest.mark.parametrize(
    ("search", "found"),
    [
        ("Muller", ["Jörg Müller", "Anna MULLER"]),
        ("müller", ["Jörg Müller", "Anna MULLER"]),
        ("MÜLLER", ["Jörg Müller", "Anna MULLER"]),
        ("jorg", ["Jörg Müller"]),
        ("Francois", ["François Lefèvre"]),
        ("lefevre", ["François Lefèvre"]),
        ("50%", []),
    ],
)
def test_the_buyer_search_ignores_accents_and_case(merchant_client, store, search, found):
    now = timezone.now()
    for minutes, name in enumerate(
        ["Jörg Müller", "Anna MULLER", "François Lefèvre", "Ben Miller"]
    ):
        AmazonOrderFactory(
            store=store, buyer_name=name, purchase_date=now - timedelta(minutes=minutes)
        )

    response = all_orders(merchant_client, store, buyer_name=search)

    assert shown_names(response) == found


def test_the_commerce_grid_search_ignores_accents_in_the_customer_name(client):
    client.force_login(user_with_app_permissions("clerk", *COMMERCE_PERMISSIONS))
    muller = CommerceOrderFactory(customer_name="Jörg Müller")
    CommerceOrderFactory(customer_name="Ben Miller")

    response = client.get(reverse("dashboard:commerce_order_list"), {"search": "muller"})

    assert [order.pk for order in response.context["page"].orders] == [muller.pk]


@pytest.mark.postgresql
def test_the_accent_free_searches_use_their_trigram_index_on_postgresql(store):
    AmazonOrderFactory(store=store, buyer_name="Jörg Müller")
    CommerceOrderFactory(customer_name="Jörg Müller")
    # All Orders' buyer condition (without its store condition, whose index wins on a few rows).
    buyer_search = AmazonOrder.objects.filter(
        UnaccentedIContains(F("buyer_name"), "Muller")
    ).order_by()
    customer_search = commerce_filtered_orders(
        search="Muller",
        status="",
        channel="",
        purchased_from=None,
        purchased_to=None,
        total_min=None,
        total_max=None,
    ).order_by()

    with transaction.atomic():
        with connection.cursor() as cursor:
            # A handful of rows would be read another way: ask whether the index can serve.
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute("SET LOCAL enable_indexscan = off")
        buyer_plan = buyer_search.explain()
        customer_plan = customer_search.explain()

    assert "Bitmap Index Scan on amazon_channel_amazonorder_buyer_name_unaccent_trgm" in buyer_plan
    # The pattern is folded once, at planning: a constant the trigram index can use.
    assert "'%MULLER%'" in buyer_plan
    assert (
        "Bitmap Index Scan on commerce_orders_commerceorder_customer_name_unaccent_trgm"
        in customer_plan
    )


def test_all_orders_sort_by_buyer_name_in_keyset_pages_both_ways(merchant_client, store):
    names = ["Anna Berg", "Ben Adler", "Carla Zorn", "Dora Kahn"]
    for index in range(57):
        # Ties on the name, so that the id decides.
        AmazonOrderFactory(store=store, buyer_name=names[index % 4])
    AmazonOrderFactory.create_batch(3, store=StoreFactory(), buyer_name="Aaron Other")

    for direction in ("asc", "desc"):
        expected = sorted(
            AmazonOrder.objects.filter(store=store),
            key=lambda order: (order.buyer_name, order.pk),
            reverse=direction == "desc",
        )
        seen, response = (
            [],
            all_orders(merchant_client, store, sort="buyer_name", direction=direction),
        )
        while True:
            seen += [order.pk for order in response.context["page"].orders]
            cursor = response.context["page"].next_cursor
            if cursor is None:
                break
            response = all_orders(
                merchant_client, store, sort="buyer_name", direction=direction, cursor=cursor
            )
        back = all_orders(
            merchant_client,
            store,
            sort="buyer_name",
            direction=direction,
            cursor=response.context["page"].previous_cursor,
        )

        assert seen == [order.pk for order in expected]
        assert [order.pk for order in back.context["page"].orders] == seen[25:50]
    header = all_orders(merchant_client, store, sort="buyer_name", direction="asc")
    assert 'aria-sort="ascending"' in header.content.decode()
    sorted_header = header.content.decode().split('aria-sort="ascending"')[1].split("</th>")[0]
    assert "sort=buyer_name" in sorted_header


def test_all_orders_show_how_many_orders_match(merchant_client, store):
    for index in range(60):
        AmazonOrderFactory(store=store, buyer_name="Jörg Müller" if index % 3 else "Ben Miller")
    AmazonOrderFactory.create_batch(4, store=StoreFactory(), buyer_name="Jörg Müller")

    everything = all_orders(merchant_client, store)
    muller = all_orders(merchant_client, store, buyer_name="muller")
    page_two = all_orders(
        merchant_client, store, buyer_name="muller", cursor=muller.context["page"].next_cursor
    )
    nobody = all_orders(merchant_client, store, buyer_name="nobody")

    assert "60 orders found" in everything.content.decode()
    assert "40 orders found" in muller.content.decode()
    assert "40 orders found" in page_two.content.decode()
    assert "0 orders found" in nobody.content.decode()


def test_the_count_stops_at_its_cap_and_says_so(merchant_client, store, settings, monkeypatch):
    monkeypatch.setattr("amazon_channel.selectors.ORDER_COUNT_CAP", 5)
    AmazonOrderFactory.create_batch(7, store=store)
    AmazonOrderFactory(store=store, order_total=Decimal("1.00"))

    capped = all_orders(merchant_client, store)
    exact = all_orders(merchant_client, store, total_max="1.00")

    assert capped.context["page"].is_count_capped
    assert "More than 5 orders found" in capped.content.decode()
    assert "1 order found" in exact.content.decode()
    assert ORDER_COUNT_CAP == 10_000
