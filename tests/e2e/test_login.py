"""The sign-in screen in a real browser: labelled fields, local validation, service errors."""

from playwright.sync_api import expect

from .conftest import OpenPage, StartApp
from .harness import PHONE, fill, screenshot


def test_sign_in_screen_validates_and_signs_in(open_page: OpenPage, start_app: StartApp) -> None:
    """Typing into labelled fields works; bad input and an unreachable server show errors."""
    app = start_app("tests.e2e.apps:login_screen")
    page = open_page(app.url, PHONE)
    expect(page.get_by_text("Sign in to OpenChat")).to_be_visible()
    screenshot(page, "login-empty")

    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_text("Enter your password")).to_be_visible()
    screenshot(page, "login-validation")

    fill(page, "Username", "alice")
    fill(page, "Password", "correct horse")
    fill(page, "Server address", "http://127.0.0.1:9")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_text("Cannot reach the server", exact=False)).to_be_visible()
    screenshot(page, "login-network-error")

    fill(page, "Server address", "http://127.0.0.1:8000")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_text("Signed in as alice")).to_be_visible()


def test_register_mode_shows_display_name(open_page: OpenPage, start_app: StartApp) -> None:
    """Switching to registration asks for a display name and reports a taken username."""
    app = start_app("tests.e2e.apps:login_screen")
    page = open_page(app.url, PHONE, color_scheme="dark")
    page.get_by_role("button", name="Create an account").click()
    expect(page.get_by_label("Display name", exact=True)).to_be_visible()
    fill(page, "Username", "taken")
    fill(page, "Display name", "Taken Name")
    fill(page, "Password", "long enough")
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_text("That username is taken. Try another one.")).to_be_visible()
    screenshot(page, "register-taken-dark")
