"""The chat list: one tile per conversation, a search field, a connection banner, empty state."""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import flet as ft

from client.offline.records import ChatRow
from client.views.avatar import avatar
from client.views.format import badge_text, short_time, unread_label
from client.views.widgets import icon_button, labelled_icon
from client.wording import preview_text


@dataclass(frozen=True)
class ChatTileData:
    """Everything one chat-list tile shows, resolved from a :class:`ChatRow` and the store."""

    row: ChatRow
    title: str
    preview_sender: str | None = None
    """"You", a group member's name, or None (direct chats from the other person)."""
    typing: str | None = None
    """"typing…" or "Ann is typing…" while someone types, else None."""
    online: bool = False


def muted_left(row: ChatRow, now: datetime) -> str | None:
    """How long a mute has left: "20 min", "3 h", "2 d"; "" for a mute without an end; None
    when the chat is not muted."""
    if not row.is_muted:
        return None
    if row.muted_until is None:
        return ""
    left = row.muted_until - now
    if left.total_seconds() <= 0:
        return None
    minutes = int(left.total_seconds() // 60) + 1
    if minutes < 60:
        return f"{minutes} min"
    if minutes < 48 * 60:
        return f"{minutes // 60} h"
    return f"{minutes // (24 * 60)} d"


def muted_label(row: ChatRow, now: datetime) -> str | None:
    """ "Muted", "Muted for 3 h" / "Muted for 20 min" / "Muted for 2 d", or None when not muted."""
    left = muted_left(row, now)
    if left is None:
        return None
    return f"Muted for {left}" if left else "Muted"


class ChatTile:
    """One conversation in the list. ``control`` is a button labelled with the chat's title."""

    def __init__(
        self,
        data: ChatTileData,
        on_open: Callable[[str], None],
        selected: bool = False,
        now: datetime | None = None,
        on_menu: Callable[[str], None] | None = None,
    ) -> None:
        """Render ``data``; clicking calls ``on_open(conversation_id)``, a long press (or right
        click) ``on_menu(conversation_id)``."""
        row = data.row
        moment = now or datetime.now(UTC)
        muted, muted_for = muted_label(row, moment), muted_left(row, moment)
        if data.typing:
            line = ft.Text(data.typing, italic=True, color=ft.Colors.PRIMARY, max_lines=1)
        elif row.draft:
            line = ft.Text(
                spans=[
                    ft.TextSpan("Draft: ", ft.TextStyle(color=ft.Colors.ERROR)),
                    ft.TextSpan(" ".join(row.draft.split())),
                ],
                max_lines=1,
                overflow=ft.TextOverflow.ELLIPSIS,
            )
        else:
            line = ft.Text(
                preview_text(row.last_message, data.preview_sender),
                max_lines=1,
                overflow=ft.TextOverflow.ELLIPSIS,
                color=ft.Colors.ON_SURFACE_VARIANT,
                italic=row.last_message is not None and row.last_message.deleted,
            )
        flags: list[ft.Control] = []
        if row.is_pinned:
            flags.append(ft.Icon(ft.Icons.PUSH_PIN, size=14, semantics_label="Pinned"))
        if muted and muted_for:  # the time left is shown, not only told to screen readers
            flags.append(
                ft.Container(
                    ft.Row(
                        [
                            ft.Icon(ft.Icons.VOLUME_OFF, size=12),
                            ft.Text(muted_for, size=11, semantics_label=muted),
                        ],
                        spacing=2,
                        tight=True,
                    ),
                    bgcolor=ft.Colors.SURFACE_CONTAINER_HIGHEST,
                    border_radius=8,
                    padding=ft.Padding.symmetric(horizontal=5, vertical=1),
                )
            )
        elif muted:
            flags.append(ft.Icon(ft.Icons.VOLUME_OFF, size=14, semantics_label=muted))
        when = row.last_message.created_at if row.last_message else row.last_activity_at
        top = ft.Row(
            [
                ft.Text(
                    data.title,
                    semantics_label=f"{data.title}, online" if data.online else data.title,
                    weight=ft.FontWeight.BOLD,
                    max_lines=1,
                    overflow=ft.TextOverflow.ELLIPSIS,
                    expand=True,
                ),
                *flags,
                ft.Text(short_time(when, moment), size=12, color=ft.Colors.ON_SURFACE_VARIANT),
            ],
            spacing=4,
        )
        bottom: list[ft.Control] = [ft.Container(line, expand=True)]
        if row.unread_count > 0:
            bottom.append(
                ft.Semantics(
                    label=unread_label(row.unread_count),
                    content=ft.Container(
                        ft.Text(
                            badge_text(row.unread_count),
                            size=12,
                            color=ft.Colors.ON_PRIMARY,
                            weight=ft.FontWeight.BOLD,
                        ),
                        bgcolor=ft.Colors.OUTLINE if row.is_muted else ft.Colors.PRIMARY,
                        border_radius=10,
                        padding=ft.Padding.symmetric(horizontal=7, vertical=2),
                    ),
                )
            )
        self.conversation_id = row.id
        self.control = ft.MergeSemantics(
            content=ft.Semantics(
                button=True,
                selected=selected,
                content=ft.Container(
                    key=row.id,
                    padding=ft.Padding.symmetric(horizontal=12, vertical=8),
                    bgcolor=ft.Colors.SECONDARY_CONTAINER if selected else None,
                    border_radius=12,
                    on_click=lambda: on_open(row.id),
                    on_long_press=(lambda: on_menu(row.id)) if on_menu else None,
                    content=ft.Row(
                        [
                            avatar(data.title, row.peer_id or row.id, data.online, announce=False),
                            ft.Column([top, ft.Row(bottom, spacing=6)], spacing=2, expand=True),
                        ],
                        spacing=12,
                    ),
                ),
            )
        )


def archive_entry(count: int, on_click: Callable[[], None]) -> ft.Control:
    """The "Archived (N)" entry above the chat list."""
    return ft.ListTile(
        leading=ft.Icon(ft.Icons.ARCHIVE_OUTLINED),
        title=ft.Text(f"Archived ({count})"),
        dense=True,
        on_click=on_click,
    )


class ChatListView:
    """The list of conversations (or the archive) with a search field, a connection banner,
    the "Archived (N)" entry and an empty state."""

    def __init__(
        self,
        on_open: Callable[[str], None],
        on_search: Callable[[str], None],
        on_new_chat: Callable[[], None],
        *,
        on_show_archive: Callable[[bool], None] | None = None,
        on_refresh: Callable[[], None] | None = None,
        on_menu: Callable[[str], None] | None = None,
    ) -> None:
        """``on_open(id)`` opens a chat, ``on_search(text)`` searches, ``on_new_chat()`` finds a
        user to talk to, ``on_show_archive(True/False)`` switches to the archive and back,
        ``on_refresh()`` pulls changes, ``on_menu(id)`` opens a chat's settings."""
        self._on_open = on_open
        self._on_search = on_search
        self._on_show_archive = on_show_archive or (lambda _: None)
        self._on_menu = on_menu
        self.selected: str | None = None
        self.archived = False
        self.banner = ft.Container(
            visible=False,
            bgcolor=ft.Colors.TERTIARY_CONTAINER,
            padding=ft.Padding.symmetric(horizontal=12, vertical=6),
            content=ft.Text("", color=ft.Colors.ON_TERTIARY_CONTAINER),
        )
        self.search = ft.TextField(
            label="Search chats and messages",
            prefix_icon=ft.Icons.SEARCH,
            dense=True,
            border=ft.OutlineInputBorder(border_radius=24),
            on_submit=self._submit_search,
        )
        self.on_sign_out: Callable[[], None] = lambda: None
        self.sign_out = icon_button(
            ft.Icons.LOGOUT, "Sign out", on_click=lambda: self.on_sign_out()
        )
        self.refresh = icon_button(
            ft.Icons.REFRESH, "Refresh chats", on_click=on_refresh, visible=on_refresh is not None
        )
        self.archive_bar = ft.Container(
            visible=False,
            padding=ft.Padding(4, 0, 12, 0),
            content=ft.Row(
                [
                    icon_button(
                        ft.Icons.ARROW_BACK,
                        "Close the archive",
                        on_click=lambda: self._on_show_archive(False),
                    ),
                    ft.Text("Archived chats", weight=ft.FontWeight.BOLD, size=16),
                ],
                spacing=8,
            ),
        )
        self.tiles = ft.ListView(expand=True, spacing=2, padding=ft.Padding.symmetric(horizontal=6))
        self.empty_text = ft.Text(
            "", text_align=ft.TextAlign.CENTER, color=ft.Colors.ON_SURFACE_VARIANT
        )
        self.empty = ft.Container(
            self.empty_text,
            padding=32,
            alignment=ft.Alignment.CENTER,
            visible=False,
        )
        self.new_chat = ft.FloatingActionButton(
            content=labelled_icon(ft.Icons.EDIT, "New chat"),
            tooltip="New chat",
            on_click=on_new_chat,
        )
        self.control = ft.Stack(
            expand=True,
            controls=[
                ft.Column(
                    horizontal_alignment=ft.CrossAxisAlignment.STRETCH,
                    controls=[
                        self.banner,
                        ft.Container(
                            ft.Row(
                                [
                                    ft.Container(self.search, expand=True),
                                    self.refresh,
                                    self.sign_out,
                                ],
                                spacing=0,
                            ),
                            padding=ft.Padding(12, 8, 4, 4),
                        ),
                        self.archive_bar,
                        self.empty,
                        self.tiles,
                    ],
                    spacing=0,
                    expand=True,
                ),
                ft.Container(self.new_chat, right=16, bottom=16),
            ],
        )

    def _submit_search(self) -> None:
        self._on_search(self.search.value.strip())

    def show(
        self,
        items: Sequence[ChatTileData],
        now: datetime | None = None,
        archived: bool = False,
        archived_count: int = 0,
    ) -> None:
        """Replace the tiles with ``items`` (already in display order): the archive when
        ``archived``, else the main list with the "Archived (N)" entry when N > 0."""
        tiles: list[ft.Control] = []
        if not archived and archived_count:
            tiles.append(archive_entry(archived_count, lambda: self._on_show_archive(True)))
        tiles.extend(
            ChatTile(item, self._on_open, item.row.id == self.selected, now, self._on_menu).control
            for item in items
        )
        self.tiles.controls = tiles
        self.archived = archived
        self.archive_bar.visible = archived
        self.empty_text.value = (
            "No archived chats" if archived else "No chats yet. Start one with the new chat button."
        )
        self.empty.visible = not items and (archived or not archived_count)

    def show_connection(self, text: str | None) -> None:
        """Show ``text`` in the banner ("Waiting for network…"), or hide it with None."""
        self.banner.visible = bool(text)
        banner_text = self.banner.content
        assert isinstance(banner_text, ft.Text)
        banner_text.value = text or ""
