"""What every SP-API call of the sandbox goes through: authentication, faults, usage plans,
Amazon's headers and error shape."""

import functools
import json
import time
import uuid
from dataclasses import dataclass

from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt

from seller_central_sandbox.models import SellerRole
from seller_central_sandbox.ratelimit import USAGE_PLANS, buckets, usage_plan_for
from seller_central_sandbox.services.sellers import (
    MAX_FAULT_LATENCY_MS,
    SandboxError,
    access_token_authenticate,
    application_token_authenticate,
    seller_fault_failure_consume,
    seller_fault_malformed_consume,
)

FAILURE_ERRORS = {
    500: ("InternalFailure", "We encountered an internal error. Please try again."),
    503: ("ServiceUnavailable", "Service temporarily unavailable. Please try again."),
}
# A 200 whose body is not JSON: what a truncated answer from a proxy looks like.
MALFORMED_BODY = b'{"orders": [{"orderId": "'


def json_response(body, status: int = 200) -> HttpResponse:
    return HttpResponse(json.dumps(body), status=status, content_type="application/json")


def error_response(status: int, code: str, message: str, details: str | None = None):
    error = {"code": code, "message": message}
    if details is not None:
        error["details"] = details
    return json_response({"errors": [error]}, status=status)


def sandbox_error_response(error: SandboxError) -> HttpResponse:
    return error_response(error.status, error.code, error.message, error.details)


def public_endpoint(view):
    """No session login, no CSRF token: the caller is an SP-API client."""
    return csrf_exempt(login_not_required(view))


# Which access token an operation takes: the seller's (LWA refresh-token grant), the
# application's own (client_credentials, "grantless"), or either of them.
SELLER_GRANT = "seller"
GRANTLESS = "grantless"
EITHER_GRANT = "either"


@dataclass(frozen=True)
class Caller:
    """Who calls a grantless-capable operation: always an application, and a seller when the
    token is a seller's."""

    client_id: str
    seller: object | None = None


def sp_api_operation(
    operation: str, methods: tuple[str, ...] = ("GET",), *, grant: str = SELLER_GRANT
):
    """Run a view as the SP-API operation `operation`: the view gets the authenticated seller
    (a Caller when `grant` is GRANTLESS or EITHER_GRANT) and returns an HttpResponse or raises
    SandboxError."""
    USAGE_PLANS[operation]  # every operation has a documented usage plan

    def decorator(view):
        @functools.wraps(view)
        def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            response = _handle(request, view, operation, methods, args, kwargs, grant)
            response["x-amzn-RequestId"] = str(uuid.uuid4())
            return response

        wrapper.operation = operation
        return public_endpoint(wrapper)

    return decorator


# The Orders operations and the roles that open them, any one sufficing. Orders 2026-01-01:
# "At least one of the following roles" (https://developer-docs.amazon.com/sp-api/docs/
# get-orders-with-filtering-criteria, .../get-order-information), Inventory and Order Tracking
# and Direct to Consumer Shipping among them; Orders v0: "The Inventory and Order Tracking role"
# (.../get-order-item-information). Amazon answers 403 Unauthorized "Access to requested resource
# is denied." (amzn/selling-partner-api-models#909, #5319; amzn/selling-partner-api-sdk#764).
ORDERS_2026_ROLES = {
    SellerRole.INVENTORY_AND_ORDER_TRACKING.value,
    SellerRole.DIRECT_TO_CONSUMER_SHIPPING.value,
}
ORDERS_V0_ROLES = {SellerRole.INVENTORY_AND_ORDER_TRACKING.value}
ORDER_OPERATIONS = {
    "searchOrders": ORDERS_2026_ROLES,
    "getOrder": ORDERS_2026_ROLES,
    "getOrders": ORDERS_V0_ROLES,
    "getOrderV0": ORDERS_V0_ROLES,
    "getOrderItems": ORDERS_V0_ROLES,
    "getOrderAddress": ORDERS_V0_ROLES,
    "getOrderBuyerInfo": ORDERS_V0_ROLES,
}


def operation_roles_check(*, seller, operation: str) -> None:
    """Raises SandboxError 403 when `operation` reads orders and the seller granted this
    application none of the roles that open it."""
    opening = ORDER_OPERATIONS.get(operation)
    if opening is not None and opening.isdisjoint(seller.roles or []):
        raise SandboxError(
            "Access to requested resource is denied.", code="Unauthorized", status=403
        )


def _authenticate(token: str | None, grant: str):
    """(the view's first argument, the seller or None); raises SandboxError 403 when the token
    is not one the operation takes."""
    if grant == SELLER_GRANT:
        seller = access_token_authenticate(token)
        return seller, seller
    client_id = application_token_authenticate(token)
    if client_id is not None:
        return Caller(client_id=client_id), None
    if grant == GRANTLESS:
        raise SandboxError(
            "Access to requested resource is denied.", code="Unauthorized", status=403
        )
    seller = access_token_authenticate(token)
    return Caller(client_id=seller.client_id, seller=seller), seller


def _handle(request, view, operation, methods, args, kwargs, grant=SELLER_GRANT) -> HttpResponse:
    if request.method not in methods:
        return error_response(405, "MethodNotAllowed", f"{request.method} is not supported.", "")
    try:
        subject, seller = _authenticate(request.headers.get("x-amz-access-token"), grant)
        if seller is not None:
            operation_roles_check(seller=seller, operation=operation)
    except SandboxError as error:
        return sandbox_error_response(error)
    if seller is None:
        return _handle_grantless(request, view, operation, subject, args, kwargs)
    if seller.fault_latency_ms:
        # Capped here too: a row written past the service's check must not hang every thread.
        time.sleep(min(seller.fault_latency_ms, MAX_FAULT_LATENCY_MS) / 1000)
    # The plan in effect now for this seller (their override, else the documented default).
    plan = usage_plan_for(seller, operation)
    if not buckets.take(
        seller_id=seller.seller_id,
        operation=operation,
        generation=seller.rate_limit_generation,
        plan=plan,
    ):
        return error_response(
            429, "QuotaExceeded", "You exceeded your quota for the requested resource.", ""
        )
    failure_status = seller_fault_failure_consume(seller=seller)
    if failure_status:
        code, message = FAILURE_ERRORS[failure_status]
        return error_response(failure_status, code, message, "")
    try:
        response = view(request, subject, *args, **kwargs)
    except SandboxError as error:
        response = sandbox_error_response(error)
    if response.status_code < 300 and seller_fault_malformed_consume(seller=seller):
        response = HttpResponse(MALFORMED_BODY, status=200, content_type="application/json")
    return _with_rate_header(response, plan)


def _with_rate_header(response: HttpResponse, plan) -> HttpResponse:
    # Amazon states the rate it applies on the answers whose model declares the header: 2xx,
    # 400 and 404; never on a 403, 409, 429 or 5xx (SP-API.md "Throttling", each model's
    # `responses.*.headers`).
    if response.status_code < 300 or response.status_code in (400, 404):
        response["x-amzn-RateLimit-Limit"] = plan.rate
    return response


def _handle_grantless(request, view, operation, caller: Caller, args, kwargs) -> HttpResponse:
    """A call with the application's own token: its buckets are the application's, and no
    seller's faults apply (they are drills of a seller's calls)."""
    plan = USAGE_PLANS[operation]
    if not buckets.take(
        seller_id=f"application:{caller.client_id}", operation=operation, plan=plan
    ):
        return error_response(
            429, "QuotaExceeded", "You exceeded your quota for the requested resource.", ""
        )
    try:
        response = view(request, caller, *args, **kwargs)
    except SandboxError as error:
        response = sandbox_error_response(error)
    return _with_rate_header(response, plan)


def json_body(request: HttpRequest) -> dict:
    """The request's JSON object; unknown keys are the caller's business and are ignored."""
    try:
        body = json.loads(request.body or b"{}")
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise SandboxError("The request body is not valid JSON.") from error
    if not isinstance(body, dict):
        raise SandboxError("The request body must be a JSON object.")
    return body


def list_parameter(request: HttpRequest, name: str) -> list[str]:
    """An array query parameter, repeated or comma-separated."""
    values = []
    for raw in request.GET.getlist(name):
        values.extend(value.strip() for value in raw.split(",") if value.strip())
    return values


def int_parameter(request: HttpRequest, name: str, *, default: int, low: int, high: int) -> int:
    raw = request.GET.get(name)
    if raw in (None, ""):
        return default
    try:
        value = int(raw)
    except ValueError as error:
        raise SandboxError(f"{name} must be an integer between {low} and {high}.") from error
    if not low <= value <= high:
        raise SandboxError(f"{name} must be an integer between {low} and {high}.")
    return value
