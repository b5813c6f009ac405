"""Text helpers of the views that need Flet (avatar colours) or only views use: initials,
short times, badges, mentions. Wording shared with the core lives in :mod:`client.wording`."""

import re
from datetime import datetime, timedelta, tzinfo

import flet as ft

from client.offline.records import MessageStatus

_AVATAR_COLORS = (
    ft.Colors.RED_400,
    ft.Colors.PINK_400,
    ft.Colors.PURPLE_400,
    ft.Colors.DEEP_PURPLE_400,
    ft.Colors.INDIGO_400,
    ft.Colors.BLUE_400,
    ft.Colors.TEAL_400,
    ft.Colors.GREEN_600,
    ft.Colors.ORANGE_600,
    ft.Colors.BROWN_400,
)

MENTION_RE = re.compile(r"(?<![\w@])@([a-z0-9_][a-z0-9_.]{2,31})")
"""An ``@username`` mention inside message text (usernames follow the protocol pattern)."""

STATUS_LABELS = {
    MessageStatus.PENDING: "Sending",
    MessageStatus.SENT: "Sent",
    MessageStatus.DELIVERED: "Delivered",
    MessageStatus.READ: "Seen",
    MessageStatus.FAILED: "Not sent",
}


def initials(name: str) -> str:
    """Up to two initials of a display name ("Ada Lovelace" -> "AL"; "" -> "?")."""
    words = [word for word in re.split(r"[\s._-]+", name.strip()) if word]
    if not words:
        return "?"
    if len(words) == 1:
        return words[0][:2].upper()
    return (words[0][0] + words[-1][0]).upper()


def avatar_color(key: str) -> str:
    """A stable colour for an avatar, chosen from ``key`` (a user or conversation id)."""
    return _AVATAR_COLORS[sum(key.encode()) % len(_AVATAR_COLORS)]


def short_time(moment: datetime, now: datetime, zone: tzinfo | None = None) -> str:
    """The chat list's time: "14:05" today, "Mon" this week, else "3 Mar" or "3 Mar 2024"."""
    local, today = moment.astimezone(zone), now.astimezone(zone)
    if local.date() == today.date():
        return local.strftime("%H:%M")
    if today.date() - local.date() < timedelta(days=7):
        return local.strftime("%a")
    if local.year == today.year:
        return f"{local.day} {local.strftime('%b')}"
    return f"{local.day} {local.strftime('%b %Y')}"


def clock(moment: datetime, zone: tzinfo | None = None) -> str:
    """A bubble's time of day, "14:05"."""
    return moment.astimezone(zone).strftime("%H:%M")


def unread_label(count: int) -> str:
    """The unread badge's screen-reader label."""
    return "1 unread message" if count == 1 else f"{count} unread messages"


def member_count_text(count: int) -> str:
    """ "1 member", "3 members"."""
    return "1 member" if count == 1 else f"{count} members"


def badge_text(count: int) -> str:
    """The unread badge's visible text ("999+" above 999)."""
    return "999+" if count > 999 else str(count)


def split_mentions(text: str, known: set[str] | None = None) -> list[tuple[str, bool]]:
    """Split ``text`` into ``(piece, is_mention)`` runs; with ``known``, only those usernames."""
    pieces: list[tuple[str, bool]] = []
    last = 0
    for match in MENTION_RE.finditer(text):
        if known is not None and match.group(1) not in known:
            continue
        if match.start() > last:
            pieces.append((text[last : match.start()], False))
        pieces.append((match.group(0), True))
        last = match.end()
    if last < len(text):
        pieces.append((text[last:], False))
    return pieces
