"""Write the REST contract as OpenAPI JSON: ``python -m server.openapi [PATH]``.

``docs/openapi.json`` is generated with this and checked in; a test fails when it is stale.
"""

import json
import sys
import tempfile
from pathlib import Path
from typing import Any

DEFAULT_PATH = Path(__file__).resolve().parent.parent / "docs" / "openapi.json"


def openapi_document() -> dict[str, Any]:
    """The OpenAPI document of the REST application, built without starting anything."""
    from server.app import build_context, create_fastapi
    from server.config import load_settings

    with tempfile.TemporaryDirectory() as data_dir:
        context = build_context(load_settings(data_dir))
        return create_fastapi(context).openapi()


def render() -> str:
    """The document as stable, human-diffable JSON text."""
    return json.dumps(openapi_document(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def main() -> None:
    """Write the document to the path given (default ``docs/openapi.json``)."""
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_PATH
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(render(), encoding="utf-8")
    print(f"wrote {target}")


if __name__ == "__main__":
    main()
