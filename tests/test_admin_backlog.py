"""`umkm-bot officer add` sends the submissions that waited (bot/review/officers.py) without a conversation `Turn`,
through `OutboxWriter` and bot/review/submission.py: the very message the officer chat writes
(bot/conversation/officer.py)."""

from __future__ import annotations

from dataclasses import replace

from sqlmodel import select

from bot.conversation import officer
from bot.conversation.turn import Turn
from bot.delivery.outbox import OutboxWriter
from bot.review.officers import add_officer
from bot.review.submission import send_submission
from storage.models import Business, Contact, Conversation, OutboxMessage, Product
from tests.chat import Network
from tests.support.conversations import fill_product, onboard


async def test_the_backlog_is_the_message_the_officer_chat_writes(network: Network) -> None:
    owner = network.chat("owner-1")
    await onboard(owner)
    await fill_product(owner)
    await owner.tap("Kirim ke Dinas")
    row = await add_officer(network.engine.db, "Budi", "Lampung", "fake", "officer-9")
    assert row.backlog == 1
    engine = network.engine
    async with engine.db.transaction() as session:
        (backlog,) = (await session.exec(select(OutboxMessage).where(OutboxMessage.address == "officer-9"))).all()
        backlog_payload = dict(backlog.payload)
        contact = (await session.exec(select(Contact).where(Contact.address == "officer-9"))).one()
        product = (await session.exec(select(Product))).one()
        business = (await session.exec(select(Business))).one()
        turn = Turn(engine.context, session, contact, Conversation(contact_id=contact.id))
        await officer.send_submission(turn, contact, product, business)
        outbox = OutboxWriter(session, turn.now)
        await send_submission(session, outbox, engine.renderer, contact, product, business)
        in_chat = (await turn.commit_outbox())[-1]  # after the backlog row, released by the fixed clock's past
        outside = (await outbox.flush())[-1]
        await session.rollback()
    assert replace(outside, outbox_id=None) == replace(in_chat, outbox_id=None)
    assert backlog_payload == outside.to_payload()
