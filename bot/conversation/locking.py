"""The start of every turn: the event recorded once, the contact and its conversation locked, in few round trips.

On PostgreSQL one statement records the event (`INSERT ... ON CONFLICT DO NOTHING` in a CTE), locks the contact
and its conversation (`FOR UPDATE OF`), and reads what the turn would otherwise query for: the owner's business
and whether the chat has messages held or held back and whether a revision notice is waiting. SQLite takes two
(the event, then the rest); its write lock is taken at BEGIN, so nothing can change under a turn there.

A statement that waited for the lock (the same person's previous message still being handled) sees the locked
rows as that turn left them, but everything else as it was when the statement started (PostgreSQL re-checks
only locked rows). The conversation's version read both ways tells; the statement then runs again, which no
longer waits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, exists, func, true
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import aliased
from sqlmodel import select

from bot.conversation import revision
from bot.domain.messages import Inbound
from bot.words.i18n import DEFAULT_LOCALE, locale_of_language
from storage.db import insert_loaded, insert_loaded_pair
from storage.fast import driver
from storage.models import Business, Contact, Conversation, InboundEvent, OutboxMessage, OutboxStatus

EVENTS = InboundEvent.__table__  # type: ignore[attr-defined]
UNIQUE_CONTACT = ("channel", "address")


@dataclass
class Locked:
    """The contact and its conversation, locked, with what the turn would otherwise query for."""

    contact: Contact
    conversation: Conversation
    business: Business | None = None
    held: bool = False  # messages held until the person writes again (WhatsApp's 24-hour window)
    held_back: bool = False  # replies held back on purpose (an album's), released by this turn's replies
    notice_waiting: bool = False  # a revision request reached the owner after their last message


def _insert_event(insert: Any) -> Any:
    return (insert(EVENTS).values(channel=bindparam("channel"), external_id=bindparam("event_id"),
                                  received_at=bindparam("now"))
            .on_conflict_do_nothing(index_elements=["channel", "external_id"]).returning(EVENTS.c.id))


def _lock_rows(*rows: Any) -> Any:
    """SELECT ... FOR UPDATE OF contact, conversation: the rows, the owner's business, three yes/no questions,
    and the conversation's version as the statement's snapshot saw it (differs after waiting for the lock).

    `rows`: how the three rows are selected, as ORM entities (the default) or as their tables' columns."""
    def waiting(*conditions: Any) -> Any:
        return exists().where(OutboxMessage.channel == Contact.channel, OutboxMessage.address == Contact.address,
                              *conditions)

    seen = aliased(Conversation)
    seen_version = select(seen.version).where(seen.id == Conversation.id).scalar_subquery()
    held = waiting(OutboxMessage.status == OutboxStatus.held.value)
    held_back = waiting(OutboxMessage.status == OutboxStatus.pending.value, OutboxMessage.attempts == 0,
                        OutboxMessage.next_attempt_at > bindparam("now"))
    return (select(*(rows or (Contact, Conversation, Business)), held.label("held"), held_back.label("held_back"),
                   revision.notice_waiting().label("notice"), seen_version.label("seen_version"))
            .join(Conversation, Conversation.contact_id == Contact.id)  # type: ignore[arg-type]
            .outerjoin(Business, Business.owner_id == Contact.owner_id)  # type: ignore[arg-type]
            .where(Contact.channel == bindparam("channel"), Contact.address == bindparam("address"))
            .with_for_update(of=[Contact, Conversation]))  # type: ignore[list-item]


def _record_and_lock() -> Any:
    """PostgreSQL: the event's insert and the lock in one statement; one row even when the contact is new.

    Plain columns (the new event's count, then LOCKED_TABLES' columns in order, then the lock's yes/no answers
    and version), run through asyncpg by storage/fast/driver.py."""
    event = _insert_event(pg_insert).cte("event")
    recorded = select(func.count().label("new_event")).select_from(event).subquery("recorded")
    rows = _lock_rows(*(column for table in LOCKED_TABLES for column in table.columns)).subquery("locked")
    return select(recorded.c.new_event, *rows.c).select_from(recorded.outerjoin(rows, true()))


LOCKED = (Contact, Conversation, Business)
LOCKED_TABLES = tuple(model.__table__ for model in LOCKED)  # type: ignore[attr-defined]
LOCK = _lock_rows()
LOCK_COLUMNS = _lock_rows(*(column for table in LOCKED_TABLES for column in table.columns))  # read as _loaded
RECORD_AND_LOCK = _record_and_lock()
RECORD_EVENT = {"postgresql": _insert_event(pg_insert), "sqlite": _insert_event(sqlite_insert)}


async def record_event(session, inbound: Inbound, now: datetime) -> bool:  # type: ignore[no-untyped-def]
    """Stores the event id in one statement (no savepoint); False when it was stored before (a redelivery)."""
    statement = RECORD_EVENT[session.bind.dialect.name]
    params = {"channel": inbound.channel, "event_id": inbound.event_id, "now": now}
    return bool(await driver.fetch(session, statement, params))


async def begin_turn(session, inbound: Inbound, now: datetime) -> Locked | None:  # type: ignore[no-untyped-def]
    """Records the event and locks its chat's rows (created on a first message); None for a redelivery."""
    params = {"channel": inbound.channel, "address": inbound.address, "event_id": inbound.event_id, "now": now}
    if session.bind.dialect.name == "postgresql":
        (row,) = await driver.fetch(session, RECORD_AND_LOCK, params)
        if not row[0]:
            return None
        found = await _fresh(session, _loaded(session, row[1:]), params)
    else:
        if not await record_event(session, inbound, now):
            return None
        rows = await driver.fetch(session, LOCK_COLUMNS, params)
        found = await _fresh(session, _loaded(session, rows[0]) if rows else None, params)
    return found or await _first_message(session, inbound, params)


def _loaded(session, row: list[Any]) -> list[Any]:  # type: ignore[no-untyped-def]
    """RECORD_AND_LOCK's columns after the event's as the lock's row: the contact, its conversation and the
    owner's business as ORM objects attached to the session (None where the row is absent), then the answers."""
    objects: list[Any] = []
    start = 0
    for model, table in zip(LOCKED, LOCKED_TABLES, strict=True):
        values = dict(zip(table.columns.keys(), row[start:start + len(table.columns)], strict=True))
        start += len(table.columns)
        objects.append(driver.attach_loaded(session, model, values) if values["id"] is not None else None)
    return objects + row[start:]


async def _lock(session, params: dict[str, Any]) -> Locked | None:  # type: ignore[no-untyped-def]
    return await _fresh(session, (await session.exec(LOCK, params=params)).first(), params)


async def _fresh(session, row: Any, params: dict[str, Any]) -> Locked | None:  # type: ignore[no-untyped-def]
    """The row as a Locked, read again when the statement waited for the lock (see the module's docstring)."""
    if row is None or row[0] is None:
        return None
    if row[1].version != row[6]:
        row = (await session.exec(LOCK, params=params, execution_options={"populate_existing": True})).one()
    return Locked(row[0], row[1], row[2], bool(row[3]), bool(row[4]), bool(row[5]))


async def _first_message(session, inbound: Inbound, params: dict[str, Any]) -> Locked:  # type: ignore[no-untyped-def]
    """A new contact and conversation (no savepoint: a concurrent first message of the same person waits on the
    contact's unique key, then finds the row and takes its lock). PostgreSQL inserts both in one statement;
    SQLite inserts the conversation at the end with the turn's values (its UPDATEs are a statement each)."""
    now = params["now"]
    # A new contact speaks the language of their app, when we speak it.
    contact = Contact(channel=inbound.channel, address=inbound.address, last_inbound_at=now, created_at=now,
                      locale=locale_of_language(inbound.language) or DEFAULT_LOCALE)
    conversation = Conversation(updated_at=now, data={})
    if session.bind.dialect.name == "postgresql":
        created = await insert_loaded_pair(session, contact, conversation, "contact_id", unique=UNIQUE_CONTACT)
    elif created := await insert_loaded(session, contact, unique=UNIQUE_CONTACT):
        conversation.contact_id = contact.id
        session.add(conversation)
    if created:
        return Locked(contact, conversation)
    if (found := await _lock(session, params)) is not None:
        return found
    # The contact exists without a conversation (created by `umkm-bot officer`): lock it, give it one.
    contact = (await session.exec(select(Contact).where(
        Contact.channel == inbound.channel, Contact.address == inbound.address).with_for_update())).one()
    conversation = Conversation(contact_id=contact.id, updated_at=now)
    session.add(conversation)
    await session.flush()
    return Locked(contact, conversation, held=True, held_back=True, notice_waiting=True)
