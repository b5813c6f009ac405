"""``main(page)``: settings, session, engine (cache, outbox, sync, store, actions), then screens.

One ``main`` runs per page session. In a browser every browser keeps its own profile (an id in
the browser's local storage names a folder under the data dir), so two browsers can be two users
of one web server; on the desktop and on phones the profile is the data dir itself.
"""

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Callable
from pathlib import Path

import flet as ft

from client.actions import ServerActions
from client.config import Settings, load_settings
from client.engine import Engine
from client.errors import AuthError
from client.history import History
from client.services.session import Session, profile_server_url
from client.theme import apply_theme
from client.views.controller import ActionsController
from client.views.conversation_flows import ConversationFlows
from client.views.home import Home
from client.views.login import Credentials, LoginView

log = logging.getLogger(__name__)

PROFILE_KEY = "openchat.profile"
"""Browser local-storage key holding the id of this browser's profile folder."""
TICK_SECONDS = 0.5
"""How often typing indicators are paced and expired."""
STORE_BATCH_SECONDS = 0.03
"""Store refreshes within this time are applied together (one repaint)."""


async def profile_dir(page: ft.Page, settings: Settings) -> Path:
    """The folder of this client's accounts: per browser in web mode, else the data dir."""
    if not page.web:
        return settings.data_dir
    prefs = ft.SharedPreferences()
    profile = await prefs.get(PROFILE_KEY)
    if not isinstance(profile, str) or not profile:
        profile = uuid.uuid4().hex
        await prefs.set(PROFILE_KEY, profile)
    return settings.data_dir / "web-profiles" / profile


class App:
    """One page session: the sign-in screen until there is a session, then the home screen."""

    def __init__(self, page: ft.Page, settings: Settings, profile: Path) -> None:
        """Prepare the session of ``profile`` (nothing is shown yet)."""
        self.page = page
        self.settings = settings
        self.profile = profile
        self.session = Session(profile, profile_server_url(profile) or settings.server_url)
        self.engine: Engine | None = None
        self.home: Home | None = None
        self._leave_home: list[Callable[[], None]] = []
        """Unsubscribes what the home screen follows (its view, its background fetches)."""
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        """Show the home screen for a remembered session, else the sign-in screen."""
        if self.session.restore() is not None:
            await self._open_engine()
        else:
            self.show_login()

    # -- sign in ---------------------------------------------------------------------------------

    def show_login(self, message: str = "") -> None:
        """Replace the page with the sign-in form."""
        view = LoginView(self.session.server_url, self._sign_in)
        if message:
            view.error.value = message
            view.error.visible = True
        self._close_home()
        self.page.on_keyboard_event = None
        self.page.controls.clear()
        self.page.add(view.control)

    async def _sign_in(self, credentials: Credentials) -> None:
        if credentials.server_url != self.session.server_url:
            await self.session.aclose()
            self.session = Session(self.profile, credentials.server_url)
        if credentials.register:
            await self.session.register(
                credentials.username, credentials.password, credentials.display_name
            )
        else:
            await self.session.login(credentials.username, credentials.password)
        await self._open_engine()

    async def sign_out(self) -> None:
        """Sign out (queued messages stay in the account's outbox) and show the sign-in form."""
        await self._close_engine()
        await self.session.logout()
        self.show_login()

    # -- engine ----------------------------------------------------------------------------------

    async def _open_engine(self) -> None:
        account = self.session.active
        engine = self.engine
        if engine is not None and account is not None and engine.account.user_id == account.user_id:
            await self._stop_tasks()
            await engine.resume()
            self._show_home(engine)
        else:
            await self._close_engine()
            loop = asyncio.get_running_loop()
            engine = Engine(self.session, defer=lambda f: loop.call_later(STORE_BATCH_SECONDS, f))
            self.engine = engine
            self._show_home(engine)
            await engine.start()
        self._tasks = [
            asyncio.create_task(self._tick(engine), name="ui-tick"),
            asyncio.create_task(self._watch_sign_out(engine), name="ui-signed-out"),
        ]

    def _show_home(self, engine: Engine) -> None:
        self._close_home()
        store = engine.store
        server = ServerActions(engine.cache, store, self.session.api, engine.sync.catch_up)
        flows = ConversationFlows(
            self.page,
            engine.actions,
            server,
            open_chat=self._open_chat,
            title_of=self._title,
            on_left=self._left,
        )
        controller = ActionsController(
            engine.actions,
            self.page,
            title_of=lambda cid: self._title(cid),
            pinned_ids=engine.cache.pinned_ids,
            show_info=flows.message_info,
        )
        history = History(engine.cache, store, self.session.api, engine.end_session)
        home = Home(store, controller, engine.account.user_id, flows.new_chat, flows, history)

        def sign_out() -> None:
            self.page.run_task(self.sign_out)

        home.chat_list.on_sign_out = sign_out
        self.home = home
        self._leave_home = [home.close, history.watch(self.page.run_task)]
        self.page.controls.clear()
        self.page.add(home.control)
        home.attach(self.page)
        self.page.on_keyboard_event = lambda e: home.handle_key(e.key, e.shift)
        store.load_chat_list()
        self.page.update()

    def _close_home(self) -> None:
        """The home screen goes away: it and its background fetches stop following the store
        (a later home screen, of this session or the next, follows it alone)."""
        for leave in self._leave_home:
            leave()
        self._leave_home = []
        self.home = None

    def _open_chat(self, conversation_id: str) -> None:
        if self.home is not None:
            if self.home.store.archived != self._archived(conversation_id):
                self.home.show_archive(not self.home.store.archived)
            self.home.open_chat(conversation_id)

    def _left(self, conversation_id: str) -> None:
        if self.home is not None and self.home.chat.conversation_id == conversation_id:
            self.home.close_chat()

    def _archived(self, conversation_id: str) -> bool:
        row = self.home.store.cache.conversation(conversation_id) if self.home else None
        return row is not None and row.is_archived

    def _title(self, conversation_id: str) -> str:
        if self.home is None:
            return conversation_id
        row = self.home.store.cache.conversation(conversation_id)
        return self.home.title_of(row) if row is not None else conversation_id

    async def _tick(self, engine: Engine) -> None:
        while True:
            await asyncio.sleep(TICK_SECONDS)
            engine.actions.typing_tick()
            engine.store.expire_typing()
            if self.home is not None:
                self.home.end_expired_notice()

    async def _watch_sign_out(self, engine: Engine) -> None:
        await engine.signed_out.wait()
        self.show_login("Your session has ended. Sign in again; unsent messages are kept.")
        self.page.update()

    async def _stop_tasks(self) -> None:
        for task in self._tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []

    async def _close_engine(self) -> None:
        self._close_home()
        await self._stop_tasks()
        if self.engine is not None:
            await self.engine.stop()
            self.engine = None

    async def close(self) -> None:
        """The page went away: disconnect and release the cache."""
        await self._close_engine()
        await self.session.aclose()

    def resized(self) -> None:
        """Lay the home screen out again for the new window width."""
        if self.home is not None and self.page.width:
            self.home.layout(self.page.width)
            self.page.update()


async def main(page: ft.Page) -> None:
    """Build one page session of the app."""
    settings = load_settings()
    apply_theme(page)
    page.title = "OpenChat"
    page.padding = 0
    app = App(page, settings, await profile_dir(page, settings))
    page.on_resize = app.resized

    async def closed() -> None:
        await app.close()

    page.on_disconnect = closed
    page.on_close = closed
    try:
        await app.start()
    except AuthError:
        app.show_login("Sign in again.")
