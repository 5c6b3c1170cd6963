"""A person on Telegram, as the fake Bot API sees them: updates in Telegram's shapes, posted to the webhook."""

from __future__ import annotations

import copy
import itertools
import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx

from tests.fake_telegram import Call, FakeBotAPI

FIXTURES = Path(__file__).parent / "fixtures" / "telegram"
SECRET = "webhook-secret-for-tests"
_update_ids = itertools.count(200_000_000)
_message_ids = itertools.count(5000)


def fixture(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / f"{name}.json").read_text())


class TelegramUser:
    """Types, taps inline buttons and sends photos in one private chat; each action is one webhook call."""

    def __init__(self, client: httpx.AsyncClient, api: FakeBotAPI, chat_id: int, first_name: str = "Sari") -> None:
        self.client = client
        self.api = api
        self.chat_id = chat_id
        self.user = {"id": chat_id, "is_bot": False, "first_name": first_name, "language_code": "id"}
        self.chat = {"id": chat_id, "first_name": first_name, "type": "private"}
        # Lets time pass after an album so its one reply (held back a moment for more photos) goes out.
        self.after_album: Callable[[], Awaitable[object]] | None = None

    def message_update(self, fixture_name: str, **content: Any) -> dict[str, Any]:
        update = fixture(fixture_name)
        message = update["message"]
        message.update(message_id=next(_message_ids), chat=dict(self.chat), **content)
        message["from"] = dict(self.user)
        update["update_id"] = next(_update_ids)
        return update

    async def post(self, update: dict[str, Any], secret: str | None = SECRET) -> httpx.Response:
        headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret is not None else {}
        response = await self.client.post("/telegram/webhook", json=update, headers=headers)
        if response.status_code == 200 and response.content:  # a method call as the answer: Telegram runs it
            params = dict(response.json())
            self.api.calls.append(Call(params.pop("method"), params))
        return response

    async def send(self, text: str) -> httpx.Response:
        update = self.message_update("text_message", text=text)
        if text.startswith("/"):
            update["message"]["entities"] = [{"offset": 0, "length": len(text.split()[0]), "type": "bot_command"}]
        return await self.post(update)

    async def tap(self, label: str) -> httpx.Response:
        """Taps a button of the newest message of ours that has an inline keyboard."""
        for call in reversed(self.api.sent("sendMessage", self.chat_id)):
            markup = call.params.get("reply_markup") or {}
            rows = markup.get("inline_keyboard")
            if not rows:
                continue
            for row in rows:
                for button in row:
                    if button["text"] == label:
                        return await self.press(button["callback_data"], call.params["text"])
            raise AssertionError(f"no button {label!r} in {[b['text'] for r in rows for b in r]}")
        raise AssertionError("no inline keyboard sent to this chat")

    async def press(self, data: str, message_text: str = "…") -> httpx.Response:
        update = copy.deepcopy(fixture("callback_query"))
        update["update_id"] = next(_update_ids)
        query = update["callback_query"]
        query.update(id=str(next(_message_ids)), data=data)
        query["from"] = dict(self.user)
        query["message"].update(chat=dict(self.chat), text=message_text)
        return await self.post(update)

    async def photos(self, *images: bytes, album: bool = True, group: str | None = None) -> list[httpx.Response]:
        """Sends photos as Telegram does: one update per photo, sharing a media_group_id when an album."""
        responses = []
        group = group or str(next(_message_ids))
        for image in images:
            file_id = f"photo-{next(_message_ids)}"
            self.api.add_file(file_id, image)
            sizes = fixture("photo_album_item")["message"]["photo"]
            sizes[0]["file_id"] = f"{file_id}-thumb"
            sizes[1]["file_id"] = f"{file_id}-medium"
            sizes[-1].update(file_id=file_id, file_size=len(image))
            update = self.message_update("photo_album_item", photo=sizes)
            if not album:
                update["message"].pop("media_group_id")
            else:
                update["message"]["media_group_id"] = group
            responses.append(await self.post(update))
        if album and self.after_album is not None:
            await self.after_album()
        return responses

    async def document(self, data: bytes, file_name: str, mime_type: str,
                       declared_size: int | None = None) -> httpx.Response:
        file_id = f"doc-{next(_message_ids)}"
        self.api.add_file(file_id, data, f"documents/{file_name}")
        document = {"file_name": file_name, "mime_type": mime_type, "file_id": file_id,
                    "file_unique_id": f"u{file_id}", "file_size": declared_size or len(data)}
        return await self.post(self.message_update("document", document=document))

    @property
    def texts(self) -> list[str]:
        return self.api.texts(self.chat_id)

    @property
    def last(self) -> str:
        texts = self.texts
        return texts[-1] if texts else ""
