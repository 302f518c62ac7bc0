"""The SP-API wire protocol, served on the sandbox's own port (seller_central_sandbox.wsgi)."""

from django.urls import path, re_path

from seller_central_sandbox import api_notifications, api_views

urlpatterns = [
    path("auth/o2/token", api_views.token, name="sandbox_token"),
    path("orders/2026-01-01/orders", api_views.search_orders),
    path("orders/2026-01-01/orders/<str:order_id>", api_views.get_order),
    path("orders/v0/orders", api_views.get_orders_v0),
    path("orders/v0/orders/<str:order_id>", api_views.get_order_v0),
    path("orders/v0/orders/<str:order_id>/orderItems", api_views.get_order_items_v0),
    path("orders/v0/orders/<str:order_id>/address", api_views.get_order_address_v0),
    path("orders/v0/orders/<str:order_id>/buyerInfo", api_views.get_order_buyer_info_v0),
    path(
        "orders/v0/orders/<str:order_id>/shipmentConfirmation",
        api_views.confirm_shipment,
    ),
    path("feeds/2021-06-30/documents", api_views.create_feed_document),
    path("feeds/2021-06-30/documents/<str:document_id>", api_views.get_feed_document),
    path("feeds/2021-06-30/feeds", api_views.feeds),
    path("feeds/2021-06-30/feeds/<str:feed_id>", api_views.feed),
    path("sellers/v1/marketplaceParticipations", api_views.get_marketplace_participations),
    path("notifications/v1/destinations", api_notifications.destinations),
    path("notifications/v1/destinations/<str:destination_id>", api_notifications.destination),
    path("notifications/v1/subscriptions/<str:notification_type>", api_notifications.subscriptions),
    path(
        "notifications/v1/subscriptions/<str:notification_type>/<str:subscription_id>",
        api_notifications.subscription,
    ),
    path(
        "feed-documents/<str:url_token>",
        api_views.feed_document_content,
        name="sandbox_feed_document_content",
    ),
    re_path(r"^(?P<path>.*)$", api_views.not_found),
]
