"""The Commerce order pages' URLs. Included by dashboard.urls, in the "dashboard" namespace."""

from django.urls import path

from dashboard.commerce_orders import document_views, views

commerce_order = "commerce/orders/<int:order_id>/"

urlpatterns = [
    path("commerce/orders/", views.commerce_order_list, name="commerce_order_list"),
    path("commerce/orders/export/", views.commerce_order_export, name="commerce_order_export"),
    path(
        "commerce/orders/mass-action/",
        views.commerce_order_mass_action,
        name="commerce_order_mass_action",
    ),
    path(commerce_order, views.commerce_order_detail, name="commerce_order_detail"),
    path(commerce_order + "invoice/", views.commerce_order_invoice, name="commerce_order_invoice"),
    path(commerce_order + "ship/", document_views.commerce_order_ship, name="commerce_order_ship"),
    path(
        commerce_order + "ship/save/",
        document_views.commerce_order_ship_save,
        name="commerce_order_ship_save",
    ),
    path(
        commerce_order + "credit-memo/",
        document_views.commerce_order_creditmemo,
        name="commerce_order_creditmemo",
    ),
    path(
        commerce_order + "credit-memo/save/",
        document_views.commerce_order_creditmemo_save,
        name="commerce_order_creditmemo_save",
    ),
    path(commerce_order + "hold/", views.commerce_order_hold, name="commerce_order_hold"),
    path(commerce_order + "unhold/", views.commerce_order_unhold, name="commerce_order_unhold"),
    path(commerce_order + "cancel/", views.commerce_order_cancel, name="commerce_order_cancel"),
    path(
        commerce_order + "email/",
        views.commerce_order_email_send,
        name="commerce_order_email_send",
    ),
    path(
        commerce_order + "comments/",
        views.commerce_order_comment_add,
        name="commerce_order_comment_add",
    ),
    path(
        commerce_order + "amazon-messages/<int:message_id>/retry/",
        document_views.commerce_order_amazon_retry,
        name="commerce_order_amazon_retry",
    ),
    path(
        commerce_order + "shipments/<int:shipment_id>/correct/",
        document_views.commerce_order_shipment_correct,
        name="commerce_order_shipment_correct",
    ),
]
