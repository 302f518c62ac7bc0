"""The store pages' URLs. Included by dashboard.urls, in the "dashboard" namespace."""

from django.urls import path

from dashboard.stores import views

store = "stores/<int:store_id>/"

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
]
