"""A person on WhatsApp, as Meta's webhook shows them: payloads in Meta's shapes, signed, posted to the webhook."""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import itertools
import json
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx

from tests.fake_graph import FakeGraphAPI, Sent

FIXTURES = Path(__file__).parent / "fixtures" / "whatsapp"
APP_SECRET = "whatsapp-app-secret-for-tests"
VERIFY_TOKEN = "whatsapp-verify-token-for-tests"
PHONE_NUMBER_ID = "106540352242922"
DISPLAY_PHONE_NUMBER = "6281100000001"
WABA_ID = "102290129340398"
WEBHOOK_PATH = "/whatsapp/webhook"
SIGNED = "<signed>"  # `post(signature=SIGNED)`: sign the body with the app secret (the default)
_ids = itertools.count(1)

OGG_VOICE = b"OggS\x00\x02" + bytes(58) + b"OpusHead\x01\x01"
WEBP_STICKER = b"RIFF\x24\x00\x00\x00WEBPVP8 " + bytes(24)


def fixture(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / f"{name}.json").read_text())


def sign(body: bytes, app_secret: str) -> str:
    """The X-Hub-Signature-256 header Meta sends: HMAC-SHA256 of the raw body with the app secret."""
    return "sha256=" + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()


def new_wamid(wa_id: str) -> str:
    raw = f"{len(wa_id):02d}{wa_id}-in-{next(_ids):012d}-{time.time_ns()}".encode()
    return "wamid." + base64.b64encode(b"HBg" + raw).decode()


def bsuid_for(wa_id: str) -> str:
    """A stable, made-up business-scoped user ID (``ID.<digits>``) for a phone number."""
    return "ID." + str(int(hashlib.sha256(wa_id.encode()).hexdigest(), 16))[:19]


class WhatsAppUser:
    """Types, taps buttons and list rows, sends media; each action is one signed webhook call.

    Replies are read back from the fake Graph API: `texts`, `last`, `messages` (bodies), `outbox` (with wamids).
    """

    def __init__(self, client: httpx.AsyncClient, api: FakeGraphAPI, wa_id: str, app_secret: str = APP_SECRET,
                 phone_number_id: str = PHONE_NUMBER_ID, *, name: str = "Sari Wulandari",
                 user_id: str | None = None, path: str = WEBHOOK_PATH) -> None:
        self.client = client
        self.api = api
        self.wa_id = wa_id
        self.app_secret = app_secret
        self.phone_number_id = phone_number_id
        self.name = name
        self.user_id = user_id or bsuid_for(wa_id)
        self.path = path
        api.link(wa_id, self.user_id)
        # Lets time pass after images so their one reply (held back a moment for more) goes out.
        self.after_media: Callable[[], Awaitable[object]] | None = None

    # --- payloads --------------------------------------------------------------------------------------

    def contact(self) -> dict[str, Any]:
        return {"profile": {"name": self.name}, "wa_id": self.wa_id, "user_id": self.user_id}

    def _envelope(self, payload: dict[str, Any]) -> dict[str, Any]:
        entry = payload["entry"][0]
        entry["id"] = WABA_ID
        value = entry["changes"][0]["value"]
        value["metadata"] = {"display_phone_number": DISPLAY_PHONE_NUMBER, "phone_number_id": self.phone_number_id}
        if "contacts" in value:
            value["contacts"] = [self.contact()]
        return payload

    def message_payload(self, fixture_name: str, **content: Any) -> dict[str, Any]:
        """A fixture with this user as sender, a fresh wamid and timestamp; `content` replaces message fields."""
        payload = self._envelope(fixture(fixture_name))
        message = payload["entry"][0]["changes"][0]["value"]["messages"][0]
        message.update({"from": self.wa_id, "id": new_wamid(self.wa_id), "timestamp": str(int(time.time()))},
                       **content)
        return payload

    def status_payload(self, wamid: str, status: str, errors: list[dict[str, Any]] | None = None,
                       *, contacts: bool | None = None) -> dict[str, Any]:
        """statuses_<status> fixture for `wamid`. Meta leaves `contacts` out of failed statuses (contacts=None)."""
        payload = self._envelope(fixture(f"statuses_{status}"))
        value = payload["entry"][0]["changes"][0]["value"]
        entry = value["statuses"][0]
        entry.update(id=wamid, recipient_id=self.wa_id, timestamp=str(int(time.time())))
        if errors is not None:
            entry["errors"] = errors
        if contacts is None:
            contacts = status != "failed"
        if contacts:
            value = {"messaging_product": "whatsapp", "metadata": value["metadata"], "contacts": [self.contact()],
                     "statuses": value["statuses"]}
            entry["recipient_user_id"] = self.user_id
        else:
            value.pop("contacts", None)
            entry.pop("recipient_user_id", None)
        payload["entry"][0]["changes"][0]["value"] = value
        return payload

    # --- actions ---------------------------------------------------------------------------------------

    async def post(self, payload: dict[str, Any] | None = None, *, signature: str | None = SIGNED,
                   raw: bytes | None = None) -> httpx.Response:
        """POSTs the payload (or `raw` bytes) as Meta does; signature=None sends no X-Hub-Signature-256 header."""
        body = raw if raw is not None else json.dumps(payload, ensure_ascii=False).encode()
        headers = {"Content-Type": "application/json", "User-Agent": "facebookexternalua"}
        if signature is not None:
            headers["X-Hub-Signature-256"] = sign(body, self.app_secret) if signature == SIGNED else signature
        return await self.client.post(self.path, content=body, headers=headers)

    async def send(self, text: str) -> httpx.Response:
        return await self.post(self.message_payload("text", text={"body": text}))

    async def tap(self, title: str) -> httpx.Response:
        """Taps a reply button or list row titled `title` in the newest interactive message sent to this user."""
        for sent in reversed(self.outbox):
            if sent.type != "interactive":
                continue
            interactive = sent.body["interactive"]
            action = interactive.get("action") or {}
            if interactive["type"] == "button":
                for button in action.get("buttons") or []:
                    if button["reply"]["title"] == title:
                        return await self.press(button["reply"]["id"], title, context=sent.wamid)
                offered = [b["reply"]["title"] for b in action.get("buttons") or []]
            elif interactive["type"] == "list":
                rows = [row for section in action.get("sections") or [] for row in section.get("rows") or []]
                for row in rows:
                    if row["title"] == title:
                        return await self.press(row["id"], title, "list", context=sent.wamid,
                                                description=row.get("description"))
                offered = [row["title"] for row in rows]
            else:
                continue
            raise AssertionError(f"no button or row {title!r} in the newest interactive message: {offered}")
        raise AssertionError("no interactive message sent to this user")

    async def press(self, id: str, title: str, kind: str = "button", *, context: str | None = None,
                    description: str | None = None) -> httpx.Response:
        """A button_reply (kind="button") or list_reply (kind="list") with this id and title."""
        if context is None:
            interactive = [m for m in self.outbox if m.type == "interactive"]
            context = interactive[-1].wamid if interactive else new_wamid(self.wa_id)
        if kind == "button":
            reply: dict[str, Any] = {"type": "button_reply", "button_reply": {"id": id, "title": title}}
            name = "button_reply"
        elif kind == "list":
            row = {"id": id, "title": title, **({"description": description} if description else {})}
            reply = {"type": "list_reply", "list_reply": row}
            name = "list_reply"
        else:
            raise ValueError(f"kind must be 'button' or 'list', not {kind!r}")
        payload = self.message_payload(name, interactive=reply,
                                       context={"from": DISPLAY_PHONE_NUMBER, "id": context})
        return await self.post(payload)

    def _media(self, data: bytes, mime: str, filename: str | None = None) -> dict[str, Any]:
        media = self.api.add_media(self.api.new_media_id(), data, mime, filename)
        return {"mime_type": mime, "sha256": base64.b64encode(hashlib.sha256(data).digest()).decode(),
                "id": media.media_id, "url": f"{self.api.url}/media-download/{media.media_id}"}

    async def image(self, data: bytes, mime: str = "image/jpeg", caption: str | None = None, *,
                    wait: bool = True) -> httpx.Response:
        """Sends one image; `wait=False` sends the next one before the reply's window has passed."""
        image = self._media(data, mime)
        if caption is not None:
            image = {"caption": caption, **image}
        response = await self.post(self.message_payload("image" if caption is not None else "image_no_caption",
                                                        image=image))
        if wait:
            await self._let_time_pass()
        return response

    async def images(self, *images: bytes) -> list[httpx.Response]:
        """Several images at once, as a person picking many in the gallery sends them."""
        responses = [await self.image(data, wait=False) for data in images]
        await self._let_time_pass()
        return responses

    async def document(self, data: bytes, filename: str, mime: str = "application/pdf",
                       caption: str | None = None) -> httpx.Response:
        document = {**({"caption": caption} if caption is not None else {}), "filename": filename,
                    **self._media(data, mime, filename)}
        response = await self.post(self.message_payload("document", document=document))
        await self._let_time_pass()
        return response

    async def _let_time_pass(self) -> None:
        if self.after_media is not None:
            await self.after_media()

    async def voice(self, data: bytes = OGG_VOICE) -> httpx.Response:
        audio = {**self._media(data, "audio/ogg; codecs=opus"), "voice": True}
        return await self.post(self.message_payload("audio", audio=audio))

    async def sticker(self, data: bytes = WEBP_STICKER, animated: bool = False) -> httpx.Response:
        sticker = {**self._media(data, "image/webp"), "animated": animated}
        return await self.post(self.message_payload("sticker", sticker=sticker))

    async def location(self, latitude: float, longitude: float, name: str | None = None,
                       address: str | None = None) -> httpx.Response:
        location: dict[str, Any] = {"latitude": latitude, "longitude": longitude}
        location.update({k: v for k, v in (("name", name), ("address", address)) if v is not None})
        return await self.post(self.message_payload("location", location=location))

    async def share_contact(self, formatted_name: str = "Budi Santoso",
                            phone: str = "+62 812-9876-5432") -> httpx.Response:
        card = copy.deepcopy(fixture("contacts")["entry"][0]["changes"][0]["value"]["messages"][0]["contacts"])
        card[0]["name"]["formatted_name"] = formatted_name
        card[0]["phones"][0]["phone"] = phone
        return await self.post(self.message_payload("contacts", contacts=card))

    async def unsupported(self) -> httpx.Response:
        return await self.post(self.message_payload("unsupported"))

    async def status(self, wamid: str, status: str, errors: list[dict[str, Any]] | None = None,
                     *, contacts: bool | None = None) -> httpx.Response:
        """A sent/delivered/read/failed status for a message the bot sent (failed defaults to error 131047)."""
        return await self.post(self.status_payload(wamid, status, errors, contacts=contacts))

    # --- what the bot sent this user -------------------------------------------------------------------

    @property
    def outbox(self) -> list[Sent]:
        return self.api.outbox(self.wa_id)

    @property
    def messages(self) -> list[dict[str, Any]]:
        return self.api.sent(self.wa_id)

    @property
    def texts(self) -> list[str]:
        return self.api.texts(self.wa_id)

    @property
    def last(self) -> str:
        texts = self.texts
        return texts[-1] if texts else ""
