"""Officers' one-time sign-in links: issued in chat (`/dasbor`), by the CLI and by admins; used by the console.

A link is `{PUBLIC_URL}/dinas/login/{token}`: an itsdangerous signed, timestamped token naming a `DinasLogin`
row. It expires after 15 minutes and works once (its row's `used_at` is set atomically). Channel-free and
front-door-free, so the officer's chat and the console both use it without importing each other.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from datetime import datetime

from itsdangerous import BadData, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import update
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.settings import Settings
from storage.models import DinasLogin, Officer

log = logging.getLogger(__name__)

LINK_MAX_AGE = 15 * 60
LOGIN_SALT = "dinas-login"


class LinkRefused(Exception):
    """A sign-in link that cannot be used; `reason` is one of expired, invalid, used, inactive."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def secret_key(settings: Settings) -> str:
    """DINAS_SECRET_KEY, or (local trial only) a key derived from the deployment's other secrets."""
    if settings.dinas_secret_key:
        return settings.dinas_secret_key
    if settings.public_url:
        log.warning("DINAS_SECRET_KEY is not set: the console uses a key derived from other settings; set one")
    parts = ["umkm-bot dinas console", settings.telegram_bot_token or "", settings.telegram_webhook_secret or "",
             settings.whatsapp_app_secret or "", settings.database_url]
    return hashlib.sha256("\x00".join(parts).encode()).hexdigest()


def base_url(settings: Settings) -> str:
    """Where officers reach the console: PUBLIC_URL, else this machine's loopback and port."""
    return (settings.public_url or f"http://127.0.0.1:{settings.web_port}").rstrip("/")


def _serializer(settings: Settings) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret_key(settings), salt=LOGIN_SALT)


async def issue_link(session: AsyncSession, settings: Settings, officer_id: int, now: datetime) -> str:
    """A new one-time sign-in URL for the officer (recorded, so it can be used once)."""
    token_id = secrets.token_urlsafe(18)
    session.add(DinasLogin(token_id=token_id, officer_id=officer_id, created_at=now))
    await session.flush()
    return f"{base_url(settings)}/dinas/login/{_serializer(settings).dumps({'t': token_id, 'o': officer_id})}"


def read_link(settings: Settings, token: str) -> tuple[str, int]:
    """(token id, officer id) of a genuine, unexpired link token; raises LinkRefused otherwise."""
    try:
        data = _serializer(settings).loads(token, max_age=LINK_MAX_AGE)
    except SignatureExpired as exc:
        raise LinkRefused("expired") from exc
    except BadData as exc:
        raise LinkRefused("invalid") from exc
    if not (isinstance(data, dict) and isinstance(data.get("t"), str) and type(data.get("o")) is int):
        raise LinkRefused("invalid")
    return data["t"], data["o"]


async def check_link(session: AsyncSession, settings: Settings, token: str) -> Officer:
    """The officer a link signs in, without using it up; raises LinkRefused."""
    token_id, officer_id = read_link(settings, token)
    login = await session.get(DinasLogin, token_id)
    if login is None or login.officer_id != officer_id:
        raise LinkRefused("invalid")
    if login.used_at is not None:
        raise LinkRefused("used")
    officer = await session.get(Officer, officer_id)
    if officer is None or not officer.active:
        raise LinkRefused("inactive")
    return officer


async def use_link(session: AsyncSession, settings: Settings, token: str, now: datetime) -> tuple[str, Officer]:
    """Uses the link up (atomically: of two at once, one wins) and returns (token id, officer)."""
    officer = await check_link(session, settings, token)
    token_id, _ = read_link(settings, token)
    connection = await session.connection()
    result = await connection.execute(update(DinasLogin).where(
        DinasLogin.token_id == token_id, DinasLogin.used_at.is_(None)).values(used_at=now))  # type: ignore[union-attr]
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise LinkRefused("used")
    return token_id, officer
