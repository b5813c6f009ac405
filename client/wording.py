"""How the app words times and previews: plain text, no Flet, shared by the views, the group
rules and ``openchat-cli``."""

from datetime import UTC, datetime, timedelta, tzinfo

from client.offline.records import MessagePreview
from protocol.models import MessageType

MUTED_FOREVER = datetime(9999, 12, 31, tzinfo=UTC)
"""The server mutes a member until a moment: "until unmuted" is this far-off one."""

_MEDIA_LABELS = {
    MessageType.IMAGE: "📷 Photo",
    MessageType.VIDEO: "🎬 Video",
    MessageType.FILE: "📎 File",
    MessageType.VOICE: "🎤 Voice message",
}


def moment_text(moment: datetime, now: datetime, zone: tzinfo | None = None) -> str:
    """A time that may not be today: "14:05" today, else "3 Mar 14:05"."""
    local, today = moment.astimezone(zone), now.astimezone(zone)
    if local.date() == today.date():
        return local.strftime("%H:%M")
    return f"{local.day} {local.strftime('%b %H:%M')}"


def day_label(moment: datetime, now: datetime, zone: tzinfo | None = None) -> str:
    """A day separator: "Today", "Yesterday" or "Monday, 3 March 2025"."""
    day, today = moment.astimezone(zone).date(), now.astimezone(zone).date()
    if day == today:
        return "Today"
    if day == today - timedelta(days=1):
        return "Yesterday"
    return f"{day.strftime('%A')}, {day.day} {day.strftime('%B %Y')}"


def preview_text(preview: MessagePreview | None, sender: str | None) -> str:
    """The chat list's last-message line; ``sender`` is "You", a group member's name, or None."""
    if preview is None:
        return "No messages yet"
    if preview.deleted:
        body = "This message was deleted"
    elif preview.type in _MEDIA_LABELS:
        caption = (preview.text or "").strip()
        body = _MEDIA_LABELS[preview.type] + (f" {caption}" if caption else "")
    else:
        body = " ".join((preview.text or "").split())
    return f"{sender}: {body}" if sender else body


def until_text(until: datetime | None, now: datetime, zone: tzinfo | None = None) -> str:
    """ "until 14:05" today, "until 3 Mar 14:05" later, "until lifted" for good (None or
    :data:`MUTED_FOREVER`)."""
    if until is None or until >= MUTED_FOREVER - timedelta(days=1):
        return "until lifted"
    return f"until {moment_text(until, now, zone)}"
