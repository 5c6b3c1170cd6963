"""Error reports (bot/ops/errors.py): with SENTRY_DSN an exception reaches Sentry, scrubbed as the logs are; without,
nothing starts. A fake transport keeps the envelopes the SDK would have sent."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import sentry_sdk
from sentry_sdk.envelope import Envelope
from sentry_sdk.transport import Transport
from starlette.requests import Request
from starlette.routing import Route

from bot import version
from bot.ops import errors
from bot.service.web import create_app
from bot.settings import Settings
from storage.db import Database

DSN = "https://public@errors.example/1"
BOT_TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw1"
ACCESS_TOKEN = "EAAGm0PX4ZCpsBAKZCx7sEcret00TokenValue"
WEBHOOK_SECRET = "hook-secret-4b1d9e7f"
NIK = "3201011508950001"  # a plausible NIK (320101, born 15-08-1995): what the logs mask
NPWP = "01.234.567.8-901.000"
PHONE = "081234567890"
RAW = (NIK, NPWP, PHONE, BOT_TOKEN, ACCESS_TOKEN, WEBHOOK_SECRET)
TEXT = f"NIK {NIK} NPWP {NPWP} HP {PHONE} bot {BOT_TOKEN} wa {ACCESS_TOKEN}"


class CapturingTransport(Transport):
    """Keeps each envelope instead of sending it."""

    def __init__(self) -> None:
        super().__init__()
        self.envelopes: list[Envelope] = []

    def capture_envelope(self, envelope: Envelope) -> None:
        self.envelopes.append(envelope)

    def events(self) -> list[dict[str, Any]]:
        return [item.payload.json for envelope in self.envelopes for item in envelope.items
                if item.type == "event" and item.payload.json is not None]

    def sent_text(self) -> str:
        """Every byte the envelopes would have put on the wire, as text."""
        return "\n".join(envelope.serialize().decode() for envelope in self.envelopes)


def forget_breadcrumbs() -> None:
    """Scopes outlive a client: each test starts with none of another test's breadcrumbs."""
    for scope in (sentry_sdk.get_global_scope(), sentry_sdk.get_isolation_scope(), sentry_sdk.get_current_scope()):
        scope.clear_breadcrumbs()


@pytest.fixture
def reporting(tmp_path: Path) -> Iterator[tuple[Settings, CapturingTransport]]:
    settings = Settings(_env_file=None, database_url=f"sqlite:///{tmp_path / 'umkm.db'}", media_dir=tmp_path / "m",
                        sentry_dsn=DSN, sentry_environment="staging", telegram_bot_token=BOT_TOKEN,
                        telegram_webhook_secret=WEBHOOK_SECRET, whatsapp_access_token=ACCESS_TOKEN)
    transport = CapturingTransport()
    forget_breadcrumbs()
    close = errors.setup(settings, transport=transport)
    try:
        yield settings, transport
    finally:
        close()
        forget_breadcrumbs()
    assert not sentry_sdk.get_client().is_active()  # nothing left behind for the next test


def test_without_a_dsn_nothing_starts(settings: Settings) -> None:
    assert settings.sentry_dsn is None
    close = errors.setup(settings, transport=CapturingTransport())
    assert not sentry_sdk.get_client().is_active()
    close()


async def test_an_exception_in_a_request_reaches_sentry_without_the_requests_secrets(
        reporting: tuple[Settings, CapturingTransport], tmp_path: Path) -> None:
    settings, transport = reporting

    async def boom(request: Request) -> None:
        raise RuntimeError(f"could not save the owner's NIK {NIK}")

    db = Database(settings.database_url)
    app = create_app(settings, db, routes=[Route("/boom", boom, methods=["POST"])])
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app, raise_app_exceptions=False),
                                     base_url="http://bot") as http:
            response = await http.post(
                f"/boom?hub.verify_token={WEBHOOK_SECRET}", json={"nik": NIK, "phone": PHONE},
                headers={"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET, "Cookie": f"session={ACCESS_TOKEN}",
                         "Authorization": f"Bearer {BOT_TOKEN}", "User-Agent": "test-agent"})
    finally:
        await db.dispose()
    assert response.status_code == 500
    sentry_sdk.flush()

    [event] = transport.events()
    [exception] = event["exception"]["values"]
    assert exception["type"] == "RuntimeError"
    assert exception["value"] == "could not save the owner's NIK 3201********0001"
    assert event["release"] == f"umkm-bot@{version()}" and event["environment"] == "staging"
    request = event["request"]
    assert request.keys() == {"method", "url", "headers"}  # no data, cookies, query_string, env
    assert request["method"] == "POST" and request["url"] == "http://bot/boom"
    assert request["headers"]["user-agent"] == "test-agent"
    assert {name.lower() for name in request["headers"]} <= errors.SAFE_HEADERS
    assert "user" not in event or "ip_address" not in event["user"]  # send_default_pii=False
    sent = transport.sent_text()
    for raw in RAW:
        assert raw not in sent


def test_message_extra_breadcrumbs_and_exception_value_arrive_scrubbed(
        reporting: tuple[Settings, CapturingTransport], caplog: pytest.LogCaptureFixture) -> None:
    _, transport = reporting
    caplog.set_level(logging.INFO, logger="bot.test")
    with sentry_sdk.new_scope() as scope:
        scope.set_extra("answer", TEXT)
        scope.set_extra("nested", {"owner": [f"phone {PHONE}"], "nik": NIK})
        sentry_sdk.add_breadcrumb(message=f"owner typed {TEXT}", data={"npwp": NPWP}, category="conversation")
        logging.getLogger("bot.test").info("owner %s wrote from %s", NIK, PHONE)  # a breadcrumb too
        try:
            raise ValueError(f"bad answer: {TEXT}")
        except ValueError as exc:
            sentry_sdk.capture_exception(exc)
        sentry_sdk.capture_message(f"message with {TEXT}")
    sentry_sdk.flush()

    events = transport.events()
    assert len(events) == 2
    sent = transport.sent_text()
    for raw in RAW:
        assert raw not in sent, raw
    masked = ("3201********0001", "0812****7890", "[redacted]")
    exception_event, message_event = events
    value = exception_event["exception"]["values"][0]["value"]
    assert all(part in value for part in masked), value
    assert all(part in json.dumps(exception_event["extra"]) for part in masked), exception_event["extra"]
    crumbs = json.dumps(exception_event["breadcrumbs"])
    assert "owner typed" in crumbs and "owner 3201********0001 wrote from 0812****7890" in crumbs
    assert all(part in crumbs for part in masked), crumbs
    assert NPWP not in crumbs and "npwp" in crumbs
    assert all(part in message_event["message"] for part in masked), message_event["message"]


def test_a_logged_error_is_reported_scrubbed(reporting: tuple[Settings, CapturingTransport]) -> None:
    _, transport = reporting
    try:
        raise ConnectionError(f"https://api.telegram.org/bot{BOT_TOKEN}/sendMessage failed")
    except ConnectionError:
        logging.getLogger("bot.delivery").exception("sending to %s failed", PHONE)
    sentry_sdk.flush()
    [event] = transport.events()
    assert event["logentry"]["message"].startswith("sending to") or "sending to" in json.dumps(event["logentry"])
    assert "0812****7890" in json.dumps(event["logentry"])
    assert event["exception"]["values"][0]["value"] == "https://api.telegram.org/bot[redacted]/sendMessage failed"
    for raw in RAW:
        assert raw not in transport.sent_text()


def test_a_sign_in_token_and_query_string_are_cut_from_the_url() -> None:
    hook = errors.before_send(lambda text: text)
    event = hook({"request": {"method": "GET", "url": "https://umkm.example/dinas/login/abc.DEF-123?x=1",
                              "query_string": "hub.verify_token=s", "data": "{}", "cookies": {"session": "s"},
                              "env": {"REMOTE_ADDR": "10.0.0.1"}, "headers": {"Cookie": "s", "Accept": "*/*"}}},
                 None)
    assert event["request"] == {"method": "GET", "url": "https://umkm.example/dinas/login/[redacted]",
                                "headers": {"Accept": "*/*"}}


def test_a_bad_dsn_stops_the_start_with_a_message(tmp_path: Path) -> None:
    settings = Settings(_env_file=None, database_url="sqlite:///unused.db", sentry_dsn="not a dsn")
    with pytest.raises(SystemExit, match="SENTRY_DSN"):
        errors.setup(settings)  # the HTTP transport reads the DSN
    sentry_sdk.get_global_scope().set_client(None)
