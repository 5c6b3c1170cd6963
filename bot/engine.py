"""One inbound event -> one transaction -> outbound messages in the outbox. Knows flows and storage, no channel."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, exists
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import make_transient_to_detached
from sqlmodel import select

from bot import metrics, officer, owner, revision
from bot.i18n import DEFAULT_LOCALE, Renderer, locale_of_language
from bot.messages import Inbound, Outbound, Replies
from bot.settings import Settings
from bot.turn import Turn
from storage.db import Database, DatabaseUnavailable, is_transient
from storage.models import Business, Contact, Conversation, InboundEvent, OutboxMessage, OutboxStatus, utcnow

log = logging.getLogger(__name__)

TRIES = 3  # a transient database error is retried twice (after 50 and 200 ms) before giving the event back
EVENTS = InboundEvent.__table__  # type: ignore[attr-defined]
SEEN_AGAIN_AFTER = timedelta(minutes=1)  # last_inbound_at is written at most this often (WhatsApp's 24-h window)


class Engine:
    """`await engine.handle(inbound)` applies one event and returns what to send (already in the outbox)."""

    def __init__(self, db: Database, settings: Settings, renderer: Renderer | None = None,
                 clock: Callable[[], datetime] = utcnow) -> None:
        self.db = db
        self.settings = settings
        self.renderer = renderer or Renderer(settings.templates_dir)
        self.clock = clock

    @metrics.timed_update
    async def handle(self, inbound: Inbound) -> Replies:
        """Applies the event once; a duplicate event id returns [] (`.duplicate`) and changes nothing.

        A transient database error (a dropped connection, a serialization failure) is retried here; if the
        database stays unreachable, `DatabaseUnavailable` is raised and nothing is recorded, so the channel
        (a webhook answered 503) delivers the event again. Any other error is a bug: the person is told.
        """
        for attempt in range(TRIES):
            try:
                return await self._handle_once(inbound)
            except IntegrityError:
                # Two first messages of one new contact raced to create it; the loser tries again.
                if attempt == TRIES - 1:
                    raise
                log.info("retrying after a concurrent insert")
            except Exception as exc:
                if not is_transient(exc):
                    log.exception("event %s:%s failed", inbound.channel, inbound.event_id)
                    metrics.mark_update("error")
                    return await self._apologize(inbound)
                if attempt == TRIES - 1:
                    log.error("event %s:%s not applied, the database is unavailable: %s", inbound.channel,
                              inbound.event_id, exc)
                    metrics.mark_update("unavailable")
                    raise DatabaseUnavailable(str(exc)) from exc
                log.warning("event %s:%s: transient database error, retrying: %s", inbound.channel,
                            inbound.event_id, exc)
                await asyncio.sleep(0.05 * 4 ** attempt)
        return Replies()

    async def _apologize(self, inbound: Inbound) -> Replies:
        """After a bug: the event is recorded (so it is not redelivered forever) and the person is told."""
        try:
            return await self._apology(inbound)
        except Exception as exc:
            if is_transient(exc):
                raise DatabaseUnavailable(str(exc)) from exc
            raise

    async def _apology(self, inbound: Inbound) -> Replies:
        async with self.db.transaction() as session:
            if not await _record_event(session, inbound, self.clock()):
                return Replies.of_duplicate()
            locked = await _lock_conversation(session, inbound, self.clock())
            turn = Turn(self, session, locked.contact, locked.conversation)
            turn.send(locked.contact, turn.text("errors/internal"))
            return Replies(await turn.commit_outbox())

    async def requeue(self, inbound: Inbound, outbox_id: int, page: int) -> Replies:
        """Queues another page of an earlier message to this chat (a long list's "more"), once per event."""
        async with self.db.transaction() as session:
            now = self.clock()
            if not await _record_event(session, inbound, now):
                return Replies.of_duplicate()
            row = await session.get(OutboxMessage, outbox_id)
            if row is None or (row.channel, row.address) != (inbound.channel, inbound.address):
                log.info("%s: stale 'more' for message %s ignored", inbound.channel, outbox_id)
                return Replies()
            again = OutboxMessage(channel=row.channel, address=row.address, payload={**row.payload, "page": page},
                                  next_attempt_at=now, created_at=now)
            session.add(again)
            await session.flush()
            return Replies([Outbound.from_payload(again.channel, again.address, again.payload, again.id)])

    async def _handle_once(self, inbound: Inbound) -> Replies:
        async with self.db.transaction() as session:
            if not await _record_event(session, inbound, self.clock()):
                log.info("duplicate event %s:%s ignored", inbound.channel, inbound.event_id)
                metrics.mark_update("duplicate")
                return Replies.of_duplicate()
            now = self.clock()
            locked = await _lock_conversation(session, inbound, now)
            contact, conversation = locked.contact, locked.conversation
            released = await _release_held(session, inbound, now) if locked.held else []
            if contact.last_inbound_at is None or now - contact.last_inbound_at >= SEEN_AGAIN_AFTER:
                contact.last_inbound_at = now
            if inbound.display_name and not contact.display_name and (contact.owner_id or contact.officer_id):
                contact.display_name = inbound.display_name[:100]  # never kept for someone who has not consented
            turn = Turn(self, session, contact, conversation, business=locked.business,
                        notice_waiting=locked.notice_waiting, held_back=locked.held_back)
            if contact.officer_id is not None:
                await officer.handle(turn, inbound)
            else:
                await owner.handle(turn, inbound)
            conversation.version += 1
            conversation.updated_at = self.clock()
            return Replies(released + await turn.commit_outbox())


async def _record_event(session, inbound: Inbound, now: datetime) -> bool:  # type: ignore[no-untyped-def]
    """Stores the event id in one statement (no savepoint); False when it was stored before (a redelivery)."""
    insert = pg_insert if session.bind.dialect.name == "postgresql" else sqlite_insert
    statement = (insert(EVENTS).values(channel=inbound.channel, external_id=inbound.event_id, received_at=now)
                 .on_conflict_do_nothing(index_elements=["channel", "external_id"]).returning(EVENTS.c.id))
    return (await (await session.connection()).execute(statement)).first() is not None


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


@dataclass
class Locked:
    """The contact and its conversation, locked, with what the turn would otherwise query for."""

    contact: Contact
    conversation: Conversation
    business: Business | None = None
    held: bool = False  # messages held until the person writes again (WhatsApp's 24-hour window)
    held_back: bool = False  # replies held back on purpose (an album's), released by this turn's replies
    notice_waiting: bool = False  # a revision request reached the owner after their last message


def _lock_statement() -> Any:
    """One SELECT ... FOR UPDATE OF contact, conversation, built once: the rows, the owner's business and three
    yes/no questions, so that a turn with nothing held and no notice runs no query for them."""
    def waiting(*conditions: Any) -> Any:
        return exists().where(OutboxMessage.channel == Contact.channel, OutboxMessage.address == Contact.address,
                              *conditions)

    held = waiting(OutboxMessage.status == OutboxStatus.held.value)
    held_back = waiting(OutboxMessage.status == OutboxStatus.pending.value, OutboxMessage.attempts == 0,
                        OutboxMessage.next_attempt_at > bindparam("now"))
    return (select(Contact, Conversation, Business, held.label("held"), held_back.label("held_back"),
                   revision.notice_waiting().label("notice"))
            .join(Conversation, Conversation.contact_id == Contact.id)  # type: ignore[arg-type]
            .outerjoin(Business, Business.owner_id == Contact.owner_id)  # type: ignore[arg-type]
            .where(Contact.channel == bindparam("channel"), Contact.address == bindparam("address"))
            .with_for_update(of=[Contact, Conversation]))  # type: ignore[list-item]


LOCK = _lock_statement()
CONTACTS = Contact.__table__  # type: ignore[attr-defined]


async def _lock_conversation(session, inbound: Inbound, now: datetime) -> Locked:  # type: ignore[no-untyped-def]
    """The contact and its conversation, both locked, in one statement; a first message creates them with one
    INSERT each (no savepoint: a concurrent first message of the same person waits on the contact's unique
    key, then finds it and takes the lock)."""
    params = {"channel": inbound.channel, "address": inbound.address, "now": now}
    for _ in range(2):
        row = (await session.exec(LOCK, params=params)).first()
        if row is not None:
            return Locked(row[0], row[1], row[2], bool(row[3]), bool(row[4]), bool(row[5]))
        contact = await _insert_contact(session, inbound, now)
        if contact is not None:
            conversation = Conversation(contact_id=contact.id)
            session.add(conversation)
            return Locked(contact, conversation)
    # The contact exists without a conversation (created by `umkm-bot officer`): lock it, give it one.
    contact = (await session.exec(select(Contact).where(
        Contact.channel == inbound.channel, Contact.address == inbound.address).with_for_update())).one()
    conversation = Conversation(contact_id=contact.id)
    session.add(conversation)
    await session.flush()
    return Locked(contact, conversation, held=True, held_back=True)


async def _insert_contact(session, inbound: Inbound, now: datetime) -> Contact | None:  # type: ignore[no-untyped-def]
    """A new contact, inserted and attached to the session as loaded; None when it exists already."""
    # A new contact speaks the language of their app, when we speak it.
    contact = Contact(channel=inbound.channel, address=inbound.address,
                      locale=locale_of_language(inbound.language) or DEFAULT_LOCALE,
                      last_inbound_at=now, created_at=now)
    insert = pg_insert if session.bind.dialect.name == "postgresql" else sqlite_insert
    values = {column.name: getattr(contact, column.name) for column in CONTACTS.columns if column.name != "id"}
    statement = (insert(CONTACTS).values(**values)
                 .on_conflict_do_nothing(index_elements=["channel", "address"]).returning(CONTACTS.c.id))
    contact_id = (await (await session.connection()).execute(statement)).scalar()
    if contact_id is None:
        return None
    contact.id = contact_id
    make_transient_to_detached(contact)
    session.add(contact)
    return contact
