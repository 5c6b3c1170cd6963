"""The one outbox writer (bot/delivery/outbox.py): who writes outbox rows, who makes a Turn, the one release path."""

from __future__ import annotations

import ast
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlmodel import col, select

from bot.delivery.outbox import OutboxWriter
from storage.db import Database
from storage.models import Contact, OutboxMessage, OutboxStatus

ROOT = Path(__file__).resolve().parent.parent
NOW = datetime(2026, 11, 2, 3, 4, 5, tzinfo=UTC)


def calls_of(name: str) -> dict[str, int]:
    """Source files of bot/ and storage/ calling `name(...)` (or `x.name(...)`), with how many times."""
    found: dict[str, int] = {}
    for path in sorted([*ROOT.glob("bot/**/*.py"), *ROOT.glob("storage/**/*.py")]):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Call):
                called = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", None)
                if called == name:
                    key = str(path.relative_to(ROOT))
                    found[key] = found.get(key, 0) + 1
    return found


def test_only_the_engine_makes_a_turn() -> None:
    """Code outside a conversation (admin CLI, review, jobs) writes through OutboxWriter, never a fake Turn."""
    assert set(calls_of("Turn")) == {"bot/conversation/engine.py"}


def test_only_the_writer_inserts_outbox_rows() -> None:
    """`OutboxMessage(...)` is built elsewhere only to show rows read (delivery/outbox_admin.py), never to add one."""
    assert set(calls_of("OutboxMessage")) <= {"bot/delivery/outbox_admin.py"}
    assert set(calls_of("write_with_rows")) == {"bot/delivery/outbox.py"}


async def a_contact(database: Database) -> Contact:
    async with database.transaction() as session:
        contact = Contact(channel="fake", address="628111")
        session.add(contact)
        await session.flush()
        return contact


async def add_rows(database: Database, *rows: tuple[str, OutboxStatus, datetime]) -> None:
    async with database.transaction() as session:
        for text, status, due in rows:
            session.add(OutboxMessage(channel="fake", address="628111", payload={"text": text}, status=status,
                                      next_attempt_at=due, created_at=NOW - timedelta(hours=1)))


async def the_outbox(database: Database) -> list[tuple[str, str, datetime]]:
    async with database.transaction() as session:
        rows = (await session.exec(select(OutboxMessage).order_by(col(OutboxMessage.id)))).all()
        return [(r.payload["text"], r.status, r.next_attempt_at.replace(tzinfo=UTC)) for r in rows]


async def test_a_person_writing_again_releases_held_then_held_back_then_the_reply(database: Database) -> None:
    contact = await a_contact(database)
    later = NOW + timedelta(seconds=3)
    await add_rows(database, ("held 1", OutboxStatus.held, NOW - timedelta(hours=30)),
                   ("album reply", OutboxStatus.pending, later),
                   ("held 2", OutboxStatus.held, NOW - timedelta(hours=2)))
    async with database.transaction() as session:
        outbox = OutboxWriter(session, NOW)
        await outbox.release(contact.channel, contact.address, held=True)
        outbox.send(contact, "the reply")
        sent = await outbox.flush()
    assert [o.text for o in sent] == ["held 1", "held 2", "album reply", "the reply"]
    assert all(o.outbox_id is not None for o in sent)
    assert await the_outbox(database) == [("held 1", "pending", NOW), ("album reply", "pending", NOW),
                                          ("held 2", "pending", NOW), ("the reply", "pending", NOW)]


async def test_held_messages_wait_for_the_person_and_held_back_for_a_reply(database: Database) -> None:
    """Without `release(held=True)` a held message stays held; a reply not due now releases nothing."""
    contact = await a_contact(database)
    later = NOW + timedelta(seconds=3)
    await add_rows(database, ("held", OutboxStatus.held, NOW), ("album reply", OutboxStatus.pending, later))
    async with database.transaction() as session:
        outbox = OutboxWriter(session, NOW)
        outbox.send(contact, "later too", not_before=later)
        sent = await outbox.flush()
    assert [o.text for o in sent] == ["later too"]
    assert [status for _, status, _ in await the_outbox(database)] == ["held", "pending", "pending"]


async def test_send_again_copies_an_earlier_message_with_changes(database: Database) -> None:
    contact = await a_contact(database)
    async with database.transaction() as session:
        payload = {"text": "pick", "choices": [{"id": "a", "label": "A"}], "extra": 1}
        session.add(OutboxMessage(channel="fake", address="628111", created_at=NOW, next_attempt_at=NOW,
                                  status=OutboxStatus.sent, payload=payload))
    async with database.transaction() as session:
        row = (await session.exec(select(OutboxMessage))).one()
        outbox = OutboxWriter(session, NOW)
        outbox.send_again(row, page=2)
        (again,) = await outbox.flush()
    assert (again.channel, again.address, again.text, again.page) == (contact.channel, contact.address, "pick", 2)
    async with database.transaction() as session:
        copy = await session.get(OutboxMessage, again.outbox_id)
        assert copy is not None and copy.status == OutboxStatus.pending
        assert copy.payload == {"text": "pick", "choices": [{"id": "a", "label": "A"}], "extra": 1, "page": 2}
