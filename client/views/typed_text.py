"""What the person means to have in a text field whose value the app also sets, while the
browser's reports and the app's changes cross on the wire.

Flet keeps a web text field's text in the browser: every key sends the new text to Python (an
``on_change`` with the whole value), and a value set in Python replaces the browser's text
when it arrives there, a moment later. The composer clears its field after a send: keys typed
between Enter and the clear's arrival went into the old text and are wiped by it ("first⏎second"
typed fast left "cond"). :class:`TypedText` notices them and says what to put back.

The browser reports its text after each key, so a report is either *stale* (the browser had
not applied the app's last value yet: it starts with the text that value replaced) or *fresh*
(it starts with the value the app set). The keys a stale report adds were lost; once the
typing pauses (:meth:`TypedText.settle`) the field is set to the text the person meant.
"""

from dataclasses import dataclass


@dataclass
class _Replacement:
    """A value the app set in the field, which the browser may not have applied yet."""

    replaced: str
    """The browser's text it replaces."""
    value: str
    lost: str = ""
    """What the person typed after ``replaced`` before the browser applied ``value``."""
    after: str = ""
    """What the person typed after ``value`` once the browser applied it."""
    applied: bool = False

    def is_fresh(self, reported: str) -> bool:
        """True when ``reported`` was typed after the browser applied ``value``.

        A longer value is recognised by its start; a shorter one (the clear after a send) by
        the report no longer starting with the text it replaced."""
        if self.applied:
            return True
        if len(self.value) > len(self.replaced):
            return reported.startswith(self.value)
        return not reported.startswith(self.replaced)


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
        self._pending = _Replacement(self._reported, value)
        self.text = value

    def reported(self, value: str) -> str:
        """The browser reports ``value`` after a key; returns the text the person means."""
        self._reported = value
        pending = self._pending
        if pending is None:
            self.text = value
        elif not pending.is_fresh(value):
            pending.lost = value[len(pending.replaced) :]
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
        if not pending.applied:  # the browser applied it during the pause
            self._reported = pending.value
        self.replace(self.text)
        return self.text
