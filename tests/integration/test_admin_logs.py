"""The audit and delivery logs of the admin panel, on SQLite and PostgreSQL: the audit log
newest first; every message in the delivery log, failed and uncertain ones first, which the
admin can send again (audited)."""

from __future__ import annotations

import html
import re
from datetime import timedelta
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from caldav_bridge.store import Store
from caldav_bridge.store.outbox import OutboxMessage
from tests.integration.test_admin_support import Space, admin_panel, logged_in_admin, submit
from tests.support.web import location


@pytest.fixture
def space(store: Store, practice_toml: Path) -> Space:
    return admin_panel(store, practice_toml)


@pytest.fixture
def admin(space: Space) -> FlaskClient:
    return logged_in_admin(space)


def enqueue(space: Space, key: str, state: str) -> int:
    """A message in ``state`` ("pending", "sent", "failed" or "uncertain")."""
    now = space.web.clock.now
    message = OutboxMessage(key, "email", f"{key}@example.org", "booked_patient", None, {})
    with space.store.write() as tx:
        assert tx.enqueue(message, now)
        if state == "pending":
            return next(e.id for e in tx.outbox_entries() if e.key == key)
        (entry,) = [
            e for e in tx.claim_messages(now, now + timedelta(minutes=5), 10) if e.key == key
        ]
        if state == "failed":
            assert tx.mark_failed(entry, "SMTP 550 5.1.1 no such user")
        else:
            assert tx.start_sending(entry, now + timedelta(minutes=5))
            if state == "sent":
                tx.mark_sent(entry, None, now)
            else:
                assert tx.mark_uncertain(entry, "crashed while sending")
        return entry.id


def rows(page: str) -> list[str]:
    return re.findall(r'<tr id="delivery-\d+" class="state-(\w+)">', page)


def test_the_delivery_log_speaks_the_admins_language(space: Space, admin: FlaskClient) -> None:
    failed = enqueue(space, "failed-1", "failed")
    page = admin.get("/admin/deliveries").get_data(as_text=True)
    row = re.search(rf'<tr id="delivery-{failed}".*?</tr>', page, re.S)
    assert row is not None
    cells = [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td>(.*?)</td>", row[0], re.S)]
    cells = [html.unescape(c) for c in cells]
    assert cells[1:5] == ["E-mail", "Confirmation de réservation", "failed-1@example.org", "échec"]
    # the plain-words reason, with the server's own answer kept for the admin
    assert "refusée" in cells[6]
    assert "SMTP 550 5.1.1 no such user" in cells[6]


def test_the_audit_log_shows_the_newest_entry_first(space: Space, admin: FlaskClient) -> None:
    with space.store.write() as tx:
        tx.audit("cli", "password.set", "marc")
    page = admin.get("/admin/audit").get_data(as_text=True)
    first = page.index("password.set</td><td>marc")
    assert page.index("admin.login") > first


def test_failures_come_first_and_can_be_sent_again(space: Space, admin: FlaskClient) -> None:
    enqueue(space, "sent-1", "sent")
    failed = enqueue(space, "failed-1", "failed")
    uncertain = enqueue(space, "uncertain-1", "uncertain")
    enqueue(space, "pending-1", "pending")  # last: the others' claims would take it
    page = admin.get("/admin/deliveries")
    assert rows(page.get_data(as_text=True)) == ["uncertain", "failed", "pending", "sent"]
    text = page.get_data(as_text=True)
    assert f'id="requeue-{failed}"' in text
    assert f'id="requeue-{uncertain}"' in text
    assert text.count('id="requeue-') == 2
    answer = submit(admin, page, f"/admin/deliveries/{failed}/requeue", {})
    assert location(answer) == "/admin/deliveries"
    with space.store.read() as tx:
        entry = tx.outbox_entry(failed)
        audit = tx.audit_entries(1)[0]
    assert entry is not None
    assert entry.state == "pending"
    assert (audit.action, audit.subject) == ("outbox.requeue", f"outbox:{failed}")
    # A second click (an old page) changes nothing.
    again = submit(admin, page, f"/admin/deliveries/{failed}/requeue", {})
    assert location(again) == "/admin/deliveries"


def test_reading_the_delivery_log_is_audited(space: Space, admin: FlaskClient) -> None:
    admin.get("/admin/deliveries")
    with space.store.read() as tx:
        assert tx.audit_entries(1)[0].action == "deliveries.read"


def test_requeue_needs_the_csrf_token_and_an_existing_message(
    space: Space, admin: FlaskClient
) -> None:
    failed = enqueue(space, "failed-1", "failed")
    assert admin.post(f"/admin/deliveries/{failed}/requeue").status_code == 400
    page = admin.get("/admin/deliveries")
    assert submit(admin, page, f"/admin/deliveries/{failed}/requeue", {}).status_code == 303
    missing = admin.post(
        "/admin/deliveries/999999/requeue",
        data={"csrf_token": _token(page.get_data(as_text=True))},
    )
    assert missing.status_code == 404


def _token(page: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert match
    return match.group(1)
