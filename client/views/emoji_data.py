"""Emoji catalogue for the picker, built from the ``emoji`` package: names, categories, skin tones.

The ``emoji`` package has names but no categories, so each emoji is filed by the Unicode block
of its first code point (the same grouping the Unicode emoji charts follow, coarsened).
"""

from dataclasses import dataclass
from functools import cache

import emoji

SKIN_TONES: tuple[tuple[str, str], ...] = (
    ("", "Default skin tone"),
    ("\U0001f3fb", "Light skin tone"),
    ("\U0001f3fc", "Medium-light skin tone"),
    ("\U0001f3fd", "Medium skin tone"),
    ("\U0001f3fe", "Medium-dark skin tone"),
    ("\U0001f3ff", "Dark skin tone"),
)
"""``(modifier, label)`` pairs; the empty modifier is the default yellow."""

CATEGORIES: tuple[str, ...] = (
    "Smileys",
    "People",
    "Animals & nature",
    "Food & drink",
    "Activities",
    "Travel & places",
    "Objects",
    "Symbols",
    "Flags",
)

# (first code point, last code point, category), checked in order; the first match wins.
_BLOCKS: tuple[tuple[int, int, str], ...] = (
    (0x1F1E6, 0x1F1FF, "Flags"),
    (0x1F3F3, 0x1F3F4, "Flags"),
    (0x1F600, 0x1F644, "Smileys"),
    (0x1F910, 0x1F917, "Smileys"),
    (0x1F920, 0x1F92F, "Smileys"),
    (0x1F970, 0x1F97A, "Smileys"),
    (0x1F9D0, 0x1F9D0, "Smileys"),
    (0x1FAE0, 0x1FAE8, "Smileys"),
    (0x263A, 0x263A, "Smileys"),
    (0x2639, 0x2639, "Smileys"),
    (0x1F645, 0x1F64F, "People"),
    (0x1F440, 0x1F487, "People"),
    (0x1F574, 0x1F57A, "People"),
    (0x1F590, 0x1F596, "People"),
    (0x1F918, 0x1F91F, "People"),
    (0x1F926, 0x1F926, "People"),
    (0x1F930, 0x1F939, "People"),
    (0x1F9B0, 0x1F9B9, "People"),
    (0x1F9CD, 0x1F9DF, "People"),
    (0x1FAC3, 0x1FAC5, "People"),
    (0x1FAF0, 0x1FAF8, "People"),
    (0x261D, 0x261D, "People"),
    (0x270A, 0x270D, "People"),
    (0x1F6B4, 0x1F6B6, "People"),
    (0x1F400, 0x1F43F, "Animals & nature"),
    (0x1F330, 0x1F344, "Animals & nature"),
    (0x1F980, 0x1F9AE, "Animals & nature"),
    (0x1FAB0, 0x1FABF, "Animals & nature"),
    (0x1F490, 0x1F490, "Animals & nature"),
    (0x1F345, 0x1F37F, "Food & drink"),
    (0x1F950, 0x1F96F, "Food & drink"),
    (0x1F9C0, 0x1F9CB, "Food & drink"),
    (0x1FAD0, 0x1FADB, "Food & drink"),
    (0x2615, 0x2615, "Food & drink"),
    (0x1F380, 0x1F3CF, "Activities"),
    (0x1F93A, 0x1F94F, "Activities"),
    (0x1F3D0, 0x1F3D3, "Activities"),
    (0x26BD, 0x26BE, "Activities"),
    (0x1F680, 0x1F6FF, "Travel & places"),
    (0x1F3D4, 0x1F3F0, "Travel & places"),
    (0x1F300, 0x1F32C, "Travel & places"),
    (0x26E9, 0x26FD, "Travel & places"),
    (0x1F4B0, 0x1F5FF, "Objects"),
    (0x1F9F0, 0x1F9FF, "Objects"),
    (0x1FA70, 0x1FAAF, "Objects"),
    (0x231A, 0x23FF, "Objects"),
    (0x1F488, 0x1F4AF, "Symbols"),
)


@dataclass(frozen=True, slots=True)
class EmojiEntry:
    """One pickable emoji: the character, its readable name, category and tone support."""

    char: str
    name: str
    category: str
    toned: bool
    """True when the emoji accepts a skin-tone modifier."""


def _category(char: str) -> str:
    point = ord(char[0])
    for first, last, name in _BLOCKS:
        if first <= point <= last:
            return name
    return "Symbols"


def _has_tone(char: str, data: dict[str, dict[str, object]]) -> bool:
    modifier = SKIN_TONES[3][0]
    return apply_tone(char, modifier) in data


def apply_tone(char: str, modifier: str) -> str:
    """``char`` with the skin-tone ``modifier`` after its first code point (no-op when empty)."""
    if not modifier:
        return char
    rest = char[1:].removeprefix("\ufe0f")
    return char[0] + modifier + rest


@cache
def catalogue() -> tuple[EmojiEntry, ...]:
    """Every fully-qualified emoji without a skin tone, in a stable order, with its category."""
    data = emoji.EMOJI_DATA
    fully = emoji.STATUS["fully_qualified"]
    entries = []
    for char, info in data.items():
        if info["status"] != fully or any(0x1F3FB <= ord(c) <= 0x1F3FF for c in char):
            continue
        name = str(info["en"]).strip(":").replace("_", " ")
        entries.append(EmojiEntry(char, name, _category(char), _has_tone(char, data)))
    order = {name: index for index, name in enumerate(CATEGORIES)}
    entries.sort(key=lambda e: (order[e.category], ord(e.char[0]), e.char))
    return tuple(entries)


def by_category(category: str) -> list[EmojiEntry]:
    """The emojis of one category."""
    return [entry for entry in catalogue() if entry.category == category]


def search(query: str, limit: int = 120) -> list[EmojiEntry]:
    """Emojis whose name contains every word of ``query`` (names first that start with it)."""
    words = query.lower().split()
    if not words:
        return []
    hits = [e for e in catalogue() if all(word in e.name for word in words)]
    hits.sort(key=lambda e: (not e.name.startswith(words[0]), len(e.name)))
    return hits[:limit]


def name_of(char: str) -> str:
    """The readable name of an emoji ("thumbs up"), or the character itself when unknown."""
    info = emoji.EMOJI_DATA.get(char) or emoji.EMOJI_DATA.get(char + "\ufe0f")
    return str(info["en"]).strip(":").replace("_", " ") if info else char
