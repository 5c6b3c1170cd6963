"""The fake Graph API answers pywa as Meta does, and WhatsAppUser's webhooks parse into pywa's update types."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from pywa import errors
from pywa_async import WhatsApp
from pywa_async.handlers import CallbackButtonHandler, CallbackSelectionHandler, MessageHandler, MessageStatusHandler
from pywa_async.types import (
    Button,
    CallbackButton,
    CallbackSelection,
    Message,
    MessageStatus,
    Section,
    SectionList,
    SectionRow,
)
from pywa_async.types.templates import BodyText, TemplateLanguage
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from tests.fake_graph import (
    PAIR_RATE_LIMIT,
    RE_ENGAGEMENT,
    TOKEN,
    FakeGraphAPI,
    RedirectTransport,
    graph_error,
)
from tests.whatsapp_user import (
    APP_SECRET,
    FIXTURES,
    PHONE_NUMBER_ID,
    WEBHOOK_PATH,
    WhatsAppUser,
    sign,
)

USER = "6281234567890"


@pytest.fixture
async def graph() -> AsyncIterator[FakeGraphAPI]:
    async with FakeGraphAPI() as fake:
        yield fake


@pytest.fixture
async def wa(graph: FakeGraphAPI) -> AsyncIterator[WhatsApp]:
    async with httpx.AsyncClient(transport=RedirectTransport(graph.url), timeout=5) as session:
        yield WhatsApp(phone_id=PHONE_NUMBER_ID, token=TOKEN, session=session, app_secret=APP_SECRET,
                       verify_token="unused")


async def test_send_text(wa: WhatsApp, graph: FakeGraphAPI) -> None:
    sent = await wa.send_message(to=USER, text="Halo, Sari!")
    assert sent.id.startswith("wamid.")
    assert graph.sent(USER) == [{"messaging_product": "whatsapp", "recipient_type": "individual", "to": USER,
                                 "type": "text", "text": {"body": "Halo, Sari!", "preview_url": False}}]
    assert graph.outbox(USER)[0].wamid == sent.id
    assert graph.calls[0].path == "/v26.0/106540352242922/messages"
    await wa.mark_message_as_read("wamid.incoming1")
    await wa.indicate_typing("wamid.incoming2")
    assert graph.read == ["wamid.incoming1", "wamid.incoming2"] and len(graph.sent()) == 1


async def test_buttons_and_list(wa: WhatsApp, graph: FakeGraphAPI) -> None:
    await wa.send_message(to=USER, text="Lanjut?", header="Pendaftaran", footer="Katalog Lokal",
                          buttons=[Button("Ya", "ya"), Button("Tidak", "tidak")])
    await wa.send_message(to=USER, text="Pilih kategori", buttons=SectionList(
        button_title="Kategori", sections=[Section("Produk", [
            SectionRow("Makanan", "kat:makanan", "Makanan ringan dan berat"), SectionRow("Kerajinan", "kat:kriya")])]))
    buttons, listing = graph.sent(USER, "interactive")
    assert buttons["interactive"]["type"] == "button"
    assert buttons["interactive"]["header"] == {"type": "text", "text": "Pendaftaran"}
    assert buttons["interactive"]["action"]["buttons"][0] == {"type": "reply", "reply": {"id": "ya", "title": "Ya"}}
    assert listing["interactive"]["action"]["button"] == "Kategori"
    assert listing["interactive"]["action"]["sections"][0]["rows"][0] == {
        "id": "kat:makanan", "title": "Makanan", "description": "Makanan ringan dan berat"}
    assert graph.texts(USER) == ["Lanjut?", "Pilih kategori"]


async def test_meta_limits_are_enforced(wa: WhatsApp, graph: FakeGraphAPI) -> None:
    with pytest.raises(errors.InvalidParameter) as caught:
        await wa.send_message(to=USER, text="Terlalu banyak", buttons=[Button(f"B{i}", f"b{i}") for i in range(4)])
    assert caught.value.code == 131009 and caught.value.details == "4 buttons, expected 1..3"
    with pytest.raises(errors.InvalidParameter):
        await wa.send_message(to=USER, text="x", buttons=[Button("Judul tombol yang terlalu panjang", "long")])
    assert graph.sent() == []


async def test_upload_and_send_image(wa: WhatsApp, graph: FakeGraphAPI) -> None:
    media = await wa.upload_media(media=b"\xff\xd8jpeg-bytes", mime_type="image/jpeg", filename="foto.jpg")
    assert media.id.isdigit()
    assert graph.uploads[0].data == b"\xff\xd8jpeg-bytes" and graph.uploads[0].filename == "foto.jpg"
    await wa.send_image(to=USER, image=media.id, caption="Foto produk")
    body = graph.sent(USER, "image")[0]
    assert body["image"] == {"id": media.id, "caption": "Foto produk"}
    assert graph.media_of(body).data == b"\xff\xd8jpeg-bytes"
    await wa.send_image(to=USER, image=b"raw-bytes", mime_type="image/png")  # pywa uploads first, then sends
    assert graph.media_of(graph.sent(USER, "image")[1]).mime_type == "image/png"


async def test_send_template(wa: WhatsApp, graph: FakeGraphAPI) -> None:
    sent = await wa.send_template(to=USER, name="lanjutkan_pendaftaran", language=TemplateLanguage.INDONESIAN,
                                  params=[BodyText.params("Sari")])
    assert sent.status is not None and sent.status.value == "accepted"
    template = graph.sent(USER, "template")[0]["template"]
    assert template["name"] == "lanjutkan_pendaftaran" and template["language"] == {"code": "id"}
    assert template["components"][0]["parameters"] == [{"type": "text", "text": "Sari"}]


async def test_media_url_and_download(wa: WhatsApp, graph: FakeGraphAPI, tmp_path: Path) -> None:
    graph.add_media("1037543291543636", b"photo-bytes", "image/jpeg")
    url = await wa.get_media_url("1037543291543636")
    assert url.url == f"{graph.url}/media-download/1037543291543636"
    assert url.mime_type == "image/jpeg" and url.file_size == len(b"photo-bytes")
    assert await wa.get_media_bytes(url.url) == b"photo-bytes"
    path = await wa.download_media(url=url.url, path=tmp_path, filename="foto.jpg")
    assert path.read_bytes() == b"photo-bytes"
    async with httpx.AsyncClient() as anonymous:  # the download URL needs the token, as lookaside does
        assert (await anonymous.get(url.url)).status_code == 401
    with pytest.raises(errors.WhatsAppError) as caught:
        await wa.get_media_url("999")
    assert caught.value.code == 100 and caught.value.subcode == 33


@pytest.mark.parametrize(("failure", "exception"), [
    (RE_ENGAGEMENT, errors.ReEngagementMessage),
    (graph_error(130429, status=429), errors.RateLimitHit),
    (PAIR_RATE_LIMIT, errors.TooManyMessages),
    (graph_error(131000), errors.UnknownError),
])
async def test_failures_raise_pywa_errors(wa: WhatsApp, graph: FakeGraphAPI, failure: tuple[int, dict[str, Any]],
                                          exception: type[errors.WhatsAppError]) -> None:
    graph.fail("messages", failure)
    with pytest.raises(exception) as caught:
        await wa.send_message(to=USER, text="halo")
    assert caught.value.status_code == failure[0]
    assert caught.value.code == failure[1]["code"] and caught.value.fbtrace_id
    await wa.send_message(to=USER, text="halo lagi")  # one failure queued, one consumed
    assert graph.texts(USER) == ["halo lagi"]


async def test_server_errors_and_bad_token(graph: FakeGraphAPI, wa: WhatsApp) -> None:
    graph.fail("messages", graph_error(2, status=503, transient=True), (502, None))
    with pytest.raises(errors.WhatsAppError) as unavailable:
        await wa.send_message(to=USER, text="halo")
    assert type(unavailable.value) is errors.WhatsAppError and unavailable.value.is_transient
    with pytest.raises(errors.WhatsAppError) as gateway:
        await wa.send_message(to=USER, text="halo")
    assert gateway.value.code == 502 and gateway.value.status_code == 502
    async with httpx.AsyncClient(transport=RedirectTransport(graph.url)) as session:
        stranger = WhatsApp(phone_id=PHONE_NUMBER_ID, token="wrong", session=session)
        with pytest.raises(errors.ExpiredAccessToken):
            await stranger.send_message(to=USER, text="halo")


# --- WhatsAppUser: signed webhooks that pywa turns into its update types ------------------------------


def webhook_app(wa: WhatsApp) -> Starlette:
    """What a bot's webhook does with pywa and no pywa server: validate the signature, then dispatch."""

    async def receive(request: Request) -> PlainTextResponse:
        body = await request.body()
        if rejected := await wa.webhook_update_validator(body, request.headers.get("X-Hub-Signature-256")):
            return PlainTextResponse(*rejected)
        return PlainTextResponse(*await wa.webhook_update_handler(body))

    return Starlette(routes=[Route(WEBHOOK_PATH, receive, methods=["POST"])])


@pytest.fixture
async def chat(wa: WhatsApp, graph: FakeGraphAPI) -> AsyncIterator[tuple[WhatsAppUser, list[Any]]]:
    updates: list[Any] = []

    async def on_message(client: WhatsApp, msg: Message) -> None:
        updates.append(msg)
        if msg.text == "menu":
            await msg.reply("Mau lanjut?", buttons=[Button("Ya", "ya"), Button("Tidak", "tidak")])
        elif msg.text == "kategori":
            await msg.reply("Pilih kategori", buttons=SectionList("Kategori", [Section("Produk", [
                SectionRow("Makanan", "kat:makanan", "Makanan ringan"), SectionRow("Kerajinan", "kat:kriya")])]))
        elif msg.image or msg.document:
            updates.append(await (msg.image or msg.document).get_bytes())

    async def record(client: WhatsApp, update: Any) -> None:
        updates.append(update)

    wa.add_handlers(MessageHandler(on_message), CallbackButtonHandler(record), CallbackSelectionHandler(record),
                    MessageStatusHandler(record))
    transport = httpx.ASGITransport(app=webhook_app(wa))
    async with httpx.AsyncClient(transport=transport, base_url="http://bot.test") as client:
        yield WhatsAppUser(client, graph, USER, APP_SECRET, PHONE_NUMBER_ID), updates


async def test_user_text_tap_and_list(chat: tuple[WhatsAppUser, list[Any]]) -> None:
    user, updates = chat
    assert (await user.send("menu")).status_code == 200
    assert isinstance(updates[0], Message) and updates[0].text == "menu"
    assert updates[0].from_user.wa_id == USER and updates[0].from_user.bsuid == user.user_id
    assert user.messages[-1]["recipient"] == user.user_id  # pywa replies to the BSUID; the fake maps it back
    assert user.last == "Mau lanjut?"
    await user.tap("Ya")
    assert isinstance(updates[-1], CallbackButton) and updates[-1].data == "ya"
    assert updates[-1].reply_to_message is not None and updates[-1].reply_to_message.id == user.outbox[-1].wamid
    await user.send("kategori")
    await user.tap("Makanan")
    assert isinstance(updates[-1], CallbackSelection)
    assert (updates[-1].data, updates[-1].description) == ("kat:makanan", "Makanan ringan")
    with pytest.raises(AssertionError, match="Makanan"):
        await user.tap("Minuman")


async def test_user_media(chat: tuple[WhatsAppUser, list[Any]]) -> None:
    user, updates = chat
    await user.image(b"jpeg-bytes", caption="Keripik")
    assert updates[0].image.caption == "Keripik" and updates[1] == b"jpeg-bytes"
    await user.image(b"more-bytes")
    assert updates[2].image.caption is None and updates[3] == b"more-bytes"
    await user.document(b"%PDF-1.4", "harga.pdf")
    assert updates[4].document.filename == "harga.pdf" and updates[5] == b"%PDF-1.4"
    await user.voice()
    await user.sticker()
    await user.location(-7.79, 110.37, "Toko Sari")
    await user.share_contact()
    await user.unsupported()
    kinds = [u.type.value for u in updates[6:]]
    assert kinds == ["audio", "sticker", "location", "contacts", "unsupported"]
    assert updates[6].audio.mime_type.startswith("audio/ogg") and updates[8].location.name == "Toko Sari"
    assert isinstance(updates[10].error, errors.UnsupportedMessageType)


async def test_user_statuses(chat: tuple[WhatsAppUser, list[Any]], wa: WhatsApp) -> None:
    user, updates = chat
    sent = await wa.send_message(to=USER, text="halo")
    for status in ("sent", "delivered", "read"):
        await user.status(sent.id, status)
    assert [(u.id, u.status.value) for u in updates] == [(sent.id, "sent"), (sent.id, "delivered"), (sent.id, "read")]
    # Meta leaves `contacts` out of failed statuses, and pywa 4.5 cannot build a MessageStatus without them:
    assert (await user.status(sent.id, "failed")).status_code == 200
    assert len(updates) == 3
    await user.status(sent.id, "failed", contacts=True)
    assert isinstance(updates[3], MessageStatus) and isinstance(updates[3].error, errors.ReEngagementMessage)


async def test_signature(chat: tuple[WhatsAppUser, list[Any]]) -> None:
    user, updates = chat
    payload = user.message_payload("text", text={"body": "halo"})
    body = json.dumps(payload).encode()
    assert sign(body, APP_SECRET) == "sha256=" + hmac.new(APP_SECRET.encode(), body, hashlib.sha256).hexdigest()
    assert (await user.post(payload, signature="sha256=" + "0" * 64)).status_code == 403
    assert (await user.post(payload, signature=None)).status_code == 401
    assert (await user.post(raw=body + b" ", signature=sign(body, APP_SECRET))).status_code == 403
    assert updates == []
    assert (await user.post(raw=body)).status_code == 200
    assert (await user.post(raw=body)).status_code == 200  # Meta's retry of the same bytes: pywa skips it
    assert len(updates) == 1


def test_fixtures_are_meta_envelopes() -> None:
    names = sorted(path.stem for path in FIXTURES.glob("*.json"))
    assert names == sorted(["text", "button_reply", "list_reply", "image", "image_no_caption", "document",
                            "location", "contacts", "audio", "sticker", "unsupported", "unknown",
                            "statuses_sent", "statuses_delivered", "statuses_read", "statuses_failed"])
    for name in names:
        payload = json.loads((FIXTURES / f"{name}.json").read_text())
        assert payload["object"] == "whatsapp_business_account"
        change = payload["entry"][0]["changes"][0]
        assert change["field"] == "messages" and change["value"]["messaging_product"] == "whatsapp"
        assert ("statuses" in change["value"]) == name.startswith("statuses_")
