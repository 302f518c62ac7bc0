"""Store cards, the store dashboard, Order Settings, the sync log and the store actions."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format

from amazon_channel.models import (
    AmazonOrder,
    AmazonOrderCancellation,
    AmazonOrderStatus,
    Store,
    SyncState,
)
from amazon_channel.stores.changes import marks_kept
from amazon_channel.tests.factories import AmazonOrderFactory, StoreFactory
from commerce_orders.notes import text_note
from commerce_orders.tests.factories import CommerceOrderFactory
from dashboard.tests.factories import CancellationFactory, SyncRunFactory
from dashboard.tests.queries import permission_queries_again

pytestmark = pytest.mark.django_db


def card_of(response, store):
    return next(card for card in response.context["stores"] if card.pk == store.pk)


def test_a_card_counts_what_needs_attention(merchant_client):
    store = StoreFactory(name="Berlin Shop")
    AmazonOrderFactory.create_batch(2, store=store, status="Unshipped")
    AmazonOrderFactory(store=store, status="Shipped", needs_attention=True)
    AmazonOrderFactory(
        store=store, status="Shipped", commerce_import_error=[text_note("SKU-1 is missing")]
    )
    CancellationFactory(order__store=store)
    CancellationFactory(
        order__store=store,
        state=AmazonOrderCancellation.State.REJECTED,
        amazon_message="The order has shipped.",
    )
    CancellationFactory(
        order__store=store,
        state=AmazonOrderCancellation.State.REJECTED,
        is_rejection_acknowledged=True,
    )

    response = merchant_client.get(reverse("dashboard:store_list"))

    card = card_of(response, store)
    assert sum(card.daily_orders) == 7
    assert card.unshipped_count == 2
    assert card.cancellation_pending_count == 1
    assert card.cancellation_rejected_count == 1
    assert card.import_error_count == 2
    assert "card-flagged" in response.content.decode()


def test_an_error_order_is_counted_once_on_its_card(merchant_client):
    # Given an order Amazon sent with values that cannot be stored (flagged with its problem)
    store = StoreFactory()
    AmazonOrderFactory(store=store, status="Error", needs_attention=True)

    response = merchant_client.get(reverse("dashboard:store_list"))

    # Then it is counted under Error, not under Import errors as well
    card = card_of(response, store)
    assert (card.error_order_count, card.import_error_count) == (1, 0)
    assert "card-flagged" in response.content.decode()


def test_a_card_shows_the_last_sync_and_a_reauthorization_pause(merchant_client):
    store = StoreFactory(
        sync_state=SyncState.NEEDS_REAUTHORIZATION,
        sync_state_message="the refresh token was revoked",
    )
    SyncRunFactory(store=store, status="failed", message="older")
    SyncRunFactory(store=store, status="succeeded")
    healthy = StoreFactory()
    SyncRunFactory(store=healthy, status="succeeded")

    response = merchant_client.get(reverse("dashboard:store_list"))

    assert card_of(response, store).last_sync_status == "succeeded"
    assert "Needs reauthorization: the refresh token was revoked" in response.content.decode()
    assert "Succeeded on" in response.content.decode()


def test_the_chart_counts_the_orders_of_each_of_the_last_30_days(merchant_client):
    store = StoreFactory()
    now = timezone.now()
    AmazonOrderFactory.create_batch(3, store=store, purchase_date=now)
    AmazonOrderFactory(store=store, purchase_date=now - timedelta(days=2))
    AmazonOrderFactory(store=store, purchase_date=now - timedelta(days=45))

    response = merchant_client.get(reverse("dashboard:store_list"))

    daily = card_of(response, store).daily_orders
    assert len(daily) == 30
    assert daily[-1] == 3
    assert daily[-3] == 1
    assert sum(daily) == 4
    content = response.content.decode()
    assert "4 orders in the last 30 days" in content
    assert "<svg" in content
    today = date_format(timezone.localdate(), "SHORT_DATE_FORMAT")
    assert f"<title>{today}: 3 orders</title>" in content
    assert content.count('<rect class="bar empty"') == 28


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("orders_per_store", [5, 50])
def test_store_cards_use_the_same_queries_for_5_or_50_orders(
    merchant_client, django_assert_num_queries, orders_per_store, session_queries
):
    for _ in range(3):
        store = StoreFactory()
        SyncRunFactory(store=store)
        AmazonOrderFactory.create_batch(orders_per_store, store=store)
        CancellationFactory(order__store=store)

    # Session (unless Redis holds it), user, permissions (2), stores (with their sellers' first
    # notification subscription, and on PostgreSQL their marks), their latest sync runs, five
    # attention counts, chart (in UTC the chart's rows also make the last 30 days' total).
    with django_assert_num_queries(11 + session_queries):
        response = merchant_client.get(reverse("dashboard:store_list"))

    assert response.status_code == 200
    # Nothing written since: their counts come from the cache, read under their marks (user,
    # permissions unless Redis holds them now, stores with their marks, runs).
    if marks_kept():
        with django_assert_num_queries(3 + permission_queries_again() + session_queries):
            again = merchant_client.get(reverse("dashboard:store_list"))
        for store in Store.objects.all():
            first, cached = card_of(response, store), card_of(again, store)
            assert (
                (first.unshipped_count, first.cancellation_pending_count)
                == (
                    cached.unshipped_count,
                    cached.cancellation_pending_count,
                )
                == (orders_per_store, 1)
            )
            assert cached.daily_orders == first.daily_orders


@pytest.mark.django_db(transaction=True)
@pytest.mark.postgresql
def test_the_card_counts_a_status_changed_by_a_bare_queryset_update_at_once(merchant_client):
    store = StoreFactory()
    AmazonOrderFactory.create_batch(2, store=store, status=AmazonOrderStatus.UNSHIPPED)
    url = reverse("dashboard:store_list")

    def unshipped():
        response = merchant_client.get(url)
        return next(card for card in response.context["stores"] if card.pk == store.pk)

    assert unshipped().unshipped_count == 2
    assert unshipped().unshipped_count == 2  # from the cache

    AmazonOrder.objects.filter(store=store).update(status=AmazonOrderStatus.SHIPPED)

    assert unshipped().unshipped_count == 0


def test_cards_rendered_again_carry_the_requests_own_csrf_token_and_show_a_change_at_once(
    merchant,
):
    store = StoreFactory(name="Berlin Shop")
    client = Client(enforce_csrf_checks=True)
    client.force_login(merchant)
    url = reverse("dashboard:store_list")

    first = client.get(url).content.decode()
    again = client.get(url).content.decode()  # the cards as this process rendered them

    tokens = re.findall(r'name="csrfmiddlewaretoken" value="([^"]+)"', again)
    assert len(tokens) > 2 and len(set(tokens)) == 1
    assert tokens[0] not in first
    assert "csrf_input" not in again
    assert again.count("Berlin Shop") == first.count("Berlin Shop") > 0
    response = client.post(
        reverse("dashboard:store_deactivate", args=[store.pk]),
        {"csrfmiddlewaretoken": tokens[0], "next": url},
    )
    assert response.status_code == 302
    store.refresh_from_db()
    assert not store.is_active

    Store.objects.filter(pk=store.pk).update(name="Hamburg Shop")

    renamed = client.get(url).content.decode()
    assert "<h2>Hamburg Shop</h2>" in renamed and "<h2>Berlin Shop</h2>" not in renamed
    assert ">Activate</button>" in renamed


@pytest.mark.django_db(transaction=True)
@pytest.mark.postgresql
def test_recent_orders_and_all_orders_show_a_write_at_once_though_kept_under_the_mark(
    merchant_client,
):
    store = StoreFactory()
    order = AmazonOrderFactory(store=store, buyer_name="Erika Mustermann")
    urls = [
        reverse("dashboard:store_detail", args=[store.pk]),
        reverse("dashboard:order_list", args=[store.pk]),
    ]

    def row(url):
        content = merchant_client.get(url).content.decode()
        start = content.index(f'<tr data-order="{order.amazon_order_id}">')
        return content[start : content.index("</tr>", start)]

    for url in urls:
        assert "Erika Mustermann" in row(url) == row(url)  # the second from this process

    AmazonOrder.objects.filter(pk=order.pk).update(buyer_name="Max Muster")
    CancellationFactory(order=order)

    for url in urls:
        shown = row(url)
        assert "Max Muster" in shown and "Erika" not in shown
        assert "Cancellation pending" in shown


def test_deactivate_and_activate_change_the_store_and_say_so(merchant_client):
    store = StoreFactory(name="Berlin Shop")

    response = merchant_client.post(
        reverse("dashboard:store_deactivate", args=[store.pk]), follow=True
    )

    store.refresh_from_db()
    assert store.is_active is False
    assert "Store Berlin Shop is inactive" in response.content.decode()

    merchant_client.post(reverse("dashboard:store_activate", args=[store.pk]))
    store.refresh_from_db()
    assert store.is_active is True


def test_an_action_returns_to_the_page_it_came_from_but_never_off_site(merchant_client):
    store = StoreFactory()
    dashboard = reverse("dashboard:store_detail", args=[store.pk])
    url = reverse("dashboard:store_deactivate", args=[store.pk])

    assert merchant_client.post(url, {"next": dashboard})["Location"] == dashboard
    off_site = merchant_client.post(url, {"next": "https://evil.example/"})
    assert off_site["Location"] == reverse("dashboard:store_list")


def test_sync_now_queues_a_sync_once_the_request_commits(
    merchant_client, django_capture_on_commit_callbacks
):
    # What the queued task does is tested against the sandbox (tests/test_sync_sandbox.py).
    store = StoreFactory()

    with django_capture_on_commit_callbacks(execute=False) as queued:
        response = merchant_client.post(reverse("dashboard:store_sync", args=[store.pk]))

    assert response.status_code == 302
    assert len(queued) == 1
    assert store.events.filter(kind="sync_requested").count() == 1
    page = merchant_client.get(response["Location"]).content.decode()
    assert "A sync of" in page


def test_a_merchant_with_the_permissions_gets_the_store_actions_on_the_cards(merchant_client):
    active = StoreFactory(is_active=True)
    inactive = StoreFactory(is_active=False)

    content = merchant_client.get(reverse("dashboard:store_list")).content.decode()

    for store in (active, inactive):
        assert f'href="{reverse("dashboard:store_detail", args=[store.pk])}"' in content
        assert f'href="{reverse("dashboard:store_settings", args=[store.pk])}"' in content
        assert f'action="{reverse("dashboard:store_sync", args=[store.pk])}"' in content
    assert f'action="{reverse("dashboard:store_deactivate", args=[active.pk])}"' in content
    assert f'action="{reverse("dashboard:store_activate", args=[active.pk])}"' not in content
    assert f'action="{reverse("dashboard:store_activate", args=[inactive.pk])}"' in content
    assert f'action="{reverse("dashboard:store_deactivate", args=[inactive.pk])}"' not in content
    assert "Sync now" in content


def test_a_merchant_with_the_permissions_gets_the_store_actions_on_its_dashboard(merchant_client):
    store = StoreFactory(is_active=True)

    content = merchant_client.get(reverse("dashboard:store_detail", args=[store.pk])).content
    content = content.decode()

    assert f'href="{reverse("dashboard:store_settings", args=[store.pk])}"' in content
    assert f'href="{reverse("dashboard:store_sync_log", args=[store.pk])}"' in content
    assert f'action="{reverse("dashboard:store_sync", args=[store.pk])}"' in content
    assert f'action="{reverse("dashboard:store_deactivate", args=[store.pk])}"' in content
    for label in ("Order Settings", "Sync log", "Sync now", "Deactivate"):
        assert label in content, label


def test_the_store_dashboard_shows_recent_orders_newest_first(merchant_client):
    store = StoreFactory(is_import_enabled=True)
    now = timezone.now()
    older = AmazonOrderFactory(
        store=store, purchase_date=now - timedelta(days=1), order_total=Decimal("1234.5")
    )
    newer = AmazonOrderFactory(
        store=store,
        purchase_date=now,
        commerce_order=CommerceOrderFactory(increment_id="000000042"),
    )
    CancellationFactory(order__store=store, state=AmazonOrderCancellation.State.REJECTED)

    response = merchant_client.get(reverse("dashboard:store_detail", args=[store.pk]))

    content = response.content.decode()
    recent = response.context["recent_orders"]
    assert recent[0].purchase_date >= recent[1].purchase_date
    assert {newer.pk, older.pk} <= {order.pk for order in recent}
    assert "Recent Orders" in content
    assert "1,234.50 EUR" in content
    assert reverse("dashboard:order_detail", args=[store.pk, older.pk]) in content
    assert reverse("dashboard:commerce_order_detail", args=[newer.commerce_order.pk]) in (content)
    assert "Cancellation rejected by Amazon" in content
    assert reverse("dashboard:order_list", args=[store.pk]) in content


def test_money_follows_the_language_of_the_page(merchant_client):
    store = StoreFactory()
    AmazonOrderFactory(store=store, order_total=Decimal("1234.5"))

    response = merchant_client.get(
        reverse("dashboard:store_detail", args=[store.pk]), HTTP_ACCEPT_LANGUAGE="de"
    )

    assert "1.234,50 EUR" in response.content.decode()


def test_recent_orders_do_not_link_to_commerce_when_import_is_disabled(merchant_client):
    store = StoreFactory(is_import_enabled=False)
    order = AmazonOrderFactory(store=store, commerce_order=CommerceOrderFactory())

    response = merchant_client.get(reverse("dashboard:store_detail", args=[store.pk]))

    link = reverse("dashboard:commerce_order_detail", args=[order.commerce_order.pk])
    assert link not in response.content.decode()


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("order_count", [5, 50])
def test_the_store_dashboard_uses_the_same_queries_for_5_or_50_orders(
    merchant_client, django_assert_num_queries, order_count, session_queries
):
    store = StoreFactory(is_import_enabled=True)
    SyncRunFactory(store=store)
    for _ in range(order_count):
        AmazonOrderFactory(store=store, commerce_order=CommerceOrderFactory())
    CancellationFactory(order__store=store)

    # Session (unless Redis holds it), user, permissions (2), store (with its seller's first
    # notification subscription, and on PostgreSQL its mark), its latest sync run, five
    # attention counts, the chart's days, recent orders, history.
    with django_assert_num_queries(13 + session_queries) as captured:
        response = merchant_client.get(reverse("dashboard:store_detail", args=[store.pk]))
    if marks_kept():
        # The store's counts from the cache now, its recent orders and history as this process
        # read them under the same mark: user, permissions unless Redis holds them now, store
        # with its mark, run.
        with django_assert_num_queries(3 + permission_queries_again() + session_queries):
            merchant_client.get(reverse("dashboard:store_detail", args=[store.pk]))

    assert not any("raw_payload" in query["sql"] for query in captured.captured_queries)

    recent = response.context["recent_orders"]
    assert len(recent) == min(order_count + 1, 20)
    content = response.content.decode()
    assert content.count("<tr data-order=") == len(recent)
    for order in recent:
        if order.commerce_order_id is not None:
            link = reverse("dashboard:commerce_order_detail", args=[order.commerce_order_id])
            assert f'href="{link}"' in content
    assert sum(order.commerce_order_id is not None for order in recent) == len(recent) - 1


def test_order_settings_are_saved(merchant_client):
    store = StoreFactory(is_import_enabled=False)
    url = reverse("dashboard:store_settings", args=[store.pk])

    page = merchant_client.get(url).content.decode()
    response = merchant_client.post(
        reverse("dashboard:store_settings_save", args=[store.pk]),
        {
            "is_import_enabled": "True",
            "customer_creation": Store.CustomerCreation.NEW_ACCOUNT,
            "order_number_source": Store.OrderNumberSource.AMAZON,
            "is_pending_quantity_reserved": "False",
            "order_status_source": Store.OrderStatusSource.DEFAULT,
            "processing_status": "processing",
        },
    )

    assert "Import Amazon Orders" in page
    assert response.status_code == 302
    store.refresh_from_db()
    assert store.is_import_enabled is True
    assert store.customer_creation == Store.CustomerCreation.NEW_ACCOUNT
    assert store.order_number_source == Store.OrderNumberSource.AMAZON
    assert store.is_pending_quantity_reserved is False


def test_order_settings_with_a_bad_value_show_the_error_and_save_nothing(merchant_client):
    store = StoreFactory()
    url = reverse("dashboard:store_settings_save", args=[store.pk])

    response = merchant_client.post(url, {"is_import_enabled": "True", "customer_creation": "x"})

    assert response.status_code == 200
    assert response.context["form"].errors["customer_creation"]
    store.refresh_from_db()
    assert store.is_import_enabled is False


def test_the_sync_log_lists_the_store_runs_newest_first_in_pages(merchant_client):
    store = StoreFactory()
    SyncRunFactory.create_batch(30, store=store)
    SyncRunFactory(store=StoreFactory())

    first = merchant_client.get(reverse("dashboard:store_sync_log", args=[store.pk]))
    second = merchant_client.get(reverse("dashboard:store_sync_log", args=[store.pk]), {"page": 2})

    assert len(first.context["page"]) == 25
    assert len(second.context["page"]) == 5
    assert "Page 2 of 2" in second.content.decode()
