"""A message bubble: text with @mentions, reply quote, forward origin, time, ticks, reactions."""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import tzinfo

import flet as ft

from client.offline.records import CachedMessage, MessageStatus
from client.views.format import STATUS_LABELS, clock, split_mentions
from client.views.widgets import icon_button

MAX_REACTION_CHIPS = 4
"""Reaction chips shown under a bubble; the rest are summed up in a "+N" chip."""

_TICKS = {
    MessageStatus.PENDING: (ft.Icons.SCHEDULE, None),
    MessageStatus.SENT: (ft.Icons.DONE, None),
    MessageStatus.DELIVERED: (ft.Icons.DONE_ALL, None),
    MessageStatus.READ: (ft.Icons.DONE_ALL, ft.Colors.LIGHT_BLUE_400),
    MessageStatus.FAILED: (ft.Icons.ERROR_OUTLINE, ft.Colors.ERROR),
}

MessageHandler = Callable[[CachedMessage], None]


@dataclass(frozen=True)
class ReplyQuote:
    """The message a bubble replies to, as the quote shows it."""

    message_id: str
    sender_name: str
    text: str
    deleted: bool = False


@dataclass(frozen=True)
class BubbleData:
    """Everything one bubble shows."""

    message: CachedMessage
    mine: bool
    sender_name: str | None = None
    """Shown above other people's messages in groups."""
    reply: ReplyQuote | None = None
    usernames: frozenset[str] | None = None
    """Members' usernames: only these ``@mentions`` are highlighted (None: any)."""
    highlighted: bool = False
    """True for the message a search or a reply quote jumped to."""


def _noop_message(_: CachedMessage) -> None:
    """Default handler: nothing happens."""


def _noop_reaction(_: CachedMessage, __: str) -> None:
    """Default handler: nothing happens."""


def _noop_id(_: str) -> None:
    """Default handler: nothing happens."""


@dataclass(frozen=True)
class BubbleHandlers:
    """What a bubble can ask the chat screen to do."""

    on_actions: MessageHandler = _noop_message
    """Open the message's action menu (long press, right click, or its actions button)."""
    on_toggle_reaction: Callable[[CachedMessage, str], None] = _noop_reaction
    on_open_reply: Callable[[str], None] = _noop_id
    on_retry: MessageHandler = _noop_message
    on_discard: MessageHandler = _noop_message
    on_show_edits: MessageHandler = _noop_message
    on_more_reactions: MessageHandler = _noop_message
    zone: tzinfo | None = field(default=None)


def message_text(text: str, usernames: frozenset[str] | None, mine: bool) -> ft.Text:
    """Plain text with ``@mentions`` in bold primary colour (never interpreted as markup)."""
    pieces = split_mentions(text, set(usernames) if usernames is not None else None)
    if not any(is_mention for _, is_mention in pieces):
        return ft.Text(text, selectable=False)
    mention_style = ft.TextStyle(
        weight=ft.FontWeight.BOLD,
        color=ft.Colors.ON_PRIMARY_CONTAINER if mine else ft.Colors.PRIMARY,
    )
    return ft.Text(
        spans=[
            ft.TextSpan(piece, mention_style if is_mention else None)
            for piece, is_mention in pieces
        ],
        semantics_label=text,
    )


def ticks(status: MessageStatus) -> ft.Control:
    """The status icon of an own message, labelled for screen readers ("Seen", "Sending", …)."""
    icon, color = _TICKS.get(status, (ft.Icons.DONE, None))
    return ft.Icon(icon, size=14, color=color, semantics_label=STATUS_LABELS.get(status, ""))


def reaction_chips(data: BubbleData, handlers: BubbleHandlers) -> ft.Control | None:
    """Up to four reaction chips (toggle on click) and a "+N" chip for the rest."""
    reactions = sorted(data.message.reactions, key=lambda r: -r.count)
    if not reactions:
        return None
    chips: list[ft.Control] = []
    for reaction in reactions[:MAX_REACTION_CHIPS]:
        verb = "remove" if reaction.reacted_by_me else "add"
        chips.append(
            ft.Container(
                ft.Text(f"{reaction.emoji} {reaction.count}", size=13),
                padding=ft.Padding.symmetric(horizontal=8, vertical=2),
                border_radius=12,
                bgcolor=ft.Colors.PRIMARY_CONTAINER
                if reaction.reacted_by_me
                else ft.Colors.SURFACE_CONTAINER_HIGHEST,
                border=ft.Border.all(
                    1, ft.Colors.PRIMARY if reaction.reacted_by_me else "#00000000"
                ),
                tooltip=f"{reaction.emoji} {reaction.count}, {verb} reaction",
                on_click=lambda _, emoji=reaction.emoji: handlers.on_toggle_reaction(
                    data.message, emoji
                ),
            )
        )
    rest = sum(r.count for r in reactions[MAX_REACTION_CHIPS:])
    if rest:
        chips.append(
            ft.Container(
                ft.Text(f"+{rest}", size=13),
                padding=ft.Padding.symmetric(horizontal=8, vertical=2),
                border_radius=12,
                bgcolor=ft.Colors.SURFACE_CONTAINER_HIGHEST,
                tooltip=f"{rest} more reactions",
                on_click=lambda: handlers.on_more_reactions(data.message),
            )
        )
    return ft.Row(chips, spacing=4, wrap=True)


def _reply_quote(quote: ReplyQuote, handlers: BubbleHandlers) -> ft.Control:
    return ft.Container(
        padding=ft.Padding(8, 4, 8, 4),
        border=ft.Border(left=ft.BorderSide(3, ft.Colors.PRIMARY)),
        bgcolor=ft.Colors.with_opacity(0.08, ft.Colors.ON_SURFACE),
        border_radius=4,
        tooltip=f"Go to the message from {quote.sender_name}",
        on_click=lambda: handlers.on_open_reply(quote.message_id),
        content=ft.Column(
            [
                ft.Text(quote.sender_name, size=12, weight=ft.FontWeight.BOLD),
                ft.Text(
                    "This message was deleted" if quote.deleted else quote.text,
                    size=12,
                    max_lines=2,
                    overflow=ft.TextOverflow.ELLIPSIS,
                    italic=quote.deleted,
                ),
            ],
            spacing=0,
            tight=True,
        ),
    )


def _body(data: BubbleData, handlers: BubbleHandlers) -> list[ft.Control]:
    message = data.message
    parts: list[ft.Control] = []
    if data.sender_name and not data.mine:
        parts.append(
            ft.Text(data.sender_name, size=12, weight=ft.FontWeight.BOLD, color=ft.Colors.PRIMARY)
        )
    if message.deleted:
        parts.append(
            ft.Text("This message was deleted", italic=True, color=ft.Colors.ON_SURFACE_VARIANT)
        )
        return parts
    if message.forwarded_from is not None:
        parts.append(
            ft.Text(
                f"Forwarded from {message.forwarded_from.sender_name}",
                size=12,
                italic=True,
                color=ft.Colors.ON_SURFACE_VARIANT,
            )
        )
    if data.reply is not None:
        parts.append(_reply_quote(data.reply, handlers))
    parts.append(message_text(message.text or "", data.usernames, data.mine))
    return parts


def _footer(data: BubbleData, handlers: BubbleHandlers) -> ft.Control:
    message = data.message
    items: list[ft.Control] = []
    if message.edited_at is not None and not message.deleted:
        items.append(
            ft.Container(
                ft.Text("edited", size=11, italic=True, color=ft.Colors.ON_SURFACE_VARIANT),
                tooltip="Show edit history",
                on_click=lambda: handlers.on_show_edits(message),
            )
        )
    items.append(
        ft.Text(
            clock(message.created_at, handlers.zone), size=11, color=ft.Colors.ON_SURFACE_VARIANT
        )
    )
    if data.mine:
        items.append(ticks(message.status))
    return ft.Row(items, spacing=4, tight=True, alignment=ft.MainAxisAlignment.END)


def _failed_bar(message: CachedMessage, handlers: BubbleHandlers) -> ft.Control:
    return ft.Row(
        [
            ft.Text(
                message.failure_reason or "Not sent", size=12, color=ft.Colors.ERROR, expand=True
            ),
            ft.TextButton("Retry", on_click=lambda: handlers.on_retry(message)),
            ft.TextButton("Discard", on_click=lambda: handlers.on_discard(message)),
        ],
        spacing=4,
        tight=True,
    )


def summary(message: CachedMessage, limit: int = 40) -> str:
    """A short description of a message for labels: its text, cut at ``limit`` characters."""
    if message.deleted:
        return "deleted message"
    text = " ".join((message.text or "").split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def bubble(data: BubbleData, handlers: BubbleHandlers) -> ft.Control:
    """Build the bubble row for ``data`` (right-aligned when mine)."""
    message = data.message
    column: list[ft.Control] = [*_body(data, handlers), _footer(data, handlers)]
    if message.status == MessageStatus.FAILED and data.mine:
        column.append(_failed_bar(message, handlers))
    chips = None if message.deleted else reaction_chips(data, handlers)
    if chips is not None:
        column.append(chips)
    if data.highlighted:
        color = ft.Colors.TERTIARY_CONTAINER
    elif data.mine:
        color = ft.Colors.PRIMARY_CONTAINER
    else:
        color = ft.Colors.SURFACE_CONTAINER_HIGH
    box = ft.GestureDetector(
        on_long_press=lambda: handlers.on_actions(message),
        on_secondary_tap=lambda: handlers.on_actions(message),
        content=ft.Container(
            content=ft.Column(column, spacing=4, tight=True),
            bgcolor=color,
            padding=ft.Padding(12, 8, 12, 6),
            border_radius=ft.BorderRadius(
                top_left=16,
                top_right=16,
                bottom_left=4 if not data.mine else 16,
                bottom_right=4 if data.mine else 16,
            ),
        ),
    )
    more = icon_button(
        ft.Icons.MORE_VERT,
        f"Message actions: {summary(message)}",
        size=16,
        on_click=lambda: handlers.on_actions(message),
    )
    holder = ft.Container(box, expand=True, expand_loose=True)
    return ft.Row(
        [more, holder] if data.mine else [holder, more],
        spacing=0,
        alignment=ft.MainAxisAlignment.END if data.mine else ft.MainAxisAlignment.START,
        vertical_alignment=ft.CrossAxisAlignment.START,
        key=f"m{message.local_id}",
    )
