"""Server settings: command-line flags and ``OPENCHAT_*`` environment variables."""

import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from protocol import limits
from server.api.addresses import Network, parse_networks


@dataclass(frozen=True)
class Settings:
    """Everything the server needs to start; built once by ``load_settings``."""

    data_dir: Path
    database_url: str
    redis_url: str | None
    secret_key: str
    redis_namespace: str = "openchat"
    """Prefix of this deployment's Redis keys and Socket.IO channel (several deployments, or
    test servers, can share one Redis; the nodes of one deployment share the namespace)."""
    access_token_ttl: int = limits.ACCESS_TOKEN_TTL_SECONDS
    refresh_token_ttl: int = limits.REFRESH_TOKEN_TTL_SECONDS
    messages_per_minute: int = limits.MESSAGES_PER_MINUTE
    auth_attempts_per_window: int = limits.AUTH_ATTEMPTS_PER_WINDOW
    auth_window_seconds: int = limits.AUTH_WINDOW_SECONDS
    event_retention_seconds: int = 30 * 24 * 60 * 60
    """How long the event log keeps entries; a /sync ``since`` older than that answers 410."""
    cors_origins: tuple[str, ...] = field(default_factory=tuple)
    trusted_proxies: tuple[Network, ...] = field(default_factory=tuple)
    """Reverse proxies whose ``X-Forwarded-For`` names the client (see ``server.api.addresses``)."""

    @property
    def is_sqlite(self) -> bool:
        """True when the database is SQLite (single machine)."""
        return self.database_url.startswith("sqlite")


def _secret_key(data_dir: Path) -> str:
    """Return ``OPENCHAT_SECRET_KEY`` or a key generated once and kept in the data dir."""
    from_env = os.environ.get("OPENCHAT_SECRET_KEY")
    if from_env:
        return from_env
    key_file = data_dir / "secret.key"
    if key_file.exists():
        return key_file.read_text().strip()
    key = secrets.token_urlsafe(48)
    key_file.touch(mode=0o600)
    key_file.write_text(key)
    return key


def _int_env(name: str, default: int) -> int:
    raw = os.environ.get(name)
    return int(raw) if raw else default


def load_settings(data_dir: Path | str) -> Settings:
    """Build settings for a server keeping its files in ``data_dir`` (created when missing).

    Environment: ``OPENCHAT_DATABASE_URL`` (default: SQLite file in the data dir),
    ``OPENCHAT_REDIS_URL`` (optional), ``OPENCHAT_REDIS_NAMESPACE`` (default ``openchat``),
    ``OPENCHAT_SECRET_KEY`` (generated when unset),
    ``OPENCHAT_ACCESS_TOKEN_TTL`` / ``OPENCHAT_REFRESH_TOKEN_TTL`` (seconds),
    ``OPENCHAT_MESSAGES_PER_MINUTE``, ``OPENCHAT_AUTH_ATTEMPTS`` (per 15 min),
    ``OPENCHAT_EVENT_RETENTION`` (seconds), ``OPENCHAT_CORS_ORIGINS`` (comma separated),
    ``OPENCHAT_TRUSTED_PROXIES`` (comma-separated addresses or networks of reverse proxies).
    """
    directory = Path(data_dir).expanduser().resolve()
    directory.mkdir(parents=True, exist_ok=True)
    database_url = os.environ.get("OPENCHAT_DATABASE_URL") or (
        f"sqlite+aiosqlite:///{directory / 'openchat.db'}"
    )
    if database_url.startswith("postgresql://") or database_url.startswith("postgres://"):
        database_url = "postgresql+asyncpg://" + database_url.split("://", 1)[1]
    origins = os.environ.get("OPENCHAT_CORS_ORIGINS", "")
    return Settings(
        data_dir=directory,
        database_url=database_url,
        redis_url=os.environ.get("OPENCHAT_REDIS_URL") or None,
        redis_namespace=os.environ.get("OPENCHAT_REDIS_NAMESPACE") or "openchat",
        secret_key=_secret_key(directory),
        access_token_ttl=_int_env("OPENCHAT_ACCESS_TOKEN_TTL", limits.ACCESS_TOKEN_TTL_SECONDS),
        refresh_token_ttl=_int_env("OPENCHAT_REFRESH_TOKEN_TTL", limits.REFRESH_TOKEN_TTL_SECONDS),
        messages_per_minute=_int_env("OPENCHAT_MESSAGES_PER_MINUTE", limits.MESSAGES_PER_MINUTE),
        auth_attempts_per_window=_int_env(
            "OPENCHAT_AUTH_ATTEMPTS", limits.AUTH_ATTEMPTS_PER_WINDOW
        ),
        event_retention_seconds=_int_env("OPENCHAT_EVENT_RETENTION", 30 * 24 * 60 * 60),
        cors_origins=tuple(o.strip() for o in origins.split(",") if o.strip()),
        trusted_proxies=parse_networks(os.environ.get("OPENCHAT_TRUSTED_PROXIES", "")),
    )
