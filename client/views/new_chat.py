"""The new chat dialog: find a person and open the direct chat with them, or start a group."""

from collections.abc import Callable

import flet as ft

from client.views.people_search import FindPeople, PeopleSearch
from protocol.models import User


def new_chat_dialog(
    find: FindPeople,
    on_pick: Callable[[User], None],
    on_new_group: Callable[[], None],
    on_close: Callable[[], None],
) -> ft.AlertDialog:
    """``on_pick(user)`` opens (or creates) the chat with ``user``; Esc or Cancel closes."""
    search = PeopleSearch(find, on_pick)
    new_group = ft.ListTile(
        leading=ft.Icon(ft.Icons.GROUP_ADD),
        title=ft.Text("New group"),
        dense=True,
        on_click=on_new_group,
    )
    return ft.AlertDialog(
        title=ft.Text("New chat"),
        content=ft.Column(
            [new_group, ft.Divider(height=1), search.control],
            tight=True,
            width=380,
            horizontal_alignment=ft.CrossAxisAlignment.STRETCH,
        ),
        actions=[ft.TextButton("Cancel", on_click=on_close)],
    )
