"""Siaran: a message of the Dinas to the owners of a region, chosen by where they stand. Channel-free.

The console (/dinas/siaran) and the CLI (`umkm-bot broadcast`) both call this module; neither decides.

- Who may send where: an officer to their own region, an admin to their area or any district in it
  (`check_rule`); the CLI to any region.
- Who receives it: the owners whose business lies in the region and who have a product in the chosen status
  (`STATUSES`), once each, on the chat they used last that can be reached: Telegram; WhatsApp within its
  24-hour window, or outside it as the approved template WHATSAPP_TEMPLATE_BROADCAST (the text its {{1}}), or
  else skipped. Owners who said "berhenti siaran" (or "berhenti") or erased their data never receive it; they
  are counted as skipped, with the reason.
- `preview` counts all that before anything is sent; `send` writes one outbox row per recipient through the
  one OutboxWriter, in one transaction with the `Siaran` and its `SiaranRecipient` rows (unique per siaran and
  chat), at priority 1: the deliverer sends a chat's replies before any siaran row, and every account's
  replies before siaran rows (bot/delivery/deliverer.py). Between 21:00 and 07:00 in the region's time zone
  (WIB, WITA, WIT) the rows wait for 07:00 there. A resent confirm form (same `request_key`) sends nothing twice.
- `cancel` stops the rows not yet sent; `results` reads sent / waiting / failed / cancelled from the outbox rows.
"""

from __future__ import annotations

import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import exists, func, insert, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.delivery.outbox import OutboxWriter
from bot.domain.messages import Choice
from bot.domain.timezones import awake_from
from bot.review.admin import area_codes, in_area, is_admin, region_label
from bot.review.scope import districts, in_region
from bot.settings import Settings
from bot.words.i18n import Renderer
from bot.words.markup import Marked, to_plain
from storage.models import (
    Business,
    Contact,
    Officer,
    OutboxMessage,
    OutboxStatus,
    Owner,
    Product,
    ProductStatus,
    Siaran,
    SiaranRecipient,
)

STATUSES: dict[str, tuple[str, ...]] = {
    "all": (),
    "draft": (ProductStatus.draft,),
    "revision": (ProductStatus.revision_requested,),
    "approved": (ProductStatus.approved, ProductStatus.uploaded),
    "listed": (ProductStatus.listed,),
}
ROUTES = ("telegram", "whatsapp", "whatsapp_template", "terminal")
TELEGRAM_LIMIT = 4096  # one Telegram message, header and footer included
TEMPLATE_LIMIT = 1024  # one WhatsApp template parameter
WHATSAPP_WINDOW = timedelta(hours=24)
PRIORITY = 1  # after every conversation reply (bot/delivery/deliverer.py)
CHUNK = 1000
ANALYZE_FROM = 500  # recipients from which a siaran refreshes the outbox's planner statistics (PostgreSQL)
TEMPLATE = "owner/siaran"


class Refused(Exception):
    """The siaran may not be sent as asked; `reason` is a word key, `detail` fills it in (limits)."""

    def __init__(self, reason: str, **detail: Any) -> None:
        super().__init__(reason)
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True)
class Rule:
    region_code: str
    status: str


@dataclass
class Recipient:
    contact: Contact
    route: str  # one of ROUTES, or "skipped"
    region_code: str
    reason: str | None = None  # why skipped: opted_out, erased, whatsapp_window


@dataclass
class Preview:
    rule: Rule
    routes: Counter[str] = field(default_factory=Counter)
    skipped: Counter[str] = field(default_factory=Counter)
    morning: int = 0  # recipients in quiet hours now: their message waits for 07:00 local time

    @property
    def total(self) -> int:
        return sum(self.routes.values())


@dataclass
class Results:
    sent: int = 0
    waiting: int = 0
    failed: int = 0
    cancelled: int = 0
    skipped: int = 0

    @property
    def done(self) -> bool:
        return not self.waiting


# --- the rule and the text ----------------------------------------------------------------------------

def regions_for(officer: Officer | None) -> list[str]:
    """The region codes this sender may choose: an admin's area and its districts, an officer's own region."""
    if officer is None:
        return []
    return area_codes(officer) if is_admin(officer) else [officer.region_code]


def check_rule(officer: Officer | None, region_code: str, status: str) -> Rule:
    """The rule, when this sender may use it (None: the CLI, any known region); else Refused."""
    region_code = (region_code or "").strip()
    if status not in STATUSES:
        raise Refused("status")
    if not districts(region_code):
        raise Refused("region")
    if officer is not None:
        allowed = in_area(officer.region_code, region_code) if is_admin(officer) else (
            region_code == officer.region_code)
        if not (officer.active and allowed):
            raise Refused("region")
    return Rule(region_code, status)


def _overhead(renderer: Renderer, region_code: str) -> int:
    """Characters the header and footer add to the officer's text, in the longer of the two languages."""
    return max(len(message(renderer, locale, region_code, "")) for locale in ("id", "en"))


def check_text(text: str, renderer: Renderer, preview: Preview, settings: Settings) -> str:
    """The text as it will be sent (trimmed), or Refused: empty, control characters, over a channel's limit."""
    text = "\n".join(line.rstrip() for line in (text or "").replace("\r\n", "\n").strip().split("\n"))
    if not text:
        raise Refused("empty")
    if any(unicodedata.category(c) == "Cc" and c not in "\n\t" for c in text):
        raise Refused("control")
    limit = TELEGRAM_LIMIT - _overhead(renderer, preview.rule.region_code)
    if len(text) > limit:
        raise Refused("too_long", limit=limit, length=len(text))
    whatsapp = preview.routes["whatsapp"] + preview.routes["whatsapp_template"]
    if whatsapp and settings.whatsapp_template_broadcast and len(_template_text(text)) > TEMPLATE_LIMIT:
        raise Refused("too_long_whatsapp", limit=TEMPLATE_LIMIT, length=len(_template_text(text)))
    return text


def _template_text(text: str) -> str:
    """The text as the template's parameter: plain, on one line (WhatsApp refuses line breaks in one)."""
    return " ".join(to_plain(text).split())


def message(renderer: Renderer, locale: str, region_code: str, text: str) -> str:
    """The siaran as an owner reads it: a header naming the region, the text, how to stop siaran."""
    return renderer.render(locale, TEMPLATE, text=Marked(text), region=region_label(region_code))


# --- recipients -----------------------------------------------------------------------------------------

def _standing(status: str) -> Any:
    wanted = STATUSES[status]
    if not wanted:
        return None
    return exists().where(Product.business_id == Business.id, col(Product.status).in_(wanted))


def _route(contact: Contact, now: datetime, settings: Settings) -> str | None:
    if contact.channel != "whatsapp":
        return contact.channel
    if contact.last_inbound_at is not None and now - contact.last_inbound_at < WHATSAPP_WINDOW:
        return "whatsapp"
    return "whatsapp_template" if settings.whatsapp_template_broadcast else None


def _pick(contacts: list[Contact], owner: Owner, region: str, now: datetime, settings: Settings) -> Recipient:
    """The owner's chat used last among those that can be reached now; or the reason none can."""
    contacts.sort(key=lambda c: (c.last_inbound_at is not None, c.last_inbound_at or now, c.id or 0), reverse=True)
    if owner.erased_at is not None:
        return Recipient(contacts[0], "skipped", region, "erased")
    if owner.siaran_off_at is not None:
        return Recipient(contacts[0], "skipped", region, "opted_out")
    for contact in contacts:
        if (route := _route(contact, now, settings)) is not None:
            return Recipient(contact, route, region)
    return Recipient(contacts[0], "skipped", region, "whatsapp_window")


async def recipients(session: AsyncSession, rule: Rule, settings: Settings, now: datetime) -> list[Recipient]:
    """One entry per owner of the rule (owner chats only), in owner order."""
    query = (select(Contact, Owner, Business.region_code)
             .join(Owner, col(Owner.id) == Contact.owner_id)
             .join(Business, col(Business.owner_id) == Owner.id)
             .where(in_region(rule.region_code), col(Contact.officer_id).is_(None))
             .order_by(col(Owner.id), col(Contact.id)))
    if (standing := _standing(rule.status)) is not None:
        query = query.where(standing)
    by_owner: dict[int, tuple[Owner, str, list[Contact]]] = {}
    for contact, owner, region in (await session.exec(query)).all():
        by_owner.setdefault(owner.id, (owner, region or "", []))[2].append(contact)  # type: ignore[index]
    return [_pick(contacts, owner, region, now, settings) for owner, region, contacts in by_owner.values()]


def _count(rule: Rule, found: Iterable[Recipient], now: datetime) -> Preview:
    preview = Preview(rule)
    for recipient in found:
        if recipient.reason:
            preview.skipped[recipient.reason] += 1
            continue
        preview.routes[recipient.route] += 1
        preview.morning += awake_from(now, recipient.region_code) is not None
    return preview


async def preview(session: AsyncSession, rule: Rule, settings: Settings, now: datetime) -> Preview:
    """How many would receive it now, on which channel, and how many are skipped and why. Sends nothing."""
    return _count(rule, await recipients(session, rule, settings, now), now)


# --- send, cancel, results ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Ask:
    """A siaran as asked: by whom (None: the CLI), to which region and standing, what text; `request_key`: the
    confirm form's, so the same form posted twice sends once."""

    officer: Officer | None
    region_code: str
    status: str
    text: str
    request_key: str | None = None


async def send(session: AsyncSession, renderer: Renderer, settings: Settings, ask: Ask, now: datetime) -> Siaran:
    """Checks the rule and the text, then queues the siaran in the caller's transaction; returns its record
    (the earlier one for a `request_key` already used)."""
    officer = ask.officer
    rule = check_rule(officer, ask.region_code, ask.status)
    if ask.request_key:
        earlier = (await session.exec(select(Siaran).where(Siaran.request_key == ask.request_key))).first()
        if earlier is not None:
            return earlier
    found = await recipients(session, rule, settings, now)
    counted = _count(rule, found, now)
    text = check_text(ask.text, renderer, counted, settings)
    siaran = Siaran(officer_id=officer.id if officer else None, sent_by=officer.name if officer else "CLI",
                    region_code=rule.region_code, status_filter=rule.status, text=text, recipients=counted.total,
                    skipped=dict(counted.skipped), request_key=ask.request_key or None, created_at=now)
    session.add(siaran)
    await session.flush()
    assert siaran.id is not None
    for start in range(0, len(found), CHUNK):
        await _queue(session, renderer, siaran, found[start:start + CHUNK], now)
    connection = await session.connection()
    if counted.total >= ANALYZE_FROM and connection.dialect.name == "postgresql":
        # Fresh statistics with the rows (ANALYZE sees this transaction's own): planned for the small table it
        # was, the deliverer's claim would take ~20 s a round over 10,000 new rows (benchmarks/siaran.py).
        await connection.exec_driver_sql("ANALYZE outboxmessage")
    return siaran


async def _queue(session: AsyncSession, renderer: Renderer, siaran: Siaran, chunk: Sequence[Recipient],
                 now: datetime) -> None:
    """One chunk of recipients: their outbox rows (one INSERT) and their SiaranRecipient rows."""
    outbox = OutboxWriter(session, now, priority=PRIORITY)
    reached = [r for r in chunk if not r.reason]
    plain = _template_text(siaran.text)
    for recipient in reached:
        contact = recipient.contact
        labels = renderer.labels(contact.locale)
        outbox.send(contact, message(renderer, contact.locale, siaran.region_code, siaran.text),
                    choices=[Choice("siaran:stop", labels["buttons"]["stop_siaran"])],
                    notice={"kind": "broadcast", "params": [plain], "template_only": True},
                    not_before=awake_from(now, recipient.region_code), meta={"siaran": siaran.id})
    written = await outbox.flush()
    ids = [o.outbox_id for o in written[len(written) - len(reached):]]
    outbox_of = {id(r): i for r, i in zip(reached, ids, strict=True)}
    rows = [{"siaran_id": siaran.id, "contact_id": r.contact.id, "route": r.route if not r.reason else "skipped",
             "outbox_id": outbox_of.get(id(r)), "skipped_reason": r.reason} for r in chunk]
    if rows:
        await (await session.connection()).execute(insert(SiaranRecipient.__table__), rows)  # type: ignore[attr-defined]


def visible(officer: Officer | None) -> Any:
    """SQL: the siaran this officer may see and cancel (their region's, or their area's for an admin)."""
    if officer is None:
        return col(Siaran.id).is_not(None)
    return col(Siaran.region_code).in_(regions_for(officer))


async def cancel(session: AsyncSession, officer: Officer | None, siaran_id: int, now: datetime) -> int:
    """Stops the siaran's messages not yet sent; returns how many. Refused("not_found") outside the scope."""
    siaran = (await session.exec(select(Siaran).where(Siaran.id == siaran_id, visible(officer))
                                 .with_for_update())).first()
    if siaran is None:
        raise Refused("not_found")
    ours = select(SiaranRecipient.outbox_id).where(SiaranRecipient.siaran_id == siaran_id)
    result = await (await session.connection()).execute(
        update(OutboxMessage).where(col(OutboxMessage.id).in_(ours),
                                    col(OutboxMessage.status).in_((OutboxStatus.pending, OutboxStatus.held)))
        .values(status=OutboxStatus.cancelled, leased_until=None))
    if siaran.cancelled_at is None:
        siaran.cancelled_at = now
        session.add(siaran)
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def results(session: AsyncSession, siaran: Sequence[Siaran]) -> dict[int, Results]:
    """Each siaran's sent / waiting / failed / cancelled (from its outbox rows) and skipped (recorded)."""
    found = {s.id: Results(skipped=sum((s.skipped or {}).values())) for s in siaran if s.id is not None}
    if not found:
        return {}
    query = (select(SiaranRecipient.siaran_id, OutboxMessage.status, func.count())
             .join(OutboxMessage, col(OutboxMessage.id) == SiaranRecipient.outbox_id)
             .where(col(SiaranRecipient.siaran_id).in_(list(found)))
             .group_by(col(SiaranRecipient.siaran_id), col(OutboxMessage.status)))
    for siaran_id, status, count in (await session.exec(query)).all():
        result = found[siaran_id]
        if status == OutboxStatus.sent:
            result.sent += count
        elif status == OutboxStatus.failed:
            result.failed += count
        elif status == OutboxStatus.cancelled:
            result.cancelled += count
        else:
            result.waiting += count
    return found


async def history(session: AsyncSession, officer: Officer | None, limit: int = 50,
                  only: int | None = None) -> list[tuple[Siaran, Results]]:
    """The latest siaran this officer may see (or just siaran `only`), newest first, with their results."""
    query = select(Siaran).where(visible(officer))
    if only is not None:
        query = query.where(Siaran.id == only)
    rows = list((await session.exec(query.order_by(col(Siaran.created_at).desc(), col(Siaran.id).desc())
                                    .limit(limit))).all())
    found = await results(session, rows)
    return [(s, found[s.id]) for s in rows if s.id is not None]
