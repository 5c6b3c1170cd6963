"""Whole conversations through the fake channel, as an owner and an officer would have them."""

from __future__ import annotations

import re

import pytest
from sqlmodel import select

from bot.conversation.engine import Engine
from bot.review.officers import add_officer, unrouted_submissions
from bot.settings import Settings
from storage.db import Database
from storage.models import Business, OutboxMessage, Product, ProductStatus, Review
from tests.chat import Network
from tests.conftest import make_image
from tests.support.conversations import (
    BUSINESS_ANSWERS,
    fill_product,
    onboard,
    submit_with_officer,
)


async def test_onboarding_product_and_submit(network: Network) -> None:
    owner = network.chat("owner-1")
    await onboard(owner)
    await fill_product(owner)
    assert "Ringkasan produk" in owner.last
    assert "Rp25.000" in owner.last
    assert "Makanan" in owner.last
    assert "2 foto" in owner.last
    await owner.tap("Kirim ke Dinas")
    assert any("Terkirim" in m.text for m in owner.inbox[-2:])
    async with network.engine.db.transaction() as session:
        product = await session.get(Product, 1)
    assert product.status == ProductStatus.submitted
    assert product.harga == 25000 and product.berat_gram == 250 and product.pirt == "206350901078926"


async def test_officer_approves(network: Network) -> None:
    await add_officer(network.engine.db, "Budi", "18.03", "fake", "officer-1")
    owner, officer = network.chat("owner-1"), network.chat("officer-1")
    await onboard(owner)
    await fill_product(owner)
    await owner.tap("Kirim ke Dinas")
    note = officer.inbox[-1]
    assert "Pengajuan produk baru" in note.text and len(note.photos) == 2
    assert [c.label for c in note.choices] == ["Setujui", "Minta revisi", "Tolak"]
    await officer.tap("Setujui")
    assert "DISETUJUI" in owner.last
    async with network.engine.db.transaction() as session:
        product = await session.get(Product, 1)
        review = await session.get(Review, 1)
    assert product.status == ProductStatus.approved and review.decision == "approved"


@pytest.mark.parametrize("answer", ["Tolak"])
async def test_reject_with_reason(network: Network, answer: str) -> None:
    await add_officer(network.engine.db, "Budi", "Lampung", "fake", "officer-1")
    owner, officer = network.chat("owner-1"), network.chat("officer-1")
    await onboard(owner)
    await fill_product(owner)
    await owner.tap("Kirim ke Dinas")
    await officer.tap(answer)
    await officer.send("Foto tidak jelas dan produk tidak sesuai deskripsi")
    assert "DITOLAK" in owner.last and "Foto tidak jelas" in owner.last


async def test_revision_loop_asks_only_flagged_fields(network: Network) -> None:
    owner, officer = await submit_with_officer(network)
    await officer.tap("Minta revisi")
    await officer.tap("Harga satuan")
    await officer.tap("Foto produk")
    assert "Dipilih: Harga satuan, Foto produk" in officer.last
    await officer.tap("Selesai memilih")
    await officer.send("Harga terlalu tinggi dibanding pasar; foto kurang terang.")
    assert "perlu diperbaiki" in owner.last and "Harga satuan, Foto produk" in owner.last
    assert "Harga terlalu tinggi" in owner.last

    start = len(owner.inbox)
    await owner.tap("Perbaiki sekarang")
    assert "Berapa harga satuannya" in owner.last and "Rp25.000" in owner.last
    await owner.send("22.500")
    assert "Kirim 1 sampai 5 foto" in owner.last
    await owner.tap("Hapus semua foto")
    await owner.photos(make_image(800, 800, color="white"))
    assert "Ringkasan produk" in owner.last and "Rp22.500" in owner.last and "1 foto" in owner.last
    asked = [q for t in owner.texts(start) for q in re.findall(r"\(\d+/\d+\) [^\n]*", t)]
    assert len(asked) == 3, asked  # the price, then the photo step twice (before and after clearing)
    assert "harga" in asked[0] and all("foto" in q for q in asked[1:])

    await owner.tap("Kirim ke Dinas")
    assert "Pengajuan produk baru #1" in officer.last and len(officer.inbox[-1].photos) == 1
    await officer.tap("Setujui")
    assert "DISETUJUI" in owner.last
    async with network.engine.db.transaction() as session:
        reviews = (await session.exec(select(Review).order_by(Review.id))).all()
    assert [r.decision for r in reviews] == ["revision", "approved"]
    assert reviews[0].flagged_fields == ["harga", "photos"]


async def test_resume_draft_after_restart(network: Network, database: Database, settings: Settings) -> None:
    owner = network.chat("owner-1")
    await onboard(owner)
    await owner.send("Sambal Roa Bu Sari")
    await owner.tap("Makanan")

    restarted = Network(Engine(database, settings))
    again = restarted.chat("owner-1")
    await again.send("halo")
    assert "Selamat datang kembali" in again.texts()[0]
    assert "Apa merek produknya" in again.last
    await again.send("lewati")
    assert "deskripsi" in again.last.lower()
    async with database.transaction() as session:
        product = await session.get(Product, 1)
    assert product.nama_produk == "Sambal Roa Bu Sari" and product.kategori == "makanan"


async def test_change_an_answer_from_the_summary(network: Network) -> None:
    owner = network.chat("owner-1")
    await onboard(owner)
    await fill_product(owner)
    await owner.tap("Ubah jawaban")
    await owner.tap("Harga satuan")
    assert "Jawaban sekarang: Rp25.000" in owner.last
    await owner.send("Rp 27.500")
    assert "Ringkasan produk" in owner.last and "Rp27.500" in owner.last
    await owner.tap("Ubah jawaban")
    await owner.tap("Kategori")
    await owner.tap("Kerajinan")
    # A craft has no food permits: they drop out of the summary instead of being asked.
    assert "Ringkasan produk" in owner.last and "P-IRT" not in owner.last


async def test_two_drafts_at_once(network: Network) -> None:
    owner = network.chat("owner-1")
    await onboard(owner)
    await owner.send("Keripik Pisang Coklat")
    await owner.send("menu")
    await owner.tap("Produk baru")
    await owner.send("Tas Anyaman Pandan")
    await owner.tap("Kerajinan")
    await owner.send("batal")
    assert "tersimpan sebagai draf" in owner.last and "Menu utama" in owner.last
    await owner.tap("Lanjutkan draf")
    assert "Keripik Pisang Coklat" in owner.last and "Tas Anyaman Pandan" in owner.last
    await owner.tap("Keripik Pisang Coklat #1")
    assert "kategori" in owner.last.lower()
    await owner.tap("Makanan")
    await owner.send("/menu")
    await owner.tap("Lanjutkan draf")
    await owner.tap("Tas Anyaman Pandan #2")
    assert "Apa merek produknya" in owner.last
    async with network.engine.db.transaction() as session:
        drafts = (await session.exec(select(Product).order_by(Product.id))).all()
    assert [(p.nama_produk, p.kategori, p.status) for p in drafts] == [
        ("Keripik Pisang Coklat", "makanan", "draft"),
        ("Tas Anyaman Pandan", "kerajinan", "draft"),
    ]


async def test_wrong_answers_get_a_correction_and_the_same_question(network: Network) -> None:
    owner = network.chat("owner-1")
    await owner.send("/start")
    await owner.tap("Saya setuju")
    await owner.send("Keripik Bu Sari")
    await owner.send("Sari Wulandari")
    await owner.send("perorangan")
    await owner.send("12345")
    assert "NIB harus 13 angka" in owner.last and "Nomor Induk Berusaha" in owner.last
    await owner.send("1234567890123")
    await owner.send("kembali")
    assert "Nomor Induk Berusaha" in owner.last and "Jawaban sekarang: 1234567890123" in owner.last
    await owner.send("1234567890123")
    await owner.send("lewati")  # KBLI is optional
    await owner.send("lewati")  # NPWP is not
    assert "wajib diisi" in owner.last and "NPWP" in owner.last
    await owner.send("01.312.166.1-091.000")  # wrong check digit
    assert "NPWP itu tidak valid" in owner.last


async def test_ambiguous_region_asks_to_confirm(network: Network) -> None:
    owner = network.chat("owner-1")
    await owner.send("/start")
    await owner.tap("Saya setuju")
    for answer in BUSINESS_ANSWERS[:8]:
        await owner.send(answer)
    await owner.send("bogor")
    assert "beberapa yang cocok" in owner.last
    assert set(owner.buttons) >= {"Kabupaten Bogor, Jawa Barat", "Kota Bogor, Jawa Barat"}
    await owner.tap("Kota Bogor, Jawa Barat")
    assert "alamat lengkap" in owner.last
    async with network.engine.db.transaction() as session:
        business = (await session.exec(select(Business))).one()
    assert business.region_code == "32.71"


async def test_submission_without_officer_is_kept_and_listed(network: Network) -> None:
    owner = network.chat("owner-1")
    await onboard(owner)
    await fill_product(owner)
    await owner.tap("Kirim ke Dinas")
    assert any("belum terdaftar" in t for t in owner.texts(-3))
    waiting = await unrouted_submissions(network.engine.db)
    assert [(p.id, b.region_code) for p, b in waiting] == [(1, "18.03")]
    row = await add_officer(network.engine.db, "Budi", "Lampung", "fake", "officer-9")
    assert row.backlog == 1
    assert await unrouted_submissions(network.engine.db) == []
    async with network.engine.db.transaction() as session:
        queued = (await session.exec(select(OutboxMessage).where(OutboxMessage.address == "officer-9"))).all()
    assert [m.payload["text"].split(" — ")[0] for m in queued] == ["📥 Pengajuan produk baru #1"]
    assert [c["label"] for c in queued[0].payload["choices"]] == ["Setujui", "Minta revisi", "Tolak"]
    officer = network.chat("officer-9")
    await officer.send("menu")
    await officer.tap("Pengajuan masuk")
    assert "Keripik Singkong Balado 250 g" in officer.last
    await officer.tap("Keripik Singkong Balado 250 g #1")
    assert "Pengajuan produk baru #1" in officer.last
    await officer.tap("Setujui")
    assert "DISETUJUI" in owner.last


async def test_english_owner_with_an_indonesian_officer(network: Network) -> None:
    await add_officer(network.engine.db, "Budi", "18.03", "fake", "officer-1")
    owner, officer = network.chat("owner-en"), network.chat("officer-1")
    await owner.send("language")
    await owner.tap("English")
    assert "Do you agree?" in owner.last
    await owner.tap("I agree")
    for answer in BUSINESS_ANSWERS:
        await owner.send(answer)
    assert "What is the product called?" in owner.last
    await owner.send("Banana Chips")
    await owner.tap("Food")
    for answer in ["skip", "Crispy banana chips with palm sugar, 200 gram pouch.", "Rp 18.000"]:
        await owner.send(answer)
    await owner.tap("pack")
    for answer in ["100", "200 g 15x10x4 cm"]:
        await owner.send(answer)
    await owner.tap("Yes")
    for answer in ["skip", "MD 123456789012", "skip"]:
        await owner.send(answer)
    await owner.photos(make_image(color="orange"))
    assert "Summary of product #1" in owner.last and "Rp18.000" in owner.last and "MD123456789012" in owner.last
    await owner.tap("Send to Dinas")
    assert "Pengajuan produk baru #1" in officer.last  # the officer reads it in Indonesian
    await officer.tap("Setujui")
    assert "APPROVED" in owner.last


async def test_anyone_can_ask_for_their_chat_id(network: Network) -> None:
    stranger = network.chat("5551234")
    await stranger.send("/id")
    assert "ID chat Bapak/Ibu di fake: 5551234" in stranger.last
    assert "Apakah Bapak/Ibu setuju?" in stranger.last  # and the conversation goes on where it was


@pytest.mark.parametrize(("answer", "agreed"), [("setuju", True), ("Ya", True), ("tidak setuju", False),
                                                ("tidak", False), ("I agree", True)])
async def test_consent_can_be_typed(network: Network, answer: str, agreed: bool) -> None:
    owner = network.chat("owner-1")
    await owner.send("halo")
    await owner.send(answer)
    assert ("Apa nama usaha" in owner.last) is agreed
    assert ("Tanpa persetujuan" in owner.last) is not agreed
    async with network.engine.db.transaction() as session:
        businesses = (await session.exec(select(Business))).all()
    assert len(businesses) == int(agreed)


async def test_a_product_submitted_from_another_chat_cannot_be_edited_from_a_stale_one(network: Network) -> None:
    owner = network.chat("owner-1")
    await onboard(owner)
    await fill_product(owner)
    await owner.tap("Ubah jawaban")
    await owner.tap("Merek")               # this chat now waits for a new brand...
    async with network.engine.db.transaction() as session:
        product = await session.get(Product, 1)
        product.status = ProductStatus.submitted  # ...while the owner's other chat submits the product
    await owner.send("Merek Baru")
    assert "belum bisa diubah" in owner.last and "Menu utama" in owner.last
    async with network.engine.db.transaction() as session:
        assert (await session.get(Product, 1)).merek == "Bu Sari"


async def test_a_revision_left_at_the_summary_reopens_at_the_summary(network: Network) -> None:
    owner, officer = await submit_with_officer(network)
    await officer.tap("Minta revisi")
    await officer.tap("Harga satuan")
    await officer.tap("Selesai memilih")
    await officer.send("Harga terlalu tinggi")
    await owner.tap("Perbaiki sekarang")
    await owner.send("22.500")
    await owner.tap("Simpan draf")
    await owner.tap("Lanjutkan draf")
    assert "Ringkasan produk" in owner.last and "Rp22.500" in owner.last  # not the price question again
    await owner.tap("Kirim ke Dinas")
    assert "Pengajuan produk baru #1" in officer.last
