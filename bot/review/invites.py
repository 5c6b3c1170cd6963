"""One-time invitations for new officers: an admin makes one, the new officer opens it in their chat app.

The code is `inv_` + 32 random URL-safe characters (36 of `[A-Za-z0-9_-]`, within Telegram's 64 for a
`/start` payload). Only its SHA-256 is stored; it works once (`used_at` set atomically), on the channel it was
made for, until `expires_at`. Telegram: `https://t.me/<bot>?start=<code>`; WhatsApp:
`https://wa.me/<number>?text=<code>` (the chat opens with the code typed, the person presses send).
A forged, used or expired code binds nothing, and the chat goes on as any first message would.
"""

from __future__ import annotations

import hashlib
import logging
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import quote

from sqlalchemy import update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.review.admin import NotAllowed, area_codes, in_area, record, require_admin
from bot.review.officers import unrouted_in
from bot.settings import Settings
from storage.models import Contact, Officer, OfficerInvite, OfficerRole

log = logging.getLogger(__name__)

INVITE_TTL = timedelta(days=3)
CHANNELS = ("telegram", "whatsapp")
CODE = re.compile(r"(?<![A-Za-z0-9_-])inv_[A-Za-z0-9_-]{32}(?![A-Za-z0-9_-])")
NAME_MAX = 100


@dataclass
class Invitation:
    invite: OfficerInvite
    code: str
    link: str | None  # None when the bot's username / WhatsApp number is not configured


def _hash(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


def link(settings: Settings, channel: str, code: str) -> str | None:
    """The link that opens the bot's chat with the code, or None when the deployment lacks what it needs."""
    if channel == "telegram" and settings.telegram_bot_username:
        return f"https://t.me/{settings.telegram_bot_username.lstrip('@')}?start={code}"
    number = "".join(c for c in settings.whatsapp_display_number if c.isdigit())
    if channel == "whatsapp" and number:
        return f"https://wa.me/{number}?text={quote(code)}"
    return None


async def create(session: AsyncSession, settings: Settings, admin: Officer, *, name: str, region_code: str,
                 channel: str, now: datetime) -> Invitation:
    """A new invitation for an officer of a region within the admin's area (recorded in the audit)."""
    require_admin(admin)
    name = " ".join(name.split())
    if not name or len(name) > NAME_MAX:
        raise NotAllowed("name")
    if not in_area(admin.region_code, region_code):
        raise NotAllowed("region")
    if channel not in CHANNELS:
        raise NotAllowed("channel")
    code = "inv_" + secrets.token_urlsafe(24)
    invite = OfficerInvite(code_hash=_hash(code), name=name, region_code=region_code, channel=channel,
                           role=OfficerRole.officer, invited_by=admin.id, created_at=now,  # type: ignore[arg-type]
                           expires_at=now + INVITE_TTL)
    session.add(invite)
    await session.flush()
    record(session, admin, "invite", f"invite:{invite.id}", region_code, now, name=name, channel=channel)
    return Invitation(invite, code, link(settings, channel, code))


def find_code(text: str) -> str | None:
    found = CODE.search(text or "")
    return found.group(0) if found else None


async def claim(session: AsyncSession, contact: Contact, text: str, now: datetime) -> Claimed | None:
    """Binds a chat with no owner or officer to a new officer as its invitation code says, with the region's
    submissions that waited for an officer (to send as `officer add` does); None, changing nothing, for any
    other text or chat."""
    code = find_code(text)
    if code is None or contact.owner_id is not None or contact.officer_id is not None:
        return None
    invite = (await session.exec(select(OfficerInvite).where(
        OfficerInvite.code_hash == _hash(code), OfficerInvite.channel == contact.channel))).first()
    if invite is None or invite.used_at is not None or invite.expires_at <= now:
        log.info("officer invitation refused: %s", "unknown" if invite is None else "used or expired")
        return None
    used = await (await session.connection()).execute(update(OfficerInvite).where(
        col(OfficerInvite.id) == invite.id, col(OfficerInvite.used_at).is_(None)).values(used_at=now))
    if used.rowcount != 1:
        return None
    waiting = [p.id for p, _ in await unrouted_in(session, within=invite.region_code)]
    officer = Officer(name=invite.name, region_code=invite.region_code, role=invite.role, created_at=now)
    session.add(officer)
    await session.flush()
    contact.officer_id = officer.id
    await (await session.connection()).execute(update(OfficerInvite).where(
        col(OfficerInvite.id) == invite.id).values(officer_id=officer.id))
    session.add(contact)
    await session.flush()
    return Claimed(officer, waiting)


@dataclass
class Claimed:
    officer: Officer
    waiting: list[int | None]  # submissions of the region that had no officer: send them (`send_backlog`)


@dataclass
class PendingInvite:
    invite: OfficerInvite
    expired: bool


async def pending(session: AsyncSession, admin: Officer, now: datetime) -> list[PendingInvite]:
    """The area's invitations not used yet, newest first."""
    rows = (await session.exec(select(OfficerInvite).where(
        col(OfficerInvite.used_at).is_(None), col(OfficerInvite.region_code).in_(area_codes(admin)))
        .order_by(col(OfficerInvite.id).desc()).limit(50))).all()
    return [PendingInvite(r, r.expires_at <= now) for r in rows]
