"""Plain-text rules for message bodies, shared by server validation and client pre-checks."""

import html
import re
import unicodedata

_TAG = re.compile(r"<(?:/?[A-Za-z][^<>]*|!--.*?--|![A-Za-z][^<>]*)>", re.DOTALL)
_ALLOWED_CONTROL = {"\n", "\t"}
_DIRECTION_OVERRIDES = dict.fromkeys([*range(0x202A, 0x202F), *range(0x2066, 0x206A)])
"""Bidi embeddings, overrides and isolates (U+202A–202E, U+2066–2069): they let a name or a text
show itself reversed (``exe.txt`` as ``txt.exe``); right-to-left scripts never need them."""
_INVISIBLE_IN_NAMES = frozenset(
    "\u200b\u200e\u200f\u2060\u2061\u2062\u2063\u2064\ufeff\u180e\u034f\u115f\u1160\u3164"
)
"""Zero-width and blank characters that could make two names look alike (besides the joiners,
which :func:`clean_name` keeps only where a script or an emoji needs them)."""
_ZWJ, _ZWNJ, _VS16 = "\u200d", "\u200c", "\ufe0f"


def sanitize_text(raw: str) -> str:
    """Return ``raw`` as plain text: markup tags removed and entities decoded until nothing
    changes (so ``<scr<b>ipt>`` cannot become a tag), direction overrides dropped, control
    characters (other than newline and tab) dropped, line endings normalised, outer whitespace
    trimmed.

    The result is what the server stores and what every client renders (always as text).
    """
    text = raw.replace("\r\n", "\n").replace("\r", "\n")
    while True:
        stripped = _TAG.sub("", html.unescape(_TAG.sub("", text)))
        if stripped == text:
            break
        text = stripped
    text = text.translate(_DIRECTION_OVERRIDES)
    text = "".join(
        ch
        for ch in text
        if ch in _ALLOWED_CONTROL or unicodedata.category(ch) not in {"Cc", "Cs", "Co", "Cn"}
    )
    return text.strip()


def clean_name(raw: str) -> str:
    """A display name or group title as plain text on one line: :func:`sanitize_text`, then
    zero-width and blank look-alike characters removed, a zero-width joiner kept only inside an
    emoji sequence (👨‍👩‍👧) and a non-joiner only between letters beyond Latin (Persian, Indic), and
    runs of whitespace collapsed to one space."""
    text = sanitize_text(raw)
    kept: list[str] = []
    for index, ch in enumerate(text):
        if ch in _INVISIBLE_IN_NAMES:
            continue
        if ch in (_ZWJ, _ZWNJ):
            before = text[index - 1] if index else ""
            after = text[index + 1] if index + 1 < len(text) else ""
            joins = _is_emoji if ch == _ZWJ else _is_letter
            if not (joins(before) and joins(after)):
                continue
        kept.append(ch)
    return " ".join("".join(kept).split())


def _is_emoji(ch: str) -> bool:
    """True for a pictograph or its presentation selector, the parts of an emoji sequence."""
    return bool(ch) and (ch == _VS16 or unicodedata.category(ch) in {"So", "Sk"})


def _is_letter(ch: str) -> bool:
    """True for a letter or a combining mark of a script beyond Latin (where a non-joiner
    changes how a word is written; in Latin text it only hides a difference)."""
    return bool(ch) and ord(ch) > 0x024F and unicodedata.category(ch)[0] in {"L", "M"}


_MENTION = re.compile(r"(?<![\w@])@([a-z0-9_][a-z0-9_.]{2,31})", re.IGNORECASE)


def find_mentions(text: str) -> list[str]:
    """Return the usernames mentioned as ``@username`` in ``text``, lower-cased."""
    seen: dict[str, None] = {}
    for match in _MENTION.finditer(text):
        seen.setdefault(match.group(1).rstrip(".").lower(), None)
    return list(seen)
