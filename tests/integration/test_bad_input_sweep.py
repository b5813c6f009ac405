"""Every REST operation of the OpenAPI document, fed malformed input: wrong JSON types for each
field, bodies that are not objects or not JSON, oversized strings, bad query values and path
values that are unknown, too long or odd. The server answers each with a clear error (4xx with
``{"code", "message"}``), never a 500 — on SQLite and on PostgreSQL (where a value too long for
its column or of the wrong type would surface as a database error)."""

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from protocol.rest import API_PREFIX
from tests.support.api import Account, register
from tests.support.live_server import LiveServer

OPENAPI = Path(__file__).parents[2] / "docs" / "openapi.json"
UNKNOWN_ID = "00000000-0000-4000-8000-000000000000"
ODD_PATH_VALUES = (UNKNOWN_ID, "x" * 300, "%00", "..", "😀" * 5, "-1")
ODD_QUERY_VALUES = ("-1", "abc", "9" * 40, "", "😀", "x" * 5000)
LAST = ("/auth/logout", "/conversations/{conversation_id}/leave", "/members/me")
"""Operations that end the caller's session or membership run after all the others."""


@dataclass(frozen=True)
class Operation:
    """One method + path of the OpenAPI document, with what it declares."""

    method: str
    path: str
    query: tuple[str, ...]
    body: dict[str, Any] | None


def _operations() -> list[Operation]:
    document = json.loads(OPENAPI.read_text())
    schemas = document.get("components", {}).get("schemas", {})
    found: list[Operation] = []
    for path, item in document["paths"].items():
        if not path.startswith(API_PREFIX):
            continue
        for method, operation in item.items():
            query = tuple(
                p["name"] for p in operation.get("parameters", []) if p.get("in") == "query"
            )
            found.append(
                Operation(
                    method.upper(),
                    path.removeprefix(API_PREFIX),
                    query,
                    _body_schema(operation, schemas),
                )
            )
    return sorted(found, key=lambda op: any(marker in op.path for marker in LAST))


def _body_schema(operation: dict[str, Any], schemas: dict[str, Any]) -> dict[str, Any] | None:
    content = operation.get("requestBody", {}).get("content", {}).get("application/json")
    if content is None:
        return None
    schema = content["schema"]
    while "$ref" in schema:
        schema = schemas[schema["$ref"].rsplit("/", 1)[-1]]
    return dict(schema)


def _wrong(schema: dict[str, Any]) -> list[Any]:
    """Values of the wrong type (and one oversized string) for a field of ``schema``."""
    kinds = {schema.get("type")} | {s.get("type") for s in schema.get("anyOf", [])}
    values: list[Any] = [{"nested": True}, [1, 2], "x" * 100_000]
    if "string" in kinds:
        values += [12345, True]
    if kinds & {"integer", "number"}:
        values += ["abc", 1e308, -(2**63), 2**70]
    if "array" in kinds:
        values += ["not a list", [None, {"a": 1}], ["x"] * 10_000]
    if "boolean" in kinds:
        values += ["yes", 2]
    return values


def _bodies(schema: dict[str, Any] | None) -> Iterator[tuple[str, Any]]:
    """(description, JSON body) pairs, plus raw non-JSON text as ``("raw", text)``."""
    yield "raw", "{not json"
    yield "array", []
    yield "number", 7
    yield "empty object", {}
    if schema is None:
        return
    properties: dict[str, Any] = schema.get("properties", {})
    for name, field_schema in properties.items():
        for value in _wrong(field_schema):
            yield f"{name}={str(value)[:20]}", {name: value}


@dataclass
class Targets:
    """Real ids the caller may use, so requests reach the checks behind the path."""

    caller: Account
    values: dict[str, str]


@pytest.fixture
def targets(live_server: LiveServer) -> Targets:
    caller, other = register(live_server.url), register(live_server.url)
    group = caller.post(
        "/conversations",
        json={"type": "private_group", "title": "Sweep", "member_ids": [other.user_id]},
    )
    assert group.status_code == 201, group.text
    conversation_id = group.json()["id"]
    sent = caller.send(conversation_id, "sweep target")
    assert sent.status_code == 201, sent.text
    return Targets(
        caller,
        {
            "conversation_id": conversation_id,
            "message_id": sent.json()["id"],
            "user_id": other.user_id,
            "report_id": UNKNOWN_ID,
            "emoji": "👍",
        },
    )


def _paths(path: str, real: dict[str, str]) -> Iterator[str]:
    """``path`` with real ids, then with each odd value in each parameter in turn (bodies
    and query values are tried on the real one: odd paths are refused before they matter)."""
    names = [part[1:-1] for part in path.split("/") if part.startswith("{")]
    yield path.format(**{name: real[name] for name in names})
    for name in names:
        for odd in ODD_PATH_VALUES:
            yield path.format(**{**{n: real[n] for n in names}, name: odd})


def _check(response: httpx.Response, what: str) -> None:
    assert response.status_code < 500, f"{what}: {response.status_code} {response.text[:300]}"
    if response.status_code >= 400:
        body = response.json()
        assert isinstance(body.get("code"), str) and body["code"], f"{what}: {body}"
        assert isinstance(body.get("message"), str) and body["message"], f"{what}: {body}"


def test_every_operation_answers_bad_input_with_a_clear_error(targets: Targets) -> None:
    caller = targets.caller
    for operation in _operations():
        real_path, *odd_paths = _paths(operation.path, targets.values)
        for path in odd_paths:
            _check(caller.request(operation.method, path), f"{operation.method} {path}")
        what = f"{operation.method} {real_path}"
        for name in operation.query:
            for value in ODD_QUERY_VALUES:
                response = caller.request(operation.method, real_path, params={name: value})
                _check(response, f"{what}?{name}={value[:20]}")
        if operation.method in ("GET", "DELETE"):
            continue
        for description, body in _bodies(operation.body):
            if description == "raw":
                response = caller.request(
                    operation.method,
                    real_path,
                    content=body,
                    headers={"Content-Type": "application/json"},
                )
            else:
                response = caller.request(operation.method, real_path, json=body)
            _check(response, f"{what} body {description}")
