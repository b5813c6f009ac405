"""Light and dark Material 3 themes; the page follows the system's brightness."""

import flet as ft

SEED = ft.Colors.INDIGO
WIDE_LAYOUT_MIN_WIDTH = 720
"""Windows at least this wide show the chat list and the open chat side by side."""


def apply_theme(page: ft.Page) -> None:
    """Give ``page`` OpenChat's light and dark themes and follow the system setting."""
    page.theme = ft.Theme(color_scheme_seed=SEED, use_material3=True)
    page.dark_theme = ft.Theme(color_scheme_seed=SEED, use_material3=True)
    page.theme_mode = ft.ThemeMode.SYSTEM
