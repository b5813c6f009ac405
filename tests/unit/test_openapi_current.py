"""docs/openapi.json must match the code: regenerate it with `uv run python -m server.openapi`."""

from server.openapi import DEFAULT_PATH, render


def test_checked_in_openapi_is_current() -> None:
    """The checked-in document equals what the app generates now."""
    assert DEFAULT_PATH.exists(), (
        "docs/openapi.json is missing: run `uv run python -m server.openapi`"
    )
    assert DEFAULT_PATH.read_text(encoding="utf-8") == render(), (
        "docs/openapi.json is stale: run `uv run python -m server.openapi` and commit it"
    )
