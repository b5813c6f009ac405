"""No markup survives sanitising, however it is nested, and no invisible character lets one name
pass for another or a text show itself reversed — while scripts and emoji keep what they need."""

import itertools
import random

import pytest

from protocol.rest import RegisterRequest
from protocol.text import clean_name, sanitize_text

TAG_PARTS = ["<", ">", "/", "scr", "ipt", "b", "<b>", "</b>", "&lt;", "&gt;", "&amp;", "!--", "x"]


@pytest.mark.parametrize(
    "raw",
    [
        "<scr<b>ipt>alert(1)</scr</b>ipt>",
        "<scr<scr<b>ipt>ipt>alert(1)",
        "&lt;script&gt;alert(1)&lt;/script&gt;",
        "&amp;lt;script&amp;gt;alert(1)",
        "<<b>img src=x onerror=alert(1)>",
        "<i<!-- -->mg src=x>",
    ],
)
def test_nested_markup_never_comes_back_as_a_tag(raw: str) -> None:
    """Each of these turned into a working tag after one round of stripping."""
    cleaned = sanitize_text(raw)
    assert "<script" not in cleaned.lower()
    assert "<img" not in cleaned.lower()
    assert sanitize_text(cleaned) == cleaned


def test_sanitising_reaches_a_fixed_point_on_random_markup() -> None:
    """Sanitising what was sanitised changes nothing, for thousands of random tag soups."""
    rng = random.Random(13)
    for _ in range(3000):
        raw = "".join(rng.choice(TAG_PARTS) for _ in range(rng.randint(1, 14)))
        cleaned = sanitize_text(raw)
        assert sanitize_text(cleaned) == cleaned, raw


def test_plain_comparisons_survive() -> None:
    """Text that only looks like markup to a careless eye stays as it was."""
    assert sanitize_text("if a < b and c > d: 3 <= 4") == "if a < b and c > d: 3 <= 4"


@pytest.mark.parametrize(
    "override", [chr(c) for c in itertools.chain(range(0x202A, 0x202F), range(0x2066, 0x206A))]
)
def test_direction_overrides_are_dropped_from_text_and_names(override: str) -> None:
    """``invoice<RLO>fdp.exe`` would show as ``invoiceexe.pdf``."""
    assert sanitize_text(f"invoice{override}fdp.exe") == "invoicefdp.exe"
    assert clean_name(f"Ali{override}ce") == "Alice"


@pytest.mark.parametrize("invisible", ["\u200b", "\u200e", "\u200f", "\u2060", "\ufeff", "\u3164"])
def test_zero_width_and_blank_characters_are_stripped_from_names(invisible: str) -> None:
    """``Al<ZWSP>ice`` is not a second Alice."""
    assert clean_name(f"Al{invisible}ice") == "Alice"


def test_names_keep_emoji_sequences_and_script_joiners() -> None:
    """ZWJ inside an emoji sequence and ZWNJ between Persian letters are kept; a stray ZWJ
    between Latin letters is not."""
    family = "\U0001f468\u200d\U0001f469\u200d\U0001f467"
    assert clean_name(f"{family} Smith") == f"{family} Smith"
    assert clean_name("\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645") == (
        "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645"
    )
    assert clean_name("A\u200dl\u200cice") == "Alice"
    assert clean_name("rainbow \U0001f3f3\ufe0f\u200d\U0001f308") == (
        "rainbow \U0001f3f3\ufe0f\u200d\U0001f308"
    )


def test_text_keeps_joiners_and_direction_marks() -> None:
    """Message text keeps ZWJ/ZWNJ and the LRM/RLM marks bidirectional writing uses."""
    text = "\U0001f469\u200d\U0001f4bb \u05e9\u05dc\u05d5\u05dd\u200f abc"
    assert sanitize_text(text) == text


def test_registration_stores_the_cleaned_display_name() -> None:
    """The request model applies the name rule before anything is stored."""
    body = RegisterRequest(
        username="alice_x", password="demo-pass-123", display_name="Ali\u202ece\u200b"
    )
    assert body.display_name == "Alice"
