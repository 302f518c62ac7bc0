from django.urls import path

from dashboard import views

app_name = "dashboard"

store = "stores/<int:store_id>/"
order = store + "orders/<int:order_id>/"

urlpatterns = [
    path("", views.store_list, name="store_list"),
    path("stores/connect/", views.store_connect_page, name="store_connect"),
    path(store, views.store_detail, name="store_detail"),
    path(store + "settings/", views.store_settings, name="store_settings"),
    path(store + "sync-log/", views.store_sync_log, name="store_sync_log"),
    path(store + "activate/", views.store_activate, name="store_activate"),
    path(store + "deactivate/", views.store_deactivate, name="store_deactivate"),
    path(store + "sync/", views.store_sync, name="store_sync"),
    path(store + "orders/", views.order_list, name="order_list"),
    path(order, views.order_detail, name="order_detail"),
    path(order + "cancel/", views.order_cancel, name="order_cancel"),
    path(
        order + "shipping-address/",
        views.order_shipping_address_update,
        name="order_shipping_address_update",
    ),
    path(
        order + "cancellation/review/",
        views.order_cancellation_acknowledge,
        name="order_cancellation_acknowledge",
    ),
]
