"""Invitations for UMKM owners: a poster or an event of a district gives a Telegram deep link and a WhatsApp
click-to-chat link, each with a QR code, that preselect the owner's region and record where they came from.

One `OwnerInvite` row per (region, source), scanned by many owners, so a code is never used up. The code is
`daftar_` + 12 random URL-safe characters (19 of `[A-Za-z0-9_-]`, within Telegram's 64 for a `/start`
payload), printed in public: it is looked up here, never trusted by its shape, and names nothing but the row.
A forged, unknown or expired code is ignored (the owner starts as anyone does). Officer invitations
(`inv_...`, bot/review/invites.py) are another thing and keep their own codes.
"""

from __future__ import annotations

import io
import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import quote

import segno
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.domain import regions
from bot.review.scope import covers
from bot.settings import Settings
from bot.words.i18n import Renderer
from bot.words.markup import to_plain
from storage.models import Officer, OwnerInvite

CODE = re.compile(r"(?<![A-Za-z0-9_-])daftar_[A-Za-z0-9_-]{12}(?![A-Za-z0-9_-])")
SOURCE_MAX = 60
DEFAULT_SOURCE = "poster"


class Refused(Exception):
    """Why an invitation was not made: "region" (not a kab/kota the officer covers) or "source"."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Links:
    telegram: str | None  # None when TELEGRAM_BOT_USERNAME is not set
    whatsapp: str | None  # None when WHATSAPP_DISPLAY_NUMBER is not set


def clean_source(source: str | None) -> str:
    """The source as stored: spaces folded, DEFAULT_SOURCE when empty; Refused("source") when too long."""
    cleaned = " ".join((source or "").split())
    if len(cleaned) > SOURCE_MAX or any(not c.isprintable() for c in cleaned):
        raise Refused("source")
    return cleaned or DEFAULT_SOURCE


def kabkota(code: str) -> regions.Region:
    found = regions.get_region((code or "").strip())
    if found is None or "." not in found.code:
        raise Refused("region")
    return found


async def make(session: AsyncSession, region_code: str, source: str | None, now: datetime,
               officer: Officer | None = None) -> OwnerInvite:
    """The (region, source) invitation, made the first time; an officer (None: the CLI) must cover the region."""
    region = kabkota(region_code)
    if officer is not None and not covers(officer.region_code, region.code):
        raise Refused("region")
    name = clean_source(source)
    found = (await session.exec(select(OwnerInvite).where(
        OwnerInvite.region_code == region.code, OwnerInvite.source == name))).first()
    if found is not None:
        return found
    invite = OwnerInvite(code="daftar_" + secrets.token_urlsafe(9), region_code=region.code, source=name,
                         created_by=officer.id if officer is not None else None, created_at=now)
    session.add(invite)
    await session.flush()
    return invite


def find_code(text: str) -> str | None:
    found = CODE.search(text or "")
    return found.group(0) if found else None


async def arrived(session: AsyncSession, text: str, now: datetime) -> OwnerInvite | None:
    """The live invitation whose code this message carries; None for no code, a forged, unknown or expired one."""
    code = find_code(text)
    if code is None:
        return None
    invite = (await session.exec(select(OwnerInvite).where(OwnerInvite.code == code))).first()
    if invite is None or (invite.expires_at is not None and invite.expires_at <= now):
        return None
    return invite


def links(settings: Settings, renderer: Renderer, invite: OwnerInvite) -> Links:
    """The Telegram deep link and the WhatsApp click-to-chat link (its text, in Indonesian, carries the code)."""
    telegram = whatsapp = None
    if settings.telegram_bot_username:
        telegram = f"https://t.me/{settings.telegram_bot_username.lstrip('@')}?start={invite.code}"
    number = "".join(c for c in settings.whatsapp_display_number if c.isdigit())
    if number.startswith("0"):
        number = "62" + number[1:]  # wa.me wants the international form: 0811... is 62811...
    if number:
        text = to_plain(renderer.render("id", "reach/whatsapp_text", code=invite.code))
        whatsapp = f"https://wa.me/{number}?text={quote(text)}"
    return Links(telegram, whatsapp)


def qr(url: str) -> segno.QRCode:
    return segno.make_qr(url, error="m")


def qr_svg(url: str, scale: int = 4) -> str:
    """The QR code as an inline <svg> (no XML declaration), sized by `viewBox` for the page to scale."""
    out = io.BytesIO()
    qr(url).save(out, kind="svg", scale=scale, border=4, xmldecl=False, svgns=True, svgclass="qr", lineclass=None,
                 omitsize=True, dark="#000")
    return out.getvalue().decode()
