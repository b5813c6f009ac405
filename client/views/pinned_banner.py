"""The chat header's pinned-message banner, as in Telegram: it shows the newest pin; with
several, "Pinned message 2 of 3", and a click goes to the shown pin and then moves the banner to
the next older one (after the oldest, back to the newest)."""

from collections.abc import Callable, Sequence

import flet as ft

from client.offline.records import CachedMessage
from client.views.bubble import summary
from client.views.widgets import refresh

BANNER_TEXT_LENGTH = 80


class PinnedBanner:
    """The banner over a chat's pinned messages (oldest pin first, as the cache lists them)."""

    def __init__(self, on_jump: Callable[[str], object]) -> None:
        """``on_jump(message_id)`` shows a pinned message in the chat."""
        self._on_jump = on_jump
        self.pins: tuple[CachedMessage, ...] = ()
        self.index = 0
        """Which of ``pins`` the banner shows."""
        self.text = ft.Text("", max_lines=1, expand=True)
        self.control = ft.Container(
            visible=False,
            padding=ft.Padding.symmetric(horizontal=12, vertical=6),
            bgcolor=ft.Colors.SURFACE_CONTAINER_HIGH,
            on_click=self._clicked,
            tooltip="Go to the pinned message",
            content=ft.Row([ft.Icon(ft.Icons.PUSH_PIN, size=16), self.text]),
        )

    @property
    def shown(self) -> CachedMessage | None:
        """The pinned message the banner shows, if any."""
        return self.pins[self.index] if self.pins else None

    def is_pinned(self, message: CachedMessage) -> bool:
        """True when ``message`` is one of the chat's pinned messages."""
        return message.id is not None and any(pin.id == message.id for pin in self.pins)

    def show(self, pins: Sequence[CachedMessage]) -> None:
        """Show the chat's pinned messages: the one shown stays while it is pinned and no newer
        pin came; otherwise the newest is shown."""
        shown, newest = self.shown, self.pins[-1].id if self.pins else None
        self.pins = tuple(pins)
        ids = [pin.id for pin in self.pins]
        if shown is not None and shown.id in ids and (ids[-1] == newest):
            self.index = ids.index(shown.id)
        else:
            self.index = len(self.pins) - 1
        self._render()

    def _render(self) -> None:
        pin = self.shown
        self.control.visible = pin is not None
        if pin is None:
            return
        text = summary(pin, BANNER_TEXT_LENGTH)
        if len(self.pins) == 1:
            self.text.value = f"Pinned: {text}"
        else:
            self.text.value = f"Pinned message {self.index + 1} of {len(self.pins)}: {text}"

    def _clicked(self) -> None:
        pin = self.shown
        if pin is None or pin.id is None:
            return
        self._on_jump(pin.id)
        self.index = (self.index - 1) % len(self.pins)
        self._render()
        refresh(self.control)
