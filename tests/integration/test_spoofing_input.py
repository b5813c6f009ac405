"""Through the real server: names lose invisible look-alike characters, texts lose direction
overrides and nested markup, before anything is stored."""

from tests.support.api import register
from tests.support.live_server import LiveServer


def test_stored_names_and_texts_carry_no_spoofing_characters(live_server: LiveServer) -> None:
    alice = register(live_server.url, display_name="Ali\u202ece\u200b")
    bob = register(live_server.url)
    assert alice.get("/users/me").json()["display_name"] == "Alice"
    group = alice.post(
        "/conversations",
        json={
            "type": "private_group",
            "title": "Te\u2066am \U0001f468\u200d\U0001f469\u200d\U0001f467",
            "member_ids": [bob.user_id],
        },
    )
    assert group.status_code == 201, group.text
    assert group.json()["title"] == "Team \U0001f468\u200d\U0001f469\u200d\U0001f467"
    sent = alice.send(group.json()["id"], "invoice\u202efdp.exe <scr<b>ipt>alert(1)</scr</b>ipt>")
    assert sent.status_code == 201, sent.text
    history = bob.get(f"/conversations/{group.json()['id']}/messages").json()["items"]
    assert history[0]["text"] == "invoicefdp.exe alert(1)"
