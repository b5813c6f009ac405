"""The report dialog: why a message is reported (and an optional note) for the moderators."""

from collections.abc import Callable

import flet as ft

from client.views.widgets import refresh

REPORT_REASONS = {
    "SPAM": "Spam",
    "HARASSMENT": "Harassment or bullying",
    "INAPPROPRIATE": "Inappropriate content",
    "OTHER": "Something else",
}
"""The server's report reasons and how the dialog names them."""
MAX_NOTE_LENGTH = 1000


def report_dialog(
    on_send: Callable[[str, str], None], on_close: Callable[[], None]
) -> ft.AlertDialog:
    """Ask for a reason and a note, then ``on_send(reason, note)``; Esc or Cancel closes."""
    send = ft.FilledButton("Send report", disabled=True)
    reason = ft.RadioGroup(
        content=ft.Column(
            [ft.Radio(value=code, label=label) for code, label in REPORT_REASONS.items()],
            spacing=0,
            tight=True,
        ),
    )
    note = ft.TextField(
        label="Note for the moderators (optional)",
        multiline=True,
        min_lines=2,
        max_lines=4,
        max_length=MAX_NOTE_LENGTH,
    )

    def chosen() -> None:
        send.disabled = not reason.value
        refresh(send)

    def submit() -> None:
        if reason.value:
            on_send(reason.value, note.value)

    reason.on_change = chosen
    send.on_click = submit
    return ft.AlertDialog(
        title=ft.Text("Report message"),
        content=ft.Column(
            [ft.Text("Why are you reporting this message?"), reason, note],
            tight=True,
            width=360,
        ),
        actions=[ft.TextButton("Cancel", on_click=on_close), send],
    )
