"""A search field over the server's people directory, with its results, used by the new chat
and new group dialogs. Only the latest query's answer is shown."""

from collections.abc import Awaitable, Callable

import flet as ft

from client.errors import OpenChatError
from client.views.avatar import avatar
from client.views.server_errors import explain
from client.views.widgets import refresh
from protocol.models import User

MAX_SHOWN = 5
"""The best matches shown (a longer query narrows them)."""
FindPeople = Callable[[str], Awaitable[list[User]]]
"""Asks the server for people matching a query (``ServerActions.find_people``)."""


def person_label(user: User) -> str:
    """ "Bob Baker (@bob)"."""
    return f"{user.display_name} (@{user.username})"


class PeopleSearch:
    """A "Find people" field and the list of matches; ``on_pick(user)`` runs on a click."""

    def __init__(self, find: FindPeople, on_pick: Callable[[User], None]) -> None:
        """Search with ``find`` as the user types."""
        self._find = find
        self._on_pick = on_pick
        self._latest = ""
        self.field = ft.TextField(
            label="Find people by name or username",
            prefix_icon=ft.Icons.PERSON_SEARCH,
            autofocus=True,
            dense=True,
            on_change=self._changed,
            on_submit=self._changed,
        )
        self.status = ft.Text(
            "Type a name or username", size=12, color=ft.Colors.ON_SURFACE_VARIANT
        )
        self.results = ft.Column(spacing=0, tight=True)
        self.control = ft.Column(
            [self.field, self.status, self.results],
            tight=True,
            spacing=6,
            horizontal_alignment=ft.CrossAxisAlignment.STRETCH,
        )

    async def _changed(self) -> None:
        query = self.field.value.strip()
        self._latest = query
        if not query:
            self._show([], "Type a name or username")
            return
        try:
            people = await self._find(query)
        except OpenChatError as error:
            if query == self._latest:
                self._show([], explain(error, "Finding people"))
            return
        if query == self._latest:
            self._show(people, "" if people else "No results")

    def clear(self) -> None:
        """Empty the field and its matches (after a pick that keeps the search open)."""
        self.field.value = ""
        self._latest = ""
        self._show([], "Type a name or username")

    def _show(self, people: list[User], status: str) -> None:
        self.status.value = status
        self.status.visible = bool(status)
        self.results.controls = [self._row(user) for user in people[:MAX_SHOWN]]
        refresh(self.control)

    def _row(self, user: User) -> ft.Control:
        return ft.ListTile(
            leading=avatar(user.display_name, user.id, radius=16),
            title=ft.Text(user.display_name),
            subtitle=ft.Text(f"@{user.username}"),
            dense=True,
            on_click=lambda: self._on_pick(user),
        )
