"""What the hot pages cost per request, in what can be counted: credentials decrypted and SQL
queries (issue 15). Their speed is measured by bench/load_pages.py, never timed here."""

import re

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from amazon_channel import fields
from amazon_channel.models import AmazonOrder, AmazonOrderEvent, Store
from amazon_channel.tests.factories import AmazonOrderFactory, AmazonOrderItemFactory, StoreFactory
from dashboard.templatetags.dashboard_extras import choice_label, url_of
from dashboard.tests.factories import CancellationFactory, SyncRunFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def decryptions(monkeypatch) -> list[str]:
    """The credentials decrypted from now on (fields.decrypt still does the work)."""
    decrypted = []
    real_decrypt = fields.decrypt

    def counting_decrypt(ciphertext):
        decrypted.append(ciphertext)
        return real_decrypt(ciphertext)

    monkeypatch.setattr(fields, "decrypt", counting_decrypt)
    return decrypted


@pytest.fixture
def stores_with_orders():
    stores = []
    for number in range(3):
        store = StoreFactory(name=f"Shop {number}")
        SyncRunFactory(store=store)
        AmazonOrderFactory.create_batch(30, store=store)
        CancellationFactory(order__store=store)
        stores.append(store)
    order = AmazonOrder.objects.filter(store=stores[0]).order_by("pk").first()
    AmazonOrderItemFactory.create_batch(2, order=order)
    AmazonOrderEvent.objects.create(order=order, kind="imported", new_status=order.status)
    return stores, order


HOT_PAGE_NAMES = ["stores", "store dashboard", "All Orders", "Amazon Order Details"]


def hot_pages(stores, order) -> dict[str, str]:
    store = stores[0]
    return {
        "stores": reverse("dashboard:store_list"),
        "store dashboard": reverse("dashboard:store_detail", args=[store.pk]),
        "All Orders": reverse("dashboard:order_list", args=[store.pk]),
        "Amazon Order Details": reverse("dashboard:order_detail", args=[store.pk, order.pk]),
    }


def test_no_hot_page_decrypts_a_store_credential(merchant_client, stores_with_orders, decryptions):
    for name, url in hot_pages(*stores_with_orders).items():
        response = merchant_client.get(url)

        assert response.status_code == 200, name
        assert decryptions == [], f"{name} decrypted {len(decryptions)} credentials"


def test_a_store_read_for_sync_still_gives_its_credentials(decryptions):
    StoreFactory(refresh_token="Atzr|for-the-sync")

    assert Store.objects.get().refresh_token == "Atzr|for-the-sync"
    assert len(decryptions) == 1


# The user and their permissions (2, read once and then cached), then the page's own reads
# (Details: its store, the order, then its items, packages and history; the cards and
# the store dashboard: the stores, their latest sync runs and their sellers' notification
# subscriptions, what each tile flags in five grouped counts, and the chart's days; on
# PostgreSQL the stores' marks with them, amazon_channel/stores/changes.py); the session is
# one more without Redis.
@pytest.mark.parametrize(
    ("page", "most_queries"),
    [("stores", 12), ("store dashboard", 14), ("All Orders", 6), ("Amazon Order Details", 8)],
)
def test_a_hot_page_reads_in_a_few_queries_whatever_its_rows(
    merchant_client,
    stores_with_orders,
    django_assert_max_num_queries,
    session_queries,
    page,
    most_queries,
):
    url = hot_pages(*stores_with_orders)[page]

    with django_assert_max_num_queries(most_queries + session_queries):
        response = merchant_client.get(url)

    assert response.status_code == 200


def test_an_id_url_is_what_reverse_gives():
    assert url_of("dashboard:order_detail", 12, 3456) == reverse(
        "dashboard:order_detail", args=[12, 3456]
    )
    assert url_of("dashboard:store_detail", 7) == reverse("dashboard:store_detail", args=[7])


@pytest.mark.parametrize("language", ["en", "fr", "de", "it", "nl"])
def test_a_choice_label_is_what_get_display_gives_in_each_language(language):
    order = AmazonOrder(status="PartiallyShipped")
    unknown = AmazonOrder(status="SomethingNew")
    store = Store(region="EU", marketplace_code="DE")

    with translation.override(language):
        assert str(choice_label(order, "status")) == order.get_status_display()
        assert choice_label(unknown, "status") == "SomethingNew"
        assert str(choice_label(store, "region")) == store.get_region_display()
        assert str(choice_label(store, "marketplace_code")) == (
            store.get_marketplace_code_display()
        )


def test_the_rows_fragment_escapes_and_translates_as_the_django_templates_did(merchant_client):
    store = StoreFactory()
    AmazonOrderFactory(
        store=store,
        buyer_name="O'Brien <b>",
        is_buyer_requested_cancellation=True,
        order_total="1234.50",
        currency="EUR",
    )
    url = reverse("dashboard:order_list", args=[store.pk])

    content = merchant_client.get(url, HTTP_ACCEPT_LANGUAGE="fr").content.decode()

    assert "<td>O&#x27;Brien &lt;b&gt;</td>" in content
    with translation.override("fr"):
        badge = translation.gettext("Buyer requested cancellation")
        empty = translation.gettext("No orders found.")
    assert f'<span class="badge badge-warning">{badge}</span>' in content
    assert '<td class="number">1\xa0234,50 EUR</td>' in content
    other = reverse("dashboard:order_list", args=[StoreFactory().pk])
    assert empty in merchant_client.get(other, HTTP_ACCEPT_LANGUAGE="fr").content.decode()


def test_the_store_fragments_write_what_the_django_templates_wrote(admin_client):
    # Given a store whose sync state carries quotes and markup, in French (whose translations
    # have apostrophes, which Django writes as they are)
    store = StoreFactory(
        sync_state="needs_reauthorization", sync_state_message="Token 'expired' <x> & y"
    )
    pk = store.pk

    # When the cards and the store's dashboard are rendered (Jinja2 fragments)
    pages = [
        admin_client.get(url, HTTP_ACCEPT_LANGUAGE="fr").content.decode()
        for url in (
            reverse("dashboard:store_list"),
            reverse("dashboard:store_detail", args=[pk]),
        )
    ]

    # Then each writes the bytes the Django templates wrote for it (ed19015)
    with translation.override("fr"):
        needs = translation.gettext("Needs reauthorization")
        reason = translation.gettext("Needs reauthorization: %(reason)s") % {
            "reason": "Token &#x27;expired&#x27; &lt;x&gt; &amp; y"
        }
        buyer = translation.gettext("Cancellation requested by the buyer")
        sync_now = translation.gettext("Sync now")
    assert "'" in buyer
    for content in pages:
        assert (
            f'<span class="store-status" data-store-status="{pk}"><span class="status '
            f'status-reauthorization" data-status="needs_reauthorization">{needs}</span></span>'
        ) in content
        assert f'<span class="badge badge-error">{reason}</span>\n\n</dd>' in content
        assert (
            f'<a href="/stores/{pk}/orders/?attention=buyer_cancellation"><strong>0</strong> '
            f"{buyer}</a></li>"
        ) in content
        assert (
            f'<form method="post" action="/stores/{pk}/sync/" data-sync-now="{pk}"><input '
            'type="hidden" name="csrfmiddlewaretoken" value="'
        ) in content
        assert f'<button type="submit" class="menu-item">{sync_now}</button></form>' in content
    assert (
        ' data-link="recent-orders">0 commande au cours des 30 derniers jours</a></figcaption>'
    ) in pages[0]


def test_a_viewer_sees_no_store_actions_on_the_cards(viewer_client):
    StoreFactory()

    content = viewer_client.get(reverse("dashboard:store_list")).content.decode()

    assert "data-sync-now" not in content
    assert 'class="actions"' not in content


@pytest.mark.skipif(not settings.REDIS_URL, reason="sessions are read from Redis when it is set")
def test_a_page_reads_its_session_from_redis_not_the_database(merchant_client, merchant):
    # Given a signed-in merchant (force_login wrote the session to both)
    url = reverse("dashboard:store_list")

    # When a page is asked for
    with CaptureQueriesContext(connection) as captured:
        response = merchant_client.get(url)

    # Then the session came from the cache: no query on the session table
    assert response.status_code == 200
    assert response.wsgi_request.user == merchant
    assert not [query for query in captured if "django_session" in query["sql"]]


@pytest.mark.skipif(not settings.REDIS_URL, reason="sessions are read from Redis when it is set")
def test_signing_out_ends_the_session_that_redis_held(merchant_client):
    url = reverse("dashboard:store_list")
    cookie = merchant_client.cookies[settings.SESSION_COOKIE_NAME].value
    assert merchant_client.get(url).status_code == 200

    merchant_client.post(reverse("logout"))
    # The same cookie again, as another tab (or a copy of it) would send it
    merchant_client.cookies[settings.SESSION_COOKIE_NAME] = cookie

    assert merchant_client.get(url).status_code == 302


def _permission_queries(captured) -> list[str]:
    return [query["sql"] for query in captured if "auth_permission" in query["sql"]]


@pytest.mark.skipif(not settings.REDIS_URL, reason="permissions are cached only in Redis")
def test_a_page_reads_the_users_permissions_from_the_cache(merchant_client):
    url = reverse("dashboard:store_list")
    assert merchant_client.get(url).status_code == 200

    with CaptureQueriesContext(connection) as captured:
        response = merchant_client.get(url)

    assert response.status_code == 200
    assert _permission_queries(captured) == []


@pytest.mark.skipif(not settings.REDIS_URL, reason="permissions are cached only in Redis")
def test_a_permission_granted_or_taken_through_a_group_counts_on_the_next_request(client):
    # Given a user whose group may see stores, and whose permissions are cached
    group = Group.objects.create(name="Readers")
    user = get_user_model().objects.create_user("reader", password="x")
    user.groups.add(group)
    client.force_login(user)
    url = reverse("dashboard:store_list")
    assert client.get(url).status_code == 403

    # When the group is given the permission, then taken it back, then the user leaves it
    view_store = Permission.objects.get(codename="view_store")
    group.permissions.add(view_store)
    granted = client.get(url).status_code
    group.permissions.remove(view_store)
    taken = client.get(url).status_code
    group.permissions.add(view_store)
    assert client.get(url).status_code == 200
    user.groups.remove(group)
    left = client.get(url).status_code

    # Then each change counts on the very next request
    assert (granted, taken, left) == (200, 403, 403)


@pytest.mark.skipif(not settings.REDIS_URL, reason="permissions are cached only in Redis")
def test_a_permission_of_the_user_and_a_deleted_group_count_on_the_next_request(client):
    group = Group.objects.create(name="Readers")
    group.permissions.add(Permission.objects.get(codename="view_store"))
    user = get_user_model().objects.create_user("reader", password="x")
    user.groups.add(group)
    client.force_login(user)
    url = reverse("dashboard:store_list")
    assert client.get(url).status_code == 200

    group.delete()
    after_delete = client.get(url).status_code
    user.user_permissions.add(Permission.objects.get(codename="view_store"))
    after_grant = client.get(url).status_code
    user.user_permissions.clear()

    assert (after_delete, after_grant, client.get(url).status_code) == (403, 200, 403)


@pytest.mark.parametrize(
    "page", ["stores", "store dashboard", "All Orders", "Amazon Order Details"]
)
def test_a_hot_page_keeps_its_sign_in_security_headers_and_working_csrf_tokens(
    client, merchant, stores_with_orders, page
):
    # Given a hot page (its content rendered by Jinja2), asked for signed out, then signed in
    url = hot_pages(*stores_with_orders)[page]
    signed_out = client.get(url)
    csrf_client = Client(enforce_csrf_checks=True)
    csrf_client.force_login(merchant)

    response = csrf_client.get(url)

    # Then it asks for the sign-in, and sends its headers as a Django template page did
    assert signed_out.status_code == 302
    assert signed_out["Location"].startswith(reverse("login"))
    assert response.status_code == 200
    assert response["X-Frame-Options"] == "DENY"
    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "unsafe-inline" not in policy
    if page != "stores":  # never_cache: the store and order pages are not kept by browsers
        assert "no-store" in response["Cache-Control"]
    # And the token its forms carry (the language switcher's, Sign out's) is accepted
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', response.content.decode())
    switched = csrf_client.post(
        reverse("set_language"), {"language": "de", "next": url, "csrfmiddlewaretoken": token[1]}
    )
    assert switched.status_code == 302
    refused = csrf_client.post(
        reverse("set_language"), {"language": "de", "next": url, "csrfmiddlewaretoken": "x" * 64}
    )
    assert refused.status_code == 403
