"""The Credit Memo and Ship forms in Chromium: an error keeps the merchant on the form's page,
which a reload or the language menu can reach again."""

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from commerce_orders.services import invoice_create
from commerce_orders.tests.factories import placed_order
from dashboard.tests.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _no_eager_celery(settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False


def sign_in(page, live_server):
    get_user_model().objects.create_superuser("owner", "owner@example.com", PASSWORD)
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", "owner")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")


@pytest.mark.parametrize(
    ("fee", "error", "shown"),
    [
        ("999", "The credit memo's total must be positive", "999"),
        # Chromium shows no text in a number field.
        ("abc", "Enter a number.", ""),
    ],
)
def test_a_credit_memo_error_stays_on_the_form_page(live_server, page, fee, error, shown):
    order = placed_order(customer_name="Jörg Müller")
    invoice_create(actor=None, order=order)
    form_url = live_server.url + reverse("dashboard:commerce_order_creditmemo", args=[order.pk])
    sign_in(page, live_server)

    page.goto(form_url)
    # A number field refuses "abc" in the browser; the server must refuse it too.
    page.evaluate("document.querySelector('#id_adjustment_fee').type = 'text'")
    page.fill("#id_adjustment_fee", fee)
    page.get_by_role("button", name="Refund Offline").click()
    page.wait_for_load_state()

    assert error in page.locator("main").inner_text()
    assert page.url == form_url
    assert page.locator("#id_adjustment_fee").input_value() == shown
    assert not order.credit_memos.exists()
    # The address bar's page answers a reload; the language menu returns to it.
    assert page.reload().status == 200
    with page.expect_navigation():
        page.select_option("#language-select", "de")
    assert page.url == form_url
    assert page.locator("html").get_attribute("lang") == "de"
    assert page.locator("button.primary[type=submit]").count() == 1


def test_a_shipment_error_stays_on_the_form_page(live_server, page):
    order = placed_order()
    form_url = live_server.url + reverse("dashboard:commerce_order_ship", args=[order.pk])
    sign_in(page, live_server)

    page.goto(form_url)
    page.select_option("#id_carrier_code", "Other")
    page.get_by_role("button", name="Submit Shipment").click()
    page.wait_for_load_state()

    assert "Enter the carrier's name for Other." in page.locator("main").inner_text()
    assert page.url == form_url
    assert not order.shipments.exists()
