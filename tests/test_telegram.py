"""Telegram end to end: the real python-telegram-bot client against a fake Bot API server on loopback."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import select

from bot.conversation.engine import Engine
from bot.delivery.deliverer import Deliverer
from bot.domain.messages import Choice, Outbound
from bot.handlers.telegram import MAX_TEXT, split_text
from bot.review.officers import add_officer
from bot.service.web import Channels
from storage.models import Business, InboundEvent, OutboxMessage
from tests.conftest import World, count_rows, make_image, product_status, telegram_settings
from tests.fake_telegram import FakeBotAPI
from tests.support.conversations import BUSINESS_ANSWERS, CRAFT_PRODUCT, FOOD_PRODUCT, play
from tests.telegram_user import SECRET, TelegramUser, fixture

pytestmark = pytest.mark.parametrize("database", ["sqlite"], indirect=True)

OWNER, OFFICER, STRANGER = 5551234, 7770001, 9990009


async def onboard(owner: TelegramUser) -> None:
    await owner.send("/start")
    await owner.tap("Saya setuju")
    for answer in BUSINESS_ANSWERS[:10]:
        await owner.send(answer)
    phone_prompt = owner.api.sent("sendMessage", owner.chat_id)[-1].params
    assert phone_prompt["reply_markup"]["keyboard"][0][0]["request_contact"] is True
    await owner.post(owner.message_update("contact"))  # the share-contact button
    assert "Apa nama produknya" in owner.last


async def fill_product(owner: TelegramUser) -> None:
    await play(owner, FOOD_PRODUCT)
    responses = await owner.photos(make_image(1280, 960, color="red"), make_image(900, 900, color="blue"))
    assert [r.status_code for r in responses] == [200, 200]
    assert "Foto tersimpan: 2" in owner.last and "Ringkasan produk" in owner.last


async def submitted(world: World) -> tuple[TelegramUser, TelegramUser]:
    await add_officer(world.db, "Budi", "18.03", "telegram", str(OFFICER))
    owner, officer = world.user(OWNER), world.user(OFFICER)
    await onboard(owner)
    await fill_product(owner)
    await owner.tap("Kirim ke Dinas")
    return owner, officer


async def test_owner_submits_and_officer_approves(world: World) -> None:
    owner, officer = await submitted(world)
    assert any("Terkirim" in t for t in owner.texts[-2:])
    album = world.api.sent("sendMediaGroup", OFFICER)
    assert len(album) == 1 and len(album[0].params["media"]) == 2 and len(album[0].files) == 2
    note = world.api.sent("sendMessage", OFFICER)[-1].params
    assert "Pengajuan produk baru #1" in note["text"]
    buttons = [b["text"] for row in note["reply_markup"]["inline_keyboard"] for b in row]
    assert buttons == ["Setujui", "Minta revisi", "Tolak"]
    await officer.tap("Setujui")
    assert "DISETUJUI" in owner.last
    assert await product_status(world.db) == "approved"
    # Every tap was answered, and only the largest size of each photo was downloaded.
    taps = [c for c in world.api.calls if c.method == "answerCallbackQuery"]
    assert len(taps) == 6  # consent, category, unit, PDN, submit, approve (the photos lead to the summary)
    downloaded = [c.params["file_id"] for c in world.api.sent("getFile")]
    assert len(downloaded) == 2 and not any(f.endswith(("-thumb", "-medium")) for f in downloaded)
    async with world.db.transaction() as session:
        business = (await session.exec(select(Business))).one()
    assert business.phone == "+6281234567890"  # from the shared contact


async def test_revision_then_reject_over_telegram(world: World) -> None:
    owner, officer = await submitted(world)
    await officer.tap("Minta revisi")
    await officer.tap("Harga satuan")
    await officer.tap("Selesai memilih")
    await officer.send("Harga belum termasuk ongkos kemas")
    assert "perlu diperbaiki" in owner.last and "Harga satuan" in owner.last
    await owner.tap("Perbaiki sekarang")
    assert "Berapa harga satuannya" in owner.last
    await owner.send("Rp 27.000")
    assert "Ringkasan produk" in owner.last and "Rp27.000" in owner.last
    await owner.tap("Kirim ke Dinas")
    await officer.tap("Tolak")
    await officer.send("Produk sejenis sudah terlalu banyak di katalog")
    assert "DITOLAK" in owner.last and "sudah terlalu banyak" in owner.last
    assert await product_status(world.db) == "rejected"


@pytest.mark.parametrize("secret", [None, "", "wrong-secret", SECRET + "x"])
async def test_wrong_or_missing_secret_is_refused_and_stores_nothing(world: World, secret: str | None) -> None:
    owner = world.user(OWNER)
    response = await owner.post(owner.message_update("command_start", text="/start"), secret=secret)
    assert response.status_code == 403
    assert await count_rows(world.db, InboundEvent) == 0
    assert world.api.sent("sendMessage") == []


async def test_the_same_update_twice_gets_one_reply(world: World) -> None:
    owner = world.user(OWNER)
    update = owner.message_update("command_start", text="/start")
    first, second = await owner.post(update), await owner.post(update)
    assert first.status_code == second.status_code == 200
    assert len(world.api.sent("sendMessage", OWNER)) == 1


async def test_unhandled_update_kinds_get_200(world: World) -> None:
    owner = world.user(OWNER)
    edited = fixture("edited_message")
    response = await owner.post(edited)
    assert response.status_code == 200 and world.api.sent("sendMessage") == []
    assert (await owner.post({"update_id": 5, "poll": {"id": "1"}})).status_code == 200
    assert (await owner.post({"not": "an update"})).status_code == 200  # malformed: logged, not retried
    await owner.send("/start")
    await owner.tap("Saya setuju")
    await owner.post(owner.message_update("sticker"))
    assert "kirim teks atau foto" in owner.last


async def test_bad_files_get_a_clear_answer(world: World) -> None:
    owner = world.user(OWNER)
    await onboard(owner)
    await play(owner, CRAFT_PRODUCT)
    assert "Kirim 1 sampai 5 foto" in owner.last
    await owner.photos(make_image(200, 200))
    assert "terlalu kecil" in owner.last
    await owner.document(b"%PDF-1.4 price list", "harga.pdf", "application/pdf")
    assert "bukan gambar" in owner.last
    getfile_before = len(world.api.sent("getFile"))
    await owner.document(b"x" * 1000, "video.mp4", "video/mp4", declared_size=30 * 1024 * 1024)
    assert "terlalu besar" in owner.last
    assert len(world.api.sent("getFile")) == getfile_before  # a 30 MB file is not even downloaded
    await owner.document(make_image(800, 800, fmt="PNG"), "produk.png", "image/png")
    assert "Foto tersimpan: 1" in owner.last


async def test_markup_in_names_is_shown_as_written(world: World) -> None:
    owner = world.user(OWNER)
    await onboard(owner)
    await owner.send("<b>Keripik & Co</b> *promo*")
    await owner.tap("Kerajinan")
    brand = world.api.sent("sendMessage", OWNER)[-1].params
    assert brand["parse_mode"] == "HTML" and "ketik <b>lewati</b> kalau" in brand["text"]
    assert "*lewati*" not in owner.last and "ketik lewati kalau" in owner.last
    await owner.send("menu")
    await owner.tap("Produk saya")
    listing = world.api.sent("sendMessage", OWNER)[-1].params
    assert "&lt;b&gt;Keripik &amp; Co&lt;/b&gt; *promo*" in listing["text"]
    assert "<b>Keripik & Co</b> *promo*" in owner.last  # what the person reads: exactly as typed


async def test_long_texts_are_split_with_buttons_on_the_last_piece(world: World) -> None:
    text = "\n".join(f"Baris {i}: " + "x" * 90 for i in range(100))
    assert len(text) > 2 * MAX_TEXT
    pieces = split_text(text)
    assert len(pieces) == 3 and all(len(p) <= MAX_TEXT for p in pieces) and "".join(pieces).count("Baris") == 100
    assert world.channels.telegram is not None
    await world.channels.telegram.send(Outbound("telegram", str(OWNER), text, [Choice("menu:main", "Menu")]))
    sent = world.api.sent("sendMessage", OWNER)
    assert len(sent) == 3 and [("reply_markup" in c.params) for c in sent] == [False, False, True]
    assert all(c.params["parse_mode"] == "HTML" for c in sent)


class ManualClock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now


async def test_429_then_500_then_ok_arrives_once_after_the_wait(world: World) -> None:
    owner = world.user(OWNER)
    assert world.channels.telegram is not None
    world.api.fail("sendMessage", (429, {"retry_after": 7}), (500, None))
    outbound = await world.channels.telegram_updates.handle(owner.message_update("command_start", text="/start"))
    clock = ManualClock()  # after the engine wrote the row: a row is never sent before its next_attempt_at
    deliverer = Deliverer(world.db, {"telegram": world.channels.telegram}, clock=clock, base_delay=2)
    await deliverer.deliver(outbound)
    assert len(world.api.sent("sendMessage", OWNER)) == 1  # the 429
    clock.now += timedelta(seconds=6)
    assert await deliverer.deliver_due() == 0              # retry_after not yet over
    clock.now += timedelta(seconds=2)
    await deliverer.deliver_due()                          # the 500
    assert len(world.api.sent("sendMessage", OWNER)) == 2
    clock.now += timedelta(minutes=5)
    await deliverer.deliver_due()                          # OK
    clock.now += timedelta(hours=2)
    await deliverer.deliver_due()                          # nothing more
    assert len(world.api.sent("sendMessage", OWNER)) == 3
    async with world.db.transaction() as session:
        row = (await session.exec(select(OutboxMessage))).one()
    assert row.status == "sent" and row.attempts == 3 and row.provider_message_id


async def test_a_blocked_bot_is_marked_failed_not_retried(world: World) -> None:
    owner = world.user(OWNER)
    world.api.fail("sendMessage", (403, None))
    outbound = await world.channels.telegram_updates.handle(owner.message_update("command_start", text="/start"))
    await world.channels.deliverer.deliver(outbound)
    await world.channels.deliverer.deliver_due()
    async with world.db.transaction() as session:
        row = (await session.exec(select(OutboxMessage))).one()
    assert row.status == "failed" and row.attempts == 1
    assert len(world.api.sent("sendMessage", OWNER)) == 1


async def test_a_crash_between_commit_and_send_is_sent_on_restart(world: World, tmp_path: Path) -> None:
    owner = world.user(OWNER)
    outbound = await world.channels.telegram_updates.handle(owner.message_update("command_start", text="/start"))
    assert outbound and world.api.sent("sendMessage") == []  # committed, then the process "died"
    restarted = Channels(telegram_settings(world.api, tmp_path), Engine(world.db, world.engine.settings))
    assert restarted.telegram is not None
    await restarted.telegram.start()
    assert await restarted.deliverer.deliver_due() == 1
    await restarted.telegram.stop()
    assert "Apakah Bapak/Ibu setuju?" in owner.last and len(owner.texts) == 1


async def test_a_review_tap_from_a_stranger_changes_nothing(world: World) -> None:
    owner, officer = await submitted(world)
    stranger = world.user(STRANGER)
    await stranger.send("/start")
    await stranger.tap("Saya setuju")
    await stranger.press("rv:a:1")
    assert "hanya untuk petugas Dinas" in stranger.last
    await add_officer(world.db, "Dewi", "Kota Depok", "telegram", "4440004")
    depok = world.user(4440004)
    await depok.press("rv:a:1")
    assert "tidak berwenang" in depok.last
    assert await product_status(world.db) == "submitted"
    assert not any("DISETUJUI" in t for t in owner.texts)


async def test_commands_webhook_and_polling_setup(world: World, api: FakeBotAPI) -> None:
    telegram = world.channels.telegram
    assert telegram is not None
    await telegram.set_commands(world.engine.renderer)
    calls = api.sent("setMyCommands")
    assert [c.params.get("language_code") for c in calls] == [None, "en"]
    assert [c["command"] for c in calls[0].params["commands"]] == ["start", "menu", "produk", "bantuan", "batal",
                                                                   "bahasa"]
    telegram.settings.public_url = "https://umkm.example.go.id/"
    await telegram.register_webhook()
    hook = api.sent("setWebhook")[-1].params
    assert hook["url"] == "https://umkm.example.go.id/telegram/webhook"
    assert hook["secret_token"] == SECRET and hook["allowed_updates"] == ["message", "callback_query"]
