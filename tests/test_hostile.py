"""Hostile webhook requests: malformed but authenticated payloads, forged ones, and bodies too big to read.

Every payload of the corpus (tests/fixtures/malformed/) gets 200 or 400, never a 5xx, is logged, and stores
nothing: no contact, no event id, no outbox row, no call to the chat platform's API.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from bot.conversation.engine import Engine
from bot.service.web import Channels, create_app
from storage.db import Database
from storage.models import Contact, InboundEvent, OutboxMessage, Owner
from tests.conftest import World, count_rows
from tests.fake_graph import FakeGraphAPI
from tests.malformed import corpus
from tests.telegram_user import SECRET
from tests.test_whatsapp import whatsapp_settings
from tests.whatsapp_user import APP_SECRET, WhatsAppUser, sign

TELEGRAM = "/telegram/webhook"
WHATSAPP = "/whatsapp/webhook"


@dataclass
class WA:
    graph: FakeGraphAPI
    client: httpx.AsyncClient
    db: Database


@pytest.fixture
async def wa(database: Database, tmp_path: Path) -> AsyncIterator[WA]:
    async with FakeGraphAPI() as graph:
        settings = whatsapp_settings(graph, tmp_path)
        channels = Channels(settings, Engine(database, settings))
        app = create_app(settings, database, channels.routes())
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bot.test") as client:
            yield WA(graph, client, database)
        await channels.stop()


async def stored(db: Database) -> int:
    """Rows a person's message would leave: contacts, owners, event ids, outbox rows."""
    return sum([await count_rows(db, model) for model in (Contact, Owner, InboundEvent, OutboxMessage)])


def logged(caplog: pytest.LogCaptureFixture, channel: str) -> bool:
    return any(r.name.startswith("bot.") and channel in r.getMessage().lower() for r in caplog.records)


TELEGRAM_CORPUS = corpus("telegram")
WHATSAPP_CORPUS = corpus("whatsapp")


def test_the_corpus_has_at_least_16_shapes_a_side() -> None:
    assert len(TELEGRAM_CORPUS) >= 16 and len(WHATSAPP_CORPUS) >= 16


async def test_malformed_telegram_updates_store_nothing(world: World, caplog: pytest.LogCaptureFixture) -> None:
    calls = len(world.api.calls)
    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET, "Content-Type": "application/json"}
    for name, body in TELEGRAM_CORPUS:
        caplog.clear()
        with caplog.at_level(logging.INFO):
            response = await world.client.post(TELEGRAM, content=body, headers=headers)
        assert response.status_code in (200, 400), f"{name}: {response.status_code}"
        assert logged(caplog, "telegram"), f"{name}: not logged"
        assert await stored(world.db) == 0, f"{name} stored rows"
    assert world.api.calls[calls:] == []
    valid = {"update_id": 1, "message": {"message_id": 1, "date": 1, "text": "halo",
                                         "chat": {"id": 7, "type": "private"},
                                         "from": {"id": 7, "is_bot": False, "first_name": "Sari"}}}
    assert (await world.client.post(TELEGRAM, json=valid, headers=headers)).status_code == 200
    assert await count_rows(world.db, InboundEvent) == 1  # the same webhook still takes a good update


async def test_malformed_whatsapp_payloads_store_nothing(wa: WA, caplog: pytest.LogCaptureFixture) -> None:
    for name, body in WHATSAPP_CORPUS:
        caplog.clear()
        headers = {"X-Hub-Signature-256": sign(body, APP_SECRET), "Content-Type": "application/json"}
        with caplog.at_level(logging.INFO):
            response = await wa.client.post(WHATSAPP, content=body, headers=headers)
        assert response.status_code in (200, 400), f"{name}: {response.status_code}"
        assert logged(caplog, "whatsapp"), f"{name}: not logged"
        assert await stored(wa.db) == 0, f"{name} stored rows"
    assert wa.graph.calls == []


async def test_forged_telegram_updates_are_refused(world: World) -> None:
    calls = len(world.api.calls)
    for name, body in [*TELEGRAM_CORPUS, ("valid", json.dumps({"update_id": 5, "message": {}}).encode())]:
        for secret in ("wrong-secret", "", SECRET + "x", "rahasia-ñ".encode()):
            headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret else {}
            response = await world.client.post(TELEGRAM, content=body, headers=headers)
            assert response.status_code in (401, 403), f"{name} with {secret!r}: {response.status_code}"
    assert await stored(world.db) == 0 and world.api.calls[calls:] == []


async def test_forged_whatsapp_payloads_are_refused(wa: WA) -> None:
    signatures = ["sha256=" + "0" * 64, "sha256=", "md5=abc", "sha256=ä" + "0" * 63, "sha256=\u00ff" * 3,
                  "sha256=" + "é" * 64]
    for name, body in WHATSAPP_CORPUS:
        forged = [*signatures, sign(body, "another-app-secret"), sign(body + b" ", APP_SECRET)]
        for signature in forged:
            headers = {"X-Hub-Signature-256": signature.encode("utf-8")}
            response = await wa.client.post(WHATSAPP, content=body, headers=headers)
            assert response.status_code in (401, 403), f"{name} with {signature!r}: {response.status_code}"
        assert (await wa.client.post(WHATSAPP, content=body)).status_code in (401, 403)
    assert await stored(wa.db) == 0 and wa.graph.calls == []


class Stream:
    """A 200 MB request body made on the fly, counting how much of it the server asked for."""

    def __init__(self, total: int = 200 * 1024 * 1024, chunk: int = 64 * 1024) -> None:
        self.total, self.chunk, self.read = total, chunk, 0

    async def __aiter__(self):  # type: ignore[no-untyped-def]
        block = b"{" * self.chunk
        while self.read < self.total:
            self.read += self.chunk
            yield block


LIMIT = 3 * 1024 * 1024


@pytest.mark.parametrize("declared", [True, False], ids=["content-length", "chunked"])
async def test_a_huge_telegram_body_is_refused_unread(world: World, declared: bool) -> None:
    body = Stream()
    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
    if declared:
        headers["Content-Length"] = str(body.total)
    response = await world.client.post(TELEGRAM, content=body, headers=headers)  # type: ignore[arg-type]
    assert response.status_code == 413
    assert body.read <= (0 if declared else LIMIT + body.chunk), body.read
    assert await stored(world.db) == 0


@pytest.mark.parametrize("declared", [True, False], ids=["content-length", "chunked"])
async def test_a_huge_whatsapp_body_is_refused_unread(wa: WA, declared: bool) -> None:
    unsigned = Stream()
    assert (await wa.client.post(WHATSAPP, content=unsigned)).status_code == 401  # type: ignore[arg-type]
    assert unsigned.read <= unsigned.chunk  # no signature: refused before the body is read
    body = Stream()
    headers = {"X-Hub-Signature-256": "sha256=" + "0" * 64}
    if declared:
        headers["Content-Length"] = str(body.total)
    response = await wa.client.post(WHATSAPP, content=body, headers=headers)  # type: ignore[arg-type]
    assert response.status_code == 413
    assert body.read <= (0 if declared else LIMIT + body.chunk), body.read
    assert await stored(wa.db) == 0


async def test_a_body_at_the_limit_is_still_read(wa: WA) -> None:
    padding = " " * (LIMIT - 200)
    body = b'{"object": "whatsapp_business_account", "entry": []' + padding.encode() + b"}"
    assert len(body) <= LIMIT
    response = await wa.client.post(WHATSAPP, content=body, headers={"X-Hub-Signature-256": sign(body, APP_SECRET)})
    assert response.status_code == 200


async def test_a_forged_more_button_is_ignored(wa: WA, caplog: pytest.LogCaptureFixture) -> None:
    """WhatsApp's "more" row carries an outbox id and a page: other digits or huge numbers are a stale row."""
    owner = WhatsAppUser(wa.client, wa.graph, "6281234509999")
    for forged in ("more:²:2", "more:1:³", f"more:{2**31}:2", f"more:1:{10**30}", "more:٣:١"):
        with caplog.at_level(logging.INFO):
            assert (await owner.press(forged, "Lainnya", "list")).status_code == 200, forged
    assert wa.graph.sent() == [] and "malformed 'more'" in caplog.text
