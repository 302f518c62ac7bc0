"""The Amazon order pages' URLs. Included by dashboard.urls, in the "dashboard" namespace."""

from django.urls import path

from dashboard.amazon_orders import views

store = "stores/<int:store_id>/"
order = store + "orders/<int:order_id>/"

urlpatterns = [
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
]
