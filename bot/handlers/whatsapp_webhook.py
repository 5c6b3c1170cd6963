"""`GET`/`POST /whatsapp/webhook`: Meta's handshake, signed updates, statuses, deduplicated messages."""

from __future__ import annotations

import hmac
import logging
from typing import Any

from pywa.utils import HUB_SIG
from starlette.background import BackgroundTask
from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from bot.conversation.engine import Engine
from bot.delivery.deliverer import Deliverer, record_provider_status
from bot.domain.messages import Inbound, Outbound
from bot.domain.numbers import ascii_number
from bot.handlers.webhook_body import signature_matches, well_formed_signature
from bot.handlers.webhook_guard import Webhook, guarded
from bot.handlers.whatsapp import CHANNEL, WhatsAppChannel
from bot.handlers.whatsapp_render import MORE_PREFIX
from bot.ops import metrics
from bot.settings import Settings

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

    async def answer(self, payload: dict[str, Any]) -> Response:
        """The webhook's answer to an applied payload: 200, the replies sent after it in the background."""
        outbound = await self.handle(payload)
        return Response(status_code=200, background=BackgroundTask(self.deliverer.deliver, outbound))

    async def _next_page(self, inbound: Inbound) -> list[Outbound]:
        """The next page of a long list (the engine's choices are all there; WhatsApp shows ten), via the outbox."""
        outbox_id, _, page_text = inbound.text.removeprefix(MORE_PREFIX).partition(":")
        row_id, page = ascii_number(outbox_id), ascii_number(page_text, 99)
        if row_id is None or page is None or page < 2:
            log.info("whatsapp: malformed 'more' %r ignored", inbound.text)
            return []
        return await self.engine.requeue(inbound, row_id, page)


def signature_present(settings: Settings, headers: Headers) -> bool:
    """An app secret is set and X-Hub-Signature-256 looks like one: checked before any body is read."""
    return bool(settings.whatsapp_app_secret) and well_formed_signature(headers.get(HUB_SIG, ""))


def signature_valid(settings: Settings, headers: Headers, body: bytes) -> bool:
    """X-Hub-Signature-256 is Meta's HMAC-SHA256 of the raw body with the app secret."""
    return signature_matches(settings.whatsapp_app_secret or "", body, headers.get(HUB_SIG, ""))


def routes(settings: Settings, updates: WhatsAppUpdates) -> list[Route]:
    """`GET /whatsapp/webhook` (Meta's handshake) and `POST /whatsapp/webhook` (updates, through the guard)."""

    async def verify(request: Request) -> Response:
        """Meta's subscription handshake: the challenge back only for our verify token."""
        params = request.query_params
        expected = settings.whatsapp_verify_token or ""
        given = params.get("hub.verify_token", "")
        matches = bool(expected) and hmac.compare_digest(given.encode(), expected.encode())
        if params.get("hub.mode") == "subscribe" and matches:
            return PlainTextResponse(params.get("hub.challenge", ""))
        return Response(status_code=403)

    webhook = Webhook(channel=CHANNEL, max_bytes=settings.max_webhook_bytes, refused_status=401,
                      check_headers=lambda headers: signature_present(settings, headers),
                      check_body=lambda headers, body: signature_valid(settings, headers, body),
                      apply=updates.answer)
    receive = guarded(webhook)  # a signed update: 401 and nothing stored unless the signature matches the body
    return [Route("/whatsapp/webhook", verify, methods=["GET"]), Route("/whatsapp/webhook", receive, methods=["POST"])]
