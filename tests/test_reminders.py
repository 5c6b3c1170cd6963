"""Reminder and digest jobs with a fixed clock: a draft untouched for a day gets a nudge, and one more after
three days, never at night (WIB), never after "berhenti"; WhatsApp only inside its 24-hour window unless a
template is set; officers get one digest a working day about submissions waiting over two working days."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlmodel import col, select

from bot.conversation.engine import Engine
from bot.domain.messages import Inbound
from bot.domain.workdays import is_working_day as working_day
from bot.jobs.scheduled import Jobs, quiet, waited_since
from bot.review.officers import add_officer
from bot.settings import Settings
from storage.db import Database
from storage.models import Business, Contact, Conversation, OutboxMessage, Owner, Product, ProductStatus

MONDAY_10_WIB = datetime(2026, 11, 2, 3, 0, tzinfo=UTC)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


async def make_owner(db: Database, address: str, touched: datetime, channel: str = "fake",
                     status: str = ProductStatus.draft, region: str = "18.03", name: str = "Tas Anyaman") -> int:
    """An owner with one product last touched at `touched` (submitted then, when not a draft)."""
    async with db.transaction() as session:
        owner = Owner(created_at=touched)
        session.add(owner)
        await session.flush()
        business = Business(owner_id=owner.id, nama_usaha="Usaha Bu Sari", region_code=region,  # type: ignore[arg-type]
                            consent_at=touched, completed_at=touched)
        session.add(business)
        await session.flush()
        session.add(Contact(channel=channel, address=address, owner_id=owner.id, last_inbound_at=touched))
        product = Product(business_id=business.id, nama_produk=name, status=status, updated_at=touched,  # type: ignore[arg-type]
                          created_at=touched, submitted_at=None if status == ProductStatus.draft else touched)
        session.add(product)
        await session.flush()
        return product.id  # type: ignore[return-value]


async def messages_to(db: Database, address: str, words: str) -> list[OutboxMessage]:
    async with db.transaction() as session:
        rows = (await session.exec(select(OutboxMessage).where(OutboxMessage.address == address)
                                   .order_by(col(OutboxMessage.id)))).all()
    return [r for r in rows if words in r.payload["text"]]


async def run_at(jobs: Jobs, clock: Clock, when: datetime) -> int:
    clock.now = when
    return await jobs.run_due()


def test_quiet_hours_and_working_days() -> None:
    assert quiet(datetime(2026, 11, 2, 14, 0, tzinfo=UTC))        # 21:00 WIB
    assert quiet(datetime(2026, 11, 2, 23, 59, tzinfo=UTC))       # 06:59 WIB
    assert not quiet(datetime(2026, 11, 3, 0, 0, tzinfo=UTC))     # 07:00 WIB
    assert not quiet(datetime(2026, 11, 2, 13, 59, tzinfo=UTC))   # 20:59 WIB
    assert not working_day(date(2026, 12, 25)) and not working_day(date(2026, 11, 7))  # Christmas, Saturday
    assert working_day(date(2026, 12, 28))
    # Cuti bersama (the government's joint holidays) are no working days either: 24 Dec, 20 Mar 2026.
    assert not working_day(date(2026, 12, 24)) and not working_day(date(2026, 3, 20))
    assert working_day(date(2026, 3, 17)) and working_day(date(2026, 3, 25))
    # Submitted Wednesday 23 Dec: Christmas Eve (joint holiday), Christmas and the weekend skipped, Monday 28
    # (1), Tuesday 29 (2), Wednesday 30 (3): waiting more than two working days from Wednesday on.
    tuesday = datetime(2026, 12, 29, 2, 0, tzinfo=UTC)
    assert waited_since(tuesday) == datetime(2026, 12, 22, 17, 0, tzinfo=UTC)  # 23 Dec 00:00 WIB
    assert waited_since(tuesday + timedelta(days=1)) == datetime(2026, 12, 27, 17, 0, tzinfo=UTC)  # 28 Dec


async def test_two_nudges_at_most_never_at_night(database: Database, settings: Settings) -> None:
    clock = Clock(MONDAY_10_WIB)
    jobs = Jobs(database, settings, clock=clock)
    product_id = await make_owner(database, "day", MONDAY_10_WIB)
    evening = MONDAY_10_WIB + timedelta(hours=11, minutes=30)  # Monday 21:30 WIB
    night_id = await make_owner(database, "night", evening)
    assert await run_at(jobs, clock, MONDAY_10_WIB + timedelta(hours=23)) == 0
    assert await run_at(jobs, clock, MONDAY_10_WIB + timedelta(days=1, minutes=1)) == 1
    first = await messages_to(database, "day", "belum selesai")
    assert len(first) == 1 and "Tas Anyaman" in first[0].payload["text"]
    assert [c["id"] for c in first[0].payload["choices"]] == [f"open:{product_id}", "remind:stop"]
    assert "pengingat terakhir" not in first[0].payload["text"]
    assert await run_at(jobs, clock, MONDAY_10_WIB + timedelta(days=1, minutes=2)) == 0
    # The evening draft is due at 21:31 WIB on Tuesday: it waits for 07:00 on Wednesday.
    assert await run_at(jobs, clock, evening + timedelta(days=1, minutes=1)) == 0
    assert await run_at(jobs, clock, datetime(2026, 11, 4, 0, 0, tzinfo=UTC)) == 1
    assert len(await messages_to(database, "night", "belum selesai")) == 1
    assert await run_at(jobs, clock, MONDAY_10_WIB + timedelta(days=2, hours=1)) == 0
    assert await run_at(jobs, clock, MONDAY_10_WIB + timedelta(days=3, minutes=1)) == 1
    second = await messages_to(database, "day", "belum selesai")
    assert len(second) == 2 and "pengingat terakhir" in second[1].payload["text"]
    for days in (4, 7, 30):
        await run_at(jobs, clock, MONDAY_10_WIB + timedelta(days=days, minutes=5))
    assert len(await messages_to(database, "day", "belum selesai")) == 2
    assert len(await messages_to(database, "night", "belum selesai")) == 2
    assert night_id != product_id


async def test_berhenti_stops_reminders_and_mulai_resumes(database: Database, settings: Settings) -> None:
    clock = Clock(MONDAY_10_WIB)
    engine = Engine(database, settings, clock=clock)
    jobs = Jobs(database, settings, clock=clock)
    await make_owner(database, "stopper", MONDAY_10_WIB)
    clock.now = MONDAY_10_WIB + timedelta(hours=2)
    said = await engine.handle(Inbound("fake", "stopper", "e1", "text", "Berhenti"))
    assert "tidak akan mengirim pengingat" in said[0].text
    assert await run_at(jobs, clock, MONDAY_10_WIB + timedelta(days=1, minutes=1)) == 0
    assert await run_at(jobs, clock, MONDAY_10_WIB + timedelta(days=3, minutes=1)) == 0
    said = await engine.handle(Inbound("fake", "stopper", "e2", "text", "mulai"))
    assert "Pengingat draf aktif lagi" in said[0].text
    assert await run_at(jobs, clock, MONDAY_10_WIB + timedelta(days=3, minutes=2)) == 1
    # "1" typed after the reminder is its first button: the draft continues where it stopped.
    said = await engine.handle(Inbound("fake", "stopper", "e2b", "text", "1"))
    assert "Masuk kategori" in said[-1].text
    # The reminder's own button stops them too.
    said = await engine.handle(Inbound("fake", "stopper", "e3", "choice", "remind:stop"))
    assert "tidak akan mengirim pengingat" in said[0].text
    async with database.transaction() as session:
        assert (await session.exec(select(Owner))).one().reminders_off_at is not None


async def test_whatsapp_nudges_only_inside_the_window_or_by_template(database: Database,
                                                                     settings: Settings) -> None:
    clock = Clock(MONDAY_10_WIB)
    await make_owner(database, "6281100000001", MONDAY_10_WIB, channel="whatsapp")   # silent since
    await make_owner(database, "6281100000002", MONDAY_10_WIB, channel="whatsapp")   # wrote again later
    async with database.transaction() as session:
        chatty = (await session.exec(select(Contact).where(Contact.address == "6281100000002"))).one()
        chatty.last_inbound_at = MONDAY_10_WIB + timedelta(hours=20)
        session.add(chatty)
    jobs = Jobs(database, settings, clock=clock)
    assert await run_at(jobs, clock, MONDAY_10_WIB + timedelta(days=1, minutes=1)) == 1
    assert await messages_to(database, "6281100000001", "belum selesai") == []
    assert len(await messages_to(database, "6281100000002", "belum selesai")) == 1
    # With an approved template, an owner outside the window is nudged by it (the sender uses the notice).
    templated = Jobs(database, settings.model_copy(update={"whatsapp_template_reminder": "pengingat_draf"}),
                     clock=clock)
    await make_owner(database, "6281100000003", MONDAY_10_WIB + timedelta(days=1))
    await make_owner(database, "6281100000004", MONDAY_10_WIB + timedelta(days=1), channel="whatsapp")
    assert await run_at(templated, clock, MONDAY_10_WIB + timedelta(days=2, minutes=5)) == 2
    row = (await messages_to(database, "6281100000004", "belum selesai"))[0]
    assert row.payload["notice"] == {"kind": "reminder", "params": ["Tas Anyaman"]}


async def test_officers_get_one_digest_a_working_day(database: Database, settings: Settings) -> None:
    await add_officer(database, "Budi", "18.03", "fake", "officer-budi")
    await add_officer(database, "Rina", "18", "fake", "officer-rina")      # the whole province
    await add_officer(database, "Andi", "31.71", "fake", "officer-andi")   # another region: nothing waits
    wednesday = datetime(2026, 12, 23, 3, 0, tzinfo=UTC)
    await make_owner(database, "owner-a", wednesday, status=ProductStatus.submitted, name="Keripik Pisang")
    await make_owner(database, "owner-b", wednesday + timedelta(days=5), status=ProductStatus.submitted,
                     name="Kopi Robusta")
    clock = Clock(wednesday)
    jobs = Jobs(database, settings, clock=clock)
    monday = datetime(2026, 12, 28, 1, 0, tzinfo=UTC)   # 08:00 WIB; one working day waited
    assert await run_at(jobs, clock, monday) == 0
    tuesday = datetime(2026, 12, 29, 1, 0, tzinfo=UTC)  # two: Christmas Eve is cuti bersama
    assert await run_at(jobs, clock, tuesday) == 0
    wednesday = datetime(2026, 12, 30, 1, 0, tzinfo=UTC)
    assert await run_at(jobs, clock, wednesday) == 2
    digest = await messages_to(database, "officer-budi", "Ringkasan harian")
    assert len(digest) == 1 and "Keripik Pisang" in digest[0].payload["text"]
    assert "Kopi Robusta" not in digest[0].payload["text"]
    assert len(await messages_to(database, "officer-rina", "Ringkasan harian")) == 1
    assert await messages_to(database, "officer-andi", "Ringkasan harian") == []
    assert await run_at(jobs, clock, wednesday + timedelta(hours=8)) == 0       # once a day
    assert await run_at(jobs, clock, datetime(2027, 1, 2, 2, 0, tzinfo=UTC)) == 0  # a Saturday
    assert await run_at(jobs, clock, datetime(2026, 12, 31, 1, 0, tzinfo=UTC)) == 2  # the next day, again
    assert len(await messages_to(database, "officer-budi", "Ringkasan harian")) == 2


async def test_an_owner_in_the_middle_of_a_turn_is_nudged_a_round_later(database: Database,
                                                                       settings: Settings) -> None:
    if database.url.startswith("sqlite"):
        pytest.skip("row locks: PostgreSQL")
    clock = Clock(MONDAY_10_WIB)
    engine = Engine(database, settings, clock=clock)
    await make_owner(database, "busy", MONDAY_10_WIB)
    await engine.handle(Inbound("fake", "busy", "b1", "text", "menu"))  # the chat has a conversation row
    jobs = Jobs(database, settings, clock=clock)
    async with database.transaction() as session:  # another process handling this chat's message now
        await session.exec(select(Conversation).with_for_update())
        assert await run_at(jobs, clock, MONDAY_10_WIB + timedelta(days=1, minutes=1)) == 0
    assert await run_at(jobs, clock, MONDAY_10_WIB + timedelta(days=1, minutes=2)) == 1
