"""The console's server over a real hub database and broker: who may sign in, what each role
may do, the CSRF token, the security headers, the audited reveal, the intent search."""

from __future__ import annotations

import logging
import uuid

import aio_pika
import pytest
from aio_pika.abc import AbstractRobustChannel
from aiohttp.test_utils import TestServer

from hub import names
from hub.console import Console
from tests.console.support import PASSWORD, browser
from tests.support.audit import said, trail

SECRET_BODY = b'{"payload": {"LName": "Secretname"}}'


async def dead_letter(channel: AbstractRobustChannel, queue: str) -> str:
    """One rejected intent in the test's dead-letter queue, as the writer leaves it."""
    message_id = f"m-{uuid.uuid4().hex[:8]}"
    await channel.default_exchange.publish(
        aio_pika.Message(
            SECRET_BODY, message_id=message_id, content_type="application/json",
            headers={
                names.HEADER_REASON: "invalid", names.HEADER_VENDOR: "t-vendor",
                names.HEADER_OFFICE: "t-office", names.HEADER_CONTRACT: "patient.create",
                names.HEADER_IDEMPOTENCY_KEY: f"k-{message_id}",
            },
        ),
        queue,
    )
    return message_id


async def test_pages_need_a_login_and_a_wrong_password_is_refused_and_logged_without_it(
    server: TestServer, caplog: pytest.LogCaptureFixture
) -> None:
    async with browser(server) as visitor:
        # Given nobody signed in, When they ask for a page, Then they are sent to the login
        response = await visitor.get("/intents")
        assert (response.status, response.headers["Location"]) == (303, "/login")
        # When they sign in with a wrong password
        caplog.set_level(logging.WARNING)
        assert await visitor.sign_in("otto", "wrong password 1") == 401
        # Then it is logged with the name and address, never the password
        assert "otto" in caplog.text and "wrong password 1" not in caplog.text
        # When they sign in right, Then they reach the pages
        assert await visitor.sign_in("otto") == 303
        assert "Intents" in await visitor.page("/intents")


async def test_failed_logins_are_limited_per_user_and_address(server: TestServer) -> None:
    async with browser(server) as visitor:
        # Given three failed logins for one user (the test's limit)
        for attempt in range(3):
            assert await visitor.sign_in("ada", f"nope {attempt} nope") == 401
        # Then even the right password is refused for now
        assert await visitor.sign_in("ada") == 429
        # And another user from the same address is not
        assert await visitor.sign_in("otto") == 303


async def test_a_session_ends_after_its_lifetime(console: Console, server: TestServer) -> None:
    now = [1000.0]
    console.sessions.clock = lambda: now[0]
    async with browser(server) as visitor:
        assert await visitor.sign_in("vera") == 303
        assert (await visitor.get("/intents")).status == 200
        # When the session's lifetime has passed (the clock moved, not slept)
        now[0] += console.settings.console.session_ttl_s + 1
        # Then the next page asks for a login again
        assert (await visitor.get("/intents")).status == 303


async def test_every_page_sends_the_security_headers(server: TestServer) -> None:
    async with browser(server) as visitor:
        login = await visitor.get("/login")
        assert await visitor.sign_in("vera") == 303
        page = await visitor.get("/intents")
    for response in (login, page):
        csp = response.headers["Content-Security-Policy"]
        assert "frame-ancestors 'none'" in csp and "script-src" not in csp
        assert "default-src 'none'" in csp  # no script of any origin, inline or not
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Cache-Control"] == "no-store"


async def test_a_viewer_sees_no_replay_and_a_forged_replay_is_refused(
    server: TestServer, console: Console, hub_channel: AbstractRobustChannel, dead_queue: str
) -> None:
    # Given a dead letter and a viewer signed in
    message_id = await dead_letter(hub_channel, dead_queue)
    async with browser(server) as viewer:
        assert await viewer.sign_in("vera") == 303
        page = await viewer.page(f"/dead-letters/{message_id}")
        # Then the page shows neither a replay nor a reveal button, nor the payload
        assert "Replay" not in page and "Reveal" not in page and "Secretname" not in page
        # When the viewer forges the replay POST with their own valid CSRF token
        token = await viewer.csrf("/intents")
        forged = await viewer.post(f"/dead-letters/{message_id}/replay", data={"csrf": token})
        revealed = await viewer.post(f"/dead-letters/{message_id}/reveal", data={"csrf": token})
        # Then both are refused, nothing was audited, and the letter is still there
        assert (forged.status, revealed.status) == (403, 403)
        assert await trail(console.settings.ledger_db) == []
        assert message_id in await viewer.page("/dead-letters")


async def test_a_post_without_the_csrf_token_is_refused(
    server: TestServer, console: Console, hub_channel: AbstractRobustChannel, dead_queue: str
) -> None:
    message_id = await dead_letter(hub_channel, dead_queue)
    async with browser(server) as operator:
        assert await operator.sign_in("otto") == 303
        # When the operator's browser posts without the token (as another site would make it)
        bare = await operator.post(f"/dead-letters/{message_id}/replay", data={})
        wrong = await operator.post(f"/dead-letters/{message_id}/replay", data={"csrf": "x"})
        paused = await operator.post("/offices/t-office/pause", data={"reason": "r"})
    # Then every one is refused and nothing happened
    assert (bare.status, wrong.status, paused.status) == (403, 403, 403)
    assert await trail(console.settings.ledger_db) == []


async def test_an_operators_reveal_shows_the_payload_and_is_audited(
    server: TestServer, console: Console, hub_channel: AbstractRobustChannel, dead_queue: str
) -> None:
    # Given a dead letter, whose page an operator opens: no payload yet
    message_id = await dead_letter(hub_channel, dead_queue)
    async with browser(server) as operator:
        assert await operator.sign_in("otto") == 303
        assert "Secretname" not in await operator.page(f"/dead-letters/{message_id}")
        # When they reveal it
        token = await operator.csrf(f"/dead-letters/{message_id}")
        shown = await operator.post(f"/dead-letters/{message_id}/reveal", data={"csrf": token})
        # Then the payload is on the page, and the reveal is in the audit trail, by name
        assert shown.status == 200 and "Secretname" in await shown.text()
        audit_page = await operator.page("/audit")
    rows = await trail(console.settings.ledger_db)
    assert said(rows) == [("payload_reveal", dead_queue, "ok", None)]
    assert rows[0].operator == "otto" and rows[0].details == {"message_id": message_id}
    assert "payload_reveal" in audit_page and "Secretname" not in audit_page


async def test_a_trusted_proxys_header_signs_the_user_in_and_an_untrusted_one_is_refused(
    console: Console, server: TestServer
) -> None:
    from hub.console.auth import ProxyTrust

    # Given a proxy header trusted from this machine only
    console.proxy = ProxyTrust.of(
        console.settings.console.model_copy(
            update={"proxy_header": "X-Forwarded-User", "trusted_proxies": ["127.0.0.1"]}
        )
    )
    async with browser(server) as proxied:
        page = await proxied.page("/intents", headers={"X-Forwarded-User": "ada"})
        unknown = await proxied.get("/intents", headers={"X-Forwarded-User": "mallory"})
    assert "ada (admin)" in page and unknown.status == 403
    # When the same header comes from an address that is not the proxy's
    console.proxy = ProxyTrust.of(
        console.settings.console.model_copy(
            update={"proxy_header": "X-Forwarded-User", "trusted_proxies": ["10.9.9.9"]}
        )
    )
    async with browser(server) as forged:
        refused = await forged.get("/intents", headers={"X-Forwarded-User": "ada"})
    assert refused.status == 403


async def test_the_users_file_holds_argon2_hashes_only(console: Console) -> None:
    text = console.settings.console.users_file.read_text()
    assert PASSWORD not in text and text.count("$argon2id$") == 3
    assert console.settings.console.users_file.stat().st_mode & 0o077 == 0



async def test_only_an_admin_purges_and_only_with_the_number_typed(
    server: TestServer, console: Console, hub_channel: AbstractRobustChannel, dead_queue: str
) -> None:
    # Given two dead letters
    for _ in range(2):
        await dead_letter(hub_channel, dead_queue)
    async with browser(server) as operator:
        assert await operator.sign_in("otto") == 303
        assert "Purge" not in await operator.page("/dead-letters")
        # When an operator forges the purge, Then it is refused
        token = await operator.csrf()
        forged = await operator.post("/dead-letters-purge", data={"csrf": token, "confirm": "2"})
        assert forged.status == 403
        # And so is a vendor's pause, an admin's action
        vendor = await operator.post("/vendors/t-vendor/pause", data={"csrf": token})
        assert vendor.status == 403
    async with browser(server) as admin:
        assert await admin.sign_in("ada") == 303
        token = await admin.csrf("/dead-letters")
        # When the admin types another number than the list showed, Then nothing is purged
        wrong = await admin.post("/dead-letters-purge", data={"csrf": token, "confirm": "3"})
        assert "Nothing purged" in await wrong.text()
        # When they type the count, Then both are purged, audited as theirs
        right = await admin.post("/dead-letters-purge", data={"csrf": token, "confirm": "2"})
        assert "Purged 2 dead letter(s)" in await right.text()
        assert "no dead letter matches" in await admin.page("/dead-letters")
    rows = await trail(console.settings.ledger_db)
    assert said(rows) == [("dlq_purge", dead_queue, "ok", None)] and rows[0].operator == "ada"


async def test_cookies_are_tls_only_when_the_trusted_proxy_says_the_browser_used_tls(
    console: Console, server: TestServer
) -> None:
    from hub.console.auth import ProxyTrust

    console.proxy = ProxyTrust.of(
        console.settings.console.model_copy(update={"trusted_proxies": ("127.0.0.1",)})
    )
    async with browser(server) as visitor:
        plain = await visitor.get("/login")
        behind_tls = await visitor.get("/login", headers={"X-Forwarded-Proto": "https"})
    assert "Secure" not in plain.headers["Set-Cookie"]
    assert "Secure" in behind_tls.headers["Set-Cookie"]
