"""Accounts on this device: register, login, logout, switch, and where the tokens live.

A profile dir holds any number of accounts::

    PROFILE/accounts.json          which accounts exist and which is active (no secrets)
    PROFILE/accounts/<user_id>/    one account's data dir (cache, outbox)
    PROFILE/secrets/               the file vault, only where no OS keyring exists

Tokens never go into ``accounts.json`` or any other config file. On desktop they go to the OS
keyring through ``keyring`` (macOS Keychain, Windows Credential Locker, Secret Service on Linux
desktops). Where keyring has no usable backend — Android and iOS, where it is not even installed,
and headless Linux boxes without a Secret Service — they go to ``FileVault``: one file per
account in a ``secrets/`` directory created ``0700`` with files ``0600``, apart from the config.
On a phone that directory is inside the app's private sandbox (``FLET_APP_STORAGE_DATA``), which
the OS keeps from every other app and encrypts at rest with the device; on a headless box it has
the same protection as ``~/.ssh`` keys. Encrypting the file with a key stored next to it would add
no protection, so it is not done.

When the server refuses the refresh token (revoked, expired, reused) the account is marked signed
out, its tokens are deleted, and its data dir — with any queued messages — is kept, so signing in
again as the same user picks the outbox up where it stopped.
"""

import contextlib
import hashlib
import json
import os
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Protocol

import httpx

from client.errors import AuthError, NetworkError
from client.services.api import ApiClient
from protocol.rest import AuthResponse

KEYRING_SERVICE = "OpenChat"


class SecretVault(Protocol):
    """Where tokens are kept: small strings by key."""

    def get(self, key: str) -> str | None:
        """Return the secret stored under ``key``, or ``None``."""
        ...

    def put(self, key: str, value: str) -> None:
        """Store ``value`` under ``key``, replacing any earlier one."""
        ...

    def delete(self, key: str) -> None:
        """Forget ``key`` (no error when absent)."""
        ...


class KeyringVault:
    """Secrets in the OS keyring (desktop)."""

    def __init__(self, service: str = KEYRING_SERVICE) -> None:
        import keyring

        self._keyring = keyring
        self.service = service

    def get(self, key: str) -> str | None:
        """Return the secret stored under ``key``, or ``None``."""
        value: str | None = self._keyring.get_password(self.service, key)
        return value

    def put(self, key: str, value: str) -> None:
        """Store ``value`` under ``key``."""
        self._keyring.set_password(self.service, key, value)

    def delete(self, key: str) -> None:
        """Forget ``key``."""
        with contextlib.suppress(self._keyring.errors.PasswordDeleteError):
            self._keyring.delete_password(self.service, key)


class FileVault:
    """Secrets as ``0600`` files in a ``0700`` directory (phones and headless boxes)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def _file(self, key: str) -> Path:
        return self.directory / hashlib.sha256(key.encode()).hexdigest()[:32]

    def get(self, key: str) -> str | None:
        """Return the secret stored under ``key``, or ``None``."""
        try:
            return self._file(key).read_text(encoding="utf-8")
        except FileNotFoundError:
            return None

    def put(self, key: str, value: str) -> None:
        """Store ``value`` under ``key`` atomically, readable by this user only."""
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(self.directory, 0o700)
        target = self._file(key)
        temporary = target.with_suffix(".tmp")
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(value)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, target)

    def delete(self, key: str) -> None:
        """Forget ``key``."""
        self._file(key).unlink(missing_ok=True)


def default_vault(profile_dir: Path) -> SecretVault:
    """The OS keyring when it has a working backend, else a ``FileVault`` in the profile.

    ``OPENCHAT_SECRET_STORE=file`` forces the file vault (tests, portable profiles).
    """
    if os.environ.get("OPENCHAT_SECRET_STORE") != "file":
        try:
            vault = KeyringVault()
            import keyring.backends.fail

            if not isinstance(vault._keyring.get_keyring(), keyring.backends.fail.Keyring):
                vault.get("probe")
                return vault
        except Exception:  # no keyring module (phones) or a backend that cannot work here
            pass
    return FileVault(profile_dir / "secrets")


@dataclass(frozen=True)
class Account:
    """An account known on this device (no secrets)."""

    user_id: str
    username: str
    display_name: str
    server_url: str
    signed_in: bool = True


SignedOutListener = Callable[[Account], Awaitable[None]]


def profile_server_url(profile_dir: Path) -> str | None:
    """The server of the profile's active account (so commands after ``login`` need no URL)."""
    index = Path(profile_dir).expanduser() / "accounts.json"
    if not index.is_file():
        return None
    data = json.loads(index.read_text(encoding="utf-8"))
    for item in data.get("accounts", []):
        if item.get("user_id") == data.get("active"):
            return str(item["server_url"])
    return None


class Session:
    """The accounts of one profile dir and the ``ApiClient`` of the active one.

    ``transport`` is handed to the ``ApiClient`` (tests); ``vault`` defaults to
    ``default_vault(profile_dir)``; ``on_signed_out`` is awaited when the server refuses the
    active account's refresh token (the UI goes back to the login screen).
    """

    def __init__(
        self,
        profile_dir: Path,
        server_url: str,
        *,
        vault: SecretVault | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        on_signed_out: SignedOutListener | None = None,
    ) -> None:
        self.profile_dir = Path(profile_dir).expanduser().resolve()
        self.server_url = server_url.rstrip("/")
        self.vault = vault if vault is not None else default_vault(self.profile_dir)
        self.on_signed_out = on_signed_out
        self.api = ApiClient(
            self.server_url,
            transport=transport,
            on_tokens=self._store_tokens,
            on_signed_out=self._refresh_refused,
        )
        self._accounts: dict[str, Account] = {}
        self._active: str | None = None
        self._load()

    # --- queries ------------------------------------------------------------------------------

    @property
    def active(self) -> Account | None:
        """The account in use, or ``None``."""
        return self._accounts.get(self._active) if self._active else None

    @property
    def accounts(self) -> list[Account]:
        """Every account known in this profile."""
        return list(self._accounts.values())

    def data_dir(self, account: Account | None = None) -> Path:
        """The data dir of ``account`` (default: the active one), created when missing."""
        chosen = account or self.active
        if chosen is None:
            raise AuthError("Not signed in")
        directory = self.profile_dir / "accounts" / chosen.user_id
        directory.mkdir(parents=True, exist_ok=True)
        return directory

    def find(self, name_or_id: str) -> Account | None:
        """The account with this user id or username."""
        for account in self._accounts.values():
            if name_or_id in (account.user_id, account.username):
                return account
        return None

    # --- actions ------------------------------------------------------------------------------

    async def register(self, username: str, password: str, display_name: str = "") -> Account:
        """Create an account on the server and make it the active one."""
        auth = await self.api.register(username, password, display_name or username)
        return self._activate(auth)

    async def login(self, username: str, password: str) -> Account:
        """Sign in and make the account active (its data dir and outbox are kept)."""
        auth = await self.api.login(username, password)
        return self._activate(auth)

    async def logout(self) -> None:
        """Revoke the session on the server (best effort when offline) and forget its tokens.

        The account's data dir stays; ``forget`` removes the account from the list.
        """
        account = self.active
        if account is None:
            return
        with contextlib.suppress(NetworkError):
            await self.api.logout()
        self.api.set_tokens(None, None)
        self.vault.delete(self._vault_key(account))
        self._accounts[account.user_id] = replace(account, signed_in=False)
        self._save()

    def switch(self, name_or_id: str) -> Account:
        """Make another known account active; ``AuthError`` when it needs to sign in again."""
        account = self.find(name_or_id)
        if account is None:
            raise AuthError(f"No account {name_or_id!r} on this device")
        tokens = self._load_tokens(account)
        if tokens is None:
            raise AuthError(f"{account.username} must sign in again")
        self._active = account.user_id
        self.api.set_tokens(*tokens)
        self._save()
        return account

    def restore(self) -> Account | None:
        """Resume the active account from the vault without touching the network."""
        account = self.active
        if account is None or not account.signed_in:
            return None
        tokens = self._load_tokens(account)
        if tokens is None:
            return None
        self.api.set_tokens(*tokens)
        return account

    async def aclose(self) -> None:
        """Close the API client."""
        await self.api.aclose()

    # --- internals ----------------------------------------------------------------------------

    def _activate(self, auth: AuthResponse) -> Account:
        account = Account(
            user_id=auth.user.id,
            username=auth.user.username,
            display_name=auth.user.display_name,
            server_url=self.server_url,
        )
        self._accounts[account.user_id] = account
        self._active = account.user_id
        self._save()
        self.vault.put(self._vault_key(account), _tokens_json(auth))
        return account

    async def _store_tokens(self, auth: AuthResponse) -> None:
        account = self._accounts.get(auth.user.id) or self.active
        if account is not None and account.user_id == auth.user.id:
            self.vault.put(self._vault_key(account), _tokens_json(auth))

    async def _refresh_refused(self) -> None:
        account = self.active
        if account is None:
            return
        self.vault.delete(self._vault_key(account))
        signed_out = replace(account, signed_in=False)
        self._accounts[account.user_id] = signed_out
        self._save()
        if self.on_signed_out is not None:
            await self.on_signed_out(signed_out)

    def _vault_key(self, account: Account) -> str:
        profile = hashlib.sha256(str(self.profile_dir).encode()).hexdigest()[:12]
        return f"{account.server_url}|{account.user_id}|{profile}"

    def _load_tokens(self, account: Account) -> tuple[str | None, str] | None:
        raw = self.vault.get(self._vault_key(account))
        if not raw:
            return None
        stored = json.loads(raw)
        return stored.get("access_token"), str(stored["refresh_token"])

    @property
    def _index(self) -> Path:
        return self.profile_dir / "accounts.json"

    def _load(self) -> None:
        if not self._index.is_file():
            return
        data = json.loads(self._index.read_text(encoding="utf-8"))
        self._accounts = {
            item["user_id"]: Account(**item)
            for item in data.get("accounts", [])
            if item.get("server_url") == self.server_url
        }
        active = data.get("active")
        self._active = active if active in self._accounts else None

    def _save(self) -> None:
        self.profile_dir.mkdir(parents=True, exist_ok=True)
        others: list[dict[str, object]] = []
        if self._index.is_file():
            previous = json.loads(self._index.read_text(encoding="utf-8"))
            others = [
                item
                for item in previous.get("accounts", [])
                if item.get("server_url") != self.server_url
            ]
        data = {
            "active": self._active,
            "accounts": others + [asdict(a) for a in self._accounts.values()],
        }
        temporary = self._index.with_suffix(".tmp")
        temporary.write_text(json.dumps(data, indent=2), encoding="utf-8")
        os.replace(temporary, self._index)


def _tokens_json(auth: AuthResponse) -> str:
    return json.dumps({"access_token": auth.access_token, "refresh_token": auth.refresh_token})
