"""Amazon's Swagger 2.0 models as a contract: validate a response body against the schema of
`paths[path][method].responses[status]`, references resolved in the model's `definitions`."""

import functools
import json
import re
from pathlib import Path

import jsonschema

MODELS_DIR = Path(__file__).resolve().parents[1] / "sp_api_models"
# The operations the sandbox serves (the models also describe others, with examples of uneven
# quality: getOrderItemsBuyerInfo's example lacks its required fields).
SERVED = {
    "searchOrders",
    "getOrder",
    "getOrders",
    "getOrderItems",
    "getOrderAddress",
    "getOrderBuyerInfo",
    "confirmShipment",
    "getFeeds",
    "createFeed",
    "getFeed",
    "cancelFeed",
    "createFeedDocument",
    "getFeedDocument",
    "getMarketplaceParticipations",
}
MODEL_FILES = (
    "orders_2026-01-01.json",
    "ordersV0.json",
    "feeds_2021-06-30.json",
    "sellers.json",
)
# The Notifications API operations the sandbox serves. Their model has no static sandbox
# cases (only the sandbox-only sendTestNotification), so they are not in SERVED.
NOTIFICATIONS_SERVED = {
    "createDestination",
    "getDestinations",
    "getDestination",
    "deleteDestination",
    "createSubscription",
    "getSubscription",
    "getSubscriptionById",
    "deleteSubscriptionById",
}
# Every model whose operations the sandbox serves: the answers of all of them are validated.
SERVED_MODEL_FILES = (*MODEL_FILES, "notifications_v1.json")
# The JSON schemas of the notifications Amazon sends, by notification type.
NOTIFICATION_SCHEMAS = {
    "ORDER_CHANGE": "OrderChangeNotification.json",
    "FEED_PROCESSING_FINISHED": "FeedProcessingFinishedNotification.json",
}


@functools.cache
def load_model(name: str) -> dict:
    return json.loads((MODELS_DIR / name).read_text())


def _strict(schema):
    """A copy where every object with declared properties refuses other keys: a misspelled
    field then fails instead of passing as an extra."""
    if isinstance(schema, list):
        return [_strict(value) for value in schema]
    if not isinstance(schema, dict):
        return schema
    copy = {key: _strict(value) for key, value in schema.items()}
    if "properties" in schema and "additionalProperties" not in schema:
        copy["additionalProperties"] = False
    return copy


def _strict_definitions(definitions: dict) -> dict:
    """The definitions made strict, except the parts of an `allOf`: each declares only some of
    the object's properties, so a strict part would refuse the others (notifications_v1.json
    EventFilter)."""
    parts = {
        part["$ref"].rsplit("/", 1)[-1]
        for definition in definitions.values()
        for part in definition.get("allOf", [])
        if "$ref" in part
    }
    strict = _strict(definitions)
    for name in parts:
        strict[name] = definitions[name]
    strict.update(
        {
            name: {
                **strict[name],
                "allOf": [
                    part if "$ref" in part else {**part, "additionalProperties": True}
                    for part in strict[name]["allOf"]
                ],
            }
            for name, definition in definitions.items()
            if "allOf" in definition
        }
    )
    return strict


@functools.cache
def _operations() -> list[tuple[str, str, re.Pattern, str]]:
    operations = []
    for name in SERVED_MODEL_FILES:
        for template, methods in load_model(name)["paths"].items():
            pattern = re.compile(
                "^" + re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(template)) + "$"
            )
            for method in methods:
                if method != "parameters" and not method.startswith("x-"):
                    operations.append((name, method.upper(), pattern, template))
    return operations


def find_operation(method: str, path: str) -> tuple[str, str] | None:
    """(model file, path template) of the operation serving `method path`, or None."""
    for name, operation_method, pattern, template in _operations():
        if operation_method == method.upper() and pattern.match(path):
            return name, template
    return None


def response_schema(model_name: str, template: str, method: str, status: int, *, strict: bool):
    """The JSON schema of one documented response, or None when the model gives no body."""
    model = load_model(model_name)
    responses = model["paths"][template][method.lower()]["responses"]
    if str(status) not in responses:
        raise AssertionError(f"{method} {template} does not document status {status}")
    schema = responses[str(status)].get("schema")
    if schema is None:
        return None
    definitions = model["definitions"]
    if strict:
        schema, definitions = _strict(schema), _strict_definitions(definitions)
    return {
        "$schema": "http://json-schema.org/draft-04/schema#",
        **schema,
        "definitions": definitions,
    }


def validate(
    model_name: str, template: str, method: str, status: int, body, *, strict: bool = True
) -> None:
    """Raise jsonschema.ValidationError (or AssertionError) unless `body` is what the model
    documents for that response."""
    schema = response_schema(model_name, template, method, status, strict=strict)
    if schema is None:
        assert body in (None, b"", "", {}), f"{method} {template} {status} documents no body"
        return
    jsonschema.Draft4Validator(schema).validate(body)


def validate_exchange(exchange) -> None:
    """Validate one recorded answer of the sandbox; errors must carry an `errors` array."""
    found = find_operation(exchange.method, exchange.path)
    assert found is not None, f"{exchange.method} {exchange.path} is no operation of the models"
    model_name, template = found
    body = json.loads(exchange.body) if exchange.body else None
    if exchange.status >= 400:
        assert isinstance(body, dict) and isinstance(body.get("errors"), list), exchange
        assert body["errors"], exchange
    validate(model_name, template, exchange.method, exchange.status, body)


def validate_notification(body: dict) -> None:
    """Raise jsonschema.ValidationError unless `body` is the notification its type's schema
    describes, strictly (a misspelled or extra field fails): ORDER_CHANGE's envelope is
    PascalCase, FEED_PROCESSING_FINISHED's camelCase."""
    notification_type = body.get("NotificationType") or body.get("notificationType")
    assert notification_type in NOTIFICATION_SCHEMAS, body
    schema = _strict(load_model(NOTIFICATION_SCHEMAS[notification_type]))
    jsonschema.Draft7Validator(schema).validate(body)
