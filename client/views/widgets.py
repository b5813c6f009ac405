"""Small control builders shared by the views, each with an accessible name.

Flet 1.0 on the web does not expose an ``IconButton``'s tooltip as its accessible name; the
icon's ``semantics_label`` is merged into the button instead, so every icon button gets both.
"""

from typing import Any

import flet as ft


def labelled_icon(icon: ft.IconData, label: str, size: float | None = None) -> ft.Icon:
    """An icon that screen readers (and tests) know as ``label``."""
    return ft.Icon(icon, semantics_label=label, size=size)


def icon_button(
    icon: ft.IconData, label: str, size: float | None = None, **options: Any
) -> ft.IconButton:
    """An icon button named ``label`` (tooltip and accessible name)."""
    return ft.IconButton(labelled_icon(icon, label, size), tooltip=label, **options)


def relabel(button: ft.IconButton, icon: ft.IconData, label: str) -> None:
    """Change an :func:`icon_button`'s icon and name."""
    current = button.icon
    size = current.size if isinstance(current, ft.Icon) else None
    button.icon = labelled_icon(icon, label, size)
    button.tooltip = label


def page_of(control: ft.BaseControl) -> ft.Page | None:
    """The page ``control`` is on, or None while it is not mounted."""
    try:
        page = control.page
    except RuntimeError:
        return None
    return page if isinstance(page, ft.Page) else None


def refresh(*controls: ft.BaseControl) -> None:
    """``update()`` the controls that are mounted (others render when they are added)."""
    for control in controls:
        if page_of(control) is not None:
            control.update()


def notify(page: ft.Page, text: str) -> None:
    """Show ``text`` in a snack bar."""
    page.show_dialog(ft.SnackBar(ft.Text(text)))


def close_dialog(page: ft.Page) -> None:
    """Close the topmost dialog, sheet or menu the person is looking at.

    ``page.pop_dialog()`` alone closes the topmost open overlay, and a snack bar still on screen
    is one: it would close instead, leaving the dialog and its modal barrier in place (the
    composer then got no keys). Snack bars above the dialog are closed on the way; they would
    have outlived it by a few seconds only."""
    while isinstance(page.pop_dialog(), ft.SnackBar):
        continue


def dialog_open(page: ft.Page) -> bool:
    """True while a dialog, sheet or menu (not a snack bar) is open on ``page``.

    Flet keeps the stack of what ``show_dialog`` opened in ``page._dialogs``; there is no public
    reader for it."""
    return any(
        dialog.open and not isinstance(dialog, ft.SnackBar) for dialog in page._dialogs.controls
    )


MAX_UNSCROLLED_ROWS = 8
"""A dialog's list with more rows than this scrolls inside a box of ``SCROLLED_HEIGHT``."""
SCROLLED_HEIGHT = 360


def bound(column: ft.Column, rows: int) -> ft.Column:
    """Size ``column`` to its ``rows`` when there are few, else give it a fixed height and a
    scroll bar: a scrolling column in a dialog would otherwise take the window's full height."""
    long = rows > MAX_UNSCROLLED_ROWS
    column.scroll = ft.ScrollMode.AUTO if long else None
    column.height = SCROLLED_HEIGHT if long else None
    return column
