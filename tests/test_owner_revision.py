"""The owner's side of a revision: asked directly, flagged business fields too, nothing skipped or unchanged."""

from __future__ import annotations

from sqlmodel import select

from storage.models import Business, Product, ProductPhoto, Review
from tests.chat import Chat, Network
from tests.conftest import count_rows, make_image
from tests.support.conversations import FOOD_PRODUCT, onboard, play, submit_with_officer


async def ask_revision(officer: Chat, *fields: str, reason: str = "Mohon diperbaiki sesuai catatan.") -> None:
    await officer.tap("Minta revisi")
    for field in fields:
        await officer.tap(field)
    await officer.tap("Selesai memilih")
    await officer.send(reason)


async def test_the_notice_asks_the_first_flagged_question_and_a_typed_answer_is_understood(
        network: Network) -> None:
    owner, officer = await submit_with_officer(network)
    await ask_revision(officer, "Harga satuan", reason="Harga terlalu tinggi dibanding pasar.")
    notice = owner.last
    assert "Kita mulai dari Harga satuan — langsung balas pesan ini" in notice
    assert "Berapa harga satuannya" in notice
    await owner.send("22.500")
    assert "Ringkasan produk #1" in owner.last and "Rp22.500" in owner.last
    await owner.tap("Kirim ke Dinas")
    assert "Pengajuan produk baru #1" in officer.last and "Rp22.500" in officer.last


async def test_flagged_business_fields_are_asked_and_cannot_be_skipped(network: Network) -> None:
    owner, officer = await submit_with_officer(network)
    await ask_revision(officer, "Harga satuan")
    async with network.engine.db.transaction() as session:
        review = (await session.exec(select(Review))).one()
        review.flagged_fields = ["harga", "kbli"]  # as an officer who may flag the profile will
    await owner.tap("Perbaiki sekarang")
    assert "KBLI" in owner.last and "Harga satuan" not in owner.last.split("\n")[-1]
    await owner.send("lewati")
    assert "tidak bisa dilewati" in owner.last
    await owner.send("10710")
    assert "Berapa harga satuannya" in owner.last
    await owner.send("lewati")
    assert "tidak bisa dilewati" in owner.last
    await owner.send("23rb")
    assert "Ringkasan produk #1" in owner.last and "Rp23.000" in owner.last
    async with network.engine.db.transaction() as session:
        business = (await session.exec(select(Business))).one()
    assert business.kbli == "10710"


async def test_resubmitting_with_nothing_changed_is_questioned(network: Network) -> None:
    owner, officer = await submit_with_officer(network)
    await ask_revision(officer, "Harga satuan")
    await owner.send("25rb")  # the same price again
    await owner.tap("Kirim ke Dinas")
    assert "belum berubah: Harga satuan" in owner.last
    assert owner.buttons == ["Perbaiki sekarang", "Kirim saja"]
    notes = len([m for m in officer.inbox if "Pengajuan produk baru" in m.text])
    await owner.tap("Perbaiki sekarang")
    assert "Berapa harga satuannya" in owner.last
    await owner.send("24rb")
    await owner.tap("Kirim ke Dinas")
    assert len([m for m in officer.inbox if "Pengajuan produk baru" in m.text]) == notes + 1


async def test_send_anyway_sends_it(network: Network) -> None:
    owner, officer = await submit_with_officer(network)
    await ask_revision(officer, "Merek")
    await owner.send("Bu Sari")
    await owner.tap("Kirim ke Dinas")
    await owner.tap("Kirim saja")
    assert any("Terkirim" in t for t in owner.texts(-2)) and "Pengajuan produk baru #1" in officer.last


async def test_flagged_photos_are_replaced_not_added_to(network: Network) -> None:
    owner, officer = await submit_with_officer(network)
    await ask_revision(officer, "Foto produk", reason="Foto kurang terang.")
    assert "Kirim 1 sampai 5 foto" in owner.last
    await owner.photos(make_image(800, 800, color="white"))
    assert "Foto tersimpan: 1 dari maksimal 5" in owner.last and "Ringkasan produk" in owner.last
    await owner.photos(make_image(800, 800, color="yellow"))
    assert "Foto tersimpan: 2 dari maksimal 5" in owner.last
    await owner.tap("Kirim ke Dinas")
    assert len(officer.inbox[-1].photos) == 2
    assert await count_rows(network.engine.db, ProductPhoto, ProductPhoto.removed_at.is_(None)) == 2


async def test_one_photo_can_be_removed(network: Network) -> None:
    owner = network.chat("owner-1")
    await onboard(owner)
    await play(owner, FOOD_PRODUCT)
    await owner.photos(*(make_image(color=c) for c in ("red", "green", "blue")))
    await owner.tap("Ubah jawaban")
    await owner.tap("Foto produk")
    await owner.tap("Hapus satu foto")
    assert "Foto nomor berapa" in owner.last and len(owner.inbox[-1].photos) == 3
    assert owner.buttons == ["Foto 1", "Foto 2", "Foto 3"]
    await owner.tap("Foto 2")
    assert "Jawaban sekarang: 2 foto" in owner.last
    async with network.engine.db.transaction() as session:
        kept = (await session.exec(select(ProductPhoto).where(ProductPhoto.removed_at.is_(None)))).all()
    assert [p.id for p in kept] == [1, 3]


async def test_english_owner_answers_the_notice_directly(network: Network) -> None:
    owner, officer = await submit_with_officer(network)
    await owner.send("language")
    await owner.tap("English")
    await ask_revision(officer, "Harga satuan")
    assert "Let's start with Unit price — just reply to this message" in owner.last
    assert "Choose *Fix it now*" not in owner.last
    await owner.send("Rp 21.000")
    assert "Summary of product #1" in owner.last and "Rp21.000" in owner.last
    async with network.engine.db.transaction() as session:
        product = await session.get(Product, 1)
    assert product is not None and product.harga == 21_000
