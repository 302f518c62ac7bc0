import json

import pytest
from django.urls import reverse

from amazon_channel.tests.factories import AmazonOrderFactory, StoreFactory

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

    # Session, user, stores with last sync, three attention counts, chart.
    with django_assert_max_num_queries(7):
        response = admin_client.get(reverse("dashboard:store_list"))

    assert response.status_code == 200
    cards = {store.name: store for store in response.context["stores"]}
    assert sum(cards["Berlin Shop"].daily_orders) == 3
    assert sum(cards["Paris Shop"].daily_orders) == 0
    assert "Inactive" in response.content.decode()


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
