"""Run a Flet ``main(page)`` in web mode on 127.0.0.1 (started by the e2e harness as a subprocess).

Usage: ``python -m tests.e2e.serve PORT module:function``. The process serves the bundled Flutter
web client (``no_cdn``) and never opens a browser (``FLET_FORCE_WEB_SERVER`` is set by the caller).
"""

import importlib
import sys
from collections.abc import Callable
from typing import Any

import flet as ft

from client.config import ASSETS_DIR


def load(target: str) -> Callable[[ft.Page], Any]:
    """Import ``module:function`` and return the function."""
    module_name, _, attribute = target.partition(":")
    function: Callable[[ft.Page], Any] = getattr(importlib.import_module(module_name), attribute)
    return function


def main() -> None:
    """Serve the target app on the given port until terminated."""
    port, target = int(sys.argv[1]), sys.argv[2]
    ft.run(
        load(target),
        view=ft.AppView.WEB_BROWSER,
        host="127.0.0.1",
        port=port,
        no_cdn=True,
        assets_dir=str(ASSETS_DIR),
    )


if __name__ == "__main__":
    main()
