"""A conversation's settings panel: mute for a while or for good, pin to the top, archive."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import flet as ft

from client.offline.records import ChatRow
from client.views.chat_list import muted_label
from client.views.widgets import refresh

MUTE_CHOICES: dict[str, timedelta | None] = {
    "Mute for 1 hour": timedelta(hours=1),
    "Mute for 8 hours": timedelta(hours=8),
    "Mute for 1 day": timedelta(days=1),
    "Mute for 1 week": timedelta(weeks=1),
    "Mute forever": None,
}
"""The mute durations offered (None: forever)."""
NOT_MUTED = "Not muted"


@dataclass(frozen=True)
class SettingsHandlers:
    """What the panel's controls do (each applies at once, through the outbox)."""

    mute: Callable[[timedelta | None], None]
    unmute: Callable[[], None]
    pin: Callable[[bool], None]
    archive: Callable[[bool], None]
    close: Callable[[], None]


class ConversationSettingsPanel:
    """``dialog`` shows and changes one conversation's settings; call :meth:`show` after a
    change to re-read them."""

    def __init__(self, title: str, row: ChatRow, handlers: SettingsHandlers) -> None:
        """Build the panel for ``row`` (named ``title``)."""
        self._handlers = handlers
        self.muted = ft.Text("", size=12, color=ft.Colors.ON_SURFACE_VARIANT)
        self.mute = ft.RadioGroup(
            content=ft.Column(
                [
                    ft.Radio(value=NOT_MUTED, label=NOT_MUTED),
                    *(ft.Radio(value=choice, label=choice) for choice in MUTE_CHOICES),
                ],
                spacing=0,
                tight=True,
            ),
            on_change=self._mute_changed,
        )
        self.pinned = ft.Switch(label="Pin to top", on_change=self._pin_changed)
        self.archived = ft.Switch(label="Archive", on_change=self._archive_changed)
        self.dialog = ft.AlertDialog(
            title=ft.Text(f"{title}: settings"),
            content=ft.Column(
                [
                    ft.Text("Notifications", weight=ft.FontWeight.BOLD),
                    self.muted,
                    self.mute,
                    ft.Divider(height=1),
                    self.pinned,
                    self.archived,
                ],
                tight=True,
                width=340,
            ),
            actions=[ft.TextButton("Close", on_click=handlers.close)],
        )
        self.show(row)

    def show(self, row: ChatRow, now: datetime | None = None) -> None:
        """Show ``row``'s current settings."""
        label = muted_label(row, now or datetime.now(UTC))
        self.muted.value = label or NOT_MUTED
        if label is None:
            self.mute.value = NOT_MUTED
        elif row.muted_until is None:
            self.mute.value = "Mute forever"
        self.pinned.value = row.is_pinned
        self.archived.value = row.is_archived
        refresh(self.dialog)

    def _mute_changed(self) -> None:
        choice = self.mute.value
        if choice == NOT_MUTED:
            self._handlers.unmute()
        elif choice in MUTE_CHOICES:
            self._handlers.mute(MUTE_CHOICES[choice])

    def _pin_changed(self) -> None:
        self._handlers.pin(bool(self.pinned.value))

    def _archive_changed(self) -> None:
        self._handlers.archive(bool(self.archived.value))
