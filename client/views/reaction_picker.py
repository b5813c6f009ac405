"""The reaction picker: the quick row of common reactions and "more" for the whole whitelist."""

from collections.abc import Callable

import flet as ft

from client.views.emoji_data import name_of
from client.views.widgets import icon_button
from protocol.reactions import QUICK_REACTIONS


def quick_reactions(
    on_react: Callable[[str], None], on_more: Callable[[], None], mine: frozenset[str] = frozenset()
) -> ft.Control:
    """A row of :data:`QUICK_REACTIONS` buttons ("React with thumbs up", …) and "More reactions";
    emojis in ``mine`` are shown selected (clicking them again removes the reaction)."""
    buttons: list[ft.Control] = [
        ft.Container(
            ft.Text(char, size=24),
            padding=6,
            border_radius=20,
            bgcolor=ft.Colors.PRIMARY_CONTAINER if char in mine else None,
            tooltip=f"{'Remove' if char in mine else 'React with'} {name_of(char)}",
            on_click=lambda _, c=char: on_react(c),
        )
        for char in QUICK_REACTIONS
    ]
    buttons.append(icon_button(ft.Icons.ADD_REACTION_OUTLINED, "More reactions", on_click=on_more))
    return ft.Row(buttons, spacing=2, wrap=True)
