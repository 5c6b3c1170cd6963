"""Error reports to Sentry (or a self-hosted Sentry or GlitchTip) when `SENTRY_DSN` is set; for `run` and `worker`.

An unhandled exception in a request (Starlette's integration) and every `log.exception`/`log.error` line (the
logging integration) become an event. Nothing leaves that a log line would not show: before an event is sent,
every text in it goes through the logs' own rules (`logs.scrubber`: configured secrets and bot tokens cut, NIK,
NPWP, phones, names... masked), and the request keeps only its method, its path (no query string, no sign-in
token) and a few harmless headers: no body, no cookies, no secret-bearing header. `send_default_pii` stays off
and local variables are not captured (`_collect_nothing_personal`). Without `SENTRY_DSN` nothing here runs and
sentry-sdk is not even imported.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Any

from bot import version
from bot.ops import logs
from bot.settings import Settings

log = logging.getLogger(__name__)

#: Request headers an event may keep (none of them carries a secret or a person's data).
SAFE_HEADERS = frozenset({"accept", "accept-language", "content-length", "content-type", "host", "user-agent"})
#: Parts of an event that are the SDK's own bookkeeping (ids, times, versions), left as they are.
BOOKKEEPING = frozenset({"event_id", "timestamp", "start_timestamp", "platform", "level", "sdk", "modules",
                         "release", "environment", "server_name", "type", "spans", "measurements"})
SIGN_IN_LINK = re.compile(r"(/dinas/login/)[^/?#]+")
SHUTDOWN_TIMEOUT = 2.0  # seconds `close` waits for events still queued


def setup(settings: Settings, transport: Any = None) -> Callable[[], None]:
    """Starts reporting when `settings.sentry_dsn` is set; returns what stops it (sends what is queued first).
    `transport` replaces the HTTP one (tests)."""
    if not settings.sentry_dsn:
        return lambda: None
    import sentry_sdk
    from sentry_sdk.integrations.starlette import StarletteIntegration
    from sentry_sdk.utils import BadDsn

    scrub = before_send(logs.scrubber(settings))
    try:
        sentry_sdk.init(
            dsn=settings.sentry_dsn, environment=settings.sentry_environment or None,
            release=f"umkm-bot@{version()}", max_request_body_size="never", before_send=scrub,
            before_send_transaction=scrub, integrations=[StarletteIntegration()], transport=transport,
            **_collect_nothing_personal())
    except BadDsn as exc:
        raise SystemExit(f"SENTRY_DSN is not a Sentry DSN ({exc}).") from None
    log.info("errors are reported to Sentry (environment %s)", settings.sentry_environment or "production")

    def close() -> None:
        client = sentry_sdk.get_client()
        client.close(timeout=SHUTDOWN_TIMEOUT)
        sentry_sdk.get_global_scope().set_client(None)

    return close


def _collect_nothing_personal() -> dict[str, Any]:
    """`send_default_pii=False` and no local variables, in the words of the installed SDK: newer ones (2.7x) take
    `data_collection` and warn that `send_default_pii` is deprecated; there nothing personal is even collected."""
    import inspect

    from sentry_sdk.consts import ClientConstructor

    if "data_collection" not in inspect.signature(ClientConstructor.__init__).parameters:
        return {"send_default_pii": False, "include_local_variables": False}
    return {"data_collection": {
        "user_info": False, "cookies": {"mode": "off"}, "url_query_params": {"mode": "off"}, "http_bodies": [],
        "http_headers": {"request": {"mode": "allowlist", "terms": sorted(SAFE_HEADERS)}},
        "database_query_data": False, "queues": False, "graphql": {"document": False, "variables": False},
        "gen_ai": {"inputs": False, "outputs": False}, "stack_frame_variables": False}}


def before_send(scrub: Callable[[str], str]) -> Callable[[dict[str, Any], Any], dict[str, Any]]:
    """Sentry's `before_send`: the event with its request cut down and every text of it scrubbed."""

    def hook(event: dict[str, Any], hint: Any) -> dict[str, Any]:
        request = event.get("request")
        if isinstance(request, dict):
            event["request"] = _request(request)
        return {key: value if key in BOOKKEEPING else _scrubbed(value, scrub) for key, value in event.items()}

    return hook


def _request(request: dict[str, Any]) -> dict[str, Any]:
    """Method, path and the SAFE_HEADERS only: no body, cookies, query string (Meta's verify token travels there),
    environment, nor the one-time token of a console sign-in link."""
    kept: dict[str, Any] = {}
    if isinstance(request.get("method"), str):
        kept["method"] = request["method"]
    if isinstance(request.get("url"), str):
        kept["url"] = SIGN_IN_LINK.sub(r"\1[redacted]", request["url"].split("?", 1)[0].split("#", 1)[0])
    headers = request.get("headers")
    if isinstance(headers, dict):
        kept["headers"] = {k: v for k, v in headers.items() if str(k).lower() in SAFE_HEADERS}
    return kept


def _scrubbed(value: Any, scrub: Callable[[str], str]) -> Any:
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, dict):
        return {key: _scrubbed(item, scrub) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_scrubbed(item, scrub) for item in value]
    return value
