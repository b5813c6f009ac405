"""The new group dialog: a title and the people to add (found on the server), then Create."""

from collections.abc import Callable

import flet as ft

from client.views.people_search import FindPeople, PeopleSearch, person_label
from client.views.widgets import icon_button, refresh
from protocol.limits import MAX_GROUP_TITLE_LENGTH
from protocol.models import User

CreateGroup = Callable[[str, list[User]], None]
"""Create the group with this title and these members."""


class NewGroupDialog:
    """``dialog`` asks for the title and members and calls ``on_create(title, members)``."""

    def __init__(self, find: FindPeople, on_create: CreateGroup, on_close: Callable[[], None]):
        """Build the dialog (show it with ``page.show_dialog(self.dialog)``)."""
        self.members: list[User] = []
        self._on_create = on_create
        self.title = ft.TextField(
            label="Group name",
            autofocus=True,
            max_length=MAX_GROUP_TITLE_LENGTH,
            dense=True,
            on_change=self._sync,
            on_submit=self._create,
        )
        self.chosen = ft.Row(wrap=True, spacing=4, run_spacing=4)
        self.search = PeopleSearch(find, self.add)
        self.search.field.autofocus = False
        self.create = ft.FilledButton("Create group", disabled=True, on_click=self._create)
        self.dialog = ft.AlertDialog(
            title=ft.Text("New group"),
            content=ft.Column(
                [self.title, self.chosen, self.search.control],
                tight=True,
                width=380,
                horizontal_alignment=ft.CrossAxisAlignment.STRETCH,
            ),
            actions=[ft.TextButton("Cancel", on_click=on_close), self.create],
        )
        self._show_chosen()

    def add(self, user: User) -> None:
        """Add ``user`` to the members (once)."""
        if all(member.id != user.id for member in self.members):
            self.members.append(user)
            self._show_chosen()

    def remove(self, user: User) -> None:
        """Take ``user`` off the members."""
        self.members = [member for member in self.members if member.id != user.id]
        self._show_chosen()

    def _show_chosen(self) -> None:
        empty = ft.Text("No members yet", size=12, color=ft.Colors.ON_SURFACE_VARIANT)
        self.chosen.controls = [self._chip(user) for user in self.members] or [empty]
        refresh(self.chosen)

    def _chip(self, user: User) -> ft.Control:
        return ft.Container(
            bgcolor=ft.Colors.SECONDARY_CONTAINER,
            border_radius=16,
            padding=ft.Padding(12, 0, 0, 0),
            content=ft.Row(
                [
                    ft.Text(user.display_name, color=ft.Colors.ON_SECONDARY_CONTAINER),
                    icon_button(
                        ft.Icons.CLOSE,
                        f"Remove {person_label(user)}",
                        size=16,
                        on_click=lambda: self.remove(user),
                    ),
                ],
                tight=True,
                spacing=0,
            ),
        )

    def _sync(self) -> None:
        self.create.disabled = not self.title.value.strip()
        refresh(self.create)

    def _create(self) -> None:
        title = self.title.value.strip()
        if title:
            self._on_create(title, list(self.members))
