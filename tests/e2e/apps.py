"""Small Flet apps that mount one view with test doubles, for browser tests of single screens."""

import flet as ft

from client.errors import ConflictError, NetworkError
from client.views.login import Credentials, LoginView


def login_screen(page: ft.Page) -> None:
    """The sign-in screen with a fake session: ``taken`` is a taken username, port 9 is down."""

    async def submit(credentials: Credentials) -> None:
        if credentials.server_url.endswith(":9"):
            raise NetworkError()
        if credentials.register and credentials.username == "taken":
            raise ConflictError("Username taken", "USERNAME_TAKEN")
        page.controls.clear()
        page.add(ft.Text(f"Signed in as {credentials.username}"))

    page.title = "OpenChat"
    page.add(LoginView("http://127.0.0.1:8000", submit).control)
