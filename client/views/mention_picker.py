"""@mention autocomplete for the composer: typing ``@`` and letters lists the conversation's
matching members above the field; Arrow Up/Down move, Enter or a click inserts ``@username ``,
Esc closes."""

import re
from collections.abc import Callable
from dataclasses import dataclass

import flet as ft

from client.offline.records import MemberRow
from client.views.avatar import avatar
from client.views.widgets import refresh

MAX_SUGGESTIONS = 6
_TRAILING_MENTION = re.compile(r"(?:^|(?<=\s))@([A-Za-z0-9_.]{0,32})$")


@dataclass(frozen=True)
class MentionQuery:
    """An unfinished ``@prefix`` ending at the cursor: ``text[start:end]`` is ``@prefix``."""

    start: int
    end: int
    prefix: str


def mention_query(text: str, cursor: int | None) -> MentionQuery | None:
    """The ``@prefix`` being typed at ``cursor`` (None: the end), if any; an ``@`` inside a
    word (an e-mail address) does not count."""
    end = len(text) if cursor is None else min(cursor, len(text))
    match = _TRAILING_MENTION.search(text[:end])
    if match is None:
        return None
    return MentionQuery(match.start(1) - 1, end, match.group(1).lower())


def matching_members(
    members: list[MemberRow], prefix: str, me: str, limit: int = MAX_SUGGESTIONS
) -> list[MemberRow]:
    """Members (not ``me``, with a username) whose username or a word of whose display name
    starts with ``prefix``; username matches first, then by username."""
    found: list[tuple[bool, str, MemberRow]] = []
    for member in members:
        if member.user_id == me or not member.username:
            continue
        username = member.username.lower()
        words = (member.display_name or "").lower().split()
        if username.startswith(prefix):
            found.append((False, username, member))
        elif any(word.startswith(prefix) for word in words):
            found.append((True, username, member))
    return [member for *_, member in sorted(found, key=lambda f: (f[0], f[1]))[:limit]]


class MentionPicker:
    """The suggestion list. ``update(text, cursor)`` after every edit; ``accept()`` inserts the
    highlighted member through ``on_insert(start, end, text)``."""

    def __init__(
        self,
        members: Callable[[], list[MemberRow]],
        me: str,
        on_insert: Callable[[int, int, str], None],
    ) -> None:
        """``members()`` reads the open conversation's members."""
        self._members = members
        self._me = me
        self._on_insert = on_insert
        self.query: MentionQuery | None = None
        self.matches: list[MemberRow] = []
        self.index = 0
        self.list = ft.Column(spacing=0, tight=True)
        self.control = ft.Container(
            visible=False,
            bgcolor=ft.Colors.SURFACE_CONTAINER_HIGH,
            border_radius=12,
            padding=ft.Padding.symmetric(vertical=4),
            content=ft.Semantics(label="Mention suggestions", container=True, content=self.list),
        )

    @property
    def is_open(self) -> bool:
        """True while suggestions are shown."""
        return self.control.visible

    def update(self, text: str, cursor: int | None) -> None:
        """Re-read the ``@prefix`` at the cursor and show the members it matches."""
        self.query = mention_query(text, cursor)
        self.matches = (
            []
            if self.query is None
            else matching_members(self._members(), self.query.prefix, self._me)
        )
        self.index = 0
        self._render()

    def move(self, step: int) -> None:
        """Highlight the next (``1``) or previous (``-1``) suggestion, wrapping around."""
        if self.matches:
            self.index = (self.index + step) % len(self.matches)
            self._render()

    def accept(self, index: int | None = None) -> bool:
        """Insert the highlighted (or ``index``-th) member as ``@username ``; False when no
        suggestion is shown."""
        if not self.is_open or self.query is None:
            return False
        member = self.matches[self.index if index is None else index]
        query = self.query
        self.close()
        self._on_insert(query.start, query.end, f"@{member.username} ")
        return True

    def close(self) -> bool:
        """Hide the suggestions; False when they were not shown."""
        was_open = self.is_open
        self.query, self.matches = None, []
        self._render()
        return was_open

    def handle_key(self, key: str) -> bool:
        """Arrow Up/Down move and Esc closes while suggestions are shown; True when handled."""
        if not self.is_open:
            return False
        if key == "Arrow Down":
            self.move(1)
        elif key == "Arrow Up":
            self.move(-1)
        elif key == "Escape":
            self.close()
        else:
            return False
        return True

    def _render(self) -> None:
        self.control.visible = bool(self.matches)
        self.list.controls = [self._tile(i, member) for i, member in enumerate(self.matches)]
        refresh(self.control)

    def _tile(self, index: int, member: MemberRow) -> ft.Control:
        name = member.display_name or member.username or member.user_id
        return ft.ListTile(
            leading=avatar(name, member.user_id, radius=14),
            title=ft.Text(name),
            subtitle=ft.Text(f"@{member.username}"),
            dense=True,
            selected=index == self.index,
            on_click=lambda: self.accept(index),
        )
