"""`GET`/`POST /whatsapp/webhook`: Meta's handshake, signed updates, statuses, deduplicated messages."""

from __future__ import annotations

import hmac
import logging
from typing import Any

from pywa.utils import HUB_SIG
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from bot import metrics
from bot.common import ascii_number
from bot.delivery import Deliverer, record_provider_status
from bot.engine import Engine
from bot.handlers.webhook_body import parse_json, read_capped, signature_matches, well_formed_signature
from bot.handlers.whatsapp import CHANNEL, WhatsAppChannel
from bot.handlers.whatsapp_render import MORE_PREFIX
from bot.messages import Inbound, Outbound
from bot.settings import Settings
from storage.db import DatabaseUnavailable, is_transient

log = logging.getLogger(__name__)

RE_ENGAGEMENT = 131047


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
                metrics.update(CHANNEL, "ignored")
            elif inbound.kind == "choice" and inbound.text.startswith(MORE_PREFIX):
                outbound.extend(await self._next_page(inbound))
            else:
                outbound.extend(await self.engine.handle(inbound))
        return outbound

    async def _next_page(self, inbound: Inbound) -> list[Outbound]:
        """The next page of a long list (the engine's choices are all there; WhatsApp shows ten), via the outbox."""
        outbox_id, _, page_text = inbound.text.removeprefix(MORE_PREFIX).partition(":")
        row_id, page = ascii_number(outbox_id), ascii_number(page_text, 99)
        if row_id is None or page is None or page < 2:
            log.info("whatsapp: malformed 'more' %r ignored", inbound.text)
            return []
        return await self.engine.requeue(inbound, row_id, page)


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
        signature = request.headers.get(HUB_SIG, "")
        secret = settings.whatsapp_app_secret or ""
        if not secret or not well_formed_signature(signature):
            log.warning("whatsapp webhook: missing or malformed signature from %s", request.client)
            metrics.update(CHANNEL, "refused")
            return Response(status_code=401)
        body = await read_capped(request, settings.max_webhook_bytes)
        if body is None:
            log.warning("whatsapp webhook: body over %d bytes refused unread", settings.max_webhook_bytes)
            metrics.update(CHANNEL, "refused")
            return Response(status_code=413)
        if not signature_matches(secret, body, signature):
            log.warning("whatsapp webhook: wrong signature from %s", request.client)
            metrics.update(CHANNEL, "refused")
            return Response(status_code=401)
        payload = parse_json(body)
        if not isinstance(payload, dict):
            log.warning("whatsapp webhook: not a JSON object (%d bytes)", len(body))
            metrics.update(CHANNEL, "malformed")
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
