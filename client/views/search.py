"""The search panel: a query field, the hits (each with its chat, a highlighted snippet and its
time), a loading bar while the server is asked, and "No results"; choosing a hit hands it back.

It only shows what it is given: the caller lists the local hits at once and merges the
server's in when they arrive (``client.search_hits.merge_hits``).
"""

from collections.abc import Callable, Sequence
from datetime import UTC, datetime

import flet as ft

from client.search_hits import Hit
from client.views.format import short_time

SCROLL_AFTER_RESULTS = 6
"""Up to this many results the dialog fits them; more scroll in a list of fixed height."""
LONG_LIST_HEIGHT = 420
QUERY_LABEL = "Search messages"


def snippet_spans(snippet: str) -> list[ft.TextSpan]:
    """Turn a ``[[match]]``-marked snippet into text spans with the matches in bold."""
    spans: list[ft.TextSpan] = []
    bold = ft.TextStyle(weight=ft.FontWeight.BOLD, color=ft.Colors.PRIMARY)
    rest = snippet
    while "[[" in rest and "]]" in rest.split("[[", 1)[1]:
        before, after = rest.split("[[", 1)
        match, rest = after.split("]]", 1)
        if before:
            spans.append(ft.TextSpan(before))
        spans.append(ft.TextSpan(match, bold))
    if rest:
        spans.append(ft.TextSpan(rest))
    return spans


def plain(snippet: str) -> str:
    """A marked snippet without its ``[[ ]]`` marks (what a screen reader says)."""
    return snippet.replace("[[", "").replace("]]", "")


class SearchPanel:
    """A dialog searching all chats, or one chat (``scope`` names it)."""

    def __init__(
        self,
        scope: str | None,
        title_of: Callable[[Hit], str],
        on_search: Callable[[str], None],
        on_choose: Callable[[Hit], None],
        on_close: Callable[[], None],
    ) -> None:
        """``on_search(query)`` asks for hits (the caller answers with ``show``)."""
        self._title_of = title_of
        self._on_choose = on_choose
        self.query = ft.TextField(
            label=QUERY_LABEL,
            autofocus=True,
            dense=True,
            on_submit=lambda e: on_search((e.control.value or "").strip()),
        )
        self.loading = ft.ProgressBar(visible=False, semantics_label="Searching the server")
        self.results = ft.Column(tight=True, width=420)
        self.hits: list[Hit] = []
        """The hits listed, in their order."""
        self.dialog = ft.AlertDialog(
            title=ft.Text(f"Search in {scope}" if scope else "Search all chats"),
            content=ft.Column(
                [self.query, self.loading, self.results], tight=True, width=420, spacing=8
            ),
            actions=[ft.TextButton("Close", on_click=on_close)],
        )

    def show(self, query: str, hits: Sequence[Hit], loading: bool) -> None:
        """List ``hits`` for ``query``; ``loading`` while the server has not answered."""
        self.query.value = query
        self.loading.visible = loading
        self.hits = list(hits)
        now = datetime.now(UTC)
        tiles: list[ft.Control] = [
            ft.ListTile(
                title=ft.Text(self._title_of(hit), weight=ft.FontWeight.BOLD),
                subtitle=ft.Text(
                    spans=snippet_spans(hit.snippet),
                    max_lines=2,
                    semantics_label=plain(hit.snippet),
                ),
                trailing=ft.Text(short_time(hit.created_at, now), size=12),
                on_click=lambda _, h=hit: self._on_choose(h),
                dense=True,
            )
            for hit in hits
        ]
        if not tiles and query and not loading:
            tiles = [ft.Text("No results", color=ft.Colors.ON_SURFACE_VARIANT)]
        # a scrolling column takes the dialog's full height: only a long list scrolls
        long = len(tiles) > SCROLL_AFTER_RESULTS
        self.results.controls = tiles
        self.results.scroll = ft.ScrollMode.AUTO if long else None
        self.results.height = LONG_LIST_HEIGHT if long else None
