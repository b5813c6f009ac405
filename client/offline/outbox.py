"""The durable, ordered queue of user actions (the worker that drains it is
``offline.outbox_worker``).

- Every action is one row, in the order the user made it, with the client id that makes it
  idempotent end to end. An action writes its optimistic cache change and its row in one
  transaction; an item is removed only in the transaction that stores the server's answer.
- Receipts coalesce: a newer one replaces a queued one of the same conversation.
- A forward shows its copies at once, pending, numbered by ``forward_copy_id``; the server's
  copies replace them in answer order (``Cache.settle_copy``), also when their ``message_new``
  came first. The forward's client id goes to the server too, so a forward re-sent after its
  answer was lost (a crash, a dropped connection) is answered with the first copies.
- A permanent failure sets an item aside as ``failed`` with a reason the UI shows (a failed
  send also marks its message failed; the optimistic change of any other action is rolled
  back, see ``offline.undo``); the user retries it (back to its place) or discards it.
"""

import dataclasses
import json
import time
import uuid
from collections.abc import Callable, Sequence
from typing import Any, Final

from client.offline.cache import Cache
from client.offline.outbox_items import (
    COALESCED_KINDS,
    ActionKind,
    OutboxItem,
    OutboxState,
    forward_copy_id,
    validate_request,
)
from client.offline.records import MessageStatus, OutboxCounts
from client.offline.undo import apply_undo
from protocol.errors import ErrorCode
from protocol.models import Message

NOT_SENT: Final = "NOT_SENT"
"""Failure code of an action on a message that was never sent."""

_REASONS: Final[dict[str, str]] = {
    ErrorCode.BLOCKED: "You can't send to this person.",
    ErrorCode.MUTED: "An admin muted you in this group.",
    ErrorCode.LOCKED: "Only admins can post in this group.",
    ErrorCode.BANNED: "You are banned from this group.",
    ErrorCode.NOT_A_MEMBER: "You are no longer a member of this conversation.",
    ErrorCode.FORBIDDEN: "You are not allowed to do this.",
    ErrorCode.NOT_FOUND: "The message or conversation no longer exists.",
    ErrorCode.PAYLOAD_TOO_LARGE: "This is too large to send.",
    ErrorCode.UNSUPPORTED_MEDIA_TYPE: "This kind of file can't be sent.",
    NOT_SENT: "The message this refers to was never sent.",
}


def failure_reason(code: str, message: str) -> str:
    """The sentence the UI shows for a permanent failure (the server's message for validation
    errors and codes without a sentence of their own)."""
    return _REASONS.get(code, message)


class Outbox:
    """The queue itself, a table of the cache database (so an action writes its optimistic
    cache change and its outbox row in one transaction)."""

    def __init__(
        self,
        cache: Cache,
        clock: Callable[[], float] = time.time,
        new_id: Callable[[], str] = lambda: str(uuid.uuid4()),
    ) -> None:
        """``clock`` gives wall-clock seconds (persisted retry times); ``new_id`` client ids."""
        self.cache = cache
        self.clock = clock
        self.new_id = new_id
        self._listeners: list[Callable[[], None]] = []

    def subscribe(self, listener: Callable[[], None]) -> Callable[[], None]:
        """Call ``listener`` after every change of the queue; returns the unsubscribe."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    def _changed(self) -> None:
        for listener in list(self._listeners):
            listener()

    def enqueue(
        self,
        kind: ActionKind,
        payload: dict[str, Any],
        conversation_id: str | None = None,
        target_client_id: str | None = None,
        client_id: str | None = None,
        undo: dict[str, Any] | None = None,
    ) -> OutboxItem:
        """Queue an action (call it inside the action's cache transaction).

        ``payload`` is the snake_case request body; it is validated now unless it waits for the
        server id of ``target_client_id`` (then ``message_id`` is filled in when it is sent).
        Receipts replace a queued receipt of the same conversation instead of queueing another.
        ``undo`` (built with ``offline.undo``) rolls the optimistic change back if the item
        fails for good. Raises ``pydantic.ValidationError`` for a malformed body.
        """
        if target_client_id is None:
            validate_request(kind, payload)
        encoded = json.dumps(payload)
        db = self.cache.db
        with self.cache.transaction():
            if kind in COALESCED_KINDS:
                row = self.cache.one(
                    "SELECT id FROM outbox WHERE kind = ? AND conversation_id = ? "
                    "AND state = ? ORDER BY id LIMIT 1",
                    [kind.value, conversation_id, OutboxState.QUEUED.value],
                )
                if row is not None:
                    db.execute(
                        "UPDATE outbox SET payload = ?, revision = revision + 1 WHERE id = ?",
                        [encoded, row["id"]],
                    )
                    item = self.get(int(row["id"]))
                    assert item is not None
                    self._changed()
                    return item
            cursor = db.execute(
                """INSERT INTO outbox(client_id, kind, conversation_id, target_client_id,
                    payload, created_at, undo) VALUES (?, ?, ?, ?, ?, ?, ?)""",
                [
                    client_id or self.new_id(),
                    kind.value,
                    conversation_id,
                    target_client_id,
                    encoded,
                    self.clock(),
                    json.dumps(undo) if undo is not None else None,
                ],
            )
        item = self.get(int(cursor.lastrowid or 0))
        assert item is not None
        self._changed()
        return item

    def get(self, item_id: int) -> OutboxItem | None:
        """Return an item by id."""
        row = self.cache.one("SELECT * FROM outbox WHERE id = ?", [item_id])
        return None if row is None else OutboxItem.from_row(row)

    def head(self) -> OutboxItem | None:
        """The next item to send (the oldest queued one)."""
        row = self.cache.one(
            "SELECT * FROM outbox WHERE state = ? ORDER BY id LIMIT 1",
            [OutboxState.QUEUED.value],
        )
        return None if row is None else OutboxItem.from_row(row)

    def items(self, state: OutboxState | None = None) -> list[OutboxItem]:
        """Every item (or those in ``state``), in queue order."""
        if state is None:
            rows = self.cache.rows("SELECT * FROM outbox ORDER BY id")
        else:
            rows = self.cache.rows(
                "SELECT * FROM outbox WHERE state = ? ORDER BY id", [state.value]
            )
        return [OutboxItem.from_row(r) for r in rows]

    def counts(self) -> OutboxCounts:
        """How many items are queued and how many failed."""
        counts = {
            r["state"]: r["n"]
            for r in self.cache.rows("SELECT state, count(*) AS n FROM outbox GROUP BY state")
        }
        return OutboxCounts(
            pending=counts.get(OutboxState.QUEUED.value, 0),
            failed=counts.get(OutboxState.FAILED.value, 0),
        )

    def item_for_message(self, client_id: str) -> OutboxItem | None:
        """The queued or failed send of the message with ``client_id``."""
        row = self.cache.one(
            "SELECT * FROM outbox WHERE client_id = ? AND kind = ?",
            [client_id, ActionKind.SEND.value],
        )
        return None if row is None else OutboxItem.from_row(row)

    def retry(self, item_id: int) -> None:
        """Queue a failed item again at its original place (a send's message turns pending)."""
        item = self.get(item_id)
        if item is None or item.state != OutboxState.FAILED:
            return
        with self.cache.transaction():
            self.cache.db.execute(
                """UPDATE outbox SET state = ?, attempts = 0, next_attempt_at = 0,
                    error_code = NULL, error_message = NULL WHERE id = ?""",
                [OutboxState.QUEUED.value, item_id],
            )
            if item.kind == ActionKind.SEND:
                self.cache.set_unsent_status(item.client_id, MessageStatus.PENDING)
        self._changed()

    def discard(self, item_id: int) -> None:
        """Drop an item; a discarded send removes its unsent message, a discarded forward its
        pending copies."""
        item = self.get(item_id)
        if item is None:
            return
        with self.cache.transaction():
            self.cache.db.execute("DELETE FROM outbox WHERE id = ?", [item_id])
            if item.kind == ActionKind.SEND:
                message = self.cache.message_by_client_id(item.client_id)
                if message is not None:
                    self.cache.remove_unsent(message.local_id)
            elif item.kind == ActionKind.FORWARD and item.undo is not None:
                apply_undo(self.cache, item.kind, item.undo)
        self._changed()

    def queued_after(self, after_id: int, limit: int) -> list[OutboxItem]:
        """Up to ``limit`` queued items after ``after_id``, in queue order."""
        rows = self.cache.rows(
            "SELECT * FROM outbox WHERE state = ? AND id > ? ORDER BY id LIMIT ?",
            [OutboxState.QUEUED.value, after_id, limit],
        )
        return [OutboxItem.from_row(r) for r in rows]

    def complete(self, item: OutboxItem, answer: Sequence[Message]) -> None:
        """Store the server's answer and remove the item, in one transaction. A receipt that
        was replaced while in flight stays queued with its newer body."""
        self.complete_all([(item, answer)])

    def complete_all(self, done: Sequence[tuple[OutboxItem, Sequence[Message]]]) -> None:
        """``complete`` several items in one transaction (answers stored in the given order)."""
        if not done:
            return
        with self.cache.transaction():
            for item, answer in done:
                if item.kind is ActionKind.FORWARD:
                    self._settle_forward(item, answer)
                else:
                    for message in answer:
                        self.cache.store_message(message)
                self.cache.db.execute(
                    "DELETE FROM outbox WHERE id = ? AND revision = ?", [item.id, item.revision]
                )
        self._changed()

    def _settle_forward(self, item: OutboxItem, copies: Sequence[Message]) -> None:
        """The server's copies replace the pending ones, matched by answer order; pending copies
        the answer did not cover are dropped."""
        for index, message in enumerate(copies):
            self.cache.settle_copy(forward_copy_id(item.client_id, index), message)
        if item.undo is not None:
            self.cache.remove_unsent_copies(item.undo["copies"][len(copies) :])

    def fail(self, item: OutboxItem, code: str, message: str) -> None:
        """Set an item aside as failed: a failed send marks its message failed, any other
        action's optimistic change is rolled back."""
        reason = failure_reason(code, message)
        with self.cache.transaction():
            self.cache.db.execute(
                "UPDATE outbox SET state = ?, error_code = ?, error_message = ? WHERE id = ?",
                [OutboxState.FAILED.value, code, reason, item.id],
            )
            if item.kind == ActionKind.SEND:
                self.cache.set_unsent_status(item.client_id, MessageStatus.FAILED, code, reason)
            if item.undo is not None:
                apply_undo(self.cache, item.kind, item.undo)
        self._changed()

    def postpone(self, item: OutboxItem, until: float, code: str, message: str) -> None:
        """Count a transient failure: the item stays at the head until ``until``."""
        self.cache.db.execute(
            """UPDATE outbox SET attempts = attempts + 1, next_attempt_at = ?,
                error_code = ?, error_message = ? WHERE id = ?""",
            [until, code, message, item.id],
        )
        self._changed()

    def retry_head_now(self) -> None:
        """Forget the head's backoff (after a reconnect there is no reason to wait)."""
        self.cache.db.execute(
            "UPDATE outbox SET next_attempt_at = 0 WHERE state = ? AND next_attempt_at > 0",
            [OutboxState.QUEUED.value],
        )

    def resolve(self, item: OutboxItem) -> OutboxItem | None:
        """Fill in the server id of the message an item refers to by client id; None when that
        message has no server id (its send failed or was discarded)."""
        if item.target_client_id is None:
            return item
        target = self.cache.message_by_client_id(item.target_client_id)
        if target is None or target.id is None:
            return None
        return dataclasses.replace(item, payload={**item.payload, "message_id": target.id})
