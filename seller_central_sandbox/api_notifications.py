"""The Notifications API v1 operations of the sandbox (notifications_v1.json): destinations are
the application's (grantless token), a subscription is a seller's (the seller's token), and a
subscription is read or deleted by id with either token."""

from django.http import HttpRequest, HttpResponse

from seller_central_sandbox.api import (
    EITHER_GRANT,
    GRANTLESS,
    json_body,
    json_response,
    public_endpoint,
    sp_api_operation,
)
from seller_central_sandbox.services.notifications import (
    destination_create,
    destination_delete,
    destination_get,
    destination_representation,
    destinations_of,
    subscription_by_id,
    subscription_create,
    subscription_delete,
    subscription_of_type,
    subscription_representation,
)


@public_endpoint
def destinations(request: HttpRequest) -> HttpResponse:
    """/notifications/v1/destinations: getDestinations (GET) and createDestination (POST)."""
    if request.method == "POST":
        return create_destination(request)
    return get_destinations(request)


@sp_api_operation("createDestination", methods=("POST",), grant=GRANTLESS)
def create_destination(request: HttpRequest, caller) -> HttpResponse:
    body = json_body(request)
    destination = destination_create(
        client_id=caller.client_id,
        name=body.get("name"),
        resource_specification=body.get("resourceSpecification"),
    )
    return json_response({"payload": destination_representation(destination)})


@sp_api_operation("getDestinations", grant=GRANTLESS)
def get_destinations(request: HttpRequest, caller) -> HttpResponse:
    payload = [
        destination_representation(destination)
        for destination in destinations_of(client_id=caller.client_id)
    ]
    return json_response({"payload": payload})


@public_endpoint
def destination(request: HttpRequest, destination_id: str) -> HttpResponse:
    """/notifications/v1/destinations/{destinationId}: getDestination and deleteDestination."""
    if request.method == "DELETE":
        return delete_destination(request, destination_id)
    return get_destination(request, destination_id)


@sp_api_operation("getDestination", grant=GRANTLESS)
def get_destination(request: HttpRequest, caller, destination_id: str) -> HttpResponse:
    found = destination_get(client_id=caller.client_id, destination_id=destination_id)
    return json_response({"payload": destination_representation(found)})


@sp_api_operation("deleteDestination", methods=("DELETE",), grant=GRANTLESS)
def delete_destination(request: HttpRequest, caller, destination_id: str) -> HttpResponse:
    destination_delete(client_id=caller.client_id, destination_id=destination_id)
    return json_response({})


@public_endpoint
def subscriptions(request: HttpRequest, notification_type: str) -> HttpResponse:
    """/notifications/v1/subscriptions/{notificationType}: getSubscription (GET) and
    createSubscription (POST), both with the seller's token."""
    if request.method == "POST":
        return create_subscription(request, notification_type)
    return get_subscription(request, notification_type)


@sp_api_operation("createSubscription", methods=("POST",))
def create_subscription(request: HttpRequest, seller, notification_type: str) -> HttpResponse:
    subscription = subscription_create(
        seller=seller, notification_type=notification_type, body=json_body(request)
    )
    return json_response({"payload": subscription_representation(subscription)})


@sp_api_operation("getSubscription")
def get_subscription(request: HttpRequest, seller, notification_type: str) -> HttpResponse:
    subscription = subscription_of_type(seller=seller, notification_type=notification_type)
    return json_response({"payload": subscription_representation(subscription)})


@public_endpoint
def subscription(request: HttpRequest, notification_type: str, subscription_id: str):
    """/notifications/v1/subscriptions/{notificationType}/{subscriptionId}: getSubscriptionById
    (GET) and deleteSubscriptionById (DELETE)."""
    if request.method == "DELETE":
        return delete_subscription_by_id(request, notification_type, subscription_id)
    return get_subscription_by_id(request, notification_type, subscription_id)


@sp_api_operation("getSubscriptionById", grant=EITHER_GRANT)
def get_subscription_by_id(
    request: HttpRequest, caller, notification_type: str, subscription_id: str
) -> HttpResponse:
    found = subscription_by_id(
        client_id=caller.client_id,
        seller=caller.seller,
        notification_type=notification_type,
        subscription_id=subscription_id,
    )
    return json_response({"payload": subscription_representation(found)})


@sp_api_operation("deleteSubscriptionById", methods=("DELETE",), grant=EITHER_GRANT)
def delete_subscription_by_id(
    request: HttpRequest, caller, notification_type: str, subscription_id: str
) -> HttpResponse:
    subscription_delete(
        client_id=caller.client_id,
        seller=caller.seller,
        notification_type=notification_type,
        subscription_id=subscription_id,
    )
    return json_response({})
