"""Match highlighting for local search results, consistent with the FTS5 tokenizer
(``unicode61 remove_diacritics 2``): words are runs of word characters, compared case- and
accent-insensitively, and a query word matches every word it is a prefix of."""

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

_WORD = re.compile(r"\w+", re.UNICODE)


def fold(word: str) -> str:
    """Lower-case ``word`` and strip its accents (``Café`` -> ``cafe``)."""
    decomposed = unicodedata.normalize("NFKD", word.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def query_words(text: str) -> list[str]:
    """The folded words of a search query."""
    return [fold(w) for w in _WORD.findall(text)]


@dataclass(frozen=True, slots=True)
class Highlight:
    """Where a query matched a text, and an excerpt with each match wrapped in ``[[ ]]``."""

    snippet: str
    offsets: list[tuple[int, int]]


def highlight(text: str, words: Sequence[str], context: int = 6) -> Highlight:
    """Find the words of ``text`` that start with one of ``words`` (folded) and cut an excerpt
    of ``context`` words either side of the first match (``…`` marks cut ends)."""
    tokens = list(_WORD.finditer(text))
    offsets = [
        (t.start(), t.end()) for t in tokens if any(fold(t.group()).startswith(w) for w in words)
    ]
    if not offsets:
        return Highlight(text, [])
    first = next(i for i, t in enumerate(tokens) if t.start() == offsets[0][0])
    lo = max(0, first - context)
    hi = min(len(tokens) - 1, first + context)
    start = 0 if lo == 0 else tokens[lo].start()
    end = len(text) if hi == len(tokens) - 1 else tokens[hi].end()
    parts: list[str] = ["…" if start > 0 else ""]
    cursor = start
    for s, e in offsets:
        if s < start or e > end:
            continue
        parts.append(text[cursor:s])
        parts.append(f"[[{text[s:e]}]]")
        cursor = e
    parts.append(text[cursor:end])
    parts.append("…" if end < len(text) else "")
    return Highlight("".join(parts), offsets)
