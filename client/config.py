"""Client settings: the server URL, the data dir and feature flags.

Each value is looked up in order and the first one found wins:

1. the environment: ``OPENCHAT_SERVER_URL``, ``OPENCHAT_DATA_DIR`` and one
   ``OPENCHAT_FEATURE_<NAME>`` per flag (``1/true/yes/on`` or ``0/false/no/off``);
2. ``flet.toml`` (the app's shipped defaults), an ``[openchat]`` table::

       [openchat]
       server_url = "https://chat.example.org"
       data_dir = "~/OpenChat"          # optional

       [openchat.features]
       voice_messages = true

3. the defaults below. The default data dir is the one Flet gives a packaged app
   (``FLET_APP_STORAGE_DATA``: the app's private sandbox on Android and iOS), else the
   platform's per-user data dir.
"""

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import platformdirs

DEFAULT_SERVER_URL = "http://127.0.0.1:8000"
APP_NAME = "OpenChat"
PROJECT_ROOT = Path(__file__).resolve().parent.parent
FLET_TOML = PROJECT_ROOT / "flet.toml"
"""The shipped defaults file at the project root, next to pyproject.toml."""
ASSETS_DIR = PROJECT_ROOT / "assets"
"""Icons, splash and fonts (the project's ``assets/``; packaged builds carry it the same way)."""

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}
_FEATURE_PREFIX = "OPENCHAT_FEATURE_"


@dataclass(frozen=True)
class Settings:
    """Resolved client settings."""

    server_url: str = DEFAULT_SERVER_URL
    data_dir: Path = field(default_factory=lambda: default_data_dir({}))
    features: Mapping[str, bool] = field(default_factory=dict)

    def feature(self, name: str, default: bool = False) -> bool:
        """Return whether feature ``name`` is switched on (``default`` when not set anywhere)."""
        return self.features.get(name, default)


def default_data_dir(env: Mapping[str, str]) -> Path:
    """Return where the app keeps its files when nothing says otherwise."""
    flet_storage = env.get("FLET_APP_STORAGE_DATA")
    if flet_storage:
        return Path(flet_storage)
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def _parse_flag(name: str, raw: str) -> bool:
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ValueError(f"{name}: expected on/off, got {raw!r}")


def _read_toml(path: Path) -> dict[str, Any]:
    if not path.is_file():
        return {}
    with path.open("rb") as handle:
        table = tomllib.load(handle).get("openchat", {})
    if not isinstance(table, dict):
        raise ValueError(f"{path}: [openchat] must be a table")
    return table


def load_settings(env: Mapping[str, str] | None = None, toml_path: Path | None = None) -> Settings:
    """Resolve the settings from ``env`` (default ``os.environ``), then ``toml_path``
    (default the project's ``flet.toml``), then the defaults."""
    environ = os.environ if env is None else env
    shipped = _read_toml(FLET_TOML if toml_path is None else toml_path)

    server_url = (
        environ.get("OPENCHAT_SERVER_URL") or shipped.get("server_url") or DEFAULT_SERVER_URL
    )
    raw_dir = environ.get("OPENCHAT_DATA_DIR") or shipped.get("data_dir")
    data_dir = Path(str(raw_dir)).expanduser() if raw_dir else default_data_dir(environ)

    features: dict[str, bool] = {}
    for name, value in dict(shipped.get("features", {})).items():
        if not isinstance(value, bool):
            raise ValueError(f"flet.toml: feature {name} must be true or false")
        features[str(name)] = value
    for key, value in environ.items():
        if key.startswith(_FEATURE_PREFIX) and len(key) > len(_FEATURE_PREFIX):
            features[key[len(_FEATURE_PREFIX) :].lower()] = _parse_flag(key, value)

    return Settings(server_url=str(server_url).rstrip("/"), data_dir=data_dir, features=features)
