"""`GET`/`POST /whatsapp/webhook`: Meta's handshake, signed updates, statuses, deduplicated messages."""

from __future__ import annotations

import hmac
import json
import logging
from typing import Any

from pywa.utils import HUB_SIG, webhook_updates_validator
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from bot.delivery import Deliverer, record_provider_status
from bot.engine import Engine
from bot.handlers.whatsapp import CHANNEL, WhatsAppChannel
from bot.handlers.whatsapp_render import MORE_PREFIX
from bot.messages import Inbound, Outbound
from bot.settings import Settings
from storage.db import DatabaseUnavailable, is_transient

log = logging.getLogger(__name__)

RE_ENGAGEMENT = 131047
MAX_PAYLOAD_BYTES = 3_000_000


class WhatsAppUpdates:
    """Applies one webhook payload: its status reports to the outbox, its messages through the engine."""

    def __init__(self, channel: WhatsAppChannel, engine: Engine, deliverer: Deliverer) -> None:
        self.channel = channel
        self.engine = engine
        self.deliverer = deliverer

    async def handle(self, payload: dict[str, Any]) -> list[Outbound]:
        """Everything in the payload, committed when this returns; what to send next is returned."""
        messages, statuses = self.channel.read_payload(payload)
        for status in statuses:
            if not await record_provider_status(self.engine.db, CHANNEL, status.message_id, status.status,
                                                status.error_codes, hold_codes=(RE_ENGAGEMENT,)):
                log.info("whatsapp: status %s for unknown message %s", status.status, status.message_id)
        outbound: list[Outbound] = []
        for message in messages:
            inbound = await self.channel.to_inbound(message)
            if inbound is None:
                log.info("whatsapp: %s message ignored", message.get("type"))
            elif inbound.kind == "choice" and inbound.text.startswith(MORE_PREFIX):
                outbound.extend(await self._next_page(inbound))
            else:
                outbound.extend(await self.engine.handle(inbound))
        return outbound

    async def _next_page(self, inbound: Inbound) -> list[Outbound]:
        """The next page of a long list (the engine's choices are all there; WhatsApp shows ten), via the outbox."""
        outbox_id, _, page = inbound.text.removeprefix(MORE_PREFIX).partition(":")
        if not (outbox_id.isascii() and outbox_id.isdigit() and page.isascii() and page.isdigit()
                and len(outbox_id) < 19 and 1 < int(page) < 100):
            log.info("whatsapp: malformed 'more' %r ignored", inbound.text)
            return []
        return await self.engine.requeue(inbound, int(outbox_id), int(page))


def routes(settings: Settings, updates: WhatsAppUpdates) -> list[Route]:
    async def verify(request: Request) -> Response:
        """Meta's subscription handshake: the challenge back only for our verify token."""
        params = request.query_params
        expected = settings.whatsapp_verify_token or ""
        given = params.get("hub.verify_token", "")
        matches = bool(expected) and hmac.compare_digest(given.encode(), expected.encode())
        if params.get("hub.mode") == "subscribe" and matches:
            return PlainTextResponse(params.get("hub.challenge", ""))
        return Response(status_code=403)

    async def receive(request: Request) -> Response:
        """A signed update: 401 and nothing stored unless X-Hub-Signature-256 matches the raw body."""
        body = await request.body()
        signature = request.headers.get(HUB_SIG, "")
        secret = settings.whatsapp_app_secret or ""
        if not secret or not signature or not webhook_updates_validator(secret, body, signature):
            log.warning("whatsapp webhook: missing or wrong signature from %s", request.client)
            return Response(status_code=401)
        try:
            payload = json.loads(body) if len(body) <= MAX_PAYLOAD_BYTES else None
        except ValueError:
            payload = None
        if not isinstance(payload, dict):
            return Response(status_code=400)
        try:
            outbound = await updates.handle(payload)
        except Exception as exc:
            if isinstance(exc, DatabaseUnavailable) or is_transient(exc):
                log.warning("whatsapp webhook: database unavailable; Meta will deliver it again")
                return Response(status_code=503)
            raise
        return Response(status_code=200, background=BackgroundTask(updates.deliverer.deliver, outbound))

    return [Route("/whatsapp/webhook", verify, methods=["GET"]), Route("/whatsapp/webhook", receive, methods=["POST"])]
