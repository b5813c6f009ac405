"""The forward dialog: pick up to N conversations, then forward."""

from collections.abc import Callable, Sequence

import flet as ft

from client.views.widgets import bound


def forward_dialog(
    choices: Sequence[tuple[str, str]],
    limit: int,
    on_send: Callable[[list[str]], None],
    on_close: Callable[[], None],
) -> ft.AlertDialog:
    """``choices`` are ``(conversation_id, title)``; at most ``limit`` can be ticked."""
    chosen: list[str] = []
    send = ft.FilledButton("Forward", disabled=True, on_click=lambda: on_send(list(chosen)))
    hint = ft.Text(f"Choose up to {limit} chats", size=12, color=ft.Colors.ON_SURFACE_VARIANT)
    boxes: list[ft.Checkbox] = []

    def toggled(conversation_id: str, box: ft.Checkbox) -> None:
        if box.value and conversation_id not in chosen:
            chosen.append(conversation_id)
        elif not box.value and conversation_id in chosen:
            chosen.remove(conversation_id)
        full = len(chosen) >= limit
        for other in boxes:
            other.disabled = full and not other.value
        send.disabled = not chosen
        hint.value = f"{len(chosen)} of {limit} chosen"
        dialog.update()

    for conversation_id, title in choices:
        box = ft.Checkbox(label=title, value=False)
        box.on_change = lambda _, c=conversation_id, b=box: toggled(c, b)
        boxes.append(box)
    dialog = ft.AlertDialog(
        title=ft.Text("Forward to…"),
        content=bound(
            ft.Column(
                [hint, *boxes] if boxes else [ft.Text("No other chats yet")],
                tight=True,
                width=360,
            ),
            len(boxes) + 1,
        ),
        actions=[ft.TextButton("Cancel", on_click=on_close), send],
    )
    return dialog
