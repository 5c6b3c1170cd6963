"""Logging for every command (`run`, `worker`, `chat`), set up in one place: one line per event, plain text or
JSON (`LOG_FORMAT=json`), with the channel, event id and a masked contact id of the update being handled.

Nothing secret or personal reaches a log line: the configured tokens and secrets are cut out of every record
(and Telegram bot tokens wherever they appear), query strings are dropped from access lines, Indonesian
personal data (phones, NIK, NPWP, names...) is masked by lokal-id's Samaran filter, chat addresses are logged
as `contact_ref` (a short keyed hash), and SQL parameters are never logged (`hide_parameters` on the engine).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from lokal.samaran.logging import SamaranFilter

from bot.settings import Settings

REDACTED = "[redacted]"
BOT_TOKEN = re.compile(r"\b\d{5,}(:|%3A)[A-Za-z0-9_-]{30,}\b", re.IGNORECASE)
QUIET = {"httpx": logging.WARNING, "httpcore": logging.WARNING, "aiosqlite": logging.WARNING,
         "sqlalchemy": logging.WARNING, "telegram": logging.WARNING, "botocore": logging.WARNING,
         "aiobotocore": logging.WARNING, "asyncio": logging.WARNING, "multipart": logging.WARNING}
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s%(context)s"

_context: ContextVar[tuple[str, str, str] | None] = ContextVar("log_context", default=None)
_key = [hashlib.sha256(b"umkm-bot contact ref").digest()]  # replaced by `setup` with a deployment's own key


def contact_ref(channel: str, address: str) -> str:
    """A stable id for a chat that does not reveal it: `c-` and 12 hex digits of a keyed hash."""
    return "c-" + hmac.new(_key[0], f"{channel}:{address}".encode(), hashlib.sha256).hexdigest()[:12]


@contextmanager
def event_context(channel: str, event_id: str, address: str) -> Iterator[None]:
    """Every line logged inside carries the channel, the event id and the contact's masked id."""
    token = _context.set((channel, event_id, address))  # the contact's id is computed only for a logged line
    try:
        yield
    finally:
        _context.reset(token)


class ContextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        current = _context.get()
        fields = {"channel": current[0], "event": current[1], "contact": contact_ref(current[0], current[2])} \
            if current else {}
        record.fields = fields
        record.context = "".join(f" {k}={v}" for k, v in fields.items())
        return True


class SecretFilter(logging.Filter):
    """Cuts the configured secrets (and anything shaped like a bot token) out of the record."""

    def __init__(self, secrets: list[str]) -> None:
        super().__init__()
        given = {s for s in secrets if s and len(s) >= 4}
        given |= {quote(s, safe="") for s in given}  # as they appear in URLs too
        self.secrets = sorted(given, key=len, reverse=True)

    def clean(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, REDACTED)
        return BOT_TOKEN.sub(REDACTED, text)

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name == "uvicorn.access" and isinstance(record.args, tuple) and len(record.args) >= 3:
            args = list(record.args)
            args[2] = str(args[2]).split("?", 1)[0]  # no query strings (Meta's verify token travels there)
            record.args = tuple(args)
        record.msg = self.clean(record.getMessage())
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.clean(record.exc_text)
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, the event's fields, and the error if any."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(), "logger": record.name, "message": record.getMessage(),
            **getattr(record, "fields", {})}
        if record.exc_text:
            line["error"] = record.exc_text
        return json.dumps(line, ensure_ascii=False)


def secrets_of(settings: Settings) -> list[str]:
    from sqlalchemy.engine import make_url

    values = [settings.telegram_bot_token, settings.telegram_webhook_secret, settings.whatsapp_access_token,
              settings.whatsapp_app_secret, settings.whatsapp_verify_token, settings.metrics_token,
              settings.aws_secret_access_key]
    try:
        values.append(make_url(settings.database_url).password)  # type: ignore[arg-type]
    except Exception:  # an unparsable URL fails later, with its own message
        pass
    return [str(v) for v in values if v]


class StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to `sys.stderr` as it is when a line is written, not as it was when logging was set up: a command
    run in-process (typer's CliRunner, a test, an embedding script) swaps sys.stderr for a stream it closes at the
    end, and a handler holding that stream would then fail on every later line ("Logging error")."""

    def __init__(self) -> None:
        logging.Handler.__init__(self)

    @property  # type: ignore[override]
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, value: Any) -> None:  # StreamHandler.setStream: always sys.stderr
        pass


def scrubber(settings: Settings) -> Callable[[str], str]:
    """A log line's rules for any text: the configured secrets and bot tokens cut, then personal data masked
    (lokal-id's Samaran, as SamaranFilter masks a record). For what leaves the process another way (error reports,
    bot/ops/errors.py)."""
    from lokal.samaran import Samaran

    secrets = SecretFilter(secrets_of(settings))

    def scrub(text: str) -> str:
        return Samaran(mode="partial").mask(secrets.clean(text)).text  # fresh per text, as SamaranFilter does

    return scrub


def handler_for(settings: Settings, stream: Any = None) -> logging.Handler:
    """A handler that writes `settings.log_format` lines with secrets cut and personal data masked: to `stream`
    if given, else to whatever sys.stderr is at each line."""
    handler = logging.StreamHandler(stream) if stream is not None else StderrHandler()
    handler.addFilter(ContextFilter())
    handler.addFilter(SecretFilter(secrets_of(settings)))
    handler.addFilter(SamaranFilter(mode="partial"))
    handler.setFormatter(JsonFormatter() if settings.log_format == "json" else logging.Formatter(TEXT_FORMAT))
    return handler


def setup(settings: Settings, level: int | str | None = None, stream: Any = None) -> Callable[[], None]:
    """Routes every logger through one handler (replacing earlier ones): for `run`, `worker` and `chat`.

    Returns what puts the logging set up before back (bot/cli.py calls it when the command ends, so a command run
    in-process leaves no handler of its own behind)."""
    # Keyed by the deployment's secrets, so a phone number cannot be found again by hashing guesses.
    material = settings.log_key or "\n".join(secrets_of(settings))
    if material:
        _key[0] = hashlib.sha256(b"umkm-bot contact ref\n" + material.encode()).digest()
    root = logging.getLogger()
    touched = [logging.getLogger(name) for name in (*QUIET, "uvicorn", "uvicorn.error", "uvicorn.access")]
    saved = (list(root.handlers), root.level,
             [(logger, list(logger.handlers), logger.level, logger.propagate) for logger in touched])
    for old in list(root.handlers):
        root.removeHandler(old)
    handler = handler_for(settings, stream)
    root.addHandler(handler)
    root.setLevel(level if level is not None else settings.log_level.upper())
    for name, quiet in QUIET.items():
        logging.getLogger(name).setLevel(quiet)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).handlers.clear()
        logging.getLogger(name).setLevel(logging.NOTSET)  # follows LOG_LEVEL
        logging.getLogger(name).propagate = True

    def restore() -> None:
        handlers, root_level, loggers = saved
        root.removeHandler(handler)
        for old in handlers:
            root.addHandler(old)
        root.setLevel(root_level)
        for logger, logger_handlers, logger_level, propagate in loggers:
            logger.handlers[:] = logger_handlers
            logger.setLevel(logger_level)
            logger.propagate = propagate

    return restore
