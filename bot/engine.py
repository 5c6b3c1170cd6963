"""One inbound event -> one transaction -> outbound messages in the outbox. Knows flows and storage, no channel."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from bot import metrics, officer, owner
from bot.i18n import DEFAULT_LOCALE, Renderer, locale_of_language
from bot.messages import Inbound, Outbound
from bot.settings import Settings
from bot.turn import Turn
from storage.db import Database
from storage.models import Contact, Conversation, InboundEvent, OutboxMessage, OutboxStatus, utcnow

log = logging.getLogger(__name__)


class Engine:
    """`await engine.handle(inbound)` applies one event and returns what to send (already in the outbox)."""

    def __init__(self, db: Database, settings: Settings, renderer: Renderer | None = None,
                 clock: Callable[[], datetime] = utcnow) -> None:
        self.db = db
        self.settings = settings
        self.renderer = renderer or Renderer(settings.templates_dir)
        self.clock = clock

    @metrics.timed_update
    async def handle(self, inbound: Inbound) -> list[Outbound]:
        """Applies the event once; a duplicate event id returns [] and changes nothing."""
        for attempt in range(3):
            try:
                return await self._handle_once(inbound)
            except IntegrityError:
                # Two first messages of one new contact raced to create it; the loser tries again.
                if attempt == 2:
                    raise
                log.info("retrying after a concurrent insert")
            except Exception:
                log.exception("event %s:%s failed", inbound.channel, inbound.event_id)
                metrics.mark_update("error")
                return await self._apologize(inbound)
        return []

    async def _apologize(self, inbound: Inbound) -> list[Outbound]:
        """After a bug: the event is recorded (so it is not redelivered forever) and the person is told."""
        async with self.db.transaction() as session:
            if not await _record_event(session, inbound, self.clock()):
                return []
            contact, conversation = await _lock_conversation(session, inbound)
            turn = Turn(self, session, contact, conversation)
            turn.send(contact, turn.text("errors/internal"))
            return await turn.commit_outbox()

    async def _handle_once(self, inbound: Inbound) -> list[Outbound]:
        async with self.db.transaction() as session:
            if not await _record_event(session, inbound, self.clock()):
                log.info("duplicate event %s:%s ignored", inbound.channel, inbound.event_id)
                metrics.mark_update("duplicate")
                return []
            contact, conversation = await _lock_conversation(session, inbound)
            released = await _release_held(session, inbound, self.clock())
            contact.last_inbound_at = self.clock()
            if inbound.display_name and not contact.display_name and (contact.owner_id or contact.officer_id):
                contact.display_name = inbound.display_name[:100]  # never kept for someone who has not consented
            turn = Turn(self, session, contact, conversation)
            if contact.officer_id is not None:
                await officer.handle(turn, inbound)
            else:
                await owner.handle(turn, inbound)
            conversation.version += 1
            conversation.updated_at = self.clock()
            return released + await turn.commit_outbox()


async def _record_event(session, inbound: Inbound, now: datetime) -> bool:  # type: ignore[no-untyped-def]
    """Stores the event id; False when it was stored before (a redelivery)."""
    try:
        async with session.begin_nested():
            session.add(InboundEvent(channel=inbound.channel, external_id=inbound.event_id, received_at=now))
            await session.flush()
    except IntegrityError:
        return False
    return True


async def _release_held(session, inbound: Inbound, now: datetime) -> list[Outbound]:  # type: ignore[no-untyped-def]
    """Messages held until this person wrote again (WhatsApp's 24-hour window) go out first, in order."""
    query = (select(OutboxMessage)
             .where(OutboxMessage.channel == inbound.channel, OutboxMessage.address == inbound.address,
                    OutboxMessage.status == OutboxStatus.held)
             .order_by(OutboxMessage.id)  # type: ignore[arg-type]
             .with_for_update())
    released = []
    for row in (await session.exec(query)).all():
        row.status = OutboxStatus.pending
        row.next_attempt_at = now
        released.append(Outbound.from_payload(row.channel, row.address, row.payload, row.id))
    return released


async def _lock_conversation(session, inbound: Inbound) -> tuple[Contact, Conversation]:  # type: ignore[no-untyped-def]
    """Gets or creates the contact and its conversation, both locked for this transaction."""
    query = select(Contact).where(Contact.channel == inbound.channel, Contact.address == inbound.address)
    contact = (await session.exec(query.with_for_update())).first()
    if contact is None:  # a new contact speaks the language of their app, when we speak it
        contact = Contact(channel=inbound.channel, address=inbound.address,
                          locale=locale_of_language(inbound.language) or DEFAULT_LOCALE)
        async with session.begin_nested():
            session.add(contact)
            await session.flush()
    conv_query = select(Conversation).where(Conversation.contact_id == contact.id).with_for_update()
    conversation = (await session.exec(conv_query)).first()
    if conversation is None:
        conversation = Conversation(contact_id=contact.id)
        async with session.begin_nested():
            session.add(conversation)
            await session.flush()
    return contact, conversation
