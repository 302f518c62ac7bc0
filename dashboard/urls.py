from django.urls import path

from dashboard import views

app_name = "dashboard"

store = "stores/<int:store_id>/"
order = store + "orders/<int:order_id>/"
commerce_order = "commerce/orders/<int:order_id>/"

# A form's page answers GET; what it posts goes to its own POST-only URL (405 on GET).
urlpatterns = [
    path("", views.store_list, name="store_list"),
    path("stores/connect/", views.store_connect_page, name="store_connect"),
    path("stores/connect/save/", views.store_connect_save, name="store_connect_save"),
    path(store, views.store_detail, name="store_detail"),
    path(store + "settings/", views.store_settings, name="store_settings"),
    path(store + "settings/save/", views.store_settings_save, name="store_settings_save"),
    path(store + "sync-log/", views.store_sync_log, name="store_sync_log"),
    path(store + "activate/", views.store_activate, name="store_activate"),
    path(store + "deactivate/", views.store_deactivate, name="store_deactivate"),
    path(store + "sync/", views.store_sync, name="store_sync"),
    path(store + "sync/status/", views.store_sync_status, name="store_sync_status"),
    path(store + "reauthorize/", views.store_reauthorize_page, name="store_reauthorize"),
    path(
        store + "reauthorize/save/",
        views.store_reauthorize_save,
        name="store_reauthorize_save",
    ),
    path(store + "orders/", views.order_list, name="order_list"),
    path(order, views.order_detail, name="order_detail"),
    path(order + "cancel/", views.order_cancel, name="order_cancel"),
    path(order + "cancel/confirm/", views.order_cancel_confirm, name="order_cancel_confirm"),
    path(
        order + "shipping-address/",
        views.order_shipping_address_update,
        name="order_shipping_address_update",
    ),
    path(
        order + "cancellation/status/",
        views.order_cancellation_status,
        name="order_cancellation_status",
    ),
    path(
        order + "cancellation/review/",
        views.order_cancellation_acknowledge,
        name="order_cancellation_acknowledge",
    ),
    # Commerce orders
    path("commerce/orders/", views.commerce_order_list, name="commerce_order_list"),
    path("commerce/orders/export/", views.commerce_order_export, name="commerce_order_export"),
    path(
        "commerce/orders/mass-action/",
        views.commerce_order_mass_action,
        name="commerce_order_mass_action",
    ),
    path(commerce_order, views.commerce_order_detail, name="commerce_order_detail"),
    path(commerce_order + "invoice/", views.commerce_order_invoice, name="commerce_order_invoice"),
    path(commerce_order + "ship/", views.commerce_order_ship, name="commerce_order_ship"),
    path(
        commerce_order + "ship/save/",
        views.commerce_order_ship_save,
        name="commerce_order_ship_save",
    ),
    path(
        commerce_order + "credit-memo/",
        views.commerce_order_creditmemo,
        name="commerce_order_creditmemo",
    ),
    path(
        commerce_order + "credit-memo/save/",
        views.commerce_order_creditmemo_save,
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
        views.commerce_order_amazon_retry,
        name="commerce_order_amazon_retry",
    ),
    path(
        commerce_order + "shipments/<int:shipment_id>/correct/",
        views.commerce_order_shipment_correct,
        name="commerce_order_shipment_correct",
    ),
]
