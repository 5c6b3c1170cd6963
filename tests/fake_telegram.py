"""A fake Telegram Bot API server on loopback: records every call, serves getFile and file downloads.

It answers in the shapes the real Bot API uses, so python-telegram-bot parses them as it would in production.
"""

from __future__ import annotations

import asyncio
import html
import itertools
import json
import re
import time
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.loopback import LoopbackServer

TOKEN = "123456:TEST-token"
BOT_USER = {"id": 123456, "is_bot": True, "first_name": "UMKM Bot", "username": "umkm_test_bot",
            "can_join_groups": False, "can_read_all_group_messages": False, "supports_inline_queries": False}


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    files: dict[str, bytes] = field(default_factory=dict)


class FakeBotAPI:
    """`calls` records every Bot API call; `fail(method, ...)` makes the next calls of a method fail."""

    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.files: dict[str, tuple[str, bytes]] = {}  # file_id -> (file_path, bytes)
        self.updates: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.failures: dict[str, list[tuple[int, dict[str, Any] | None]]] = {}
        self._ids = itertools.count(1000)
        self.app = Starlette(routes=[
            Route("/bot{token}/{method}", self.api, methods=["GET", "POST"]),
            Route("/file/bot{token}/{path:path}", self.download),
        ])
        self.url = ""

    # --- test controls ---------------------------------------------------------------------------------

    def add_file(self, file_id: str, data: bytes, path: str | None = None) -> None:
        self.files[file_id] = (path or f"photos/{file_id}.jpg", data)

    def fail(self, method: str, *responses: tuple[int, dict[str, Any] | None]) -> None:
        """The next calls of `method` answer these (status, parameters) errors, in order; status 0 succeeds."""
        self.failures.setdefault(method, []).extend(responses)

    def sent(self, method: str | None = None, chat_id: int | None = None) -> list[Call]:
        return [c for c in self.calls if (method is None or c.method == method)
                and (chat_id is None or str(c.params.get("chat_id")) == str(chat_id))]

    def texts(self, chat_id: int) -> list[str]:
        """What the person reads: the text with Telegram's HTML markup applied (tags gone, entities decoded)."""
        return [visible_text(c.params) for c in self.sent("sendMessage", chat_id)]

    # --- server ----------------------------------------------------------------------------------------

    async def __aenter__(self) -> FakeBotAPI:
        self._loopback = LoopbackServer(self.app)
        await self._loopback.start()
        self.url = self._loopback.url
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._loopback.stop()

    async def api(self, request: Request) -> Response:
        method = request.path_params["method"]
        if request.path_params["token"] != TOKEN:
            return JSONResponse({"ok": False, "error_code": 401, "description": "Unauthorized"}, 401)
        params, files = await _read_params(request)
        self.calls.append(Call(method, params, files))
        queued = self.failures.get(method)
        status = queued.pop(0)[0] if queued and queued[0][0] == 0 else None  # 0: this call succeeds
        if queued and status is None:
            status, parameters = queued.pop(0)
            body: dict[str, Any] = {"ok": False, "error_code": status, "description": f"Error {status}"}
            if parameters:
                body["parameters"] = parameters
            return JSONResponse(body, status)
        if method == "sendMessage" and visible_text(params) is None:
            return JSONResponse({"ok": False, "error_code": 400,
                                 "description": "Bad Request: can't parse entities"}, 400)
        result = await self._result(method, params)
        if result is None:
            return JSONResponse({"ok": False, "error_code": 404, "description": "Not Found"}, 404)
        return JSONResponse({"ok": True, "result": result})

    async def download(self, request: Request) -> Response:
        path = request.path_params["path"]
        for file_path, data in self.files.values():
            if file_path == path:
                return Response(data, media_type="application/octet-stream")
        return Response(status_code=404)

    async def _result(self, method: str, params: dict[str, Any]) -> Any:
        if method == "getMe":
            return BOT_USER
        if method in ("answerCallbackQuery", "setMyCommands", "setWebhook", "deleteWebhook"):
            return True
        if method == "getFile":
            file_path, data = self.files[params["file_id"]]
            return {"file_id": params["file_id"], "file_unique_id": f"u{params['file_id']}",
                    "file_size": len(data), "file_path": file_path}
        if method == "getUpdates":
            try:
                first = await asyncio.wait_for(self.updates.get(), timeout=min(float(params.get("timeout", 0)), 1))
            except TimeoutError:
                return []
            batch = [first]
            while not self.updates.empty():
                batch.append(self.updates.get_nowait())
            return batch
        if method == "sendMessage":
            return self._message(params, text=visible_text(params))
        if method == "sendPhoto":
            return self._message(params, photo=_photo_sizes())
        if method == "sendMediaGroup":
            media = params["media"]
            return [self._message(params, photo=_photo_sizes(), media_group_id="mg1") for _ in media]
        return None

    def _message(self, params: dict[str, Any], **content: Any) -> dict[str, Any]:
        return {"message_id": next(self._ids), "date": int(time.time()), "from": BOT_USER,
                "chat": {"id": int(params["chat_id"]), "type": "private"}, **content}


def _photo_sizes() -> list[dict[str, Any]]:
    return [{"file_id": "sent-small", "file_unique_id": "s1", "width": 90, "height": 90, "file_size": 900},
            {"file_id": "sent-large", "file_unique_id": "s2", "width": 800, "height": 800, "file_size": 9000}]


async def _read_params(request: Request) -> tuple[dict[str, Any], dict[str, bytes]]:
    """Bot API parameters as python-telegram-bot sends them: JSON, form fields or multipart with files."""
    if request.headers.get("content-type", "").startswith("application/json"):
        return await request.json(), {}
    form = await request.form()
    params: dict[str, Any] = {}
    files: dict[str, bytes] = {}
    for key, value in form.multi_items():
        if hasattr(value, "read"):
            files[key] = await value.read()
            continue
        try:
            params[key] = json.loads(value)
        except (TypeError, ValueError):
            params[key] = value
    await form.close()
    return params, files


_TAG = re.compile(r"<(/?)([a-z-]+)(?:\s[^<>]*)?>|([<>])")
ALLOWED_TAGS = {"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "code", "pre", "a", "tg-spoiler",
                "blockquote", "span"}


def visible_text(params: dict[str, Any]) -> str | None:  # type: ignore[return]
    """The text as Telegram shows it; None when its HTML would be refused (an unknown or unclosed tag)."""
    text = str(params.get("text", ""))
    if params.get("parse_mode") != "HTML":
        return text
    stack: list[str] = []
    for match in _TAG.finditer(text):
        closing, tag, stray = match.groups()
        if stray or tag not in ALLOWED_TAGS:
            return None
        if closing:
            if not stack or stack.pop() != tag:
                return None
        else:
            stack.append(tag)
    if stack or re.search(r"&(?!(?:lt|gt|amp|quot|#\d+);)", text):
        return None
    return html.unescape(_TAG.sub("", text))
