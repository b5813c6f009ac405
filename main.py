"""The entry point ``flet build`` packages (``[tool.flet.app]`` in pyproject.toml): the same app
``openchat`` runs, with the assets next to this file (icons, splash, fonts)."""

import flet as ft

from client.app import main

if __name__ == "__main__":
    ft.run(main, assets_dir="assets")
