"""The emoji picker: recents, categories, search by name, skin tone, keyboard navigation.

Arrow keys move the highlighted cell, Enter picks it, Esc closes (the app forwards page key
events to :meth:`EmojiPicker.handle_key`). Each cell is a button named after the emoji.
"""

from collections.abc import Callable, Sequence

import flet as ft

from client.views.emoji_data import (
    CATEGORIES,
    SKIN_TONES,
    EmojiEntry,
    apply_tone,
    by_category,
    catalogue,
    name_of,
    search,
)
from client.views.widgets import icon_button, labelled_icon, refresh

COLUMNS = 8
"""Cells per grid row (arrow up/down move by this many)."""
RECENT = "Recent"

_CATEGORY_ICONS = {
    RECENT: ft.Icons.HISTORY,
    "Smileys": ft.Icons.EMOJI_EMOTIONS_OUTLINED,
    "People": ft.Icons.EMOJI_PEOPLE,
    "Animals & nature": ft.Icons.EMOJI_NATURE,
    "Food & drink": ft.Icons.EMOJI_FOOD_BEVERAGE,
    "Activities": ft.Icons.EMOJI_EVENTS,
    "Travel & places": ft.Icons.EMOJI_TRANSPORTATION,
    "Objects": ft.Icons.EMOJI_OBJECTS,
    "Symbols": ft.Icons.EMOJI_SYMBOLS,
    "Flags": ft.Icons.EMOJI_FLAGS,
}


class EmojiPicker:
    """A panel of emojis; ``on_pick(char)`` gets the chosen emoji, ``on_close()`` closes it."""

    def __init__(
        self,
        on_pick: Callable[[str], None],
        on_close: Callable[[], None],
        recents: Sequence[str] = (),
        allowed: Sequence[str] | None = None,
    ) -> None:
        """``allowed`` limits the picker to those emojis (the reaction whitelist)."""
        self._on_pick = on_pick
        self._on_close = on_close
        self._allowed = frozenset(allowed) if allowed is not None else None
        self._recents = [c for c in recents if self._permits(c)]
        self.tone = ""
        self.category = RECENT if self._recents else CATEGORIES[0]
        self.entries: list[EmojiEntry] = []
        self.index = 0
        self.search = ft.TextField(
            label="Search emoji",
            prefix_icon=ft.Icons.SEARCH,
            dense=True,
            autofocus=True,
            on_change=self._search_changed,
            on_submit=self._pick_highlighted,
        )
        self.tone_button = ft.PopupMenuButton(
            icon=labelled_icon(ft.Icons.BACK_HAND_OUTLINED, "Skin tone"),
            tooltip="Skin tone",
            items=[
                ft.PopupMenuItem(
                    content=f"{apply_tone('✋', modifier)} {label}",
                    on_click=lambda _, m=modifier: self._set_tone(m),
                )
                for modifier, label in SKIN_TONES
            ],
        )
        self.tabs = ft.Row(spacing=0, scroll=ft.ScrollMode.AUTO)
        self.grid = ft.GridView(
            runs_count=COLUMNS, spacing=2, run_spacing=2, expand=True, padding=4
        )
        self.caption = ft.Text("", size=12, color=ft.Colors.ON_SURFACE_VARIANT)
        self.control = ft.Container(
            height=360,
            width=COLUMNS * 46 + 24,
            bgcolor=ft.Colors.SURFACE_CONTAINER,
            border_radius=12,
            padding=8,
            content=ft.Column(
                [
                    ft.Row(
                        [
                            ft.Container(self.search, expand=True),
                            self.tone_button,
                            icon_button(ft.Icons.CLOSE, "Close emoji picker", on_click=on_close),
                        ],
                        spacing=4,
                    ),
                    self.tabs,
                    self.grid,
                    self.caption,
                ],
                spacing=4,
            ),
        )
        self._show_category(self.category)

    def _permits(self, char: str) -> bool:
        return self._allowed is None or char in self._allowed

    def _entries_for(self, category: str) -> list[EmojiEntry]:
        if category == RECENT:
            known = {e.char: e for e in catalogue()}
            return [known.get(c) or EmojiEntry(c, name_of(c), RECENT, False) for c in self._recents]
        return [e for e in by_category(category) if self._permits(e.char)]

    def _build_tabs(self) -> None:
        names = ([RECENT] if self._recents else []) + [
            c for c in CATEGORIES if self._entries_for(c)
        ]
        self.tabs.controls = [
            icon_button(
                _CATEGORY_ICONS[name],
                name,
                selected=name == self.category and not self.search.value,
                on_click=lambda _, n=name: self._choose_category(n),
            )
            for name in names
        ]

    def _show_category(self, category: str) -> None:
        self.category = category
        self._show(self._entries_for(category))

    def _show(self, entries: list[EmojiEntry]) -> None:
        self.entries = entries
        self.index = 0
        self._build_tabs()
        self.grid.controls = [self._cell(i, e) for i, e in enumerate(entries)]
        self._update_caption()

    def _display(self, entry: EmojiEntry) -> str:
        return apply_tone(entry.char, self.tone) if entry.toned else entry.char

    def _cell(self, index: int, entry: EmojiEntry) -> ft.Control:
        return ft.Container(
            ft.Text(self._display(entry), size=22),
            alignment=ft.Alignment.CENTER,
            border_radius=8,
            bgcolor=ft.Colors.SECONDARY_CONTAINER if index == self.index else None,
            tooltip=entry.name,
            on_click=lambda: self._pick(entry),
        )

    def _update_caption(self) -> None:
        if not self.entries:
            self.caption.value = "No emoji found"
        else:
            entry = self.entries[self.index]
            self.caption.value = f"{self._display(entry)} {entry.name}"

    def _choose_category(self, category: str) -> None:
        self.search.value = ""
        self._show_category(category)
        refresh(self.control)

    def _search_changed(self) -> None:
        query = self.search.value.strip()
        if query:
            self._show([e for e in search(query) if self._permits(e.char)])
        else:
            self._show_category(self.category)
        refresh(self.tabs, self.grid, self.caption)  # not the field: its value may be ahead

    def _set_tone(self, modifier: str) -> None:
        self.tone = modifier
        self._show(self.entries)
        refresh(self.tabs, self.grid, self.caption)

    def _pick(self, entry: EmojiEntry) -> None:
        self._on_pick(self._display(entry))

    def _pick_highlighted(self) -> None:
        if self.entries:
            self._pick(self.entries[self.index])

    def move(self, delta: int) -> None:
        """Move the highlighted cell by ``delta`` (clamped to the grid)."""
        if not self.entries:
            return
        old = self.index
        self.index = max(0, min(len(self.entries) - 1, self.index + delta))
        for position in (old, self.index):
            self.grid.controls[position] = self._cell(position, self.entries[position])
        self._update_caption()

    def handle_key(self, key: str) -> bool:
        """Handle a page key event while the picker is open; returns True when consumed."""
        moves = {"Arrow Left": -1, "Arrow Right": 1, "Arrow Up": -COLUMNS, "Arrow Down": COLUMNS}
        if key in moves:
            self.move(moves[key])
            refresh(self.grid, self.caption)
            return True
        if key == "Escape":
            self._on_close()
            return True
        return False
