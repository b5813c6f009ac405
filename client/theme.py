"""Light and dark Material 3 themes; the page follows the system's brightness.

Emoji come from a bundled colour emoji font (Noto Color Emoji, SIL OFL, ``assets/fonts``) set as
the fallback of every text style: Flutter's web renderers ignore the browser's fonts and would
otherwise download a fallback from a CDN, which a LAN or offline deployment cannot reach (emoji
then show as empty boxes). Native desktop builds find it the same way. Phone packages leave the
font out (pyproject.toml, ``[tool.flet.android.app]``): Flutter on a phone falls back to the
system's own colour emoji font, so the family is registered only where the file exists.
"""

from dataclasses import fields

import flet as ft

from client.config import ASSETS_DIR

SEED = ft.Colors.INDIGO
WIDE_LAYOUT_MIN_WIDTH = 720
"""Windows at least this wide show the chat list and the open chat side by side."""

TEXT_FONT = "Roboto"
"""Flutter's own text font. Named explicitly: with no primary family, web renderers take digits
and spaces from the emoji font too (it has glyphs for keycaps)."""
EMOJI_FONT = "Noto Color Emoji"
EMOJI_FONT_ASSET = "fonts/NotoColorEmoji.ttf"


def _text_theme() -> ft.TextTheme:
    """Every Material text style, falling back to the emoji font for glyphs it lacks."""
    style = ft.TextStyle(
        font_family=TEXT_FONT, font_family_fallback=[EMOJI_FONT], color=ft.Colors.ON_SURFACE
    )
    return ft.TextTheme(**{field.name: style for field in fields(ft.TextTheme)})


def apply_theme(page: ft.Page) -> None:
    """Give ``page`` OpenChat's light and dark themes and follow the system setting."""
    if (ASSETS_DIR / EMOJI_FONT_ASSET).is_file():
        page.fonts = {EMOJI_FONT: EMOJI_FONT_ASSET}
    page.theme = ft.Theme(color_scheme_seed=SEED, use_material3=True, text_theme=_text_theme())
    page.dark_theme = ft.Theme(color_scheme_seed=SEED, use_material3=True, text_theme=_text_theme())
    page.theme_mode = ft.ThemeMode.SYSTEM
