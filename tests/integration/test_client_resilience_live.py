"""Faults against the real server: a restart while a receiver is connected, an access token
expiring mid-session, a revoked refresh token."""

import asyncio
from pathlib import Path
from typing import Any

import httpx
import pytest

from client.offline.sync import CatchUpReport
from client.services.api import ApiClient
from client.services.realtime import Backoff, ConnectionState
from protocol.rest import API_PREFIX
from tests.integration.client_harness import (
    PASSWORD,
    Device,
    device,
    restart,
    running_server,
    start,
    stop,
    unique_name,
    wait_until,
)


def record_catch_ups(dev: Device) -> list[CatchUpReport]:
    """Collect the reports of the device's /sync catch-ups."""
    reports: list[CatchUpReport] = []
    original = dev.engine.sync.catch_up

    async def recording() -> CatchUpReport:
        report = await original()
        reports.append(report)
        return report

    dev.engine.sync.catch_up = recording  # type: ignore[method-assign]
    return reports


@pytest.mark.timeout(900)
async def test_server_restart_receiver_misses_nothing(tmp_path: Path) -> None:
    async with running_server(tmp_path / "server") as server:
        alice_name, bob_name = unique_name("alice"), unique_name("bob")
        alice = ApiClient(server.url)
        slow_return = Backoff(base=20.0, cap=20.0)  # bob stays away until the changes are made
        bob = await device(
            tmp_path / "bob", server.url, bob_name, register=True, backoff=slow_return
        )
        try:
            await alice.register(alice_name, PASSWORD, "Alice")
            conversation = await alice.create_direct(bob.user_id)
            sent = [await alice.send_message(conversation.id, f"m{i}", f"c{i}") for i in range(4)]
            await wait_until(lambda: len(bob.texts(conversation.id)) == 4, 30, "live messages")
            reports = record_catch_ups(bob)

            await restart(server)
            assert bob.engine.realtime.state is not ConnectionState.ONLINE
            await alice.edit_message(sent[0].id, "m0 edited")
            await alice.delete_message(conversation.id, sent[1].id)
            await alice.add_reaction(sent[2].id, "👍")
            await alice.send_message(conversation.id, "m4 while away", "c4")

            def caught_up() -> bool:
                messages = {m.id: m for m in bob.messages(conversation.id)}
                return (
                    messages[sent[0].id].text == "m0 edited"
                    and messages[sent[1].id].deleted
                    and [r.emoji for r in messages[sent[2].id].reactions] == ["👍"]
                    and bob.texts(conversation.id)[-1] == "m4 while away"
                )

            await wait_until(caught_up, 60, "bob sees what happened while away")
            # pulled by /sync: the socket's catch-up or, while it is away, the REST fallback's
            assert sum(r.applied for r in reports) >= 4, reports
            messages = bob.messages(conversation.id)
            assert [m.seq for m in messages] == [1, 2, 3, 4, 5]
            assert messages[1].text in (None, "")
            await wait_until(
                lambda: bob.engine.store.connection == ConnectionState.ONLINE, 60, "socket back"
            )
        finally:
            await alice.aclose()
            await bob.close()


@pytest.mark.timeout(900)
async def test_access_token_expiry_is_invisible(tmp_path: Path) -> None:
    async with running_server(tmp_path / "server", OPENCHAT_ACCESS_TOKEN_TTL="2") as server:
        alice_name, bob_name = unique_name("alice"), unique_name("bob")
        bob = await device(tmp_path / "bob", server.url, bob_name, register=True)
        alice = await device(tmp_path / "alice", server.url, alice_name, register=True)
        try:
            conversation = await alice.session.api.create_direct(bob.user_id)
            alice.engine.actions.send_text(conversation.id, "before expiry")
            assert await alice.engine.wait_drained(30)
            first_access = alice.session.api.access_token
            first_refresh = alice.session.api.refresh_token

            async def expired() -> bool:
                async with httpx.AsyncClient() as raw:
                    response = await raw.get(
                        f"{server.url}{API_PREFIX}/users/me",
                        headers={"Authorization": f"Bearer {first_access}"},
                    )
                return response.status_code == 401

            for _ in range(100):
                if await expired():
                    break
                await asyncio.sleep(0.1)
            assert await expired()

            assert (await alice.session.api.conversation(conversation.id)).id == conversation.id
            assert alice.session.api.refresh_token != first_refresh

            await restart(server)  # the socket comes back with an expired token
            for _ in range(100):
                if await expired():
                    break
                await asyncio.sleep(0.1)
            alice.engine.actions.send_text(conversation.id, "after expiry")
            assert await alice.engine.wait_drained(60)
            await wait_until(
                lambda: bob.texts(conversation.id) == ["before expiry", "after expiry"], 60, "bob"
            )
            assert not alice.engine.signed_out.is_set()
            assert alice.session.active is not None and alice.session.active.signed_in
        finally:
            await alice.close()
            await bob.close()


@pytest.mark.timeout(900)
async def test_revoked_refresh_token_back_to_login_keeps_queue(tmp_path: Path) -> None:
    async with running_server(tmp_path / "server", OPENCHAT_ACCESS_TOKEN_TTL="2") as server:
        alice_name, bob_name = unique_name("alice"), unique_name("bob")
        bob = await device(tmp_path / "bob", server.url, bob_name, register=True)
        alice = await device(tmp_path / "alice", server.url, alice_name, register=True)
        try:
            conversation = await alice.direct_chat(bob.user_id)
            await wait_until(lambda: alice.engine.caught_up.is_set(), 30, "alice online")

            thief = ApiClient(server.url)  # a copy of the refresh token is used elsewhere...
            thief.set_tokens(None, alice.session.api.refresh_token)
            await thief.refresh()
            await thief.aclose()

            await stop(server)
            queued = [f"queued {i}" for i in range(5)]
            for text in queued:
                alice.engine.actions.send_text(conversation.id, text)
            await start(server)
            # ...so her next refresh (her access token expired) is a reuse: the family is revoked
            await wait_until(lambda: alice.engine.signed_out.is_set(), 60, "back to the login")
            assert alice.session.active is not None and not alice.session.active.signed_in
            assert alice.engine.outbox.counts().pending == 5
            assert [m.status.value for m in alice.messages(conversation.id)] == ["pending"] * 5

            await alice.session.login(alice_name, PASSWORD)
            await alice.engine.resume()
            assert await alice.engine.wait_drained(60)
            await wait_until(lambda: bob.texts(conversation.id) == queued, 60, "bob gets them once")
            assert alice.texts(conversation.id) == queued
        finally:
            await alice.close()
            await bob.close()


@pytest.mark.timeout(900)
async def test_live_event_arriving_after_a_newer_one_is_not_lost(tmp_path: Path) -> None:
    async with running_server(tmp_path / "server") as server:
        alice_name, bob_name = unique_name("alice"), unique_name("bob")
        alice = ApiClient(server.url)
        bob = await device(tmp_path / "bob", server.url, bob_name, register=True)
        try:
            await alice.register(alice_name, PASSWORD, "Alice")
            conversation = await alice.create_direct(bob.user_id)
            await alice.send_message(conversation.id, "first", "k0")
            await wait_until(lambda: bob.texts(conversation.id) == ["first"], 30, "first message")

            deliver = bob.engine.realtime.on_event
            held: list[tuple[str, dict[str, Any]]] = []
            swaps: list[bool] = []

            async def swap_two(event: str, payload: dict[str, Any]) -> None:
                """Deliver the next two message_new events in the wrong order (as two server
                writers could emit them)."""
                if event == "message_new" and not swaps:
                    held.append((event, payload))
                    swaps.append(True)
                    return
                await deliver(event, payload)
                if held:
                    await deliver(*held.pop())

            bob.engine.realtime.on_event = swap_two
            await alice.send_message(conversation.id, "second", "k1")
            await alice.send_message(conversation.id, "third", "k2")
            await wait_until(
                lambda: bob.texts(conversation.id) == ["first", "second", "third"], 30, "no loss"
            )
            assert swaps == [True]
        finally:
            await alice.aclose()
            await bob.close()
