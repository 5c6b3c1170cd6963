"""`POST /telegram/webhook` and long polling's handler: one update -> an Inbound -> the engine.

The webhook's checks and error answers are the shared guard's (webhook_guard); here only the secret token
check and how an applied update is answered (a button tap's answerCallbackQuery rides in the response).
"""

from __future__ import annotations

import asyncio
import hmac
import logging
from typing import Any

from starlette.background import BackgroundTask
from starlette.datastructures import Headers
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bot.conversation.engine import Engine
from bot.delivery.deliverer import Deliverer
from bot.domain.messages import Replies
from bot.handlers import telegram_shape
from bot.handlers.telegram import CHANNEL, SECRET_HEADER, TelegramChannel
from bot.handlers.webhook_guard import Webhook, guarded
from bot.ops import metrics
from bot.settings import Settings

log = logging.getLogger(__name__)


class TelegramUpdates:
    """Handles one update the same way for the webhook and for long polling: to an Inbound, then the engine."""

    def __init__(self, channel: TelegramChannel, engine: Engine, deliverer: Deliverer) -> None:
        self.channel = channel
        self.engine = engine
        self.deliverer = deliverer
        self._sending: set[asyncio.Task[None]] = set()

    async def handle(self, data: dict[str, Any]) -> Replies:
        """Applies the update (committed when this returns); [] for a duplicate, unhandled or malformed one."""
        update = telegram_shape.read(data)
        if isinstance(update, str):
            log.warning("telegram update malformed (%s); ignored", update)
            metrics.update(CHANNEL, "malformed")
            return Replies()
        inbound = await self.channel.to_inbound(update)
        if inbound is None:
            metrics.update(CHANNEL, "ignored")
        return await self.engine.handle(inbound) if inbound is not None else Replies()

    async def handle_and_send(self, data: dict[str, Any]) -> None:
        """For polling: handle, then send the replies in the background so the next update need not wait."""
        outbound = await self.handle(data)
        query_id = callback_query_id(data)
        if query_id and not outbound.duplicate:
            self._background(self.channel.answer_callback(query_id))
        if outbound:
            self._background(self.deliverer.deliver(outbound))

    async def answer(self, data: dict[str, Any]) -> Response:
        """The webhook's answer to an applied update; the replies are sent after it, in the background."""
        outbound = await self.handle(data)
        background = BackgroundTask(self.deliverer.deliver, outbound)
        query_id = callback_query_id(data)
        if query_id and not outbound.duplicate:  # the Bot API takes one method call as the webhook's answer
            return JSONResponse({"method": "answerCallbackQuery", "callback_query_id": query_id},
                                background=background)
        return Response(status_code=200, background=background)

    def _background(self, work: Any) -> None:
        task = asyncio.create_task(work)
        self._sending.add(task)
        task.add_done_callback(self._sending.discard)

    async def drain(self) -> None:
        if self._sending:
            await asyncio.gather(*self._sending, return_exceptions=True)


def callback_query_id(data: dict[str, Any]) -> str | None:
    """The id of a button tap's callback query, to be answered once (not for a replayed update)."""
    query = data.get("callback_query")
    query_id = query.get("id") if isinstance(query, dict) else None
    return query_id if isinstance(query_id, str) and query_id else None


def secret_matches(settings: Settings, headers: Headers) -> bool:
    """X-Telegram-Bot-Api-Secret-Token equals TELEGRAM_WEBHOOK_SECRET (compared in constant time)."""
    secret = settings.telegram_webhook_secret or ""
    given = headers.get(SECRET_HEADER, "")
    return bool(secret) and hmac.compare_digest(given.encode(), secret.encode())


def webhook_route(settings: Settings, updates: TelegramUpdates) -> Route:
    """`POST /telegram/webhook`: 403 without the right secret; the update is committed before the 200."""
    webhook = Webhook(channel=CHANNEL, max_bytes=settings.max_webhook_bytes, refused_status=403,
                      check_headers=lambda headers: secret_matches(settings, headers), apply=updates.answer)
    return Route("/telegram/webhook", guarded(webhook), methods=["POST"])
