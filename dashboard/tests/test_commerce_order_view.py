"""Order View: the Commerce sections, the Amazon links and states, and each header action."""

import re
from decimal import Decimal

import pytest
from django.core import mail
from django.urls import reverse

from amazon_channel.models import AdjustmentReason, OutboxMessage
from amazon_channel.orders.commerce_to_amazon import (
    commerce_creditmemo_create,
    commerce_shipment_create,
)
from amazon_channel.tests.factories import AmazonOrderFactory, StoreFactory
from commerce_orders import services as commerce_services
from commerce_orders.models import CommerceOrder, OrderState, Product
from commerce_orders.services import invoice_create
from commerce_orders.tests.factories import order_items_by_sku, placed_order
from dashboard.tests.factories import COMMERCE_PERMISSIONS, user_with_app_permissions

pytestmark = pytest.mark.django_db

AMAZON_VIEW = ("amazon_channel.view_store", "amazon_channel.view_amazonorder")
AMAZON_CANCEL = (*AMAZON_VIEW, "amazon_channel.cancel_amazonorder")


@pytest.fixture
def clerk():
    return user_with_app_permissions("clerk", *COMMERCE_PERMISSIONS, *AMAZON_CANCEL)


@pytest.fixture
def clerk_client(client, clerk):
    client.force_login(clerk)
    return client


def store_order(**overrides) -> CommerceOrder:
    return placed_order(external_channel="", external_order_id="", **overrides)


def amazon_order_for(commerce_order=None, **values):
    """An Amazon order (Unshipped, merchant-fulfilled) and the Commerce order made for it."""
    amazon_order = AmazonOrderFactory(store=StoreFactory(is_import_enabled=True), **values)
    if commerce_order is None:
        commerce_order = placed_order(
            external_channel="amazon",
            external_order_id=amazon_order.amazon_order_id,
            payment_method="Amazon Channel Payment",
            po_number=amazon_order.amazon_order_id,
        )
    amazon_order.commerce_order = commerce_order
    amazon_order.save(update_fields=["commerce_order"])
    return amazon_order, commerce_order


def detail_url(order):
    return reverse("dashboard:commerce_order_detail", args=[order.pk])


def action_url(name, order):
    return reverse(f"dashboard:commerce_order_{name}", args=[order.pk])


def page_messages(response) -> list[str]:
    return [str(message) for message in response.wsgi_request._messages]


def actor_of(order, action):
    """The user the order's one `action` history row names."""
    return order.events.get(action=action).actor


def item_quantities(content: str, sku: str) -> dict[str, str]:
    """The Items Ordered quantity columns of one row, by column (data-qty)."""
    row = re.search(rf'<tr data-item="{sku}">(.*?)</tr>', content, re.DOTALL).group(1)
    return dict(re.findall(r'data-qty="(\w+)">(\d+)<', row))


def field_text(content: str, name: str) -> str:
    return re.search(rf'data-field="{name}">([^<]*)<', content).group(1)


def test_the_order_view_shows_every_commerce_section(clerk_client):
    order = store_order(customer_name="Erika Mustermann", customer_email="erika@example.com")

    response = clerk_client.get(detail_url(order))

    content = response.content.decode()
    assert response.status_code == 200
    for text in (
        f"Order #{order.increment_id}",
        "Order & Account Information",
        "Address Information",
        "Payment & Shipping Method",
        "Items Ordered",
        "Order Totals",
        "Notes for this Order",
        "Comments History",
        "Erika Mustermann",
        "erika@example.com",
        "Guest",
        "Main Website",
        "Billing Address",
        "Shipping Address",
        "amazonpayment",
        "Standard",
        "MUG",
        "TEE",
        "12.50 EUR",
        "58.54 EUR",
        "4.99 EUR",
        "Order Placed",
        "Notify Customer by Email",
        "Visible on Storefront",
    ):
        assert text in content, text
    for button in ("invoice", "ship", "hold", "cancel", "email"):
        assert f'data-action="{button}"' in content, button
    for button in ("unhold", "credit-memo"):
        assert f'data-action="{button}"' not in content, button
    assert "View or Cancel Amazon Order" not in content
    for label in ("Total Paid", "Total Refunded", "Total Due"):
        assert label in content, label
    for column in ("Ordered", "Invoiced", "Shipped", "Refunded", "Canceled"):
        assert f'<th class="number">{column}</th>' in content, column
    assert item_quantities(content, "MUG") == {
        "ordered": "2",
        "invoiced": "0",
        "shipped": "0",
        "refunded": "0",
        "canceled": "0",
    }
    assert field_text(content, "total-refunded") == "0.00 EUR"
    assert field_text(content, "total-due") == "58.54 EUR"


def test_the_items_and_totals_follow_invoice_shipment_credit_memo_and_cancel(clerk_client):
    order = store_order()
    items = order_items_by_sku(order)
    invoice_create(actor=None, order=order)
    commerce_services.shipment_create(
        actor=None, order=order, quantities={items["MUG"].pk: 1}, carrier_code="DHL"
    )
    memo = commerce_services.creditmemo_create(
        actor=None, order=order, quantities={items["TEE"].pk: 1}
    )
    canceled = store_order()

    content = clerk_client.get(detail_url(order)).content.decode()
    commerce_services.order_cancel(actor=None, order=canceled)
    canceled_content = clerk_client.get(detail_url(canceled)).content.decode()

    order.refresh_from_db()
    assert item_quantities(content, "MUG") == {
        "ordered": "2",
        "invoiced": "2",
        "shipped": "1",
        "refunded": "0",
        "canceled": "0",
    }
    assert item_quantities(content, "TEE") == {
        "ordered": "1",
        "invoiced": "1",
        "shipped": "0",
        "refunded": "1",
        "canceled": "0",
    }
    assert item_quantities(canceled_content, "MUG")["canceled"] == "2"
    assert item_quantities(canceled_content, "TEE")["canceled"] == "1"
    assert field_text(content, "total-paid") == "58.54 EUR"
    assert field_text(content, "total-refunded") == f"{memo.grand_total} EUR"
    # Total Due is what is left to pay: nothing once invoiced, whatever was refunded.
    assert field_text(content, "total-due") == "0.00 EUR"


def test_an_unknown_order_is_a_404(clerk_client):
    response = clerk_client.get(reverse("dashboard:commerce_order_detail", args=[999999]))

    assert response.status_code == 404


def test_the_order_view_of_an_amazon_order_links_to_the_amazon_pages(clerk_client):
    amazon_order, order = amazon_order_for()

    content = clerk_client.get(detail_url(order)).content.decode()

    assert amazon_order.amazon_order_id in content
    assert "View or Cancel Amazon Order" in content
    assert "View all Amazon Orders" in content
    assert (
        reverse("dashboard:order_detail", args=[amazon_order.store_id, amazon_order.pk]) in content
    )
    assert reverse("dashboard:order_list", args=[amazon_order.store_id]) in content
    # Cancel is Amazon's Cancel Order page, not a Commerce cancel.
    assert reverse("dashboard:order_cancel", args=[amazon_order.store_id, amazon_order.pk]) in (
        content
    )
    assert action_url("cancel", order) not in content


def test_the_amazon_link_says_view_only_once_amazon_refuses_cancel(clerk_client):
    _amazon_order, order = amazon_order_for(status="Shipped")

    content = clerk_client.get(detail_url(order)).content.decode()

    assert "View or Cancel Amazon Order" not in content
    assert "View Amazon Order" in content


def queries_of_the_order_view(client, order) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        response = client.get(detail_url(order))
    assert response.status_code == 200
    return len(queries.captured_queries)


def test_the_order_view_reads_the_same_queries_however_many_documents(clerk_client):
    _amazon_order, order = amazon_order_for()
    items = order_items_by_sku(order)
    invoice_create(actor=None, order=order)
    commerce_shipment_create(
        actor=None,
        order=order,
        quantities={items["MUG"].pk: 1},
        carrier_code="DHL",
        tracking_number="TRACK-DHL",
    )
    commerce_creditmemo_create(actor=None, order=order, quantities={items["TEE"].pk: 1})
    # A first visit, as the second: the user's permissions cached (config.auth) for both.
    queries_of_the_order_view(clerk_client, order)
    with_one = queries_of_the_order_view(clerk_client, order)
    commerce_shipment_create(
        actor=None,
        order=order,
        quantities={items["MUG"].pk: 1},
        carrier_code="UPS",
        tracking_number="TRACK-UPS",
    )
    commerce_creditmemo_create(actor=None, order=order, quantities={items["MUG"].pk: 1})
    order.events.create(action="comment", comment="One more row.")

    with_more = queries_of_the_order_view(clerk_client, order)

    assert with_more == with_one
    assert with_one <= 20


def test_shipments_and_credit_memos_show_their_state_at_amazon_and_retry_a_refused_one(
    clerk_client,
):
    _amazon_order, order = amazon_order_for()
    items = order_items_by_sku(order)
    invoice_create(actor=None, order=order)
    sent = commerce_shipment_create(
        actor=None,
        order=order,
        quantities={items["MUG"].pk: 1},
        carrier_code="DHL",
        tracking_number="00340434161094042557",
    )
    refused = commerce_shipment_create(
        actor=None,
        order=order,
        quantities={items["MUG"].pk: 1},
        carrier_code="UPS",
        tracking_number="1Z999",
    )
    memo = commerce_creditmemo_create(actor=None, order=order, quantities={items["TEE"].pk: 1})
    OutboxMessage.objects.filter(key=f"refund:{memo.pk}").update(state="done")
    refused_message = OutboxMessage.objects.get(key=f"ship:{refused.pk}")
    OutboxMessage.objects.filter(pk=refused_message.pk).update(
        state="failed", result="Order 302 is CANCELLED: only unshipped orders can be shipped."
    )

    content = clerk_client.get(detail_url(order)).content.decode()

    assert "00340434161094042557" in content
    assert "Sent to Amazon" in content
    assert "Confirmed by Amazon" in content
    # The refused shipment is unsent, with Amazon's reason.
    refused_row = re.search(
        rf'<tr data-shipment="{refused.increment_id}">(.*?)</tr>', content, re.DOTALL
    ).group(1)
    assert 'data-amazon-state="unsent"' in refused_row
    assert "Not sent to Amazon" in refused_row
    assert "Amazon refused: Order 302 is CANCELLED: only unshipped orders can be shipped." in (
        refused_row
    )
    retry_url = reverse(
        "dashboard:commerce_order_amazon_retry", args=[order.pk, refused_message.pk]
    )
    assert retry_url in content
    assert (
        reverse(
            "dashboard:commerce_order_amazon_retry",
            args=[order.pk, OutboxMessage.objects.get(key=f"ship:{sent.pk}").pk],
        )
        not in content
    )

    response = clerk_client.post(retry_url)

    assert response.status_code == 302
    refused_message.refresh_from_db()
    assert refused_message.state == OutboxMessage.State.PENDING
    assert refused_message.result == ""
    assert page_messages(response) == ["The message will be sent to Amazon again."]


def test_retry_of_another_orders_message_is_a_404(clerk_client):
    _amazon_order, order = amazon_order_for()
    _other_amazon, other = amazon_order_for()
    shipment = commerce_shipment_create(
        actor=None,
        order=other,
        quantities={order_items_by_sku(other)["MUG"].pk: 1},
        carrier_code="DHL",
        tracking_number="TRACK-DHL",
    )
    message = OutboxMessage.objects.get(key=f"ship:{shipment.pk}")

    response = clerk_client.post(
        reverse("dashboard:commerce_order_amazon_retry", args=[order.pk, message.pk])
    )

    assert response.status_code == 404


# Actions


def test_invoice_captures_offline_and_a_second_invoice_is_refused(clerk_client, clerk):
    order = store_order()

    done = clerk_client.post(action_url("invoice", order))
    refused = clerk_client.post(action_url("invoice", order))

    order.refresh_from_db()
    assert order.total_paid == Decimal("58.54")
    assert order.state == OrderState.PROCESSING
    assert page_messages(done) == ["The invoice has been created."]
    assert page_messages(refused)[-1] == (
        f"Order #{order.increment_id} has nothing left to invoice."
    )
    assert refused.status_code == 302
    assert actor_of(order, "invoice") == clerk


def test_hold_then_unhold_and_a_refused_hold(clerk_client, clerk):
    order = store_order()

    held = clerk_client.post(action_url("hold", order))
    held_again = clerk_client.post(action_url("hold", order))
    order.refresh_from_db()
    assert order.state == OrderState.HOLDED
    assert page_messages(held)[0] == "You put the order on hold."
    assert page_messages(held_again)[-1] == (
        f"Hold is not allowed on order #{order.increment_id} while it is On Hold."
    )
    content = clerk_client.get(detail_url(order)).content.decode()
    assert 'data-action="unhold"' in content
    assert 'data-action="hold"' not in content

    clerk_client.post(action_url("unhold", order))
    order.refresh_from_db()
    assert order.state == OrderState.NEW
    assert actor_of(order, "hold") == clerk
    assert actor_of(order, "unhold") == clerk


def test_cancel_cancels_a_store_order_and_refuses_an_invoiced_one(clerk_client, clerk):
    order = store_order()
    invoiced = store_order()
    invoice_create(actor=None, order=invoiced)

    done = clerk_client.post(action_url("cancel", order))
    refused = clerk_client.post(action_url("cancel", invoiced))

    order.refresh_from_db()
    invoiced.refresh_from_db()
    assert order.state == OrderState.CANCELED
    assert invoiced.state == OrderState.PROCESSING
    assert page_messages(done) == ["You canceled the order."]
    assert page_messages(refused)[-1] == (
        f"Order #{invoiced.increment_id} cannot be canceled: it has been invoiced. "
        "Create a credit memo instead."
    )
    assert actor_of(order, "cancel") == clerk
    assert not invoiced.events.filter(action="cancel").exists()


def test_cancel_of_an_amazon_order_leads_to_the_amazon_cancel_order_page(clerk_client):
    amazon_order, order = amazon_order_for()

    response = clerk_client.post(action_url("cancel", order), follow=True)

    order.refresh_from_db()
    assert order.state == OrderState.NEW
    assert response.redirect_chain[0][0] == reverse(
        "dashboard:order_cancel", args=[amazon_order.store_id, amazon_order.pk]
    )
    assert "Reason for cancellation" in response.content.decode()


def test_send_email_sends_the_confirmation_and_is_refused_on_a_canceled_order(
    clerk_client, clerk, django_capture_on_commit_callbacks
):
    order = store_order(customer_email="erika@example.com")

    with django_capture_on_commit_callbacks(execute=True):
        sent = clerk_client.post(action_url("email_send", order))
    clerk_client.post(action_url("cancel", order))
    refused = clerk_client.post(action_url("email_send", order))

    assert [message.to for message in mail.outbox] == [["erika@example.com"]]
    assert page_messages(sent) == ["You sent the order email."]
    assert page_messages(refused)[-1] == (
        f"Send Email is not allowed on order #{order.increment_id} while it is Canceled."
    )
    assert actor_of(order, "email") == clerk


def test_add_comment_records_the_flags_and_an_empty_comment_is_a_field_error(clerk_client, clerk):
    order = store_order(customer_email="erika@example.com")

    added = clerk_client.post(
        action_url("comment_add", order),
        {"comment": "Packed with care.", "is_customer_notified": "on"},
    )
    empty = clerk_client.post(action_url("comment_add", order), {"comment": ""})

    event = order.events.get(action="comment")
    assert event.comment == "Packed with care."
    assert event.is_customer_notified
    assert not event.is_visible_on_storefront
    assert event.actor == clerk
    assert page_messages(added) == ["You added a comment to the order."]
    assert empty.status_code == 400
    assert "This field is required." in empty.content.decode()
    history = clerk_client.get(detail_url(order)).content.decode()
    assert "Packed with care." in history
    assert "Customer Notified" in history


def test_a_blank_comment_the_service_refuses_is_a_message(clerk_client):
    order = store_order()

    response = clerk_client.post(action_url("comment_add", order), {"comment": "   "})

    # The form strips the text, so a blank comment is a field error, never a 500.
    assert response.status_code == 400
    assert order.events.filter(action="comment").count() == 0


# Ship


def test_the_ship_form_offers_what_is_left_and_ships_part_of_an_order(clerk_client, clerk):
    order = store_order()
    items = order_items_by_sku(order)

    form_page = clerk_client.get(action_url("ship", order))
    assert form_page.status_code == 200
    form_content = form_page.content.decode()
    assert f'name="quantity_{items["MUG"].pk}"' in form_content
    assert form_page.context["form"][f"quantity_{items['MUG'].pk}"].initial == 2
    for carrier in ("DHL", "UPS", "FedEx", "USPS", "Deutsche Post", "Royal Mail", "La Poste"):
        assert f'value="{carrier}"' in form_content
    assert 'value="PostNL"' in form_content
    assert 'value="Poste Italiane"' in form_content
    assert 'value="Other"' in form_content

    response = clerk_client.post(
        action_url("ship_save", order),
        {
            f"quantity_{items['MUG'].pk}": "1",
            f"quantity_{items['TEE'].pk}": "0",
            "carrier_code": "DHL",
            "carrier_title": "",
            "method": "Paket",
            "tracking_number": "00340434161094042557",
        },
    )

    assert response.status_code == 302
    assert response["Location"] == detail_url(order)
    shipment = order.shipments.get()
    assert shipment.tracking_number == "00340434161094042557"
    assert shipment.carrier_code == "DHL"
    assert [(item.sku, item.quantity) for item in shipment.items.all()] == [("MUG", 1)]
    assert page_messages(response) == ["The shipment has been created."]
    assert actor_of(order, "ship") == clerk
    assert "00340434161094042557" in clerk_client.get(detail_url(order)).content.decode()


def test_shipping_an_amazon_order_through_the_form_queues_its_confirmation(clerk_client):
    amazon_order, order = amazon_order_for()
    items = order_items_by_sku(order)

    clerk_client.post(
        action_url("ship_save", order),
        {
            f"quantity_{items['MUG'].pk}": "2",
            f"quantity_{items['TEE'].pk}": "1",
            "carrier_code": "UPS",
            "tracking_number": "1Z1",
        },
    )

    shipment = order.shipments.get()
    message = OutboxMessage.objects.get(key=f"ship:{shipment.pk}")
    assert message.payload["amazon_order_id"] == amazon_order.amazon_order_id
    assert message.payload["package_detail"]["trackingNumber"] == "1Z1"
    assert "Sent to Amazon" in clerk_client.get(detail_url(order)).content.decode()


def test_ship_form_errors_are_beside_their_fields(clerk_client):
    order = store_order()
    items = order_items_by_sku(order)

    too_many = clerk_client.post(
        action_url("ship_save", order),
        {
            f"quantity_{items['MUG'].pk}": "3",
            f"quantity_{items['TEE'].pk}": "0",
            "carrier_code": "DHL",
        },
    )
    nothing = clerk_client.post(
        action_url("ship_save", order),
        {
            f"quantity_{items['MUG'].pk}": "0",
            f"quantity_{items['TEE'].pk}": "0",
            "carrier_code": "DHL",
        },
    )
    other_without_name = clerk_client.post(
        action_url("ship_save", order),
        {
            f"quantity_{items['MUG'].pk}": "1",
            f"quantity_{items['TEE'].pk}": "0",
            "carrier_code": "Other",
        },
    )

    assert too_many.status_code == nothing.status_code == other_without_name.status_code == 400
    assert "less than or equal to 2" in too_many.content.decode()
    assert "Enter a quantity to ship for at least one item." in nothing.content.decode()
    assert "Enter the carrier&#x27;s name for Other." in other_without_name.content.decode()
    assert not order.shipments.exists()


def test_a_shipment_the_service_refuses_is_a_message_on_the_form(clerk_client):
    order = store_order()
    items = order_items_by_sku(order)
    form_data = {
        f"quantity_{items['MUG'].pk}": "1",
        f"quantity_{items['TEE'].pk}": "0",
        "carrier_code": "DHL",
    }
    # Someone else holds the order after the form was opened.
    CommerceOrder.objects.filter(pk=order.pk).update(state="holded", status="holded")

    response = clerk_client.post(action_url("ship_save", order), form_data)

    assert response.status_code == 400
    assert f"Ship is not allowed on order #{order.increment_id} while it is On Hold." in (
        response.content.decode()
    )
    assert not order.shipments.exists()


def test_the_ship_page_of_an_order_that_cannot_ship_goes_back_with_a_message(clerk_client):
    order = store_order()
    clerk_client.post(action_url("hold", order))

    response = clerk_client.get(action_url("ship", order))

    assert response.status_code == 302
    assert page_messages(response)[-1] == (
        f"Ship is not available for order #{order.increment_id} now."
    )


# Credit Memo


def test_the_credit_memo_form_refunds_with_return_to_stock_and_adjustments(clerk_client, clerk):
    order = store_order()
    invoice_create(actor=None, order=order)
    items = order_items_by_sku(order)
    mug_stock = Product.objects.get(sku="MUG").quantity_in_stock

    form_page = clerk_client.get(action_url("creditmemo", order))
    assert form_page.status_code == 200
    assert form_page.context["form"]["shipping_refund"].initial == Decimal("4.99")
    assert "Return to Stock" in form_page.content.decode()

    response = clerk_client.post(
        action_url("creditmemo_save", order),
        {
            f"quantity_{items['MUG'].pk}": "1",
            f"quantity_{items['TEE'].pk}": "0",
            "return_to_stock": "on",
            "shipping_refund": "0",
            "adjustment_refund": "2.00",
            "adjustment_fee": "1.00",
            "comment": "Broken handle.",
        },
    )

    assert response.status_code == 302
    memo = order.credit_memos.get()
    # 12.50 + 2.38 tax (4.75 / 2 rounded) + 2.00 - 1.00
    assert memo.grand_total == Decimal("12.50") + memo.tax_amount + Decimal("1.00")
    assert memo.comment == "Broken handle."
    assert memo.is_returned_to_stock
    assert Product.objects.get(sku="MUG").quantity_in_stock == mug_stock + 1
    assert page_messages(response) == ["You created the credit memo."]
    assert actor_of(order, "credit_memo") == clerk
    # A store's own order is refunded offline: no Amazon reason to give.
    assert "adjustment_reason" not in form_page.context["form"].fields


def test_a_credit_memo_the_service_refuses_is_a_message_on_the_form(clerk_client):
    order = store_order()
    invoice_create(actor=None, order=order)
    items = order_items_by_sku(order)

    response = clerk_client.post(
        action_url("creditmemo_save", order),
        {
            f"quantity_{items['MUG'].pk}": "0",
            f"quantity_{items['TEE'].pk}": "0",
            "shipping_refund": "9.99",
            "adjustment_refund": "0",
            "adjustment_fee": "0",
        },
    )

    assert response.status_code == 400
    assert f"Order #{order.increment_id}: the shipping refund of 9.99 is more than the" in (
        response.content.decode()
    )
    assert not order.credit_memos.exists()


def credit_memo_data(order, quantities, **values):
    data = {f"quantity_{item.pk}": str(quantities.get(item.sku, 0)) for item in order.items.all()}
    data.update({"shipping_refund": "0", "adjustment_refund": "0", "adjustment_fee": "0"})
    data.update({"adjustment_reason": "CustomerReturn", **values})
    return data


def test_a_credit_memo_of_a_shipped_amazon_order_queues_the_refund_with_its_reason(
    clerk_client, clerk
):
    amazon_order, order = amazon_order_for()
    invoice_create(actor=None, order=order)
    items = order_items_by_sku(order)
    commerce_shipment_create(
        actor=None,
        order=order,
        quantities={items["TEE"].pk: 1},
        carrier_code="DHL",
        tracking_number="TRACK-DHL",
    )

    form_page = clerk_client.get(action_url("creditmemo", order))
    response = clerk_client.post(
        action_url("creditmemo_save", order),
        credit_memo_data(order, {"TEE": 1}, adjustment_reason="DifferentItem"),
    )

    reason_field = form_page.context["form"].fields["adjustment_reason"]
    assert [value for value, _label in reason_field.choices] == [
        "CustomerReturn",
        "NoInventory",
        "GeneralAdjustment",
        "CouldNotShip",
        "DifferentItem",
        "Abandoned",
        "CustomerCancel",
        "PriceError",
        "ProductOutofStock",
        "CustomerAddressIncorrect",
        "Exchange",
        "Other",
        "CarrierCreditDecision",
        "RiskAssessmentInformationNotValid",
        "CarrierCoverageFailure",
        "TransactionRecord",
        "Undeliverable",
        "RefusedDelivery",
    ]
    assert reason_field.initial == "CustomerReturn"
    assert "Reason for refund" in form_page.content.decode()
    assert response.status_code == 302
    memo = order.credit_memos.get()
    message = OutboxMessage.objects.get(key=f"refund:{memo.pk}")
    assert message.kind == OutboxMessage.Kind.REFUND_ORDER
    assert message.payload["amazon_order_id"] == amazon_order.amazon_order_id
    assert message.payload["reason"] == AdjustmentReason.DIFFERENT_ITEM
    assert actor_of(order, "credit_memo") == clerk


def test_an_unknown_refund_reason_is_an_error_beside_the_field(clerk_client):
    _amazon_order, order = amazon_order_for(status="Shipped")
    invoice_create(actor=None, order=order)

    response = clerk_client.post(
        action_url("creditmemo_save", order),
        credit_memo_data(order, {"TEE": 1}, adjustment_reason="BecauseISaySo"),
    )

    assert response.status_code == 400
    assert "Select a valid choice." in response.content.decode()
    assert not order.credit_memos.exists()


def test_a_credit_memo_of_an_amazon_order_nothing_of_which_shipped_points_to_cancel_order(
    clerk_client,
):
    amazon_order, order = amazon_order_for()
    invoice_create(actor=None, order=order)
    refusal = (
        f"Amazon refunds only shipped orders, and nothing of order #{order.increment_id} has "
        "shipped yet: cancel it on its Amazon Cancel Order page instead."
    )

    content = clerk_client.get(detail_url(order)).content.decode()
    posted = clerk_client.post(
        action_url("creditmemo_save", order), credit_memo_data(order, {"TEE": 1})
    )
    form_page = clerk_client.get(action_url("creditmemo", order))

    # No Credit Memo button; Cancel (Amazon's Cancel Order) instead.
    assert 'data-action="credit-memo"' not in content
    assert 'data-action="cancel"' in content
    assert form_page.status_code == 302
    assert page_messages(form_page) == [refusal]
    # A form opened before is refused too, under the order's lock.
    assert posted.status_code == 400
    assert refusal in posted.content.decode().replace("&#x27;", "'")
    assert not order.credit_memos.exists()
    assert not OutboxMessage.objects.filter(kind=OutboxMessage.Kind.REFUND_ORDER).exists()
    cancel_page = reverse("dashboard:order_cancel", args=[amazon_order.store_id, amazon_order.pk])
    assert cancel_page in content


def test_a_credit_memo_of_an_amazon_order_shipped_in_seller_central_is_offered(clerk_client):
    _amazon_order, order = amazon_order_for(status="Shipped")
    invoice_create(actor=None, order=order)

    content = clerk_client.get(detail_url(order)).content.decode()
    response = clerk_client.post(
        action_url("creditmemo_save", order), credit_memo_data(order, {"MUG": 1})
    )

    assert 'data-action="credit-memo"' in content
    assert response.status_code == 302
    assert order.credit_memos.count() == 1
