"""`/dinas/admin/health`: is each part working. Channels (ChannelState, Telegram's getMe and getWebhookInfo,
WhatsApp's number status), the outbox (waiting, held, failed with reasons; retry a failed one), database and
media (bot/ops/health.py). Each state is said in words as well as colour."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

import httpx
from sqlalchemy import func
from sqlmodel import col, select
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from bot.delivery import outbox_admin
from bot.dinas.admin.common import admin_page, context, form_id, words
from bot.dinas.auth import NotSignedIn, Visit, current_officer
from bot.dinas.console import Console, console_of, redirect
from bot.media.photos import media_store
from bot.ops import health
from bot.review import admin
from bot.settings import Settings
from storage.models import ChannelState, OutboxMessage, OutboxStatus

PROBE_TIMEOUT = 3.0
FAILED_SHOWN = 50


@dataclass
class ChannelCheck:
    channel: str
    ok: bool
    facts: dict[str, str] = field(default_factory=dict)  # word key -> value (not words: names, errors, numbers)


def configured(settings: Settings) -> list[str]:
    return [name for name, token in (("telegram", settings.telegram_bot_token),
                                     ("whatsapp", settings.whatsapp_access_token)) if token]


async def _get(client: httpx.AsyncClient, url: str, **kwargs: Any) -> dict[str, Any]:
    answer = await client.get(url, timeout=PROBE_TIMEOUT, **kwargs)
    body = answer.json()
    return body if isinstance(body, dict) else {}


async def telegram(settings: Settings, client: httpx.AsyncClient) -> ChannelCheck:
    """Token valid (getMe) and the webhook's last error as Telegram tells it (getWebhookInfo)."""
    root = f"{settings.telegram_api_url.rstrip('/')}/bot{settings.telegram_bot_token}"
    me = await _get(client, f"{root}/getMe")
    check = ChannelCheck("telegram", bool(me.get("ok")), {"token": "ok" if me.get("ok") else "refused"})
    if me.get("ok"):
        check.facts["username"] = "@" + str(me.get("result", {}).get("username", ""))
        hook = (await _get(client, f"{root}/getWebhookInfo")).get("result") or {}
        check.facts["pending_updates"] = str(hook.get("pending_update_count", 0))
        if hook.get("last_error_message"):
            check.ok = False
            check.facts["webhook_error"] = str(hook["last_error_message"])[:300]
    return check


async def whatsapp(settings: Settings, client: httpx.AsyncClient) -> ChannelCheck:
    """The number's status and quality rating as the Graph API tells them."""
    url = (f"{settings.whatsapp_api_url.rstrip('/')}/{settings.whatsapp_api_version}/"
           f"{settings.whatsapp_phone_number_id}")
    body = await _get(client, url, params={"fields": "display_phone_number,status,quality_rating"},
                      headers={"Authorization": f"Bearer {settings.whatsapp_access_token}"})
    if "error" in body:
        return ChannelCheck("whatsapp", False, {"token": "refused",
                                                "api_error": str(body["error"].get("message", ""))[:300]})
    facts = {k: str(body[k]) for k in ("display_phone_number", "status", "quality_rating") if k in body}
    return ChannelCheck("whatsapp", body.get("status", "CONNECTED") in ("CONNECTED", ""), {"token": "ok", **facts})


async def probe(settings: Settings, channel: str) -> ChannelCheck:
    try:
        async with httpx.AsyncClient() as client:
            return await (telegram if channel == "telegram" else whatsapp)(settings, client)
    except (httpx.HTTPError, ValueError) as exc:
        return ChannelCheck(channel, False, {"unreachable": type(exc).__name__})


async def page(request: Request) -> Response:
    """The state of the channels, outbox, database and media. The probes run after the page's transaction
    (SQLite has one writer, and a probe must not hold it while Telegram or the media store answers)."""
    console = console_of(request)
    async with console.db.transaction() as session:
        try:
            officer = await current_officer(request, session)
        except NotSignedIn:
            request.session.clear()
            return console.pages.message(request, "signed_out", status=401)
        visit = Visit(console, request, session, officer, await console.pages.locale(request, session, officer))
        if not admin.is_admin(officer):
            return visit.page("admin/refused", status=403, a=words(visit))
        shown = {**await context(visit), "queues": await queues(visit), "failed": await failed(visit),
                 "states": {s.channel: s for s in (await session.exec(select(ChannelState))).all()}}
    settings = console.settings
    channels = configured(settings)
    ready, checks = await asyncio.gather(health.readiness(console.db, channels, store=media_store(settings)),
                                         asyncio.gather(*(probe(settings, c) for c in channels)))
    return visit.page("admin/health", ready=ready, checks=list(checks),
                      done=request.query_params.get("done", ""), **shown)


async def failed(visit: Visit) -> list[OutboxMessage]:
    """The newest given-up messages (as `umkm-bot outbox failed`)."""
    return list((await visit.session.exec(select(OutboxMessage).where(OutboxMessage.status == OutboxStatus.failed)
                                          .order_by(col(OutboxMessage.id).desc()).limit(FAILED_SHOWN))).all())


async def queues(visit: Visit) -> dict[str, dict[str, int]]:
    """Messages not sent yet per channel and status (pending, held, failed), in the page's transaction."""
    found: dict[str, dict[str, int]] = {}
    rows = await visit.session.exec(select(OutboxMessage.channel, OutboxMessage.status, func.count())
                                    .where(col(OutboxMessage.status) != OutboxStatus.sent)
                                    .group_by(OutboxMessage.channel, OutboxMessage.status))
    for channel, status, count in rows.all():
        found.setdefault(channel, {"pending": 0, "held": 0, "failed": 0})[status] = count
    return found


@admin_page
async def retry(visit: Visit) -> Response:
    """Queues one given-up message again (recorded in the audit)."""
    message_id = form_id(visit, "message_id")
    if message_id is None:
        return redirect("/dinas/admin/health")
    now = visit.console.clock()
    count = (await (await visit.session.connection()).execute(outbox_admin.retry_statement([message_id], now))).rowcount
    admin.record(visit.session, visit.officer, "retry", f"outbox:{message_id}", visit.officer.region_code,
                 now, queued=count)
    return redirect("/dinas/admin/health?done=retried" if count else "/dinas/admin/health")


def routes(console: Console) -> list[BaseRoute]:
    return [Route("/admin/health", page, methods=["GET"], name="admin_health"),
            Route("/admin/health/retry", retry, methods=["POST"], name="admin_retry")]
