"""The message action menu (long press, right click, or a bubble's actions button)."""

from collections.abc import Callable
from dataclasses import dataclass

import flet as ft

from client.offline.records import CachedMessage
from client.views.reaction_picker import quick_reactions


@dataclass(frozen=True)
class MessageAction:
    """One entry of the menu: its label, icon and what it does."""

    label: str
    icon: ft.IconData
    run: Callable[[], None]


def actions_dialog(
    message: CachedMessage,
    actions: list[MessageAction],
    on_react: Callable[[str], None] | None,
    on_more_reactions: Callable[[], None],
    on_close: Callable[[], None],
) -> ft.AlertDialog:
    """A dialog with the quick reaction row (when reacting is allowed) and ``actions``.

    Every entry closes the dialog before it runs."""

    def run(action: Callable[[], None]) -> Callable[[], None]:
        def handler() -> None:
            on_close()
            action()

        return handler

    mine = frozenset(r.emoji for r in message.reactions if r.reacted_by_me)
    rows: list[ft.Control] = []
    if on_react is not None:
        react = on_react
        rows.append(
            quick_reactions(lambda char: run(lambda: react(char))(), run(on_more_reactions), mine)
        )
    rows.extend(
        ft.ListTile(
            leading=ft.Icon(action.icon),
            title=ft.Text(action.label),
            on_click=run(action.run),
            dense=True,
        )
        for action in actions
    )
    return ft.AlertDialog(
        modal=False,
        title=ft.Text("Message", size=16),
        content=ft.Column(rows, tight=True, spacing=0, width=340, scroll=ft.ScrollMode.AUTO),
        actions=[ft.TextButton("Close", on_click=on_close)],
    )


def confirm_dialog(
    title: str,
    text: str,
    confirm: str,
    on_confirm: Callable[[], None],
    on_close: Callable[[], None],
) -> ft.AlertDialog:
    """A yes/no dialog ("Delete message?"); ``on_confirm`` runs after it closes."""

    def confirmed() -> None:
        on_close()
        on_confirm()

    return ft.AlertDialog(
        modal=True,
        title=ft.Text(title),
        content=ft.Text(text),
        actions=[
            ft.TextButton("Cancel", on_click=on_close),
            ft.FilledButton(confirm, on_click=confirmed),
        ],
    )
