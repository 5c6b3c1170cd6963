"""Jobs of the worker loop: nudges about forgotten drafts, and the officers' daily digest of waiting submissions.

Both write to the outbox like everything else and are safe with several processes: the rows they act on are
locked (`FOR UPDATE SKIP LOCKED` on PostgreSQL; SQLite takes its write lock) and marked (`reminder_count`,
`reminded_at`, `digest_sent_at`) in the same transaction as the messages, so a second worker finds nothing
left to do. The clock is injected, so tests run at any hour.

Owners: a draft untouched for a day gets one nudge, and one more when it is still untouched after three days;
never more, never between 21:00 and 07:00 WIB, never after the owner said "berhenti"/"stop" (until they say
"mulai"/"start"). WhatsApp allows free text only within 24 hours of the person's last message; outside it
the nudge goes as the approved template WHATSAPP_TEMPLATE_REMINDER, or not at all when none is set.
An approved product with no INAPROC link yet (approved: neither uploaded nor listed) gets a nudge toward its
upload kit 3 and again 10 working days after its approval, with the same hours, opt-out and WhatsApp rule;
its `reminder_count`/`reminded_at` count these anew (a nudge after `approved_at` is one of them).
Officers: one digest a working day (Indonesian public holidays and weekends excluded) listing the
submissions of their region waiting more than two working days.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta, timezone
from typing import Any

from sqlalchemy import and_, exists, func, or_
from sqlalchemy.orm import aliased
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.delivery.outbox import OutboxWriter
from bot.domain.messages import Choice
from bot.domain.workdays import is_working_day
from bot.review.scope import in_region
from bot.settings import Settings
from bot.words.i18n import Renderer
from storage.db import Database
from storage.models import Business, Contact, Conversation, Officer, Owner, Product, ProductStatus, utcnow

log = logging.getLogger(__name__)

WIB = timezone(timedelta(hours=7), "WIB")  # Asia/Jakarta: no daylight saving
DAY_STARTS, DAY_ENDS = time(7), time(21)  # no nudges outside these hours (WIB)
FIRST_NUDGE, SECOND_NUDGE = timedelta(days=1), timedelta(days=3)
MAX_NUDGES = 2
ONE_NUDGE_PER = timedelta(hours=12)  # an owner with several forgotten drafts hears about them once
WHATSAPP_WINDOW = timedelta(hours=24)
DIGEST_AFTER_WORKING_DAYS = 2
KIT_NUDGES = (3, 10)  # working days after approval: an approved product not yet on INAPROC
BATCH = 200


def quiet(now: datetime) -> bool:
    """True between 21:00 and 07:00 in Jakarta."""
    local = now.astimezone(WIB).time()
    return not DAY_STARTS <= local < DAY_ENDS


def waited_since(now: datetime, working_days: int = DIGEST_AFTER_WORKING_DAYS) -> datetime:
    """The instant before which a submission has waited more than `working_days` working days by today."""
    day, counted = now.astimezone(WIB).date(), 0
    while True:
        if is_working_day(day):
            counted += 1
            if counted > working_days:
                return datetime.combine(day, time(0), WIB).astimezone(UTC)
        day -= timedelta(days=1)


def approved_before(now: datetime, working_days: int) -> datetime:
    """The instant before which an approval is at least `working_days` working days old by today."""
    return waited_since(now, working_days - 1)


@dataclass(frozen=True)
class Nudge:
    """One kind of owner reminder: its template, its first button (`<prefix>:<product id>`), its notice."""

    template: str
    button: str
    label: str
    notice: str


def nudges_after(product: Product) -> int:
    """The product's nudges once this one is sent: a draft's go on counting; an approved product's count anew
    from its approval (the draft's earlier nudges are not the catalogue's)."""
    fresh = product.status == ProductStatus.approved and not (
        product.reminded_at is not None and product.approved_at is not None
        and product.reminded_at >= product.approved_at)
    return 1 if fresh else product.reminder_count + 1


DRAFT_NUDGE = Nudge("owner/reminder", "open", "continue_draft", "reminder")
KIT_NUDGE = Nudge("owner/kit_reminder", "kit", "open_kit", "kit_reminder")  # WhatsApp: inside its window


class Jobs:
    """Runs the due jobs; `run_due()` once (tests), `run(stop)` every `interval` seconds (the worker loop)."""

    def __init__(self, db: Database, settings: Settings, renderer: Renderer | None = None,
                 clock: Callable[[], datetime] = utcnow) -> None:
        self.db = db
        self.settings = settings
        self.renderer = renderer or Renderer(settings.templates_dir)
        self.clock = clock

    async def run(self, stop: asyncio.Event, interval: float = 60.0) -> None:
        while not stop.is_set():
            try:
                await self.run_due()
            except Exception:
                log.exception("jobs: a round failed; trying again in %s s", interval)
            try:
                await asyncio.wait_for(stop.wait(), interval)
            except TimeoutError:
                pass

    async def run_due(self) -> int:
        """Sends what is due now; returns how many messages were queued."""
        now = self.clock()
        if quiet(now):
            return 0
        return await self.nudge_owners(now) + await self.nudge_to_catalogue(now) + await self.send_digests(now)

    # --- owners --------------------------------------------------------------------------------------

    async def nudge_owners(self, now: datetime) -> int:
        """Forgotten drafts: a nudge a day after the last answer, one more after three days."""
        due = or_(and_(col(Product.reminder_count) == 0, col(Product.updated_at) <= now - FIRST_NUDGE),
                  and_(col(Product.reminder_count) == 1, col(Product.updated_at) <= now - SECOND_NUDGE,
                       col(Product.reminded_at) <= now - (SECOND_NUDGE - FIRST_NUDGE)))
        return await self._nudge_due(now, DRAFT_NUDGE, (Product.status == ProductStatus.draft,
                                                        col(Product.reminder_count) < MAX_NUDGES, due),
                                     col(Product.updated_at).desc())

    async def nudge_to_catalogue(self, now: datetime) -> int:
        """Approved products with no INAPROC link: a nudge toward the upload kit after 3 and 10 working days.

        A nudge since the approval counts (`reminded_at >= approved_at`): the first is due when none was sent
        since, the second when one was (`reminder_count` then 1, set anew by the first)."""
        since_approval = col(Product.reminded_at) >= col(Product.approved_at)
        first, second = KIT_NUDGES
        due = or_(and_(col(Product.approved_at) <= approved_before(now, first),
                       or_(col(Product.reminded_at).is_(None), ~since_approval)),
                  and_(col(Product.approved_at) <= approved_before(now, second), since_approval,
                       col(Product.reminder_count) == 1))
        return await self._nudge_due(now, KIT_NUDGE, (Product.status == ProductStatus.approved,
                                                      col(Product.approved_at).is_not(None), due),
                                     col(Product.approved_at).desc())

    async def _nudge_due(self, now: datetime, kind: Nudge, due: tuple[Any, ...], newest_first: Any) -> int:
        """Nudges each owner with products `due`, at most once per ONE_NUDGE_PER, unless they said "berhenti";
        the products are marked nudged in the same transaction."""
        other = aliased(Product)
        nudged_lately = exists().where(other.business_id == Product.business_id,
                                       col(other.reminded_at) > now - ONE_NUDGE_PER)
        query = (select(Product, Business)
                 .join(Business, col(Business.id) == Product.business_id)
                 .join(Owner, col(Owner.id) == Business.owner_id)
                 .where(*due, col(Owner.reminders_off_at).is_(None), ~nudged_lately)
                 .order_by(newest_first)
                 .limit(BATCH)
                 .with_for_update(skip_locked=True, of=Product))
        sent = 0
        async with self.db.transaction() as session:
            outbox = OutboxWriter(session, now)
            waiting: dict[int, list[Product]] = {}
            for product, business in (await session.exec(query)).all():
                waiting.setdefault(business.owner_id, []).append(product)
            for owner_id, products in waiting.items():
                nudged = await self._nudge(session, outbox, now, owner_id, products, kind)
                if nudged is None:
                    continue  # the owner is in the middle of a conversation: next round
                sent += nudged
                for product in products:
                    product.reminder_count = nudges_after(product)
                    product.reminded_at = now
                    session.add(product)
            await outbox.flush()
        return sent

    async def _nudge(self, session: AsyncSession, outbox: OutboxWriter, now: datetime, owner_id: int,
                     products: list[Product], kind: Nudge) -> int | None:
        """One message about the first of the owner's waiting products, on the chat they used last.

        Its buttons become the chat's current choices (a typed "1" continues the draft). None when the
        chat's conversation is being handled right now (its row is locked): the owner is busy, try later.
        """
        contacts = (await session.exec(select(Contact).where(Contact.owner_id == owner_id))).all()
        reachable = [c for c in contacts if self._reachable(c, now, kind)]
        if not reachable:
            log.info("jobs: owner %s has no chat a reminder may go to now", owner_id)
            return 0
        contact = max(reachable, key=lambda c: (c.last_inbound_at is not None, c.last_inbound_at, c.id))
        product = products[0]
        labels = self.renderer.labels(contact.locale)
        name = product.nama_produk or labels["words"]["unnamed"]
        text = self.renderer.render(contact.locale, kind.template, product=product, name=name,
                                    others=len(products) - 1, last=nudges_after(product) >= MAX_NUDGES)
        choices = [Choice(f"{kind.button}:{product.id}", labels["buttons"][kind.label]),
                   Choice("remind:stop", labels["buttons"]["stop_reminders"])]
        conversation_query = (select(Conversation).where(Conversation.contact_id == contact.id)
                              .with_for_update(skip_locked=True))
        conversation = (await session.exec(conversation_query)).first()
        if conversation is None and (await session.exec(
                select(Conversation.id).where(Conversation.contact_id == contact.id))).first() is not None:
            return None
        if conversation is not None:
            conversation.data = {**(conversation.data or {}), "choices": [c.id for c in choices]}
            session.add(conversation)
        outbox.send(contact, text, choices=choices, notice={"kind": kind.notice, "params": [name]})
        return 1

    def _reachable(self, contact: Contact, now: datetime, kind: Nudge) -> bool:
        """WhatsApp outside its 24-hour window only with an approved template for the kind of nudge
        (`WHATSAPP_TEMPLATE_<NOTICE>`, as the WhatsApp sender picks it); other channels always."""
        if contact.channel != "whatsapp":
            return True
        window_open = contact.last_inbound_at is not None and now - contact.last_inbound_at < WHATSAPP_WINDOW
        return window_open or bool(getattr(self.settings, f"whatsapp_template_{kind.notice}", ""))

    # --- officers ------------------------------------------------------------------------------------

    async def send_digests(self, now: datetime) -> int:
        if not is_working_day(now.astimezone(WIB).date()):
            return 0
        today = datetime.combine(now.astimezone(WIB).date(), time(0), WIB).astimezone(UTC)
        cutoff = waited_since(now)
        officers_query = (select(Officer)
                          .where(col(Officer.active).is_(True),
                                 or_(col(Officer.digest_sent_at).is_(None), col(Officer.digest_sent_at) < today))
                          .order_by(col(Officer.id))
                          .with_for_update(skip_locked=True))
        waiting = (Product.status == ProductStatus.submitted, col(Product.submitted_at) < cutoff)
        sent = 0
        async with self.db.transaction() as session:
            outbox = OutboxWriter(session, now)
            officers = (await session.exec(officers_query)).all()
            for officer in officers:
                officer.digest_sent_at = now
                session.add(officer)
                # Counted and the oldest ten read in SQL: the waiting rows of all regions are never loaded.
                total = (await session.exec(select(func.count()).select_from(Product)
                                            .join(Business, col(Business.id) == Product.business_id)
                                            .where(*waiting, in_region(officer.region_code)))).one()
                if not total:
                    continue
                theirs = (await session.exec(select(Product, Business)
                                             .join(Business, col(Business.id) == Product.business_id)
                                             .where(*waiting, in_region(officer.region_code))
                                             .order_by(col(Product.submitted_at), col(Product.id)).limit(10))).all()
                contacts = (await session.exec(select(Contact).where(Contact.officer_id == officer.id))).all()
                for contact in contacts:
                    labels = self.renderer.labels(contact.locale)
                    text = self.renderer.render(contact.locale, "officer/digest", waiting=theirs, total=total,
                                                days=DIGEST_AFTER_WORKING_DAYS)
                    outbox.send(contact, text, choices=[Choice("off:pending", labels["buttons"]["pending"])],
                                notice={"kind": "digest", "params": [str(total)]})
                    sent += 1
            await outbox.flush()
        return sent
