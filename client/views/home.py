"""The signed-in screen: chat list and chat, side by side on a wide window, one at a time on a
phone; it subscribes to the store and re-reads what changed (views never do I/O)."""

from collections.abc import Callable
from datetime import UTC, datetime
from functools import lru_cache

import flet as ft

from client.group_rules import MANAGER_ROLES, posting_notice
from client.history import History
from client.offline.records import CachedMessage, ChatRow, MemberRow
from client.search_hits import Hit
from client.store import Store, Topic
from client.theme import WIDE_LAYOUT_MIN_WIDTH
from client.views.bubble import BubbleData, ReplyQuote
from client.views.chat import ChatActions, ChatHeader, ChatView
from client.views.chat_list import ChatListView, ChatTileData
from client.views.conversation_flows import ConversationFlows
from client.views.format import member_count_text
from client.views.mention_picker import MentionPicker
from client.views.search_flow import SearchFlow
from client.views.widgets import dialog_open, icon_button, refresh
from protocol.models import PresenceStatus

CONNECTION_TEXT = {
    "offline": "Waiting for network…",
    "connecting": "Connecting…",
}


class Home:
    """Chat list + open chat, wired to a :class:`Store` and the user's actions."""

    def __init__(
        self,
        store: Store,
        actions: ChatActions,
        me: str,
        on_new_chat: Callable[[], None],
        flows: ConversationFlows | None = None,
        history: History | None = None,
    ) -> None:
        """``me`` is the signed-in user's id; ``flows`` (when connected to a server) adds the
        refresh button, chat settings, group info and reporting; ``history`` (likewise) fetches
        the history the cache lacks and searches the server too."""
        self.store = store
        self.history = history
        self.search_flow: SearchFlow | None = None
        self.actions = actions
        self.me = me
        self.page: ft.Page | None = None
        self.wide = True
        self._names = lru_cache(maxsize=4096)(self._lookup_name)
        self.chat_list = ChatListView(
            self.open_chat,
            self.search,
            on_new_chat,
            on_show_archive=self.show_archive,
            on_refresh=flows.refresh if flows else None,
            on_menu=flows.settings if flows else None,
        )
        self.chat = ChatView(
            store,
            self._describe,
            actions,
            sender_name=lambda m: self.name(m.sender_id),
            is_mine=lambda m: m.sender_id == me,
            on_back=self.close_chat,
            find_message=store.cache.message_by_id,
        )
        self.chat.messages.history = history
        self.chat.on_search = self.search_chat
        composer = self.chat.composer
        self.mentions = MentionPicker(self._mention_candidates, me, composer.replace)
        composer.suggestions.content = self.mentions.control
        composer.on_edited = self.mentions.update
        composer.intercept_submit = self.mentions.accept
        self.group_info: ft.IconButton | None = None
        if flows is not None:
            self._add_conversation_buttons(flows)
        self.placeholder = ft.Container(
            ft.Text("Choose a chat to start messaging", color=ft.Colors.ON_SURFACE_VARIANT),
            alignment=ft.Alignment.CENTER,
            expand=True,
        )
        self.list_pane = ft.Container(self.chat_list.control, width=360)
        self.chat_pane = ft.Container(self.placeholder, expand=True)
        self.control = ft.Row(
            [self.list_pane, ft.VerticalDivider(width=1), self.chat_pane],
            spacing=0,
            expand=True,
            vertical_alignment=ft.CrossAxisAlignment.STRETCH,
        )
        self._unsubscribe = store.subscribe(self._changed)

    def close(self) -> None:
        """The screen went away (sign out, session over): stop following the store."""
        self._unsubscribe()

    # -- names ---------------------------------------------------------------------------------

    def _lookup_name(self, user_id: str) -> str:
        user = self.store.cache.user(user_id)
        return user.display_name if user is not None else "Unknown"

    def name(self, user_id: str) -> str:
        """A user's display name ("You" for the signed-in user)."""
        return "You" if user_id == self.me else self._names(user_id)

    def title_of(self, row: ChatRow) -> str:
        """A conversation's title: the group title, or the other person's name."""
        if row.title:
            return row.title
        return self.name(row.peer_id) if row.peer_id else "Chat"

    def _online(self, user_id: str | None) -> bool:
        presence = self.store.presence.get(user_id) if user_id else None
        return presence is not None and presence.status == PresenceStatus.ONLINE

    def _typing_text(self, row_id: str, group: bool) -> str | None:
        users = self.store.typing_users(row_id)
        if not users:
            return None
        if not group:
            return "typing…"
        if len(users) == 1:
            return f"{users[0].display_name} is typing…"
        return f"{len(users)} people are typing…"

    def _mention_candidates(self) -> list[MemberRow]:
        """Who can be mentioned in the open chat: its members (the peer of a direct chat)."""
        conversation_id = self.chat.conversation_id
        if conversation_id is None:
            return []
        members = self.store.cache.members(conversation_id)
        row = self.store.cache.conversation(conversation_id)
        if members or row is None or row.peer_id is None:
            return members
        peer = self.store.cache.user(row.peer_id)
        if peer is None:
            return []
        return [MemberRow(peer.id, peer.username, peer.display_name, "member", 0, 0)]

    def _add_conversation_buttons(self, flows: ConversationFlows) -> None:
        """The open chat's "Group info" and "Chat settings" buttons, and "Report"."""

        def open_chat_id() -> str:
            conversation_id = self.chat.conversation_id
            assert conversation_id is not None
            return conversation_id

        self.group_info = icon_button(
            ft.Icons.GROUP_OUTLINED,
            "Group info",
            on_click=lambda: flows.group_info(open_chat_id()),
        )
        self.chat.header_actions.controls = [
            self.group_info,
            icon_button(
                ft.Icons.TUNE, "Chat settings", on_click=lambda: flows.settings(open_chat_id())
            ),
        ]
        self.chat.on_report = flows.report

    # -- layout --------------------------------------------------------------------------------

    def attach(self, page: ft.Page) -> None:
        """Remember the page and lay out for its width (call again on resize)."""
        self.page = page
        self.search_flow = SearchFlow(
            page,
            self.store.cache,
            self.history,
            self._hit_title,
            self.show_message,
            self.open_chat,
        )
        self.layout(page.width or WIDE_LAYOUT_MIN_WIDTH)

    def layout(self, width: float) -> None:
        """Side by side when ``width`` is wide enough, else one pane at a time."""
        self.wide = width >= WIDE_LAYOUT_MIN_WIDTH
        open_chat = self.chat.conversation_id is not None
        self.chat.back.visible = not self.wide
        self.list_pane.width = 360 if self.wide else None
        self.list_pane.expand = not self.wide
        self.list_pane.visible = self.wide or not open_chat
        self.chat_pane.visible = self.wide or open_chat
        self.chat_pane.content = self.chat.control if open_chat else self.placeholder
        divider = self.control.controls[1]
        divider.visible = self.wide

    # -- chat list -----------------------------------------------------------------------------

    def tile_data(self, row: ChatRow) -> ChatTileData:
        """Resolve one chat-list row for its tile."""
        group = row.type != "direct"
        preview = row.last_message
        sender = None
        if preview is not None and not preview.deleted:
            if preview.sender_id == self.me:
                sender = "You"
            elif group:
                sender = self.name(preview.sender_id)
        return ChatTileData(
            row=row,
            title=self.title_of(row),
            preview_sender=sender,
            typing=self._typing_text(row.id, group),
            online=not group and self._online(row.peer_id),
        )

    def show_chat_list(self) -> None:
        """Render the store's chat list (or archive) and connection state."""
        self.chat_list.selected = self.chat.conversation_id
        self.chat_list.show(
            [self.tile_data(row) for row in self.store.chat_list],
            archived=self.store.archived,
            archived_count=self.store.archived_count,
        )
        state = self.store.connection
        banner = CONNECTION_TEXT.get(state)
        pending = self.store.outbox_counts.pending
        if banner and pending:
            banner += f" {pending} message{'s' if pending != 1 else ''} waiting to be sent."
        self.chat_list.show_connection(banner)

    # -- chat ----------------------------------------------------------------------------------

    def header_for(self, row: ChatRow) -> ChatHeader:
        """The open chat's header from its chat-list row."""
        group = row.type != "direct"
        typing = self._typing_text(row.id, group)
        online = not group and self._online(row.peer_id)
        if typing:
            status = typing
        elif group:
            status = member_count_text(row.member_count)
        else:
            status = "online" if online else ""
        return ChatHeader(
            conversation_id=row.id,
            title=self.title_of(row),
            avatar_key=row.peer_id or row.id,
            status=status,
            online=online,
            pins=tuple(self.store.cache.pinned_messages(row.id)),
            can_delete_others=group and row.my_role in MANAGER_ROLES,
            posting_notice=posting_notice(row, self._me_in(row.id), datetime.now(UTC)),
        )

    def end_expired_notice(self) -> None:
        """Bring the composer back once the user's mute has ended (call on a timer; it reads
        the cache only while the open chat's composer shows a notice)."""
        conversation_id = self.chat.conversation_id
        if conversation_id is None or not self.chat.composer.read_only:
            return
        row = self.store.cache.conversation(conversation_id)
        if row is not None and posting_notice(row, self._me_in(row.id), datetime.now(UTC)) is None:
            self.chat.show_header(self.header_for(row))
            refresh(self.chat.header, self.chat.composer.control)

    def _me_in(self, conversation_id: str) -> MemberRow | None:
        members = self.store.cache.members(conversation_id)
        return next((m for m in members if m.user_id == self.me), None)

    def _describe(self, message: CachedMessage) -> BubbleData:
        reply = None
        if message.reply_to_id:
            original = self.store.cache.message_by_id(message.reply_to_id)
            if original is not None:
                reply = ReplyQuote(
                    message_id=message.reply_to_id,
                    sender_name=self.name(original.sender_id),
                    text=" ".join((original.text or "").split()),
                    deleted=original.deleted,
                )
        row = self.store.cache.conversation(message.conversation_id)
        group = row is not None and row.type != "direct"
        mine = message.sender_id == self.me
        return BubbleData(
            message=message,
            mine=mine,
            sender_name=self.name(message.sender_id) if group and not mine else None,
            reply=reply,
        )

    def open_chat(self, conversation_id: str) -> None:
        """Open a conversation from the list."""
        row = self.store.cache.conversation(conversation_id)
        if row is None:
            return
        draft = row.draft or ""
        self.mentions.close()
        if self.group_info is not None:
            self.group_info.visible = row.type != "direct"
        self.chat.open(self.header_for(row), row.last_read_seq if row.unread_count else None, draft)
        self.actions.mark_read(conversation_id)
        self.layout(self.page.width if self.page and self.page.width else 1000)
        self.show_chat_list()
        self._update()

    def show_archive(self, archived: bool) -> None:
        """Show the archived chats (True) or the main list (False)."""
        self.store.load_chat_list(archived)

    def show_message(self, conversation_id: str, message_id: str) -> bool:
        """Open a chat at one of its cached messages, highlighted; False (and nothing opened)
        when the cache does not hold it."""
        message = self.store.cache.message_by_id(message_id)
        if message is None or message.conversation_id != conversation_id:
            return False
        if self.chat.conversation_id != conversation_id:
            self.open_chat(conversation_id)
        return self.chat.jump_to(message_id)

    def search(self, query: str) -> None:
        """Search the messages of every chat (the chat list's search field)."""
        if self.search_flow is not None and query:
            self.search_flow.open(query)

    def search_chat(self) -> None:
        """Search the messages of the open chat."""
        conversation_id = self.chat.conversation_id
        row = self.store.cache.conversation(conversation_id) if conversation_id else None
        if self.search_flow is not None and row is not None:
            self.search_flow.open("", row.id, self.title_of(row))

    def _hit_title(self, hit: Hit) -> str:
        row = self.store.cache.conversation(hit.conversation_id)
        return self.title_of(row) if row is not None else (hit.conversation_title or "")

    def close_chat(self) -> None:
        """Back to the list (phone layout)."""
        self.chat.messages.conversation_id = None
        self.store.close_chat()
        self.layout(self.page.width if self.page and self.page.width else 1000)
        self.show_chat_list()
        self._update()

    def handle_key(self, key: str, shift: bool) -> bool:
        """Route a page key event: the open chat first (pickers, Esc), then Esc closes the chat
        on a phone. While a dialog is open Esc is its own: Flutter closes the dialog only."""
        if key == "Escape" and self.page is not None and dialog_open(self.page):
            return True
        if self.mentions.handle_key(key):
            return True
        if self.chat.conversation_id is not None and self.chat.handle_key(key, shift):
            return True
        if key == "Escape" and not self.wide and self.chat.conversation_id is not None:
            self.close_chat()
            return True
        return False

    def _update(self) -> None:
        refresh(self.control)

    def _changed(self, topic: Topic) -> None:
        touched: list[ft.BaseControl] = []
        if topic in (Topic.CHAT_LIST, Topic.OUTBOX, Topic.CONNECTION, Topic.PRESENCE, Topic.TYPING):
            self.show_chat_list()
            touched.append(self.chat_list.control)
        if self.chat.conversation_id is not None:
            if topic == Topic.OPEN_CHAT:
                self.chat.messages.refresh()
                if self.chat.messages.at_bottom:
                    self.actions.mark_read(self.chat.conversation_id)
                touched.append(self.chat.messages.list)
            if topic in (Topic.CHAT_LIST, Topic.PRESENCE, Topic.TYPING):
                row = self.store.cache.conversation(self.chat.conversation_id)
                if row is None:  # left, removed or banned: the chat is gone
                    self.close_chat()
                    return
                self.chat.show_header(self.header_for(row))
                touched.extend((self.chat.header, self.chat.composer.control))
        refresh(*touched)
