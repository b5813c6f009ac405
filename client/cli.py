"""``openchat-cli``: a headless front end over the same engine and actions as the app.

    openchat-cli [--server URL] [--profile DIR] [--json] COMMAND ...

    register USER PASSWORD [--display-name NAME]   create an account and sign in
    login USER PASSWORD                            sign in (queued messages are kept)
    logout | accounts | switch USER
    chats [--archived]                             the chat list, from the local cache
    history CONVERSATION [--limit N]               a chat's messages, from the local cache
    send CONVERSATION TEXT [--reply-to ID]         queue a message and return at once
    sync [--timeout S]                             connect, catch up, drain the outbox, exit
    tail CONVERSATION [--timeout S] [--count N]    print a chat's messages as they arrive
    search QUERY [--conversation C] [--limit N]    full-text search of the local cache
    outbox                                         what waits to be sent, and what failed

A CONVERSATION is a conversation id, the other person's username in a direct chat, or a group's
title; a username with no chat yet starts one (that needs the server). The server URL comes from
``--server``, else the profile's signed-in account, else ``client.config``; the profile from
``--profile``, else the configured data dir. Exit codes: 0 done, 1 failed or timed out,
2 usage, 3 signed out (log in again; queued messages are kept).
"""

import argparse
import asyncio
import json
import os
import sys
from collections.abc import Sequence
from dataclasses import asdict, is_dataclass
from datetime import datetime
from enum import Enum
from pathlib import Path
from typing import Any

from client.config import load_settings
from client.engine import Engine
from client.errors import AuthError, NetworkError, OpenChatError
from client.offline.records import CachedMessage
from client.services.session import Session, profile_server_url
from client.store import Topic

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_SIGNED_OUT = 0, 1, 2, 3
STORE_BATCH_SECONDS = 0.05
"""Store refreshes are batched like the app's (a drain of many messages re-reads the list once
per batch, not once per message)."""


class CliError(Exception):
    """A command failed in a way the user can fix; printed without a trace."""

    def __init__(self, message: str, code: int = EXIT_FAILED) -> None:
        super().__init__(message)
        self.code = code


def _parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--json", action="store_true", default=argparse.SUPPRESS)
    parser = argparse.ArgumentParser(prog="openchat-cli", description=__doc__.split("\n")[0])
    parser.add_argument("--server", help="server URL, e.g. http://127.0.0.1:8000")
    parser.add_argument("--profile", type=Path, help="profile dir (accounts, caches, outbox)")
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    commands = parser.add_subparsers(dest="command", required=True)

    def command(name: str, help_text: str) -> argparse.ArgumentParser:
        return commands.add_parser(name, help=help_text, parents=[common])

    for name in ("register", "login"):
        sub = command(name, f"{name} and make the account active")
        sub.add_argument("username")
        sub.add_argument("password")
        if name == "register":
            sub.add_argument("--display-name", default="")
    command("logout", "sign the active account out")
    command("accounts", "the accounts of this profile")
    command("switch", "make another account active").add_argument("username")
    command("chats", "the chat list").add_argument("--archived", action="store_true")
    sub = command("history", "a conversation's messages")
    sub.add_argument("conversation")
    sub.add_argument("--limit", type=int, default=50)
    sub = command("send", "queue a text message")
    sub.add_argument("conversation")
    sub.add_argument("text")
    sub.add_argument("--reply-to")
    command("sync", "connect, catch up, drain the outbox").add_argument(
        "--timeout", type=float, default=60.0
    )
    sub = command("tail", "print messages as they arrive")
    sub.add_argument("conversation")
    sub.add_argument("--timeout", type=float, default=None)
    sub.add_argument("--count", type=int, default=None, help="stop after N new messages")
    sub = command("search", "search the local cache")
    sub.add_argument("query")
    sub.add_argument("--conversation")
    sub.add_argument("--limit", type=int, default=30)
    command("outbox", "pending and failed actions")
    return parser


# --- output -----------------------------------------------------------------------------------


def _plain(value: Any) -> Any:
    if is_dataclass(value) and not isinstance(value, type):
        return {k: _plain(v) for k, v in asdict(value).items()}
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json")
    return value


def _emit(args: argparse.Namespace, data: Any, lines: Sequence[str]) -> None:
    if args.json:
        print(json.dumps(_plain(data), ensure_ascii=False), flush=True)
    else:
        for line in lines:
            print(line, flush=True)


def _message_line(engine: Engine, message: CachedMessage) -> str:
    sender = engine.cache.user(message.sender_id)
    if message.sender_id == engine.account.user_id:
        name = engine.account.username
    else:
        name = sender.username if sender else message.sender_id[:8]
    text = "(deleted)" if message.deleted else (message.text or f"[{message.type.value}]")
    flags = " (edited)" if message.edited_at and not message.deleted else ""
    seq = message.seq if message.seq is not None else "-"
    return f"#{seq} {name}: {text}{flags} [{message.status.value}]"


# --- commands ---------------------------------------------------------------------------------


async def _resolve(engine: Engine, name: str) -> str:
    """A conversation id from an id, a peer's username or a group title (see module doc)."""
    cache = engine.cache
    if cache.has_conversation(name):
        return name
    for archived in (False, True):
        for row in cache.chat_list(archived):
            peer = cache.user(row.peer_id) if row.peer_id else None
            if (peer is not None and peer.username == name.lower()) or (
                row.type != "direct" and row.title == name
            ):
                return row.id
    api = engine.session.api
    try:
        users = await api.find_users(name)
        match = next((u for u in users if u.username == name.lower()), None)
        if match is None:
            raise CliError(f"no conversation or user named {name!r}")
        conversation = await api.create_direct(match.id)
    except NetworkError as exc:
        raise CliError(f"no conversation {name!r} in the local cache (server unreachable)") from exc
    with cache.transaction():
        cache.upsert_conversation(conversation)
    return conversation.id


async def _sync(engine: Engine, args: argparse.Namespace) -> int:
    await engine.start()
    loop = asyncio.get_running_loop()
    deadline = loop.time() + args.timeout
    connected = await engine.realtime.wait_online(args.timeout)
    remaining = max(0.0, deadline - loop.time())
    drained = connected and await engine.wait_drained(remaining)
    counts = engine.outbox.counts()
    result = {
        "connected": connected,
        "drained": drained,
        "pending": counts.pending,
        "failed": counts.failed,
        "signed_out": engine.signed_out.is_set(),
    }
    _emit(args, result, [f"{k}: {v}" for k, v in result.items()])
    if engine.signed_out.is_set():
        return EXIT_SIGNED_OUT
    return EXIT_OK if drained else EXIT_FAILED


async def _tail(engine: Engine, args: argparse.Namespace) -> int:
    conversation_id = await _resolve(engine, args.conversation)
    seen: dict[int, tuple[str | None, bool, int | None]] = {}
    printed = 0
    done = asyncio.Event()
    window = engine.store.open_chat(conversation_id)
    for message in window.messages:
        seen[message.local_id] = (message.text, message.deleted, message.seq)

    def show(topic: Topic) -> None:
        nonlocal printed
        if topic is not Topic.OPEN_CHAT or engine.store.window is None:
            return
        for message in engine.store.window.messages:
            state = (message.text, message.deleted, message.seq)
            if seen.get(message.local_id) == state:
                continue
            is_new = message.local_id not in seen
            seen[message.local_id] = state
            if message.seq is None:
                continue
            _emit(args, message, [_message_line(engine, message)])
            printed += int(is_new)
            if args.count is not None and printed >= args.count:
                done.set()

    engine.store.subscribe(show)
    await engine.start()
    try:
        await asyncio.wait_for(done.wait(), args.timeout)
    except TimeoutError:
        return EXIT_OK if args.count is None else EXIT_FAILED
    return EXIT_OK


async def _with_engine(session: Session, args: argparse.Namespace) -> int:
    loop = asyncio.get_running_loop()
    engine = Engine(session, defer=lambda flush: loop.call_later(STORE_BATCH_SECONDS, flush))
    try:
        if args.command == "chats":
            rows = engine.cache.chat_list(args.archived)
            lines = []
            for row in rows:
                peer = engine.cache.user(row.peer_id) if row.peer_id else None
                label = peer.username if peer else (row.title or row.id)
                lines.append(f"{row.id}  {label}  unread={row.unread_count}")
            _emit(args, rows, lines)
        elif args.command == "history":
            conversation_id = await _resolve(engine, args.conversation)
            messages = engine.cache.messages_before(conversation_id, None, args.limit)
            _emit(args, messages, [_message_line(engine, m) for m in messages])
        elif args.command == "send":
            conversation_id = await _resolve(engine, args.conversation)
            message = engine.actions.send_text(conversation_id, args.text, args.reply_to)
            _emit(args, message, [f"queued {message.client_id}"])
        elif args.command == "search":
            hits = engine.cache.search(args.query, args.conversation, args.limit)
            _emit(args, hits, [f"{h.message.conversation_id}  {h.snippet}" for h in hits])
        elif args.command == "outbox":
            items = engine.outbox.items()
            lines = [
                f"{i.id} {i.kind.value} {i.state.value} attempts={i.attempts}"
                + (f" error={i.error_code}" if i.error_code else "")
                for i in items
            ]
            _emit(args, items, lines)
        elif args.command == "sync":
            return await _sync(engine, args)
        elif args.command == "tail":
            return await _tail(engine, args)
        return EXIT_OK
    finally:
        await engine.stop()


async def run(args: argparse.Namespace) -> int:
    """Run one parsed command; returns the exit code."""
    settings = load_settings()
    profile = args.profile or settings.data_dir
    server = args.server or profile_server_url(profile) or settings.server_url
    session = Session(profile, server)
    try:
        if args.command in ("register", "login"):
            if args.command == "register":
                account = await session.register(args.username, args.password, args.display_name)
            else:
                account = await session.login(args.username, args.password)
            _emit(args, account, [f"signed in as {account.username} ({account.user_id})"])
            return EXIT_OK
        if args.command == "accounts":
            active = session.active
            _emit(
                args,
                session.accounts,
                [
                    f"{'*' if a == active else ' '} {a.username} {a.user_id}"
                    + ("" if a.signed_in else " (signed out)")
                    for a in session.accounts
                ],
            )
            return EXIT_OK
        if args.command == "switch":
            account = session.switch(args.username)
            _emit(args, account, [f"now {account.username}"])
            return EXIT_OK
        if session.restore() is None:
            raise CliError("not signed in: run `openchat-cli login USER PASSWORD`", EXIT_SIGNED_OUT)
        if args.command == "logout":
            await session.logout()
            _emit(args, {"signed_out": True}, ["signed out"])
            return EXIT_OK
        return await _with_engine(session, args)
    finally:
        await session.aclose()


def main(argv: Sequence[str] | None = None) -> int:
    """Console script entry point."""
    args = _parser().parse_args(argv)
    try:
        return asyncio.run(run(args))
    except CliError as exc:
        print(f"openchat-cli: {exc}", file=sys.stderr)
        return exc.code
    except AuthError as exc:
        print(f"openchat-cli: {exc.message} (sign in again)", file=sys.stderr)
        return EXIT_SIGNED_OUT
    except (OpenChatError, ValueError) as exc:
        print(f"openchat-cli: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        return EXIT_OK
    except BrokenPipeError:  # the reader (e.g. `| head`) went away: not an error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
