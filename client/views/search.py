"""Search results from the local cache: each hit with its chat, a highlighted snippet and time;
choosing one opens the chat at that message."""

from collections.abc import Callable, Sequence
from datetime import UTC, datetime

import flet as ft

from client.offline.records import SearchResult
from client.views.format import short_time

SCROLL_AFTER_RESULTS = 6
"""Up to this many results the dialog fits them; more scroll in a list of fixed height."""
LONG_LIST_HEIGHT = 420


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


def search_dialog(
    query: str,
    results: Sequence[SearchResult],
    title_of: Callable[[SearchResult], str],
    on_choose: Callable[[SearchResult], None],
    on_close: Callable[[], None],
) -> ft.AlertDialog:
    """A dialog listing ``results`` for ``query`` (or saying there are none)."""
    now = datetime.now(UTC)
    tiles: list[ft.Control] = [
        ft.ListTile(
            title=ft.Text(title_of(result), weight=ft.FontWeight.BOLD),
            subtitle=ft.Text(
                spans=snippet_spans(result.snippet),
                max_lines=2,
                semantics_label=result.snippet.replace("[[", "").replace("]]", ""),
            ),
            trailing=ft.Text(short_time(result.message.created_at, now), size=12),
            on_click=lambda _, r=result: on_choose(r),
            dense=True,
        )
        for result in results
    ]
    if not tiles:
        tiles = [ft.Text(f"No messages match “{query}”.", color=ft.Colors.ON_SURFACE_VARIANT)]
    # a scrolling column takes the dialog's full height: only a long list scrolls
    long = len(tiles) > SCROLL_AFTER_RESULTS
    return ft.AlertDialog(
        title=ft.Text(f"Results for “{query}”"),
        content=ft.Column(
            tiles,
            tight=True,
            scroll=ft.ScrollMode.AUTO if long else None,
            height=LONG_LIST_HEIGHT if long else None,
            width=420,
        ),
        actions=[ft.TextButton("Close", on_click=on_close)],
    )
