"""The end of a turn (storage/fast/writes.py): the changed rows and the new outbox rows written in few statements,
exactly what changed, in order, and nothing written twice by the commit's own flush."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlmodel import select

from bot.delivery.outbox import OUTBOX
from storage.db import Database
from storage.fast.writes import write_with_rows
from storage.models import Business, Contact, Conversation, OutboxMessage, Owner, Product, utcnow


async def an_owner(database: Database) -> tuple[int, int, int]:
    async with database.transaction() as session:
        owner = Owner()
        session.add(owner)
        await session.flush()
        business = Business(owner_id=owner.id, nama_usaha="Lama", nib="1234567890123")
        contact = Contact(channel="fake", address="628111", owner_id=owner.id)
        session.add_all([business, contact])
        await session.flush()
        conversation = Conversation(contact_id=contact.id, flow="profile", step="nama_usaha")
        session.add(conversation)
        await session.flush()
        return business.id, conversation.id, contact.id  # type: ignore[return-value]


def outbox_row(text: str) -> dict[str, Any]:
    now = utcnow()
    return {"channel": "fake", "address": "628111", "payload": {"text": text}, "next_attempt_at": now,
            "status": "pending", "attempts": 0, "parts_sent": 0, "created_at": now, "priority": 0}


def counting(database: Database) -> list[str]:
    statements: list[str] = []
    event.listen(database.engine.sync_engine, "before_cursor_execute",
                 lambda _c, _cur, sql, *_: statements.append(sql))
    return statements


def writes_of(statements: list[str]) -> list[str]:
    return [s for s in statements if s.lstrip().upper().startswith(("UPDATE", "INSERT", "WITH"))]


async def test_changed_columns_and_outbox_rows_are_written_once_in_order(database: Database) -> None:
    business_id, conversation_id, _ = await an_owner(database)
    statements = counting(database)
    async with database.transaction() as session:
        business = await session.get(Business, business_id)
        conversation = await session.get(Conversation, conversation_id)
        assert business is not None and conversation is not None
        business.nama_usaha = "Keripik Bu Sri"
        business.skipped = ["npwp"]
        conversation.step = "nib"
        conversation.data = {"choices": ["a", "b"]}
        conversation.version += 1
        statements.clear()
        ids = await write_with_rows(session, OUTBOX, [outbox_row("satu"), outbox_row("dua"), outbox_row("tiga")])
        written = writes_of(statements)
    # the commit's own flush found nothing left to write
    assert writes_of(statements) == written
    # PostgreSQL: one statement (the UPDATEs ride in the INSERT's CTEs); SQLite: one per changed row and per
    # outbox row (SQLAlchemy inserts row by row there when the ids must come back in order)
    assert len(written) == (2 + 3 if database.is_sqlite else 1)
    assert ids == sorted(ids) and len(set(ids)) == 3
    async with database.transaction() as session:
        business = await session.get(Business, business_id)
        conversation = await session.get(Conversation, conversation_id)
        assert business is not None and conversation is not None
        assert (business.nama_usaha, business.skipped, business.nib) == ("Keripik Bu Sri", ["npwp"], "1234567890123")
        assert (conversation.step, conversation.data, conversation.version, conversation.flow) == (
            "nib", {"choices": ["a", "b"]}, 1, "profile")
        rows = (await session.exec(select(OutboxMessage).where(OutboxMessage.id.in_(ids)))).all()  # type: ignore[union-attr]
        assert [row.payload["text"] for row in sorted(rows, key=lambda r: r.id)] == ["satu", "dua", "tiga"]  # type: ignore[arg-type,return-value]
        assert {row.id: row.payload["text"] for row in rows} == dict(zip(ids, ["satu", "dua", "tiga"], strict=True))


async def test_only_the_changed_columns_are_written(database: Database) -> None:
    """A column another transaction changed meanwhile is not overwritten with this session's stale value."""
    business_id, _, _ = await an_owner(database)
    statements = counting(database)
    async with database.transaction() as session:
        business = await session.get(Business, business_id)
        assert business is not None
        business.nama_usaha = "Baru"
        if not database.is_sqlite:  # SQLite: one writer at a time, nobody else can write meanwhile
            async with database.engine.begin() as other:
                await other.execute(Business.__table__.update().where(  # type: ignore[attr-defined]
                    Business.__table__.c.id == business_id).values(nib="9999999999999"))  # type: ignore[attr-defined]
        statements.clear()
        await write_with_rows(session, OUTBOX, [])
    [written] = writes_of(statements)  # on both databases: the one column, nothing else of the row
    assert written.split(" SET ")[1].split(" WHERE ")[0].split("=")[0].strip() == "nama_usaha"
    assert "nib" not in written and "," not in written.split(" SET ")[1].split(" WHERE ")[0]
    async with database.transaction() as session:
        business = await session.get(Business, business_id)
        assert business is not None and business.nama_usaha == "Baru"
        assert business.nib == ("1234567890123" if database.is_sqlite else "9999999999999")


async def test_a_new_row_goes_through_the_unit_of_work(database: Database) -> None:
    business_id, conversation_id, _ = await an_owner(database)
    async with database.transaction() as session:
        conversation = await session.get(Conversation, conversation_id)
        assert conversation is not None
        product = Product(business_id=business_id, nama_produk="Keripik")
        session.add(product)
        conversation.flow = "product"
        ids = await write_with_rows(session, OUTBOX, [outbox_row("produk")])
        assert product.id is not None and len(ids) == 1
    async with database.transaction() as session:
        conversation = await session.get(Conversation, conversation_id)
        assert conversation is not None and conversation.flow == "product"
        assert (await session.get(Product, product.id)) is not None


async def test_a_value_assigned_again_writes_nothing(database: Database) -> None:
    _, conversation_id, _ = await an_owner(database)
    statements = counting(database)
    async with database.transaction() as session:
        conversation = await session.get(Conversation, conversation_id)
        assert conversation is not None
        conversation.step = "nama_usaha"  # its own value
        statements.clear()
        assert await write_with_rows(session, OUTBOX, []) == []
    assert writes_of(statements) == []
