"""@mention autocomplete: which ``@prefix`` is being typed, which members match, and the
picker's keyboard path (arrows, Enter, Esc) inserting ``@username ``."""

from client.offline.records import MemberRow
from client.views.mention_picker import MentionPicker, MentionQuery, matching_members, mention_query

ME = "u-me"


def member(user_id: str, username: str | None, display_name: str | None) -> MemberRow:
    return MemberRow(user_id, username, display_name, "member", 0, 0)


MEMBERS = [
    member(ME, "me", "Me Myself"),
    member("u-bob", "bob", "Bob Baker"),
    member("u-bella", "bella", "Bella Stone"),
    member("u-ann", "ann", "Ann Bishop"),
    member("u-ghost", None, "No Username"),
]


def test_mention_query_is_the_at_word_before_the_cursor() -> None:
    assert mention_query("hi @Bo", None) == MentionQuery(3, 6, "bo")
    assert mention_query("@", None) == MentionQuery(0, 1, "")
    assert mention_query("hi @bo and more", 6) == MentionQuery(3, 6, "bo")


def test_no_mention_query_inside_words_or_after_a_space() -> None:
    assert mention_query("mail me at a@bo", None) is None
    assert mention_query("hi @bob ", None) is None
    assert mention_query("no at sign", None) is None


def test_members_match_by_username_first_then_by_display_name_words() -> None:
    assert [m.username for m in matching_members(MEMBERS, "b", ME)] == ["bella", "bob", "ann"]
    assert [m.username for m in matching_members(MEMBERS, "sto", ME)] == ["bella"]
    assert matching_members(MEMBERS, "me", ME) == []
    assert matching_members(MEMBERS, "no", ME) == []
    assert len(matching_members(MEMBERS, "", ME, limit=2)) == 2


class Field:
    """Stands for the composer: records the replacement the picker asks for."""

    def __init__(self, text: str) -> None:
        self.text = text

    def replace(self, start: int, end: int, text: str) -> None:
        self.text = self.text[:start] + text + self.text[end:]


def picker_for(field: Field) -> MentionPicker:
    picker = MentionPicker(lambda: MEMBERS, ME, field.replace)
    picker.update(field.text, None)
    return picker


def test_arrows_move_and_enter_inserts_the_highlighted_member() -> None:
    field = Field("hello @b")
    picker = picker_for(field)
    assert picker.is_open and [m.username for m in picker.matches] == ["bella", "bob", "ann"]
    assert picker.handle_key("Arrow Down") and picker.index == 1
    assert picker.handle_key("Arrow Up") and picker.handle_key("Arrow Up") and picker.index == 2
    assert picker.accept()
    assert field.text == "hello @ann "
    assert not picker.is_open and not picker.accept()


def test_a_click_inserts_that_member_and_esc_closes() -> None:
    field = Field("@bo")
    picker = picker_for(field)
    assert picker.accept(0) and field.text == "@bob "
    picker.update("@b", None)
    assert picker.handle_key("Escape") and not picker.is_open
    assert not picker.handle_key("Escape") and not picker.handle_key("Arrow Down")


def test_no_suggestions_when_nothing_matches() -> None:
    picker = picker_for(Field("@zed"))
    assert not picker.is_open and not picker.accept()
