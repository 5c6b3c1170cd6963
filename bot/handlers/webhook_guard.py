"""The one guard around every channel's webhook: authentication, the body cap, JSON, and what errors answer.

A channel gives only what is its own (`Webhook`): how it authenticates a request and how it applies a payload.
Everything else answers the same on every channel:
- a forged request gets the channel's refusal (401/403) and nothing is read further or stored;
- a body over the cap gets 413 unread; bytes that are not a JSON object get 400;
- the database unavailable (nothing was applied) gets 503 with Retry-After, so the platform delivers it again;
- any other failure is logged with its traceback and gets 500, so the platform delivers it again;
- an update the bot does not support is the channel's `apply` to log and answer 200 (not retried forever);
- a duplicate delivery is the engine's to recognise (`InboundEvent`): it is applied once.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import Response

from bot.handlers.webhook_body import parse_json, read_capped
from bot.ops import metrics
from storage.db import DatabaseUnavailable, is_transient

log = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 5
Endpoint = Callable[[Request], Awaitable[Response]]


def _always(_headers: Headers, _body: bytes) -> bool:
    return True


@dataclass(frozen=True)
class Webhook:
    """One channel's part: its name, its authentication, and how a payload is applied (committed) and answered."""

    channel: str
    max_bytes: int
    refused_status: int  # the answer to a forged request: Telegram 403, WhatsApp 401
    check_headers: Callable[[Headers], bool]  # before any byte of the body is read
    apply: Callable[[dict[str, Any]], Awaitable[Response]]
    check_body: Callable[[Headers, bytes], bool] = _always  # with the raw body (a signature over it)


def guarded(webhook: Webhook) -> Endpoint:
    """The webhook's endpoint: every request checked and answered the same way on every channel."""
    channel = webhook.channel

    def refuse(status: int, why: str, request: Request) -> Response:
        log.warning("%s webhook: %s from %s", channel, why, request.client)
        metrics.update(channel, "refused")
        return Response(status_code=status)

    async def endpoint(request: Request) -> Response:
        if not webhook.check_headers(request.headers):
            return refuse(webhook.refused_status, "wrong or missing authentication", request)
        body = await read_capped(request, webhook.max_bytes)
        if body is None:
            return refuse(413, f"body over {webhook.max_bytes} bytes refused unread", request)
        if not webhook.check_body(request.headers, body):
            return refuse(webhook.refused_status, "wrong signature", request)
        payload = parse_json(body)
        if not isinstance(payload, dict):
            log.warning("%s webhook: not a JSON object (%d bytes)", channel, len(body))
            metrics.update(channel, "malformed")
            return Response(status_code=400)
        return await _applied(webhook, payload)

    return endpoint


async def _applied(webhook: Webhook, payload: dict[str, Any]) -> Response:
    """The channel's answer, or 503 (database unavailable) / 500 (anything else): the platform tries again."""
    try:
        return await webhook.apply(payload)
    except Exception as exc:
        if isinstance(exc, DatabaseUnavailable) or is_transient(exc):
            log.warning("%s webhook: database unavailable; not applied, the platform will deliver it again",
                        webhook.channel)
            return Response(status_code=503, headers={"Retry-After": str(RETRY_AFTER_SECONDS)})
        log.exception("%s webhook: update failed; the platform will deliver it again", webhook.channel)
        return Response(status_code=500)
