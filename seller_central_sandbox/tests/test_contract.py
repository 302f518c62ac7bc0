"""The validator itself: Amazon's own examples pass it, and it catches a wrong body."""

import jsonschema
import pytest

from seller_central_sandbox.tests.contract import MODEL_FILES, SERVED, load_model, validate


def example_body(model_name: str, response: dict, key: str, example):
    """An example as a response body. Amazon keys most examples by media type or by a name of
    its own; sellers.json keys its 200 example by the body's field instead
    (`"examples": {"payload": [...]}`), so such a key is put back around the value."""
    schema = response["schema"]
    if "$ref" in schema:
        schema = load_model(model_name)["definitions"][schema["$ref"].rsplit("/", 1)[-1]]
    if key in schema.get("properties", {}):
        return {key: example}
    return example


def documented_examples():
    for name in MODEL_FILES:
        for template, methods in load_model(name)["paths"].items():
            for method, operation in methods.items():
                if method == "parameters" or operation["operationId"] not in SERVED:
                    continue
                for status, response in operation["responses"].items():
                    if "schema" not in response:
                        continue
                    for key, example in response.get("examples", {}).items():
                        yield pytest.param(
                            name,
                            template,
                            method,
                            status,
                            example_body(name, response, key, example),
                            id=f"{operation['operationId']}-{status}-example",
                        )
                    cases = response.get("x-amzn-api-sandbox", {}).get("static", [])
                    for number, case in enumerate(cases):
                        if "response" in case:
                            yield pytest.param(
                                name,
                                template,
                                method,
                                status,
                                case["response"],
                                id=f"{operation['operationId']}-{status}-sandbox{number}",
                            )


@pytest.mark.parametrize(
    ("model", "template", "method", "status", "body"), list(documented_examples())
)
def test_amazons_example_payloads_validate(model, template, method, status, body):
    validate(model, template, method, int(status), body)


def test_a_search_without_the_required_orders_list_is_refused():
    with pytest.raises(jsonschema.ValidationError):
        validate(
            "orders_2026-01-01.json", "/orders/2026-01-01/orders", "get", 200, {"pagination": {}}
        )


def test_a_misspelled_order_field_is_refused():
    order = {
        "orderId": "123-1234567-1234567",
        "createdTime": "2025-01-01T00:00:00Z",
        "lastUpdatedTime": "2025-01-01T00:00:00Z",
        "salesChannel": {"channelName": "AMAZON"},
        "orderItems": [],
        "fulfilment": {"fulfillmentStatus": "SHIPPED"},
    }
    with pytest.raises(jsonschema.ValidationError):
        validate(
            "orders_2026-01-01.json",
            "/orders/2026-01-01/orders/{orderId}",
            "get",
            200,
            {"order": order},
        )


def test_an_error_without_a_message_is_refused():
    with pytest.raises(jsonschema.ValidationError):
        validate(
            "feeds_2021-06-30.json",
            "/feeds/2021-06-30/feeds",
            "get",
            400,
            {"errors": [{"code": "InvalidInput"}]},
        )
