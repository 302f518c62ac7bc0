"""A merchant signs in through the browser and lands on the store cards."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from playwright.sync_api import expect

from amazon_channel.tests.factories import AmazonOrderFactory, StoreFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_merchant_signs_in_and_sees_the_store_cards(live_server, page, screenshot):
    user = get_user_model().objects.create_user("anna", password="correct horse battery")
    user.user_permissions.add(Permission.objects.get(codename="view_store"))
    store = StoreFactory(name="Demo Store (DE)")
    AmazonOrderFactory.create_batch(2, store=store)

    page.goto(f"{live_server.url}/")
    assert "/accounts/login/" in page.url
    screenshot("login")
    page.fill("#id_username", "anna")
    page.fill("#id_password", "wrong password")
    page.click("button[type=submit]")
    expect(page.locator("[role=alert]")).to_be_visible()

    page.fill("#id_username", "anna")
    page.fill("#id_password", "correct horse battery")
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")

    card = page.locator(f"article[data-store='{store.pk}']")
    assert card.locator("h2").inner_text() == "Demo Store (DE)"
    assert "ACTIVE" in card.inner_text().upper()
    screenshot("store_cards")
