"""The shared wire contract: plain-text rules, mentions, the reaction whitelist, both casings."""

from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from protocol import limits
from protocol.models import Message
from protocol.reactions import QUICK_REACTIONS, REACTION_EMOJIS, is_allowed_reaction
from protocol.rest import SendMessageRequest
from protocol.socket import MessageNewEvent, SendMessagePayload
from protocol.text import find_mentions, sanitize_text


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("<b>bold</b> text", "bold text"),
        ("<script>alert(1)</script>hi", "alert(1)hi"),
        ("&lt;img src=x onerror=alert(1)&gt;", ""),
        ("a\x00b\x07c", "abc"),
        ("line one\r\nline two\rthree", "line one\nline two\nthree"),
        ("  spaced  ", "spaced"),
        ("5 < 6 and 7 > 3", "5 < 6 and 7 > 3"),
        ("emoji 👍🏽 stays", "emoji 👍🏽 stays"),
    ],
)
def test_sanitize_text_keeps_plain_text_only(raw: str, clean: str) -> None:
    """Markup and control characters go; text, newlines and emoji stay."""
    assert sanitize_text(raw) == clean


def test_find_mentions_is_ordered_unique_and_ignores_emails() -> None:
    """@names are found once each, in order; an e-mail address is not a mention."""
    text = "@Bob and @carol, ask @bob again; mail dave@example.com"
    assert find_mentions(text) == ["bob", "carol"]


def test_message_text_is_validated_after_sanitising() -> None:
    """Text made only of markup is refused; text over the limit is refused."""
    with pytest.raises(ValidationError):
        SendMessageRequest(conversation_id="c", text="<p></p>", client_id="k")
    with pytest.raises(ValidationError):
        SendMessageRequest(
            conversation_id="c", text="x" * (limits.MAX_TEXT_LENGTH + 1), client_id="k"
        )
    ok = SendMessageRequest(conversation_id="c", text="x" * limits.MAX_TEXT_LENGTH, client_id="k")
    assert len(ok.text) == limits.MAX_TEXT_LENGTH


def test_identifiers_refuse_path_and_markup_characters() -> None:
    """Ids cannot smuggle paths or markup."""
    with pytest.raises(ValidationError):
        SendMessageRequest(conversation_id="../etc/passwd", text="hi", client_id="k")


def test_reaction_whitelist() -> None:
    """The whitelist has the common reactions, no duplicates, and refuses anything else."""
    assert len(REACTION_EMOJIS) == len(set(REACTION_EMOJIS)) >= 200
    assert all(is_allowed_reaction(emoji) for emoji in QUICK_REACTIONS)
    assert not is_allowed_reaction("x")
    assert not is_allowed_reaction("👍👍")


def test_socket_payloads_are_camel_case_and_refuse_unknown_fields() -> None:
    """Client payloads accept camelCase, refuse extras; server events serialise camelCase."""
    payload = SendMessagePayload.model_validate(
        {"conversationId": "c1", "text": "hi", "clientId": "k1"}
    )
    assert payload.conversation_id == "c1"
    with pytest.raises(ValidationError):
        SendMessagePayload.model_validate(
            {"conversationId": "c1", "text": "hi", "clientId": "k1", "senderId": "spoofed"}
        )
    message = Message(
        id="m1",
        conversation_id="c1",
        sender_id="u1",
        seq=1,
        text="hi",
        created_at=datetime.now(UTC),
    )
    event = MessageNewEvent.model_validate({**message.model_dump(), "event_id": 7})
    wire = event.model_dump(mode="json")
    assert wire["eventId"] == 7 and wire["conversationId"] == "c1" and "conversation_id" not in wire
