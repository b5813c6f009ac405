"""The OpenAPI document promises the error responses the server really sends."""

import json

from server.openapi import DEFAULT_PATH


def test_no_operation_advertises_422_and_every_one_taking_input_answers_400() -> None:
    document = json.loads(DEFAULT_PATH.read_text(encoding="utf-8"))
    assert "HTTPValidationError" not in document["components"]["schemas"]
    for path, item in document["paths"].items():
        for method, operation in item.items():
            responses = operation["responses"]
            assert "422" not in responses, (method, path)
            if operation.get("parameters") or operation.get("requestBody"):
                schema = responses["400"]["content"]["application/json"]["schema"]
                assert schema == {"$ref": "#/components/schemas/ErrorBody"}, (method, path)
