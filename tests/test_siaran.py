"""Siaran (bot/review/siaran.py): who receives it and on which channel, the preview, the text's limits, one row
per owner at a lower priority than replies, quiet hours per time zone, opt-out through the conversation,
cancel, results, and a crash in the middle of writing it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import col, select

from bot.conversation.engine import Engine
from bot.delivery.deliverer import Deliverer
from bot.domain.messages import Inbound, Outbound
from bot.domain.timezones import awake_from
from bot.review import siaran
from bot.settings import Settings
from bot.words.i18n import Renderer
from storage.db import Database
from storage.models import (
    Business,
    Contact,
    Officer,
    OfficerRole,
    OutboxMessage,
    OutboxStatus,
    Owner,
    Product,
    ProductStatus,
    Siaran,
    SiaranRecipient,
)
from tests.conftest import count_rows

NOON_WIB = datetime(2026, 11, 2, 5, 0, tzinfo=UTC)  # Monday 12:00 WIB


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


class Recorder:
    def __init__(self, channel: str = "fake") -> None:
        self.channel = channel
        self.sent: list[Outbound] = []

    async def send(self, outbound: Outbound, parts: object = None) -> str:
        self.sent.append(outbound)
        return f"ok-{outbound.outbox_id}"


async def owner(db: Database, address: str, *, region: str = "18.03", status: str = ProductStatus.draft,
                channel: str = "fake", seen: datetime | None = NOON_WIB, **flags: datetime) -> int:
    async with db.transaction() as session:
        person = Owner(**flags)
        session.add(person)
        await session.flush()
        business = Business(owner_id=person.id, nama_usaha="Usaha", region_code=region,  # type: ignore[arg-type]
                            consent_at=NOON_WIB)
        session.add(business)
        await session.flush()
        session.add(Contact(channel=channel, address=address, owner_id=person.id, last_inbound_at=seen))
        session.add(Product(business_id=business.id, nama_produk="Keripik", status=status))  # type: ignore[arg-type]
        return person.id  # type: ignore[return-value]


async def officer(db: Database, region: str = "18.03", role: str = OfficerRole.officer) -> Officer:
    async with db.transaction() as session:
        person = Officer(name=f"Petugas {region}", region_code=region, role=role)
        session.add(person)
        await session.flush()
        return person


async def send(db: Database, settings: Settings, who: Officer | None, region: str = "18.03", status: str = "all",
               text: str = "Pelatihan foto produk hari Sabtu.", now: datetime = NOON_WIB, key: str | None = None,
               ) -> Siaran:
    async with db.transaction() as session:
        return await siaran.send(session, Renderer(settings.templates_dir), settings,
                                 siaran.Ask(who, region, status, text, key), now)


async def test_recipients_by_region_and_standing_with_preview(database: Database, settings: Settings) -> None:
    await owner(database, "draft", status=ProductStatus.draft)
    await owner(database, "revise", status=ProductStatus.revision_requested)
    await owner(database, "approved", status=ProductStatus.approved)
    await owner(database, "uploaded", status=ProductStatus.uploaded)
    await owner(database, "listed", status=ProductStatus.listed)
    await owner(database, "elsewhere", region="18.04")
    await owner(database, "quiet", siaran_off_at=NOON_WIB)
    await owner(database, "gone", erased_at=NOON_WIB)
    await owner(database, "wa-in", channel="whatsapp", seen=NOON_WIB - timedelta(hours=2))
    await owner(database, "wa-out", channel="whatsapp", seen=NOON_WIB - timedelta(days=3))
    await owner(database, "tg", channel="telegram")
    async with database.transaction() as session:
        counts = {s: await siaran.preview(session, siaran.Rule("18.03", s), settings, NOON_WIB)
                  for s in siaran.STATUSES}
    everyone = counts["all"]
    assert everyone.routes == {"fake": 5, "whatsapp": 1, "telegram": 1}
    assert everyone.skipped == {"opted_out": 1, "erased": 1, "whatsapp_window": 1}
    assert counts["approved"].total == 2 and counts["listed"].total == 1 and counts["revision"].total == 1
    assert counts["draft"].total == 3  # draft, wa-in, tg (the opted out, erased and wa-out are skipped)
    # With the broadcast template, WhatsApp outside its window goes as the template.
    with_template = settings.model_copy(update={"whatsapp_template_broadcast": "siaran_dinas"})
    async with database.transaction() as session:
        counted = await siaran.preview(session, siaran.Rule("18.03", "all"), with_template, NOON_WIB)
    assert counted.routes["whatsapp_template"] == 1 and "whatsapp_window" not in counted.skipped
    assert await count_rows(database, OutboxMessage) == 0  # a preview sends nothing


async def test_send_writes_one_low_priority_row_per_owner_and_replies_go_first(
        database: Database, settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(siaran, "ANALYZE_FROM", 1)  # PostgreSQL: the outbox's statistics refreshed in the send
    for n in range(3):
        await owner(database, f"o{n}")
    await owner(database, "opted", siaran_off_at=NOON_WIB)
    who = await officer(database)
    sent = await send(database, settings, who, text="Ada *pelatihan* Sabtu ini.")
    assert sent.recipients == 3 and sent.skipped == {"opted_out": 1} and sent.sent_by == who.name
    rows = await rows_of(database)
    assert [r.priority for r in rows] == [1, 1, 1]
    assert "Ada *pelatihan* Sabtu ini." in rows[0].payload["text"] and "berhenti siaran" in rows[0].payload["text"]
    assert rows[0].payload["notice"] == {"kind": "broadcast", "params": ["Ada pelatihan Sabtu ini."],
                                         "template_only": True}
    assert await count_rows(database, SiaranRecipient) == 4
    # Owner o2 types while the siaran waits: the reply is sent before any siaran row, even its own chat's.
    engine = Engine(database, settings, clock=Clock(NOON_WIB))
    await engine.handle(Inbound("fake", "o2", "e1", "text", "menu"))
    recorder = Recorder()
    deliverer = Deliverer(database, {"fake": recorder}, clock=Clock(NOON_WIB))
    assert await deliverer.deliver_due(limit=1) >= 1
    assert recorder.sent[0].address == "o2" and "siaran" not in recorder.sent[0].text.casefold()
    await deliverer.deliver_due()
    assert sorted(o.address for o in recorder.sent if "Siaran Dinas" in o.text) == ["o0", "o1", "o2"]
    async with database.transaction() as session:
        [(_, result)] = await siaran.history(session, who)
    assert (result.sent, result.waiting, result.skipped) == (3, 0, 1)


async def test_resent_form_sends_once_and_cancel_stops_the_rest(database: Database, settings: Settings) -> None:
    await owner(database, "a")
    await owner(database, "b")
    who = await officer(database)
    first = await send(database, settings, who, key="form-1")
    again = await send(database, settings, who, key="form-1")
    assert first.id == again.id and await count_rows(database, OutboxMessage) == 2
    recorder = Recorder()
    await Deliverer(database, {"fake": recorder}, clock=Clock(NOON_WIB)).deliver_due(address="a")
    async with database.transaction() as session:
        assert await siaran.cancel(session, who, first.id, NOON_WIB) == 1  # type: ignore[arg-type]
    assert await Deliverer(database, {"fake": recorder}, clock=Clock(NOON_WIB)).deliver_due() == 0
    async with database.transaction() as session:
        [(record, result)] = await siaran.history(session, who)
    assert record.cancelled_at is not None and (result.sent, result.cancelled, result.waiting) == (1, 1, 0)
    other = await officer(database, "18.04")
    async with database.transaction() as session:
        with pytest.raises(siaran.Refused):
            await siaran.cancel(session, other, first.id, NOON_WIB)  # type: ignore[arg-type]


async def test_scope_officer_own_region_admin_any_district_of_the_area(database: Database,
                                                                       settings: Settings) -> None:
    await owner(database, "a")
    plain = await officer(database, "18.03")
    admin = await officer(database, "18", OfficerRole.admin)
    for who, region in ((plain, "18.04"), (plain, "18"), (admin, "31.71"), (plain, "nope")):
        with pytest.raises(siaran.Refused) as refused:
            await send(database, settings, who, region=region)
        assert refused.value.reason == "region"
    assert (await send(database, settings, admin, region="18.03")).recipients == 1
    assert (await send(database, settings, admin, region="18")).recipients == 1
    with pytest.raises(siaran.Refused):
        await send(database, settings, plain, status="everyone")
    assert await count_rows(database, Siaran) == 2


async def test_text_is_checked_per_channel(database: Database, settings: Settings) -> None:
    await owner(database, "wa", channel="whatsapp")
    who = await officer(database)
    for text, reason in (("   ", "empty"), ("a\x00b", "control"), ("x" * 4096, "too_long")):
        with pytest.raises(siaran.Refused) as refused:
            await send(database, settings, who, text=text)
        assert refused.value.reason == reason
    assert (await send(database, settings, who, text="x" * 2000)).recipients == 1  # no template: no 1024 limit
    templated = settings.model_copy(update={"whatsapp_template_broadcast": "siaran_dinas"})
    with pytest.raises(siaran.Refused) as refused:
        await send(database, templated, who, text="x" * 1025)
    assert refused.value.reason == "too_long_whatsapp" and refused.value.detail["limit"] == 1024
    assert await count_rows(database, OutboxMessage) == 1


async def test_quiet_hours_wait_for_seven_in_the_regions_time_zone(database: Database, settings: Settings) -> None:
    late = datetime(2026, 11, 2, 13, 30, tzinfo=UTC)  # 20:30 WIB, 21:30 WITA, 22:30 WIT
    assert awake_from(late, "18.03") is None
    assert awake_from(late, "51.71") == datetime(2026, 11, 2, 23, 0, tzinfo=UTC)  # 07:00 WITA on the 3rd
    assert awake_from(late, "94") == datetime(2026, 11, 2, 22, 0, tzinfo=UTC)  # 07:00 WIT
    await owner(database, "bali", region="51.71")
    who = await officer(database, "51.71")
    await send(database, settings, who, region="51.71", now=late)
    [row] = await rows_of(database)
    assert row.next_attempt_at == datetime(2026, 11, 2, 23, 0, tzinfo=UTC)


async def test_berhenti_siaran_and_berhenti_stop_it_mulai_siaran_turns_it_back_on(database: Database,
                                                                                  settings: Settings) -> None:
    engine = Engine(database, settings, clock=Clock(NOON_WIB))
    owner_id = await owner(database, "sari")
    who = await officer(database)
    said = await engine.handle(Inbound("fake", "sari", "e1", "text", "Berhenti siaran"))
    assert "tidak akan menerima siaran" in said[0].text and "mulai siaran" in said[0].text
    assert (await send(database, settings, who)).skipped == {"opted_out": 1}
    said = await engine.handle(Inbound("fake", "sari", "e2", "text", "mulai siaran"))
    assert "Siaran dari Dinas aktif lagi" in said[0].text
    assert (await send(database, settings, who)).recipients == 1
    said = await engine.handle(Inbound("fake", "sari", "e3", "text", "berhenti"))  # reminders and siaran
    assert "pengingat draf" in said[0].text and "mulai siaran" in said[0].text
    async with database.transaction() as session:
        person = await session.get(Owner, owner_id)
        assert person is not None and person.reminders_off_at and person.siaran_off_at
    await engine.handle(Inbound("fake", "sari", "e4", "text", "mulai siaran"))
    said = await engine.handle(Inbound("fake", "sari", "e5", "choice", "siaran:stop"))  # the siaran's button
    assert "tidak akan menerima siaran" in said[0].text
    said = await engine.handle(Inbound("fake", "sari", "e6", "text", "stop broadcast"))
    assert "siaran" in said[0].text


async def test_a_crash_while_writing_leaves_nothing_and_a_rerun_sends_once(database: Database,
                                                                           settings: Settings,
                                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    for n in range(5):
        await owner(database, f"o{n}")
    who = await officer(database)
    monkeypatch.setattr(siaran, "CHUNK", 2)
    real = siaran._queue
    calls = 0

    async def dies_on_the_second_chunk(*args, **kwargs):  # type: ignore[no-untyped-def]
        nonlocal calls
        calls += 1
        if calls == 2:
            raise RuntimeError("killed")
        return await real(*args, **kwargs)

    monkeypatch.setattr(siaran, "_queue", dies_on_the_second_chunk)
    with pytest.raises(RuntimeError):
        await send(database, settings, who, key="k")
    assert await count_rows(database, OutboxMessage) == 0 and await count_rows(database, Siaran) == 0
    monkeypatch.setattr(siaran, "_queue", real)
    await send(database, settings, who, key="k")
    await send(database, settings, who, key="k")
    rows = await rows_of(database)
    assert sorted(r.address for r in rows) == [f"o{n}" for n in range(5)]


async def rows_of(db: Database) -> list[OutboxMessage]:
    async with db.transaction() as session:
        return list((await session.exec(select(OutboxMessage).where(OutboxMessage.status != OutboxStatus.sent)
                                        .order_by(col(OutboxMessage.id)))).all())


async def test_siaran_rows_go_in_short_rounds_so_a_new_reply_waits_little(database: Database,
                                                                          settings: Settings) -> None:
    for n in range(20):
        await owner(database, f"o{n}")
    await send(database, settings, await officer(database))
    engine = Engine(database, settings, clock=Clock(NOON_WIB))
    await engine.handle(Inbound("fake", "o19", "e1", "text", "menu"))  # o19 types: its reply is written last
    deliverer = Deliverer(database, {"fake": Recorder()}, clock=Clock(NOON_WIB))
    claims = await deliverer._claim([], 16)  # a full round: 16 chats; siaran rows: 16 // 8 of them
    assert [c.outbound.address for c in claims] == ["o19", "o0", "o1"]
    assert "Siaran" not in claims[0].outbound.text and "Siaran" in claims[1].outbound.text
