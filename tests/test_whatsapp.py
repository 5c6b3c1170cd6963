"""WhatsApp end to end: pywa's client against a fake Graph API on loopback, signed webhook payloads."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from sqlmodel import select

from bot.conversation.engine import Engine
from bot.domain.messages import Choice, Outbound
from bot.handlers.whatsapp_render import buttons_for, cut
from bot.review.officers import add_officer
from bot.service.web import Channels, create_app
from bot.settings import Settings
from storage.db import Database
from storage.models import Contact, InboundEvent, OutboxMessage, Owner, Product, utcnow
from tests.conftest import count_rows, deliver_later, make_image, product_status
from tests.fake_graph import RE_ENGAGEMENT, SERVICE_UNAVAILABLE, THROUGHPUT_LIMIT, TOKEN, FakeGraphAPI, graph_error
from tests.support.conversations import BUSINESS_ANSWERS, CRAFT_PRODUCT, FOOD_PRODUCT, play
from tests.whatsapp_user import APP_SECRET, PHONE_NUMBER_ID, VERIFY_TOKEN, WhatsAppUser, sign


@pytest.fixture
async def database(tmp_path: Path) -> AsyncIterator[Database]:
    """Channel tests run on SQLite; the engine and storage tests cover PostgreSQL."""
    db = Database(f"sqlite:///{tmp_path / 'umkm.db'}")
    await db.upgrade()
    yield db
    await db.dispose()

OWNER, OFFICER, STRANGER = "6281234567890", "6281298765432", "6285700000009"


def whatsapp_settings(graph: FakeGraphAPI, tmp_path: Path, **extra: object) -> Settings:
    return Settings(_env_file=None, database_url="sqlite:///unused.db", media_dir=tmp_path / "media",
                    whatsapp_access_token=TOKEN, whatsapp_phone_number_id=PHONE_NUMBER_ID,
                    whatsapp_app_secret=APP_SECRET, whatsapp_verify_token=VERIFY_TOKEN, whatsapp_api_url=graph.url,
                    **extra)  # type: ignore[arg-type]


@dataclass
class WA:
    graph: FakeGraphAPI
    client: httpx.AsyncClient
    channels: Channels
    db: Database

    def user(self, wa_id: str, name: str = "Sari Wulandari") -> WhatsAppUser:
        user = WhatsAppUser(self.client, self.graph, wa_id, name=name)
        user.after_media = lambda: deliver_later(self.channels.deliverer)
        return user

    async def deliver_due(self) -> int:
        return await self.channels.deliverer.deliver_due()


@pytest.fixture
async def graph() -> AsyncIterator[FakeGraphAPI]:
    async with FakeGraphAPI() as fake:
        yield fake


@pytest.fixture
async def wa(graph: FakeGraphAPI, database: Database, tmp_path: Path) -> AsyncIterator[WA]:
    settings = whatsapp_settings(graph, tmp_path, whatsapp_template_review_result="hasil_kurasi",
                                 whatsapp_template_new_submission="pengajuan_baru")
    channels = Channels(settings, Engine(database, settings))
    app = create_app(settings, database, channels.routes())
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bot.test") as client:
        yield WA(graph, client, channels, database)
    await channels.stop()


async def onboard(owner: WhatsAppUser) -> None:
    await owner.send("halo")
    assert "Apakah Bapak/Ibu setuju?" in owner.last
    await owner.tap("Saya setuju")
    for answer in BUSINESS_ANSWERS[:7]:
        await owner.send(answer)
    await owner.tap("Mikro")
    for answer in BUSINESS_ANSWERS[8:]:
        await owner.send(answer)
    assert "Apa nama produknya" in owner.last


async def fill_product(owner: WhatsAppUser) -> None:
    await play(owner, FOOD_PRODUCT)
    await owner.image(make_image(1280, 960, color="red"))
    await owner.image(make_image(900, 900, color="blue"), mime="image/jpeg", caption="tampak belakang")
    assert "Foto tersimpan: 2" in owner.last and "Ringkasan produk" in owner.last


async def submitted(wa: WA) -> tuple[WhatsAppUser, WhatsAppUser]:
    await add_officer(wa.db, "Budi", "18.03", "whatsapp", OFFICER)
    officer = wa.user(OFFICER, name="Budi Santoso")
    await officer.send("menu")  # an officer who wrote today can be sent free-form messages
    owner = wa.user(OWNER)
    await onboard(owner)
    await fill_product(owner)
    await owner.tap("Kirim ke Dinas")
    return owner, officer


async def test_owner_from_halo_to_submission_and_officer_approves(wa: WA) -> None:
    owner, officer = await submitted(wa)
    assert any("Terkirim" in t for t in owner.texts[-2:])
    images = wa.graph.sent(OFFICER, "image")
    assert len(images) == 2 and len(wa.graph.uploads) == 2
    note = wa.graph.sent(OFFICER, "interactive")[-1]["interactive"]
    assert "Pengajuan produk baru #1" in note["body"]["text"]
    assert [b["reply"]["title"] for b in note["action"]["buttons"]] == ["Setujui", "Minta revisi", "Tolak"]
    await officer.tap("Setujui")
    assert "DISETUJUI" in owner.last
    assert await product_status(wa.db) == "approved"


async def test_revision_with_a_long_list_then_reject(wa: WA) -> None:
    owner, officer = await submitted(wa)
    await officer.tap("Minta revisi")
    await officer.tap("Harga satuan")
    await officer.tap("Lainnya…")           # 28 choices (product and business fields): the list has pages
    await officer.tap("Foto produk")
    await officer.tap("Lainnya…")
    await officer.tap("Lainnya…")
    await officer.tap("Selesai memilih")
    await officer.send("Harga dan foto perlu diperbarui")
    assert "Harga satuan, Foto produk" in owner.last
    await owner.tap("Perbaiki sekarang")
    await owner.send("27rb")
    await owner.tap("Hapus semua foto")
    await owner.image(make_image(800, 800, color="green"))
    assert "Rp27.000" in owner.last and "1 foto" in owner.last
    await owner.tap("Kirim ke Dinas")
    await officer.tap("Tolak")
    await officer.send("Produk tidak sesuai etalase")
    assert "DITOLAK" in owner.last and "tidak sesuai etalase" in owner.last
    assert await product_status(wa.db) == "rejected"


async def test_meta_handshake(wa: WA) -> None:
    params = {"hub.mode": "subscribe", "hub.challenge": "1158201444", "hub.verify_token": VERIFY_TOKEN}
    ok = await wa.client.get("/whatsapp/webhook", params=params)
    assert ok.status_code == 200 and ok.text == "1158201444"
    wrong = await wa.client.get("/whatsapp/webhook", params={**params, "hub.verify_token": "guess"})
    assert wrong.status_code == 403 and "1158201444" not in wrong.text
    assert (await wa.client.get("/whatsapp/webhook", params={**params, "hub.mode": "unsubscribe"})).status_code == 403


async def test_bad_signatures_are_refused_and_store_nothing(wa: WA) -> None:
    owner = wa.user(OWNER)
    payload = owner.message_payload("text", text={"body": "halo"})
    body = json.dumps(payload).encode()
    assert (await owner.post(payload, signature="sha256=" + "0" * 64)).status_code == 401
    assert (await owner.post(payload, signature=None)).status_code == 401
    changed = body.replace(b"halo", b"HALO")
    assert (await owner.post(raw=changed, signature=sign(body, APP_SECRET))).status_code == 401
    assert (await owner.post(payload, signature=sign(body, "another-app-secret"))).status_code == 401
    assert await count_rows(wa.db, InboundEvent) == 0 and wa.graph.sent() == []
    assert (await owner.post(raw=body, signature=sign(body, APP_SECRET))).status_code == 200
    assert await count_rows(wa.db, InboundEvent) == 1


async def test_the_same_wamid_twice_and_at_once_gets_one_reply(wa: WA) -> None:
    owner = wa.user(OWNER)
    payload = owner.message_payload("text", text={"body": "halo"})
    await owner.post(payload)
    await owner.post(payload)
    assert len(owner.texts) == 1
    again = owner.message_payload("text", text={"body": "menu"})
    results = await asyncio.gather(*(owner.post(again) for _ in range(3)))
    assert [r.status_code for r in results] == [200, 200, 200]
    assert len(owner.texts) == 2


async def test_statuses_never_go_backwards(wa: WA) -> None:
    owner = wa.user(OWNER)
    await owner.send("halo")
    wamid = owner.outbox[-1].wamid
    await owner.status(wamid, "read")
    await owner.status(wamid, "delivered")
    await owner.status(wamid, "sent")
    async with wa.db.transaction() as session:
        row = (await session.exec(select(OutboxMessage))).one()
    assert row.provider_message_id == wamid and row.provider_status == "read" and row.status == "sent"
    assert (await owner.status("wamid.unknown", "delivered")).status_code == 200


async def test_voice_notes_and_stickers_get_a_friendly_answer(wa: WA) -> None:
    owner = wa.user(OWNER)
    await owner.send("halo")
    await owner.tap("Saya setuju")
    await owner.voice()
    assert "kirim teks atau foto" in owner.last
    await owner.sticker()
    assert "kirim teks atau foto" in owner.last and "Apa nama usaha" in owner.last


@pytest.mark.parametrize(("n", "kind"), [(3, "button"), (7, "list"), (15, "list")])
async def test_choices_render_as_buttons_list_or_pages(wa: WA, n: int, kind: str) -> None:
    choices = [Choice(f"opt:{i}", f"Pilihan nomor {i}") for i in range(1, n + 1)]
    await wa.user(OWNER).send("halo")  # opens the 24-hour window
    assert wa.channels.whatsapp is not None
    await wa.channels.whatsapp.send(Outbound("whatsapp", OWNER, "Pilih satu:", choices, outbox_id=42))
    interactive = wa.graph.sent(OWNER, "interactive")[-1]["interactive"]
    assert interactive["type"] == kind
    if kind == "button":
        assert [b["reply"]["id"] for b in interactive["action"]["buttons"]] == [c.id for c in choices]
        return
    rows = interactive["action"]["sections"][0]["rows"]
    if n <= 10:
        assert [r["id"] for r in rows] == [c.id for c in choices]
    else:
        assert [r["id"] for r in rows[:9]] == [c.id for c in choices[:9]] and rows[9]["id"] == "more:42:2"
        assert rows[9]["title"] == "Lainnya…"


def test_long_labels_are_cut_cleanly() -> None:
    label = "Pertanian & perkebunan Ok"  # 25 characters
    assert cut(label, 24) == "Pertanian & perkebunan…" and len(cut(label, 24)) <= 24
    assert cut("Supercalifragilisticexpialidocious", 20) == "Supercalifragilisti…"
    twins = [Choice("a", "Keripik Singkong Balado 250 g #1"), Choice("b", "Keripik Singkong Balado 250 g #2"),
             Choice("c", "Keripik Singkong Balado 250 g #3"), Choice("d", "Kopi")]
    rows = buttons_for(twins, "Pilih", "Lainnya…", 1).sections[0].rows  # type: ignore[union-attr]
    titles = [r.title for r in rows]
    assert len(set(titles)) == 4 and all(len(t) <= 24 for t in titles)


async def age_window(db: Database, wa_id: str, hours: int = 25) -> None:
    async with db.transaction() as session:
        contact = (await session.exec(select(Contact).where(Contact.address == wa_id))).one()
        contact.last_inbound_at = utcnow() - timedelta(hours=hours)


async def test_outside_the_window_a_template_goes_first_and_the_message_waits(wa: WA) -> None:
    owner, officer = await submitted(wa)
    await age_window(wa.db, OWNER)
    sent_before = len(owner.messages)
    await officer.tap("Setujui")
    template = owner.messages[sent_before:]
    assert [m["type"] for m in template] == ["template"]
    assert template[0]["template"]["name"] == "hasil_kurasi"
    params = template[0]["template"]["components"][0]["parameters"]
    assert [p["text"] for p in params] == ["Keripik Singkong Balado 250 g", "disetujui"]
    async with wa.db.transaction() as session:
        held = (await session.exec(select(OutboxMessage).where(OutboxMessage.status == "held"))).all()
    assert len(held) == 1
    await owner.send("halo")  # the owner answers the template: the held message comes first
    texts = owner.texts
    assert "DISETUJUI" in texts[-2] and "Selamat datang kembali" in texts[-1]


async def test_re_engagement_error_holds_instead_of_retrying(wa: WA) -> None:
    owner = wa.user(OWNER)
    await owner.send("halo")
    await owner.tap("Saya setuju")
    wa.graph.fail("messages", RE_ENGAGEMENT)
    await owner.send("bantuan")
    attempts = len([c for c in wa.graph.calls if c.kind == "messages"])
    for _ in range(3):
        await wa.deliver_due()
    assert len([c for c in wa.graph.calls if c.kind == "messages"]) == attempts  # not retried
    async with wa.db.transaction() as session:
        rows = (await session.exec(select(OutboxMessage).order_by(OutboxMessage.id))).all()
    assert [r.status for r in rows] == ["sent", "sent", "held"]
    await owner.send("menu")
    assert "Bantuan" in owner.texts[-2] and "Menu utama" in owner.texts[-1]


async def test_a_failed_status_with_131047_holds_the_message_again(wa: WA) -> None:
    owner = wa.user(OWNER)
    await owner.send("halo")
    wamid = owner.outbox[-1].wamid
    await owner.status(wamid, "failed")
    async with wa.db.transaction() as session:
        row = (await session.exec(select(OutboxMessage))).one()
    assert row.status == "held" and row.provider_status == "failed"
    before = len(owner.texts)
    await owner.send("halo")
    assert len(owner.texts) == before + 2  # the consent question again, then the answer to "halo"


async def test_throttling_and_server_errors_are_retried_with_backoff(wa: WA) -> None:
    owner = wa.user(OWNER)
    wa.graph.fail("messages", THROUGHPUT_LIMIT, SERVICE_UNAVAILABLE)
    await owner.send("halo")
    assert owner.texts == []
    async with wa.db.transaction() as session:
        row = (await session.exec(select(OutboxMessage))).one()
        row.next_attempt_at = utcnow()
    await wa.deliver_due()
    async with wa.db.transaction() as session:
        row = (await session.exec(select(OutboxMessage))).one()
        assert row.status == "pending" and row.attempts == 2 and row.next_attempt_at > utcnow()
        row.next_attempt_at = utcnow()
    await wa.deliver_due()
    assert len(owner.texts) == 1 and "Apakah Bapak/Ibu setuju?" in owner.last


async def test_a_permanent_error_is_marked_failed(wa: WA) -> None:
    owner = wa.user(OWNER)
    wa.graph.fail("messages", graph_error(131026))
    await owner.send("halo")
    await wa.deliver_due()
    async with wa.db.transaction() as session:
        row = (await session.exec(select(OutboxMessage))).one()
    assert row.status == "failed" and row.attempts == 1


async def test_files_that_are_not_photos_get_a_clear_answer(wa: WA) -> None:
    owner = wa.user(OWNER)
    await onboard(owner)
    await play(owner, CRAFT_PRODUCT)
    await owner.document(b"%PDF-1.4 daftar harga", "harga.pdf")
    assert "bukan gambar" in owner.last
    await owner.image(make_image(120, 120))
    assert "terlalu kecil" in owner.last


@pytest.fixture
async def both(graph: FakeGraphAPI, database: Database, tmp_path: Path) -> AsyncIterator[tuple[WA, object]]:
    """One bot on Telegram and WhatsApp at once, sharing its database."""
    from tests.conftest import World
    from tests.fake_telegram import TOKEN as TELEGRAM_TOKEN
    from tests.fake_telegram import FakeBotAPI
    from tests.telegram_user import SECRET

    async with FakeBotAPI() as bot_api:
        settings = whatsapp_settings(graph, tmp_path, telegram_bot_token=TELEGRAM_TOKEN,
                                     telegram_api_url=bot_api.url, telegram_webhook_secret=SECRET,
                                     telegram_chat_rate=1000)
        engine = Engine(database, settings)
        channels = Channels(settings, engine)
        assert channels.telegram is not None
        await channels.telegram.start()
        app = create_app(settings, database, channels.routes())
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bot.test") as client:
            yield WA(graph, client, channels, database), World(bot_api, client, channels, engine, database)
        await channels.stop()


async def telegram_owner_at_the_phone_step(tg):  # type: ignore[no-untyped-def]
    on_telegram = tg.user(5551234)
    await on_telegram.send("/start")
    await on_telegram.tap("Saya setuju")
    for answer in BUSINESS_ANSWERS[:10]:
        await on_telegram.send(answer)
    return on_telegram


async def test_an_owner_starts_on_telegram_and_continues_the_draft_on_whatsapp(both) -> None:  # type: ignore[no-untyped-def]
    wa, tg = both
    on_telegram = await telegram_owner_at_the_phone_step(tg)
    contact = on_telegram.message_update("contact")  # Telegram's share-contact button: their own number
    contact["message"]["contact"].update(phone_number=OWNER, user_id=5551234)
    await on_telegram.post(contact)
    await on_telegram.send("Keripik Pisang Coklat")
    await on_telegram.tap("Makanan")

    on_whatsapp = wa.user(OWNER)
    await on_whatsapp.send("halo")
    assert "semua draf dan produk ada di sini juga" in on_whatsapp.last
    await on_whatsapp.tap("Lanjutkan draf")
    assert "Apa merek produknya" in on_whatsapp.last
    await on_whatsapp.send("Mama Ayu")
    async with wa.db.transaction() as session:
        products = (await session.exec(select(Product))).all()
        contacts = (await session.exec(select(Contact).order_by(Contact.id))).all()
    assert [(p.nama_produk, p.merek) for p in products] == [("Keripik Pisang Coklat", "Mama Ayu")]
    assert [c.channel for c in contacts] == ["telegram", "whatsapp"]
    assert contacts[0].owner_id == contacts[1].owner_id is not None


async def test_a_typed_phone_number_does_not_join_two_chats(both) -> None:  # type: ignore[no-untyped-def]
    wa, tg = both
    on_telegram = await telegram_owner_at_the_phone_step(tg)
    await on_telegram.send("0812 3456 7890")  # typed, so nobody vouches that it is theirs
    on_whatsapp = wa.user(OWNER)
    await on_whatsapp.send("halo")
    assert "Apakah Bapak/Ibu setuju?" in on_whatsapp.last  # a stranger until they consent themselves
    async with wa.db.transaction() as session:
        owners = (await session.exec(select(Owner))).all()
        whatsapp_chat = (await session.exec(select(Contact).where(Contact.channel == "whatsapp"))).one()
    assert [o.phone for o in owners] == [None] and whatsapp_chat.owner_id is None


async def test_run_serves_whatsapp(tmp_path: Path, graph: FakeGraphAPI) -> None:
    import os
    import signal
    import sys

    from tests.test_telegram_run import free_port, wait_for, wait_for_http

    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "WHATSAPP_", "PUBLIC_URL"))}
    env.update(DATABASE_URL=f"sqlite:///{tmp_path / 'bot.db'}", MEDIA_DIR=str(tmp_path / "media"),
               WHATSAPP_ACCESS_TOKEN=TOKEN, WHATSAPP_PHONE_NUMBER_ID=PHONE_NUMBER_ID, WHATSAPP_APP_SECRET=APP_SECRET,
               WHATSAPP_VERIFY_TOKEN=VERIFY_TOKEN, WHATSAPP_API_URL=graph.url)
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run", "--port", str(port), cwd=tmp_path, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            await wait_for_http(client)
            params = {"hub.mode": "subscribe", "hub.challenge": "42", "hub.verify_token": VERIFY_TOKEN}
            assert (await client.get("/whatsapp/webhook", params=params)).text == "42"
            owner = WhatsAppUser(client, graph, OWNER)
            assert (await owner.send("halo")).status_code == 200
            await wait_for(lambda: owner.texts)
        assert "Apakah Bapak/Ibu setuju?" in owner.last
    finally:
        process.send_signal(signal.SIGTERM)
        output, _ = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 0, output.decode()


async def test_media_meta_no_longer_has_is_asked_for_again(wa: WA) -> None:
    owner = wa.user(OWNER)
    await onboard(owner)
    await play(owner, CRAFT_PRODUCT)
    payload = owner.message_payload("image_no_caption")
    payload["entry"][0]["changes"][0]["value"]["messages"][0]["image"].update(id="999000111", url=None)
    response = await owner.post(payload)
    assert response.status_code == 200
    await deliver_later(wa.channels.deliverer)  # images get one reply after a moment (bot/conversation/album.py)
    assert "kirim ulang fotonya" in owner.last
