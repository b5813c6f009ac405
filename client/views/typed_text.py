"""What the person means to have in a text field whose value the app also sets, while the
browser's reports and the app's changes cross on the wire.

Flet keeps a web text field's text in the browser: every key sends the new text to Python (an
``on_change`` with the whole value), and a value set in Python replaces the browser's text
when it arrives there, a moment later. The composer clears its field after a send: keys typed
between Enter and the clear's arrival went into the old text and are wiped by it ("first⏎second"
typed fast left "cond"). :class:`TypedText` notices them and says what to put back.

The browser reports its text after each key, so a report is either *stale* (the browser had
not applied the app's last value yet: it starts with a text that value replaces) or *fresh* (it
starts with the value the app set); the longest of those texts a report starts with tells which.
The keys a stale report adds were lost; once the typing pauses (:meth:`TypedText.settle`) the
field is set to the text the person meant. A pause seen in Python does not prove the browser
applied the value (under load its reports come late): until a fresh report says so, the
browser may still show the text it last reported, or the value.
"""

from dataclasses import dataclass


@dataclass
class _Replacement:
    """A value the app set in the field, which the browser may not have applied yet."""

    replaced: tuple[str, ...]
    """The browser's texts it replaces, in the order the browser may show them: the one it
    last reported, then values the app set before that it may have applied unreported."""
    value: str
    carried: str = ""
    """Keys lost on earlier texts of ``replaced``."""
    typed: str = ""
    """Keys lost on ``replaced[base]``, the text of the latest stale report."""
    base: int = 0
    after: str = ""
    """What the person typed after ``value`` once the browser applied it."""
    applied: bool = False

    @property
    def lost(self) -> str:
        """What the person typed on the replaced texts before the browser applied ``value``."""
        return self.carried + self.typed

    def stale_base(self, reported: str) -> int | None:
        """The index in ``replaced`` of the text ``reported`` was typed on (the latest one when
        it starts with none: a key deleted some of it), or None when it was typed after the
        browser applied ``value``."""
        if self.applied:
            return None
        texts = (*self.replaced, self.value)
        matching = [i for i, text in enumerate(texts) if reported.startswith(text)]
        if not matching:
            return self.base
        longest = max(matching, key=lambda i: (len(texts[i]), i))
        return None if longest == len(self.replaced) else longest

    def lose(self, reported: str, base: int) -> None:
        """``reported`` was typed on ``replaced[base]``: its keys are lost (with those lost on
        an earlier text, which the browser replaced since). A deletion there loses nothing."""
        if base > self.base:
            self.carried += self.typed
            self.base = base
        if reported.startswith(self.replaced[base]):
            self.typed = reported[len(self.replaced[base]) :]

    def still_shown(self) -> tuple[str, ...]:
        """The texts the browser may show now, when it has not reported ``value``: the one it
        last reported, any later text of ``replaced``, or ``value``."""
        return (*self.replaced[self.base + 1 :], self.value)


class TypedText:
    """The text the person means to have in the field, from the browser's reports and the
    values the app sets."""

    def __init__(self) -> None:
        """Start with an empty field."""
        self.text = ""
        """What the person means to have in the field now."""
        self._reported = ""
        self._pending: _Replacement | None = None

    @property
    def settling(self) -> bool:
        """True while keys were lost and :meth:`settle` has to put them back."""
        return self._pending is not None and bool(self._pending.lost)

    def set(self, value: str) -> None:
        """The app put ``value`` in the field at a calm moment (a draft, an edit, an emoji)."""
        self.text = self._reported = value
        self._pending = None

    def replace(self, value: str) -> None:
        """The app puts ``value`` in the field while the person may be typing (the clear after
        a send): reports still based on the browser's old text are recognised as stale."""
        self._pending = _Replacement((self._reported,), value)
        self.text = value

    def reported(self, value: str) -> str:
        """The browser reports ``value`` after a key; returns the text the person means."""
        self._reported = value
        pending = self._pending
        if pending is None:
            self.text = value
            return self.text
        base = pending.stale_base(value)
        if base is not None:
            pending.lose(value, base)
            self.text = pending.value + pending.lost
        else:
            pending.applied = True
            if not pending.lost:
                self._pending = None
                self.text = value
            else:
                pending.after = value.removeprefix(pending.value)
                self.text = pending.value + pending.lost + pending.after
        return self.text

    def settle(self) -> str | None:
        """The typing paused: the value to put in the field when keys were lost (the field
        then holds what the person meant), else None."""
        pending = self._pending
        if pending is None or not pending.lost:
            return None
        shown = (self._reported,) if pending.applied else (self._reported, *pending.still_shown())
        self._pending = _Replacement(shown, self.text)
        return self.text
