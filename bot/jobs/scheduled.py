"""Jobs of the worker loop: nudges about forgotten drafts, and the officers' daily digest of waiting submissions.

Both write to the outbox like everything else and are safe with several processes: the rows they act on are
locked (`FOR UPDATE SKIP LOCKED` on PostgreSQL; SQLite takes its write lock) and marked (`reminder_count`,
`reminded_at`, `digest_sent_at`) in the same transaction as the messages, so a second worker finds nothing
left to do. The clock is injected, so tests run at any hour.

Owners: a draft untouched for a day gets one nudge, and one more when it is still untouched after three days;
never more, never between 21:00 and 07:00 WIB, never after the owner said "berhenti"/"stop" (until they say
"mulai"/"start"). WhatsApp allows free text only within 24 hours of the person's last message; outside it
the nudge goes as the approved template WHATSAPP_TEMPLATE_REMINDER, or not at all when none is set.
Officers: one digest a working day (Indonesian public holidays and weekends excluded) listing the
submissions of their region waiting more than two working days.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC, datetime, time, timedelta, timezone

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
        return await self.nudge_owners(now) + await self.send_digests(now)

    # --- owners --------------------------------------------------------------------------------------

    async def nudge_owners(self, now: datetime) -> int:
        other = aliased(Product)
        nudged_lately = exists().where(other.business_id == Product.business_id,
                                       col(other.reminded_at) > now - ONE_NUDGE_PER)
        due = or_(and_(col(Product.reminder_count) == 0, col(Product.updated_at) <= now - FIRST_NUDGE),
                  and_(col(Product.reminder_count) == 1, col(Product.updated_at) <= now - SECOND_NUDGE,
                       col(Product.reminded_at) <= now - (SECOND_NUDGE - FIRST_NUDGE)))
        query = (select(Product, Business)
                 .join(Business, col(Business.id) == Product.business_id)
                 .join(Owner, col(Owner.id) == Business.owner_id)
                 .where(Product.status == ProductStatus.draft, col(Product.reminder_count) < MAX_NUDGES,
                        col(Owner.reminders_off_at).is_(None), due, ~nudged_lately)
                 .order_by(col(Product.updated_at).desc())
                 .limit(BATCH)
                 .with_for_update(skip_locked=True, of=Product))
        sent = 0
        async with self.db.transaction() as session:
            outbox = OutboxWriter(session, now)
            drafts: dict[int, list[Product]] = {}
            for product, business in (await session.exec(query)).all():
                drafts.setdefault(business.owner_id, []).append(product)
            for owner_id, products in drafts.items():
                nudged = await self._nudge(session, outbox, now, owner_id, products)
                if nudged is None:
                    continue  # the owner is in the middle of a conversation: next round
                sent += nudged
                for product in products:
                    product.reminder_count += 1
                    product.reminded_at = now
                    session.add(product)
            await outbox.flush()
        return sent

    async def _nudge(self, session: AsyncSession, outbox: OutboxWriter, now: datetime, owner_id: int,
                     products: list[Product]) -> int | None:
        """One message about the newest of the owner's forgotten drafts, on the chat they used last.

        Its buttons become the chat's current choices (a typed "1" continues the draft). None when the
        chat's conversation is being handled right now (its row is locked): the owner is busy, try later.
        """
        contacts = (await session.exec(select(Contact).where(Contact.owner_id == owner_id))).all()
        reachable = [c for c in contacts if self._reachable(c, now)]
        if not reachable:
            log.info("jobs: owner %s has no chat a reminder may go to now", owner_id)
            return 0
        contact = max(reachable, key=lambda c: (c.last_inbound_at is not None, c.last_inbound_at, c.id))
        product = products[0]
        labels = self.renderer.labels(contact.locale)
        name = product.nama_produk or labels["words"]["unnamed"]
        text = self.renderer.render(contact.locale, "owner/reminder", product=product, name=name,
                                    others=len(products) - 1, last=product.reminder_count + 1 >= MAX_NUDGES)
        choices = [Choice(f"open:{product.id}", labels["buttons"]["continue_draft"]),
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
        outbox.send(contact, text, choices=choices, notice={"kind": "reminder", "params": [name]})
        return 1

    def _reachable(self, contact: Contact, now: datetime) -> bool:
        """WhatsApp outside its 24-hour window only with an approved template; other channels always."""
        if contact.channel != "whatsapp":
            return True
        window_open = contact.last_inbound_at is not None and now - contact.last_inbound_at < WHATSAPP_WINDOW
        return window_open or bool(self.settings.whatsapp_template_reminder)

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
