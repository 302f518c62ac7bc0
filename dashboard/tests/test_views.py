import json

import pytest
from django.urls import reverse

from amazon_channel.tests.factories import AmazonOrderFactory, StoreFactory
from tests.helpers import project_environment, run_python

pytestmark = pytest.mark.django_db


def test_every_page_but_login_and_health_asks_for_a_login(client):
    for url in (reverse("dashboard:store_list"), reverse("admin:index")):
        response = client.get(url)

        assert response.status_code == 302
        assert "/login/" in response["Location"]


def test_the_login_page_is_served_with_a_csrf_token(client):
    response = client.get(reverse("login"))

    assert response.status_code == 200
    assert b"csrfmiddlewaretoken" in response.content


def test_store_cards_list_each_store_with_its_recent_orders(
    admin_client, django_assert_max_num_queries
):
    store = StoreFactory(name="Berlin Shop")
    AmazonOrderFactory.create_batch(3, store=store)
    StoreFactory(name="Paris Shop", is_active=False)

    # Session, user, stores with last sync, five attention counts, chart, last 30 days' total.
    with django_assert_max_num_queries(10):
        response = admin_client.get(reverse("dashboard:store_list"))

    assert response.status_code == 200
    cards = {store.name: store for store in response.context["stores"]}
    assert sum(cards["Berlin Shop"].daily_orders) == 3
    assert sum(cards["Paris Shop"].daily_orders) == 0
    assert "Inactive" in response.content.decode()


def test_the_store_dashboard_shows_who_changed_the_store_and_what(merchant_client, merchant):
    store = StoreFactory(is_import_enabled=False, is_active=True)
    merchant_client.post(reverse("dashboard:store_deactivate", args=[store.pk]))
    merchant_client.post(
        reverse("dashboard:store_settings_save", args=[store.pk]),
        {
            "is_import_enabled": "True",
            "customer_creation": store.customer_creation,
            "order_number_source": store.order_number_source,
            "is_pending_quantity_reserved": "True",
            "order_status_source": store.order_status_source,
            "processing_status": store.processing_status,
        },
    )

    response = merchant_client.get(reverse("dashboard:store_detail", args=[store.pk]))

    content = response.content.decode()
    history = content[content.index('data-section="store-history"') :]
    settings_row = history.index('data-event="settings_changed"')
    deactivated_row = history.index('data-event="deactivated"')
    assert settings_row < deactivated_row  # Newest first.
    assert history.count(f"<td>{merchant.username}</td>") == 2
    assert "Import Amazon Orders: Disabled \u2192 Enabled" in history
    assert "Reserve quantity" not in history  # Unchanged settings are not listed.


def test_health_reports_database_and_broker_without_a_login(client):
    response = client.get(reverse("health"))

    assert response.status_code == 200
    assert json.loads(response.content) == {
        "status": "ok",
        "checks": {"database": "ok", "broker": "ok"},
    }


def test_health_says_503_and_names_the_broker_when_the_broker_is_down(client, settings):
    from config.celery import app

    original = app.conf.broker_url
    app.conf.broker_url = "redis://127.0.0.1:1/0"
    try:
        response = client.get(reverse("health"))
    finally:
        app.conf.broker_url = original

    assert response.status_code == 503
    body = json.loads(response.content)
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["broker"] != "ok"


def test_health_says_503_and_names_the_database_when_the_database_is_unreachable(tmp_path):
    # Given a process whose database is a PostgreSQL port nobody listens on.
    environment = project_environment(
        var_dir=tmp_path,
        keep_services=True,
        DJANGO_SETTINGS_MODULE="config.settings",
        DATABASE_URL="postgres://channel@127.0.0.1:1/channel",
    )

    # When the health check is asked.
    result = run_python(
        "import django; django.setup(); from django.test import Client; "
        "response = Client().get('/healthz'); "
        "print(response.status_code, response.content.decode())",
        environment,
    )

    # Then it answers 503, naming the database, while the broker is fine.
    assert result.returncode == 0, result.stderr
    status, body = result.stdout.strip().splitlines()[-1].split(" ", 1)
    assert status == "503"
    assert json.loads(body) == {
        "status": "unavailable",
        "checks": {"database": "OperationalError", "broker": "ok"},
    }


def test_health_answers_a_probe_by_address_over_http_while_other_pages_refuse_that_host(
    client, settings
):
    # Given production settings: one site name, HTTPS only.
    settings.DEBUG = False
    settings.ALLOWED_HOSTS = ["channel.example.com"]
    settings.SECURE_SSL_REDIRECT = True

    # When docker-compose or a load balancer probes by address, over plain HTTP.
    health = client.get("/healthz", HTTP_HOST="127.0.0.1:8000")
    page = client.get(reverse("login"), HTTP_HOST="127.0.0.1:8000")
    named = client.get(reverse("login"), HTTP_HOST="channel.example.com")

    # Then the health check answers, and the pages still refuse the host or redirect to HTTPS.
    assert health.status_code == 200
    assert json.loads(health.content)["status"] == "ok"
    assert page.status_code == 400
    assert named.status_code == 301
    assert named["Location"] == "https://channel.example.com/accounts/login/"
