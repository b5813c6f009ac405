"""Plain-text rules for message bodies, shared by server validation and client pre-checks."""

import html
import re
import unicodedata

_TAG = re.compile(r"<(?:/?[A-Za-z][^<>]*|!--.*?--|![A-Za-z][^<>]*)>", re.DOTALL)
_ALLOWED_CONTROL = {"\n", "\t"}


def sanitize_text(raw: str) -> str:
    """Return ``raw`` as plain text: markup tags removed, entities decoded, control characters
    (other than newline and tab) dropped, line endings normalised, outer whitespace trimmed.

    The result is what the server stores and what every client renders (always as text).
    """
    text = raw.replace("\r\n", "\n").replace("\r", "\n")
    text = _TAG.sub("", text)
    text = html.unescape(text)
    text = _TAG.sub("", text)
    text = "".join(
        ch
        for ch in text
        if ch in _ALLOWED_CONTROL or unicodedata.category(ch) not in {"Cc", "Cs", "Co", "Cn"}
    )
    return text.strip()


_MENTION = re.compile(r"(?<![\w@])@([a-z0-9_][a-z0-9_.]{2,31})", re.IGNORECASE)


def find_mentions(text: str) -> list[str]:
    """Return the usernames mentioned as ``@username`` in ``text``, lower-cased."""
    seen: dict[str, None] = {}
    for match in _MENTION.finditer(text):
        seen.setdefault(match.group(1).rstrip(".").lower(), None)
    return list(seen)
