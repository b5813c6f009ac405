"""The audit log dialog of a group: who did what to whom, newest first, a page at a time."""

from collections.abc import Callable
from datetime import UTC, datetime

import flet as ft

from client.audit_text import NameOf, describe
from client.views.widgets import refresh
from client.wording import moment_text
from protocol.models import AuditEntry


class AuditLogDialog:
    """``dialog`` lists the entries :meth:`add_page` is given; "Show older" asks for more."""

    def __init__(
        self, name_of: NameOf, load_older: Callable[[], None], close: Callable[[], None]
    ) -> None:
        """An empty log ("Loading…") naming people with ``name_of``."""
        self._name_of = name_of
        self.entries = ft.Column(
            [ft.Text("Loading…")], tight=True, spacing=0, scroll=ft.ScrollMode.AUTO
        )
        self.older = ft.TextButton("Show older entries", on_click=load_older, visible=False)
        self.dialog = ft.AlertDialog(
            title=ft.Text("Audit log"),
            content=ft.Column(
                [self.entries, self.older],
                tight=True,
                width=420,
                height=420,
                horizontal_alignment=ft.CrossAxisAlignment.STRETCH,
            ),
            actions=[ft.TextButton("Close", on_click=close)],
        )
        self._shown = 0

    def add_page(
        self, entries: list[AuditEntry], has_more: bool, now: datetime | None = None
    ) -> None:
        """Show ``entries`` below those already shown; offer older ones when ``has_more``."""
        moment = now or datetime.now(UTC)
        tiles = [self._tile(entry, moment) for entry in entries]
        self.entries.controls = [*(self.entries.controls if self._shown else []), *tiles]
        self._shown += len(entries)
        if not self._shown:
            self.entries.controls = [ft.Text("Nothing has happened in this group yet")]
        self.older.visible = has_more
        refresh(self.dialog)

    def _tile(self, entry: AuditEntry, now: datetime) -> ft.Control:
        """One entry, its own node for screen readers ("<what happened>, <when>")."""
        words, when = describe(entry, self._name_of, now), moment_text(entry.created_at, now)
        return ft.Semantics(
            container=True,
            label=f"{words}, {when}",
            content=ft.ListTile(title=ft.Text(words), subtitle=ft.Text(when), dense=True),
        )
