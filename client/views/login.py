"""Sign-in and registration screen: server address, username, password, display name.

The view validates locally (protocol limits) and hands a :class:`Credentials` to an async submit
callback supplied by the app (which calls the session service). Whatever ``OpenChatError`` the
callback raises is shown as a sentence a person understands.
"""

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import flet as ft

from client.errors import ConflictError, NetworkError, OpenChatError
from client.views.widgets import refresh
from protocol.limits import (
    MAX_DISPLAY_NAME_LENGTH,
    MAX_PASSWORD_LENGTH,
    MIN_PASSWORD_LENGTH,
    USERNAME_PATTERN,
)


@dataclass(frozen=True)
class Credentials:
    """What the user typed: enough to sign in, or to register when ``register`` is true."""

    server_url: str
    username: str
    password: str
    register: bool
    display_name: str = ""


SubmitHandler = Callable[[Credentials], Awaitable[None]]

_USERNAME_RE = re.compile(USERNAME_PATTERN)


def validate(credentials: Credentials) -> dict[str, str]:
    """Check the form locally; returns ``{field: message}`` for every field that is wrong."""
    errors: dict[str, str] = {}
    url = credentials.server_url.strip()
    if not url.startswith(("http://", "https://")) or len(url) < len("http://x"):
        errors["server_url"] = "Enter the server address, e.g. http://127.0.0.1:8000"
    if not _USERNAME_RE.match(credentials.username):
        errors["username"] = "3–32 characters: lower-case letters, digits, dot and underscore"
    if not credentials.password:
        errors["password"] = "Enter your password"
    elif credentials.register and not (
        MIN_PASSWORD_LENGTH <= len(credentials.password) <= MAX_PASSWORD_LENGTH
    ):
        errors["password"] = f"At least {MIN_PASSWORD_LENGTH} characters"
    if credentials.register:
        name = credentials.display_name.strip()
        if not name:
            errors["display_name"] = "Enter the name other people will see"
        elif len(name) > MAX_DISPLAY_NAME_LENGTH:
            errors["display_name"] = f"At most {MAX_DISPLAY_NAME_LENGTH} characters"
    return errors


def describe_error(error: OpenChatError, register: bool) -> str:
    """Turn a service error into a sentence for the sign-in screen."""
    if isinstance(error, NetworkError):
        return "Cannot reach the server. Check the address and your connection."
    if isinstance(error, ConflictError):
        return "That username is taken. Try another one."
    if error.code in ("INVALID_CREDENTIALS", "UNAUTHORIZED") and not register:
        return "Wrong username or password."
    return error.message or "Something went wrong. Try again."


class LoginView:
    """The sign-in / register form. ``control`` is what the app puts on the page."""

    def __init__(self, server_url: str, on_submit: SubmitHandler) -> None:
        """Build the form with ``server_url`` prefilled; ``on_submit`` signs in or registers."""
        self._on_submit = on_submit
        self._register = False
        self.server_url = ft.TextField(
            label="Server address",
            value=server_url,
            keyboard_type=ft.KeyboardType.URL,
            autocorrect=False,
            on_submit=self._submit,
        )
        self.username = ft.TextField(
            label="Username",
            autofocus=True,
            autocorrect=False,
            enable_suggestions=False,
            autofill_hints=ft.AutofillHint.USERNAME,
            on_submit=self._submit,
        )
        self.display_name = ft.TextField(
            label="Display name", visible=False, on_submit=self._submit
        )
        self.password = ft.TextField(
            label="Password",
            password=True,
            can_reveal_password=True,
            autofill_hints=ft.AutofillHint.PASSWORD,
            on_submit=self._submit,
        )
        self.error = ft.Text("", color=ft.Colors.ERROR, visible=False)
        self.progress = ft.ProgressRing(width=20, height=20, visible=False)
        self.title = ft.Text("Sign in to OpenChat", theme_style=ft.TextThemeStyle.HEADLINE_SMALL)
        self.submit_button = ft.FilledButton("Sign in", on_click=self._submit)
        self.switch_button = ft.TextButton("Create an account", on_click=self._toggle_mode)
        self.control = ft.Container(
            alignment=ft.Alignment.CENTER,
            expand=True,
            padding=24,
            content=ft.Column(
                width=380,
                tight=True,
                spacing=16,
                scroll=ft.ScrollMode.AUTO,
                controls=[
                    self.title,
                    self.username,
                    self.display_name,
                    self.password,
                    self.server_url,
                    self.error,
                    ft.Row([self.submit_button, self.progress, self.switch_button], wrap=True),
                ],
            ),
        )

    def credentials(self) -> Credentials:
        """The form's current values."""
        return Credentials(
            server_url=self.server_url.value.strip(),
            username=self.username.value.strip(),
            password=self.password.value,
            register=self._register,
            display_name=self.display_name.value.strip(),
        )

    def _toggle_mode(self) -> None:
        self._register = not self._register
        self.display_name.visible = self._register
        self.title.value = "Create your account" if self._register else "Sign in to OpenChat"
        self.submit_button.content = "Create account" if self._register else "Sign in"
        self.switch_button.content = (
            "I already have an account" if self._register else "Create an account"
        )
        self._show_errors({}, "")

    def _show_errors(self, fields: dict[str, str], message: str) -> None:
        for name in ("server_url", "username", "password", "display_name"):
            field: ft.TextField = getattr(self, name)
            field.error = fields.get(name)
        self.error.value = message
        self.error.visible = bool(message)

    async def _submit(self) -> None:
        credentials = self.credentials()
        errors = validate(credentials)
        if errors:
            self._show_errors(errors, "")
            return
        self._show_errors({}, "")
        self.submit_button.disabled = True
        self.progress.visible = True
        refresh(self.control)
        try:
            await self._on_submit(credentials)
        except OpenChatError as error:
            self._show_errors({}, describe_error(error, credentials.register))
        finally:
            self.submit_button.disabled = False
            self.progress.visible = False
        refresh(self.control)
