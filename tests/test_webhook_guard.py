"""Both webhooks through one table of cases: they share one guard (bot/handlers/webhook_guard.py), so a forged,
oversized, unsupported, duplicate or unlucky (database down, a bug) request gets the same answer on each."""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from bot.conversation.engine import Engine
from storage.db import Database, DatabaseUnavailable
from storage.models import Contact, InboundEvent, OutboxMessage, Owner
from tests.conftest import World, count_rows
from tests.telegram_user import SECRET, TelegramUser
from tests.test_whatsapp import WA, graph, wa  # noqa: F401  (fixtures)
from tests.whatsapp_user import APP_SECRET, WABA_ID, WhatsAppUser, sign

LIMIT = 3 * 1024 * 1024


@dataclass
class Hook:
    """One channel's webhook as the cases see it: how to build a good update, sign it, forge it."""

    channel: str
    path: str
    client: httpx.AsyncClient
    db: Database
    engine: Engine
    refused: int
    update: Callable[[], dict[str, Any]]  # a fresh text message from one person
    unsupported: dict[str, Any]  # an update the bot does not handle
    headers: Callable[[bytes], dict[str, str]]  # authentic
    forged: Callable[[bytes], dict[str, str]]

    async def post(self, body: bytes, headers: dict[str, str] | None = None) -> httpx.Response:
        return await self.client.post(self.path, content=body, headers=headers or self.headers(body))


def telegram_hook(world: World) -> Hook:
    person = TelegramUser(world.client, world.api, 4242)
    return Hook("telegram", "/telegram/webhook", world.client, world.db, world.engine, 403,
                update=lambda: person.message_update("text_message", text="halo"),
                unsupported={"update_id": 77, "edited_message": person.message_update("text_message")["message"]},
                headers=lambda _body: {"X-Telegram-Bot-Api-Secret-Token": SECRET},
                forged=lambda _body: {"X-Telegram-Bot-Api-Secret-Token": "guessed-secret"})


def whatsapp_hook(setup: WA) -> Hook:
    person = WhatsAppUser(setup.client, setup.graph, "6281234500042")
    engine = setup.channels.whatsapp_updates.engine
    template_update = {"object": "whatsapp_business_account", "entry": [{"id": WABA_ID, "changes": [
        {"field": "message_template_status_update", "value": {"event": "APPROVED", "message_template_id": 1}}]}]}
    return Hook("whatsapp", "/whatsapp/webhook", setup.client, setup.db, engine, 401,
                update=lambda: person.message_payload("text", text={"body": "halo"}),
                unsupported=template_update,
                headers=lambda body: {"X-Hub-Signature-256": sign(body, APP_SECRET)},
                forged=lambda body: {"X-Hub-Signature-256": sign(body, "another-app-secret")})


@pytest.fixture(params=["telegram", "whatsapp"])
def hook(request: pytest.FixtureRequest, database: Database) -> Hook:
    """Either channel's webhook, on either database (`database` is named here so that it is parametrized)."""
    if request.param == "telegram":
        return telegram_hook(request.getfixturevalue("world"))
    return whatsapp_hook(request.getfixturevalue("wa"))


async def stored(db: Database) -> int:
    return sum([await count_rows(db, model) for model in (Contact, Owner, InboundEvent, OutboxMessage)])


def encode(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload).encode()


async def forged_auth(hook: Hook, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    body = encode(hook.update())
    assert (await hook.post(body, hook.forged(body))).status_code == hook.refused
    assert (await hook.post(body, {"Content-Type": "application/json"})).status_code == hook.refused
    assert await stored(hook.db) == 0


async def oversized_body(hook: Hook, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    payload = hook.update()
    body = encode({**payload, "padding": " " * LIMIT})
    assert (await hook.post(body)).status_code == 413
    assert await stored(hook.db) == 0


async def not_json(hook: Hook, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    assert (await hook.post(b"[1, 2")).status_code == 400
    assert await stored(hook.db) == 0


async def database_down(hook: Hook, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    async def unavailable(*args: Any, **kwargs: Any) -> Any:
        raise DatabaseUnavailable("connection refused")

    monkeypatch.setattr(hook.engine, "handle", unavailable)
    response = await hook.post(encode(hook.update()))
    assert response.status_code == 503 and response.headers["Retry-After"].isdigit()
    assert await stored(hook.db) == 0


async def unexpected_error(hook: Hook, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    async def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("a bug")

    monkeypatch.setattr(hook.engine, "handle", broken)
    with caplog.at_level(logging.ERROR):
        assert (await hook.post(encode(hook.update()))).status_code == 500
    assert any(r.exc_info and hook.channel in r.getMessage() for r in caplog.records)


async def unsupported_update(hook: Hook, monkeypatch: pytest.MonkeyPatch,
                             caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO):
        assert (await hook.post(encode(hook.unsupported))).status_code == 200
    assert any(r.name.startswith("bot.") and hook.channel in r.getMessage().lower() for r in caplog.records)
    assert await stored(hook.db) == 0


async def duplicate(hook: Hook, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    body = encode(hook.update())
    assert (await hook.post(body)).status_code == 200
    once = await stored(hook.db)
    assert (await hook.post(body)).status_code == 200
    assert await count_rows(hook.db, InboundEvent) == 1 and await stored(hook.db) == once > 0


Case = Callable[[Hook, pytest.MonkeyPatch, pytest.LogCaptureFixture], Awaitable[None]]
CASES: list[Case] = [forged_auth, oversized_body, not_json, database_down, unexpected_error, unsupported_update,
                     duplicate]


@pytest.mark.parametrize("case", CASES, ids=[c.__name__ for c in CASES])
async def test_both_webhooks_answer_alike(hook: Hook, case: Case, monkeypatch: pytest.MonkeyPatch,
                                          caplog: pytest.LogCaptureFixture) -> None:
    await case(hook, monkeypatch, caplog)
