"""The composer's text across a send while the person keeps typing: the browser reports its
text after every key, and the clear after the send reaches the browser a moment later."""

import asyncio
from types import SimpleNamespace
from typing import Any

import pytest

from client.views import composer as composer_module
from client.views.composer import Composer, ComposerHandlers
from client.views.typed_text import TypedText


def _typed_then_sent(text: str) -> TypedText:
    typed = TypedText()
    for end in range(1, len(text) + 1):
        typed.reported(text[:end])
    typed.replace("")  # Enter: the text was sent, the field is cleared
    return typed


def test_keys_reported_before_the_clear_arrived_are_kept() -> None:
    typed = _typed_then_sent("first")
    assert typed.reported("firsts") == "s"
    assert typed.reported("firstsec") == "sec"
    assert typed.settling
    assert typed.settle() == "sec"  # the clear wiped them: put back
    assert typed.reported("seco") == "seco"
    assert not typed.settling


def test_keys_typed_on_both_sides_of_the_clear_are_kept_in_order() -> None:
    typed = _typed_then_sent("first")
    typed.reported("firstsec")
    assert typed.reported("o") == "seco"  # the clear arrived, then "o" was typed
    assert typed.reported("ond") == "second"
    assert typed.settle() == "second"
    assert typed.reported("second!") == "second!"


def test_nothing_is_put_back_when_the_clear_arrived_before_the_next_key() -> None:
    typed = _typed_then_sent("first")
    assert typed.reported("s") == "s"
    assert not typed.settling
    assert typed.settle() is None
    assert typed.reported("first") == "first"  # the same word again is not a stale report


def test_keys_lost_to_the_put_back_value_are_kept_too() -> None:
    typed = _typed_then_sent("first")
    typed.reported("firstsec")
    assert typed.settle() == "sec"
    assert typed.reported("x") == "secx"  # typed before "sec" arrived: lost again
    assert typed.reported("secy") == "secxy"
    assert typed.settle() == "secxy"


def test_a_pause_seen_before_the_browser_applied_the_clear_keeps_the_text() -> None:
    """Under load Python sees a pause while the browser still shows the old text: its next
    reports still start with it ("firstsecond" is "d" typed on "firstsecon", not the keys
    "firstsecond" typed on the cleared field: "seconfirstsecond")."""
    typed = _typed_then_sent("first")
    assert typed.reported("firstsecon") == "secon"
    assert typed.settle() == "secon"
    assert typed.reported("firstsecond") == "second"
    assert typed.settle() == "second"
    assert typed.reported("second!") == "second!"  # the browser shows the put-back text
    assert not typed.settling


def test_keys_lost_on_the_old_text_and_on_the_cleared_field_are_kept_in_order() -> None:
    typed = _typed_then_sent("first")
    typed.reported("firstsec")
    assert typed.settle() == "sec"
    assert typed.reported("firstseco") == "seco"  # still the old text
    assert typed.reported("n") == "secon"  # the clear arrived, not yet "sec"
    assert typed.reported("nd") == "second"
    assert typed.settle() == "second"
    assert typed.reported("sec!") == "second!"  # "sec" arrived, not yet "second"
    assert typed.settle() == "second!"
    assert typed.reported("second!?") == "second!?"
    assert not typed.settling


def test_a_deletion_before_the_put_back_arrived_keeps_the_put_back_text() -> None:
    typed = _typed_then_sent("first")
    typed.reported("firstsec")
    typed.reported("o")  # the clear arrived
    assert typed.settle() == "seco"
    assert typed.reported("") == "seco"  # Backspace before "seco" arrived: it will show
    assert not typed.settling
    assert typed.reported("secon") == "secon"


def test_a_second_send_inside_the_window_sends_only_its_own_text() -> None:
    typed = _typed_then_sent("a")
    assert typed.reported("ab") == "b"
    typed.replace("")  # Enter again: "b" was sent
    assert typed.reported("abc") == "c"
    assert typed.settle() == "c"


def test_a_value_set_at_a_calm_moment_is_the_text() -> None:
    typed = _typed_then_sent("first")
    typed.set("draft")
    assert typed.text == "draft"
    assert typed.reported("draft!") == "draft!"
    assert typed.settle() is None


def _change(value: str) -> Any:
    return SimpleNamespace(data=value)


@pytest.mark.asyncio
async def test_composer_sends_once_and_puts_back_the_keys_after_enter(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(composer_module, "SETTLE_SECONDS", 0.01)
    sent: list[str] = []
    composer = Composer(ComposerHandlers(lambda text, _: sent.append(text), lambda *_: None))
    focused: list[bool] = []

    async def focus() -> None:
        focused.append(True)

    composer.field.focus = focus  # type: ignore[method-assign]
    for end in range(1, 6):
        await composer._changed(_change("first"[:end]))
    await composer._submit()
    assert composer.field.value == ""  # the clear goes to the browser
    tasks = [
        asyncio.create_task(composer._changed(_change(value)))
        for value in ("firsts", "firstse", "firstsec")
    ]
    await asyncio.gather(*tasks)
    assert sent == ["first"]
    assert composer.text == "sec"
    assert composer.field.value == "sec"  # put back in the browser after the pause
    assert not composer.send_button.disabled
