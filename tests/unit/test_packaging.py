"""The ``flet build`` configuration in pyproject.toml (``flet build`` itself needs the Flutter
SDK, which this machine does not have): identity, entry point, icons and splash, permissions with
their usage texts, and dependencies that cannot run on a phone kept off the phone builds."""

import ast
import struct
import tomllib
from pathlib import Path
from typing import Any

import pytest
from packaging.markers import default_environment
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[2]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
FLET: dict[str, Any] = PYPROJECT["tool"]["flet"]
PHONES = ("android", "ios")
DESKTOPS = ("linux", "darwin", "win32")
DESKTOP_ONLY = {"keyring", "sounddevice", "imageio-ffmpeg"}
SERVER_ONLY = {"fastapi", "uvicorn", "sqlalchemy", "alembic", "asyncpg", "redis", "argon2-cffi"}
PERMISSION_TEXTS = {
    "microphone": "NSMicrophoneUsageDescription",
    "camera": "NSCameraUsageDescription",
    "photo_library": "NSPhotoLibraryUsageDescription",
}
EMOJI_FONT = "assets/fonts/NotoColorEmoji.ttf"


def png_size(path: Path) -> tuple[int, int]:
    """Width and height from a PNG's IHDR chunk."""
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    width, height = struct.unpack(">II", header[16:24])
    return width, height


def test_identity_for_stores_and_about_dialogs() -> None:
    """Product name, bundle id (reverse domain) and company are set."""
    assert FLET["product"] == "OpenChat"
    assert FLET["bundle_id"].count(".") >= 2 and FLET["bundle_id"].startswith(FLET["org"])
    assert FLET["company"] and FLET["copyright"]


def test_entry_point_runs_the_app_with_its_assets() -> None:
    """``[tool.flet.app]`` names main.py at the root, which runs ``client.app.main``."""
    app = FLET["app"]
    entry = ROOT / app["path"] / f"{app['module']}.py"
    tree = ast.parse(entry.read_text())
    imports = [node for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)]
    assert any(node.module == "client.app" and node.names[0].name == "main" for node in imports)
    assert 'assets_dir="assets"' in entry.read_text()


@pytest.mark.parametrize("name", ["icon.png", "splash.png"])
def test_icon_and_splash_are_square_pngs(name: str) -> None:
    """flet build makes every platform's icons and splash from these files."""
    width, height = png_size(ROOT / "assets" / name)
    assert width == height >= 512


def test_permissions_have_usage_texts_people_read() -> None:
    """Microphone (voice notes), camera and photos: iOS and macOS show our own usage texts,
    Android asks for the matching permissions."""
    assert set(FLET["permissions"]) == set(PERMISSION_TEXTS)
    for key in PERMISSION_TEXTS.values():
        text = FLET["ios"]["info"][key]
        assert text.startswith("OpenChat ") and len(text) > 40
    for key in ("NSMicrophoneUsageDescription", "NSCameraUsageDescription"):
        assert FLET["macos"]["info"][key].startswith("OpenChat ")
    android = FLET["android"]["permission"]
    for permission in ("INTERNET", "RECORD_AUDIO", "CAMERA", "POST_NOTIFICATIONS"):
        assert android[f"android.permission.{permission}"] is True


def _installed_on(platform: str) -> set[str]:
    environment = {key: str(value) for key, value in default_environment().items()}
    environment["sys_platform"] = platform
    names = set()
    for line in PYPROJECT["project"]["dependencies"]:
        requirement = Requirement(line)
        if requirement.marker is None or requirement.marker.evaluate(environment):
            names.add(requirement.name)
    return names


@pytest.mark.parametrize("platform", PHONES)
def test_phone_builds_leave_out_desktop_only_packages(platform: str) -> None:
    """keyring (no backend), sounddevice and the bundled ffmpeg (no phone wheels) stay off
    phones; the server's packages are an extra and never part of the app."""
    installed = _installed_on(platform)
    assert not installed & DESKTOP_ONLY
    assert not installed & SERVER_ONLY
    assert {"flet", "httpx", "python-socketio", "sqlite-utils", "emoji"} <= installed


@pytest.mark.parametrize("platform", DESKTOPS)
def test_desktop_builds_keep_them(platform: str) -> None:
    """The same markers keep the desktop-only packages on desktops."""
    assert _installed_on(platform) >= DESKTOP_ONLY


def test_packages_leave_out_server_tests_and_phone_emoji_font() -> None:
    """Every build leaves out the server, tests and benchmarks; phone builds also the bundled
    emoji font (phones have their own), and their lists still hold the global one (a platform's
    list replaces it)."""
    common = set(FLET["app"]["exclude"])
    assert {"server", "tests", "bench"} <= common
    assert EMOJI_FONT not in common and (ROOT / EMOJI_FONT).is_file()
    for platform in PHONES:
        assert set(FLET[platform]["app"]["exclude"]) == common | {EMOJI_FONT}


def test_splash_colours_are_set() -> None:
    """A branded splash in light and dark."""
    for key in ("color", "dark_color"):
        assert FLET["splash"][key].startswith("#") and len(FLET["splash"][key]) == 7
