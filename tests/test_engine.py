"""The engine's promises: idempotent events, one event at a time per chat, nothing lost to odd input."""

from __future__ import annotations

import asyncio
import random

from sqlmodel import select

from bot.domain.messages import Inbound, PhotoIn
from bot.flows.business import BUSINESS
from bot.flows.product import PRODUCT
from bot.review.officers import add_officer
from storage.models import Business, Contact, Conversation, OutboxMessage, Product, ProductPhoto, Review
from tests.chat import Network
from tests.conftest import count_rows, make_image
from tests.support.conversations import BUSINESS_ANSWERS, CRAFT_PRODUCT, fill_product, onboard, play


async def test_same_event_twice_gives_one_answer(network: Network) -> None:
    event = Inbound("fake", "owner-1", "update-77", "command", "/start")
    first = await network.engine.handle(event)
    again = await network.engine.handle(event)
    assert first and again == []
    assert await count_rows(network.engine.db, OutboxMessage) == len(first)


async def test_same_event_concurrently_gives_one_answer(network: Network) -> None:
    event = Inbound("fake", "owner-1", "update-78", "command", "/start")
    results = await asyncio.gather(*(network.engine.handle(event) for _ in range(4)))
    assert sorted(len(r) for r in results)[:3] == [0, 0, 0] and max(len(r) for r in results) > 0
    assert await count_rows(network.engine.db, OutboxMessage) == max(len(r) for r in results)


async def test_first_messages_of_a_new_contact_at_once(network: Network) -> None:
    events = [Inbound("fake", "owner-new", f"u-{i}", "text", "halo") for i in range(3)]
    results = await asyncio.gather(*(network.engine.handle(e) for e in events))
    assert all(results)
    assert await count_rows(network.engine.db, Contact) == 1 and await count_rows(network.engine.db, Conversation) == 1
    async with network.engine.db.transaction() as session:
        conversation = (await session.exec(select(Conversation))).one()
    assert conversation.version == 3


async def test_two_photos_at_once_are_applied_one_after_the_other(network: Network) -> None:
    owner = network.chat("owner-1")
    await onboard(owner)
    await play(owner, CRAFT_PRODUCT)
    assert "Kirim 1 sampai 5 foto" in owner.last
    await owner.photos(*(make_image(color=c) for c in ("red", "green", "blue", "yellow")))
    async with network.engine.db.transaction() as session:
        before = (await session.exec(select(Conversation))).one().version
    events = [Inbound("fake", "owner-1", f"album-{c}", "photos", photos=(PhotoIn(make_image(color=c)),))
              for c in ("black", "white")]
    replies = await asyncio.gather(*(network.engine.handle(e) for e in events))
    assert await count_rows(network.engine.db, ProductPhoto) == 5
    texts = [r[-1].text for r in replies]
    assert sum("Maksimal 5 foto" in t for t in texts) == 1, texts
    async with network.engine.db.transaction() as session:
        assert (await session.exec(select(Conversation))).one().version == before + 2


def random_input(rng: random.Random, buttons: list[str]) -> tuple[str, object]:
    """One thing a person (or a broken client) might send: words, numbers, junk, buttons, files."""
    roll = rng.random()
    if roll < 0.25 and buttons:
        return "choice", rng.choice(buttons)
    if roll < 0.35:
        return "choice", rng.choice(["opt:nope", "rv:a:1", "open:999", "field:harga", "region:99.99", "x" * 80])
    if roll < 0.45:
        return "photos", rng.choice([b"not an image", make_image(100, 100), make_image(500, 400), b""])
    if roll < 0.55:
        return "text", rng.choice(["menu", "batal", "kembali", "lewati", "bantuan", "bahasa", "/start", "halo",
                                   "selesai", "produk saya", "/unknown"])
    if roll < 0.75:
        return "text", rng.choice(BUSINESS_ANSWERS + ["25rb", "Kerajinan", "1", "2", "3", "ya", "tidak",
                                                      "Keripik pisang coklat lumer 200 gram", "250 gr"])
    alphabet = "abc 0123456789.,-/\n\t😀ñ<b>&'\"\\%"
    length = rng.choice([0, 1, 5, 40, 5000, 60000])
    return "text", "".join(rng.choice(alphabet) for _ in range(length))


def kept_answers(rows: list) -> set[tuple]:  # type: ignore[type-arg]
    """(record, field) pairs of answered required fields, which no later input may empty."""
    kept = set()
    for row in rows:
        form = BUSINESS if isinstance(row, Business) else PRODUCT
        for step in form.steps:
            if step.kind != "photos" and not step.optional and getattr(row, step.field) is not None:
                kept.add((type(row).__name__, row.id, step.field))
    return kept


async def test_random_inputs_never_crash_nor_lose_answers(network: Network) -> None:
    rng = random.Random(20261122)
    owner = network.chat("owner-1")
    await onboard(owner)
    await fill_product(owner)
    await owner.send("menu")
    await owner.tap("Produk baru")
    await owner.send("Sambal Roa")
    saved: set[tuple] = set()  # type: ignore[type-arg]
    for i in range(200):
        kind, value = random_input(rng, [c.id for c in owner.inbox[-1].choices] if owner.inbox else [])
        before = len(owner.inbox)
        if kind == "choice":
            await owner.press(str(value))
        elif kind == "photos":
            await owner.photos(value)  # type: ignore[arg-type]
        else:
            await owner.send(str(value))
        assert len(owner.inbox) > before, f"input {i} ({kind}) got no answer"
        assert all(m.text.strip() for m in owner.inbox[before:])
        assert not any("gangguan di sistem" in m.text for m in owner.inbox[before:]), owner.inbox[-1].text
        async with network.engine.db.transaction() as session:
            rows = [*(await session.exec(select(Business))).all(), *(await session.exec(select(Product))).all()]
        now = kept_answers(rows)
        assert saved <= now, f"input {i} ({kind}: {str(value)[:40]!r}) lost {saved - now}"
        saved = now


async def test_outsider_and_wrong_region_officer_change_nothing(network: Network) -> None:
    await add_officer(network.engine.db, "Budi", "18.03", "fake", "officer-lampung")
    await add_officer(network.engine.db, "Dewi", "Kota Depok", "fake", "officer-depok")
    owner = network.chat("owner-1")
    await onboard(owner)
    await fill_product(owner)
    await owner.tap("Kirim ke Dinas")

    stranger = network.chat("stranger")
    await stranger.send("/start")
    await stranger.tap("Saya setuju")
    for forged in ("rv:a:1", "rv:x:1", "rv:r:1"):
        await stranger.press(forged)
        assert "hanya untuk petugas Dinas" in stranger.last
    await owner.press("rv:a:1")
    assert "hanya untuk petugas Dinas" in owner.last

    depok = network.chat("officer-depok")
    await depok.press("rv:a:1")
    assert "tidak berwenang" in depok.last
    await depok.press("rv:x:1")
    await depok.send("tolak saja")
    await depok.press("show:1")
    assert "tidak berwenang" in depok.last

    async with network.engine.db.transaction() as session:
        product = await session.get(Product, 1)
    assert product.status == "submitted"
    assert await count_rows(network.engine.db, Review) == 0


async def test_first_decision_wins_and_the_second_officer_is_told(network: Network) -> None:
    await add_officer(network.engine.db, "Budi", "18.03", "fake", "officer-1")
    await add_officer(network.engine.db, "Wati", "18", "fake", "officer-2")
    owner = network.chat("owner-1")
    await onboard(owner)
    await fill_product(owner)
    await owner.tap("Kirim ke Dinas")
    first, second = network.chat("officer-1"), network.chat("officer-2")
    assert "Pengajuan produk baru" in second.last  # the province officer is notified too
    await second.tap("Tolak")                      # Wati starts a rejection...
    await first.tap("Setujui")                     # ...but Budi approves first
    await second.send("Dokumen tidak lengkap")
    assert "sudah disetujui oleh Budi" in second.last
    async with network.engine.db.transaction() as session:
        product = await session.get(Product, 1)
        reviews = (await session.exec(select(Review))).all()
    assert product.status == "approved" and [r.decision for r in reviews] == ["approved"]
    assert sum("DISETUJUI" in t for t in owner.texts()) == 1 and "DITOLAK" not in " ".join(owner.texts())


async def test_a_bug_is_apologized_for_and_not_redelivered_forever(network: Network, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from bot.conversation import owner as owner_flow

    async def broken(turn, inbound):  # type: ignore[no-untyped-def]
        raise RuntimeError("bug")

    monkeypatch.setattr(owner_flow, "handle", broken)
    event = Inbound("fake", "owner-1", "u-bug", "text", "halo")
    replies = await network.engine.handle(event)
    assert [r.text for r in replies] == [
        "Maaf, ada gangguan di sistem kami dan pesan terakhir belum tersimpan. Mohon kirim ulang sebentar lagi."]
    assert await network.engine.handle(event) == []


async def test_the_outbox_holds_exactly_what_was_returned(network: Network) -> None:
    """A correction joined to the next question is one outbox row, even when a query ran in between."""
    owner = network.chat("owner-1")
    await owner.send("/start")
    await owner.tap("Saya setuju")
    returned = [m for m in owner.inbox]
    for text in ("bantuan", "12", "kembali", "lewati", "/unknown", "bahasa"):
        returned += await owner.send(text)
    async with network.engine.db.transaction() as session:
        rows = (await session.exec(select(OutboxMessage).order_by(OutboxMessage.id))).all()
    assert [(r.id, r.payload["text"]) for r in rows] == [(m.outbox_id, m.text) for m in returned]
