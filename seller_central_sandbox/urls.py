"""The control page, mounted at /sandbox/ on the main site."""

from django.urls import path

from seller_central_sandbox import views

app_name = "seller_central_sandbox"

urlpatterns = [
    path("", views.seller_list, name="seller_list"),
    path("sellers/<str:seller_id>/", views.seller_detail, name="seller_detail"),
    path("sellers/<str:seller_id>/generate", views.orders_generate_view, name="orders_generate"),
    path("sellers/<str:seller_id>/lifecycle", views.lifecycle_view, name="lifecycle"),
    path("sellers/<str:seller_id>/faults", views.faults_view, name="faults"),
    path("sellers/<str:seller_id>/tokens", views.tokens_view, name="tokens"),
    path("sellers/<str:seller_id>/behaviour", views.behaviour_view, name="behaviour"),
    path("sellers/<str:seller_id>/usage-plan", views.usage_plan_view, name="usage_plan"),
    path("sellers/<str:seller_id>/notifications", views.notifications_view, name="notifications"),
    path(
        "sellers/<str:seller_id>/integration-feed",
        views.integration_feed_view,
        name="integration_feed",
    ),
    path(
        "sellers/<str:seller_id>/orders/<str:order_id>/step",
        views.order_step_view,
        name="order_step",
    ),
]
