"""The OpenAPI document as the server really answers: FastAPI advertises a 422 response with
its own validation schema on every endpoint that takes input, but this server answers bad input
with 400 ``{"code": "VALIDATION_ERROR", "message"}`` (``ErrorBody``)."""

from typing import Any

from fastapi import FastAPI

_FASTAPI_ONLY_SCHEMAS = ("HTTPValidationError", "ValidationError")


def without_validation_422(document: dict[str, Any]) -> dict[str, Any]:
    """``document`` with every 422 response and FastAPI's validation schemas removed (each
    operation keeps, or gains, its 400 ``ErrorBody`` response)."""
    for path_item in document.get("paths", {}).values():
        for operation in path_item.values():
            responses = operation.get("responses", {})
            if responses.pop("422", None) is not None:
                responses.setdefault(
                    "400",
                    {
                        "description": "Invalid request (VALIDATION_ERROR)",
                        "content": {
                            "application/json": {
                                "schema": {"$ref": "#/components/schemas/ErrorBody"}
                            }
                        },
                    },
                )
    schemas = document.get("components", {}).get("schemas", {})
    for name in _FASTAPI_ONLY_SCHEMAS:
        schemas.pop(name, None)
    return document


def document_errors_as_sent(app: FastAPI) -> None:
    """Serve (and cache) ``app``'s OpenAPI document without the 422s the server never sends."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = without_validation_422(FastAPI.openapi(app))
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
