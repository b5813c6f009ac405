"""The message info dialog: when a message was sent and, for each other member, whether and
when it was delivered and seen."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, tzinfo

import flet as ft

from client.views.widgets import bound, refresh
from client.wording import moment_text


@dataclass(frozen=True)
class Receipt:
    """One member's progress with the message (times None when not known)."""

    name: str
    delivered: bool
    read: bool
    delivered_at: datetime | None = None
    read_at: datetime | None = None


def receipt_text(receipt: Receipt, now: datetime, zone: tzinfo | None = None) -> str:
    """ "Seen 14:05 · delivered 14:03", "Delivered 14:03", "Seen" (time unknown) or "Not
    delivered yet"."""
    if not receipt.delivered:
        return "Not delivered yet"
    delivered = (
        f"delivered {moment_text(receipt.delivered_at, now, zone)}" if receipt.delivered_at else ""
    )
    if not receipt.read:
        return delivered.capitalize() if delivered else "Delivered"
    seen = f"Seen {moment_text(receipt.read_at, now, zone)}" if receipt.read_at else "Seen"
    return (
        f"{seen} · {delivered}" if delivered and receipt.delivered_at != receipt.read_at else seen
    )


class MessageInfoDialog:
    """``dialog`` lists the receipts; :meth:`show` replaces them (times arrive later)."""

    def __init__(self, sent_at: datetime, receipts: list[Receipt], on_close: Callable[[], None]):
        """Show ``receipts`` (from the cache, without times) for a message sent at ``sent_at``."""
        self.sent_at = sent_at
        self.rows = ft.Column(tight=True, spacing=0, width=360)
        self.dialog = ft.AlertDialog(
            title=ft.Text("Message info"),
            content=self.rows,
            actions=[ft.TextButton("Close", on_click=on_close)],
        )
        self.show(receipts)

    def show(self, receipts: list[Receipt], now: datetime | None = None) -> None:
        """List ``receipts`` under the sending time."""
        moment = now or datetime.now(self.sent_at.tzinfo)
        sent = ft.Text(
            f"Sent {moment_text(self.sent_at, moment)}", color=ft.Colors.ON_SURFACE_VARIANT
        )
        tiles: list[ft.Control] = [
            ft.ListTile(
                title=ft.Text(receipt.name),
                subtitle=ft.Text(receipt_text(receipt, moment)),
                dense=True,
            )
            for receipt in receipts
        ]
        self.rows.controls = [sent, *(tiles or [ft.Text("No other members")])]
        bound(self.rows, len(tiles) + 1)
        refresh(self.dialog)
