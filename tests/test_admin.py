"""Django admin for every model of ours: each one listed, searchable and filterable without
errors; history, documents and payloads read-only."""

import pytest
from django.apps import apps
from django.contrib import admin
from django.urls import reverse

pytestmark = pytest.mark.django_db

OUR_APPS = ("amazon_channel", "commerce_orders", "seller_central_sandbox")
# Models kept with the history of what happened: the admin reads them, services write them.
READ_ONLY = {
    "amazon_channel.amazonorderevent",
    "amazon_channel.storeevent",
    "amazon_channel.syncrun",
    "amazon_channel.amazonfeed",
    "amazon_channel.outboxmessage",
    "amazon_channel.amazonordercancellation",
    "amazon_channel.ratelimitbucket",
    "amazon_channel.amazonnotification",
    "amazon_channel.notificationqueuestatus",
    "amazon_channel.notificationdestination",
    "amazon_channel.notificationsubscription",
    "amazon_channel.storechange",
    "commerce_orders.commerceorderevent",
    "commerce_orders.invoice",
    "commerce_orders.shipment",
    "commerce_orders.creditmemo",
    "commerce_orders.stockreservation",
    "commerce_orders.commercesequence",
}


def our_models():
    return [model for label in OUR_APPS for model in apps.get_app_config(label).get_models()]


def shown_inline(model) -> bool:
    return any(
        inline.model is model
        for model_admin in admin.site._registry.values()
        for inline in model_admin.inlines
    )


def test_every_model_of_our_apps_is_in_the_admin():
    missing = [
        model._meta.label
        for model in our_models()
        if model not in admin.site._registry and not shown_inline(model)
    ]

    assert missing == []
    assert len(our_models()) > 30


@pytest.mark.parametrize(
    "model",
    [model for model in our_models() if model in admin.site._registry],
    ids=lambda model: model._meta.label_lower,
)
def test_every_admin_list_answers_with_its_search_and_filters(admin_client, model):
    model_admin = admin.site._registry[model]
    url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")

    response = admin_client.get(url, {"q": "x"} if model_admin.search_fields else {})

    assert response.status_code == 200
    assert model_admin.list_filter or model_admin.search_fields, "give it filters or search"


@pytest.mark.parametrize("label", sorted(READ_ONLY))
def test_history_documents_and_payloads_cannot_be_added_changed_or_deleted(admin_client, label):
    model = apps.get_model(label)
    model_admin = admin.site._registry[model]
    request = admin_client.get(reverse("admin:index")).wsgi_request

    assert model_admin.has_view_permission(request)
    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request)
    assert not model_admin.has_delete_permission(request)


def test_the_sandbox_models_are_read_only_in_the_admin(admin_client):
    request = admin_client.get(reverse("admin:index")).wsgi_request
    for model in apps.get_app_config("seller_central_sandbox").get_models():
        if model not in admin.site._registry:
            continue
        model_admin = admin.site._registry[model]

        assert not model_admin.has_add_permission(request), model
        assert not model_admin.has_change_permission(request), model
        assert not model_admin.has_delete_permission(request), model


def test_the_sandbox_admin_shows_its_sellers_and_tokens_without_their_secrets(admin_client):
    from datetime import timedelta

    from django.utils import timezone

    from seller_central_sandbox.models import SandboxAccessToken, SandboxSeller

    seller = SandboxSeller.objects.create(
        seller_id="A1ADMINSANDBOX",
        client_id="sandbox-client",
        client_secret="sandbox-client-secret",
        refresh_token="Atzr|sandbox-refresh-token",
    )
    token = SandboxAccessToken.objects.create(
        seller=seller,
        token="Atza|sandbox-access-token-value",
        expires_at=timezone.now() + timedelta(hours=1),
    )

    urls = [
        reverse("admin:seller_central_sandbox_sandboxseller_change", args=[seller.pk]),
        reverse("admin:seller_central_sandbox_sandboxaccesstoken_change", args=[token.pk]),
        reverse("admin:seller_central_sandbox_sandboxaccesstoken_changelist"),
    ]

    pages = [admin_client.get(url).content.decode() for url in urls]

    assert "A1ADMINSANDBOX" in pages[0]
    assert "Atza|s" in pages[1]
    for page in pages:
        for secret in ("sandbox-client-secret", "Atzr|sandbox-refresh-token", token.token):
            assert secret not in page


@pytest.mark.postgresql
def test_the_amazon_orders_changelist_reads_a_page_without_sorting_every_order(admin_client):
    """Every store's orders, the last stored first, come from an index: PostgreSQL is not
    allowed to sort here and must still find a plan without a Sort. Nor does the list scan
    every order for its dates (date_hierarchy's SELECT DISTINCT)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from amazon_channel.models import AmazonOrder
    from amazon_channel.tests.factories import AmazonOrderFactory

    AmazonOrderFactory.create_batch(3)
    url = reverse("admin:amazon_channel_amazonorder_changelist")

    with CaptureQueriesContext(connection) as captured:
        response = admin_client.get(url)

    assert response.status_code == 200
    table = AmazonOrder._meta.db_table
    page_queries = [
        query["sql"]
        for query in captured.captured_queries
        if query["sql"].startswith("SELECT")
        and f'FROM "{table}"' in query["sql"]
        and "ORDER BY" in query["sql"]
    ]
    assert len(page_queries) == 1
    assert not [query for query in captured.captured_queries if "DISTINCT" in query["sql"]]
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_sort = off")
        cursor.execute(f"EXPLAIN {page_queries[0]}")
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "Sort" not in plan, plan
    # The date filter instead of the date hierarchy.
    assert "purchase_date__gte" in response.content.decode()
