"""Where search terms match a text: word spans and a ``[[highlighted]]`` snippet."""

import re
import unicodedata
from collections.abc import Sequence

_TERM = re.compile(r"[^\W_]+")
MAX_TERMS = 8
MAX_TERM_LENGTH = 64
SNIPPET_CHARS = 160


def fold(word: str) -> str:
    """Lower-case ``word`` and strip its diacritics, as the full-text index compares words."""
    decomposed = unicodedata.normalize("NFKD", word)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()


def query_terms(query: str) -> list[str]:
    """The words of a user's query, folded, deduplicated, at most 8: nothing of full-text query
    syntax (quotes, ``*``, ``NEAR``, ``:``, ``&``...) survives, so no query can fail."""
    terms = [fold(match.group())[:MAX_TERM_LENGTH] for match in _TERM.finditer(query)]
    return list(dict.fromkeys(term for term in terms if term))[:MAX_TERMS]


def match_offsets(text: str, terms: Sequence[str]) -> list[tuple[int, int]]:
    """``(start, end)`` of every word of ``text`` that starts with one of ``terms``."""
    return [
        (match.start(), match.end())
        for match in _TERM.finditer(text)
        if any(fold(match.group()).startswith(term) for term in terms)
    ]


def snippet(text: str, offsets: Sequence[tuple[int, int]]) -> str:
    """An excerpt of ``text`` around the first match with each match wrapped in ``[[ ]]``;
    ``…`` marks cut ends."""
    start = 0
    if offsets and len(text) > SNIPPET_CHARS:
        start = max(0, min(offsets[0][0] - SNIPPET_CHARS // 4, len(text) - SNIPPET_CHARS))
    end = min(len(text), start + SNIPPET_CHARS)
    parts = ["…"] if start > 0 else []
    cursor = start
    for match_start, match_end in offsets:
        if match_start < start or match_end > end:
            continue
        parts.extend([text[cursor:match_start], "[[", text[match_start:match_end], "]]"])
        cursor = match_end
    parts.append(text[cursor:end])
    if end < len(text):
        parts.append("…")
    return "".join(parts)
