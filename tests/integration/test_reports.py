"""Reports and their admin review against the real server on both backends."""

from tests.integration.test_admin_cli import admin_command
from tests.support.api import Account, register
from tests.support.live_server import LiveServer


def _make_admin(server: LiveServer, account: Account) -> None:
    """Grant admin rights as an operator does: ``openchat-server admin grant``."""
    result = admin_command(server, "grant", account.username)
    assert result.returncode == 0, result.stderr


def test_report_and_review(live_server: LiveServer) -> None:
    alice, bob, admin = (register(live_server.url) for _ in range(3))
    chat = alice.direct_with(bob)
    message = bob.send(chat, "spammy spam").json()["id"]
    filed = alice.post(
        "/reports", json={"message_id": message, "reason": "SPAM", "detail": "<b>ads</b>"}
    )
    assert filed.status_code == 201, filed.text
    report = filed.json()
    assert report["reported_user_id"] == bob.user_id and report["status"] == "PENDING"
    assert report["detail"] == "ads" and report["reporter_id"] == alice.user_id
    about_user = alice.post("/reports", json={"reported_user_id": bob.user_id, "reason": "OTHER"})
    assert about_user.status_code == 201

    refused = alice.get("/admin/reports")
    assert refused.status_code == 403 and refused.json()["code"] == "FORBIDDEN"
    assert (
        alice.patch(f"/admin/reports/{report['id']}", json={"status": "DISMISSED"}).status_code
        == 403
    )
    _make_admin(live_server, admin)
    pending = admin.get("/admin/reports", params={"status": "PENDING", "limit": 100}).json()
    assert report["id"] in [item["id"] for item in pending["items"]]
    reviewed = admin.patch(
        f"/admin/reports/{report['id']}",
        json={"status": "ACTIONED", "note": "<i>warned</i> the sender"},
    )
    assert reviewed.status_code == 200, reviewed.text
    assert (
        reviewed.json()["status"] == "ACTIONED" and reviewed.json()["reviewed_by"] == admin.user_id
    )
    assert reviewed.json()["review_note"] == "warned the sender"
    assert reviewed.json()["reviewed_at"] is not None
    actioned = admin.get("/admin/reports", params={"status": "ACTIONED", "limit": 1}).json()
    assert actioned["items"][0]["id"] == report["id"]
    assert admin.patch("/admin/reports/unknown", json={"status": "REVIEWED"}).status_code == 404
    for body in (
        {"status": "BANNED"},
        {"status": "REVIEWED", "x": 1},
        {},
        {"status": "REVIEWED", "note": "x" * 1001},
    ):
        response = admin.patch(f"/admin/reports/{report['id']}", json=body)
        assert response.status_code == 400, (body, response.text)
    assert admin.get("/admin/reports", params={"cursor": "nope"}).status_code == 400


def test_report_refusals(live_server: LiveServer) -> None:
    alice, bob, outsider = (register(live_server.url) for _ in range(3))
    chat = alice.direct_with(bob)
    message = bob.send(chat, "private").json()["id"]
    for body, status in (
        ({"reason": "SPAM"}, 400),
        ({"message_id": message, "reason": "BORING"}, 400),
        ({"reported_user_id": alice.user_id, "reason": "SPAM"}, 400),
        ({"reported_user_id": "ghost", "reason": "SPAM"}, 404),
        ({"message_id": message, "reason": "SPAM", "detail": "x" * 1001}, 400),
    ):
        response = alice.post("/reports", json=body)
        assert response.status_code == status, (body, response.text)
    hidden = outsider.post("/reports", json={"message_id": message, "reason": "SPAM"})
    assert hidden.status_code == 404
