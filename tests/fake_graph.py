"""A fake WhatsApp Cloud API (Graph API) on loopback: records every call, serves media, fails on demand.

It answers in the shapes Meta uses, so pywa parses them as it would in production:

- ``POST /{version}/{phone_id}/messages``: a message (or a read receipt / typing indicator, which answer
  ``{"success": true}``); answers ``{"messaging_product", "contacts": [{"input", "wa_id"}], "messages": [{"id"}]}``.
- ``POST /{version}/{phone_id}/media``: a multipart upload (``file``, ``type``, ``messaging_product``);
  answers ``{"id"}``.
- ``GET /{version}/{media_id}``: the media URL object; media the fake does not know answers Graph's error 100/33.
- ``GET /media-download/{media_id}``: the bytes (in production a lookaside.fbsbx.com URL); needs the Bearer token.

Every Graph call needs ``Authorization: Bearer <token>``. Message bodies are checked against Meta's limits (button
and row counts and lengths, …) and answered with error 131009 as Meta does, unless ``strict=False``.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import secrets
from dataclasses import dataclass, field
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.loopback import LoopbackServer

TOKEN = "test-wa-token"
GRAPH_HOST = "graph.facebook.com"

# Graph errors as Meta words them: code -> (HTTP status, message, details, type). Details go in error_data.
KNOWN_ERRORS: dict[int, tuple[int, str, str | None, str]] = {
    1: (500, "An unknown error occurred", None, "OAuthException"),
    2: (503, "Service temporarily unavailable", None, "OAuthException"),
    4: (400, "(#4) Application request limit reached", None, "OAuthException"),
    100: (400, "(#100) Invalid parameter", None, "OAuthException"),
    190: (401, "Invalid OAuth access token - Cannot parse access token", None, "OAuthException"),
    130429: (400, "(#130429) Rate limit hit", "Cloud API message throughput has been reached.", "OAuthException"),
    131000: (500, "(#131000) Something went wrong", "Message failed to send due to an unknown error.",
             "OAuthException"),
    131009: (400, "(#131009) Parameter value is not valid", None, "OAuthException"),
    131026: (400, "(#131026) Message undeliverable", "Message Undeliverable.", "OAuthException"),
    131047: (400, "(#131047) Re-engagement message",
             "Message failed to send because more than 24 hours have passed since the customer last replied to "
             "this number.", "OAuthException"),
    131053: (400, "(#131053) Media upload error", "Unable to upload the media used in the message.",
             "OAuthException"),
    131056: (400, "(#131056) (Business Account, Consumer Account) pair rate limit hit",
             "Message failed to send because there were too many messages sent from this phone number to the "
             "same phone number in a short period of time.", "OAuthException"),
}


def fbtrace_id() -> str:
    return base64.urlsafe_b64encode(secrets.token_bytes(16)).decode().rstrip("=")[:23]


def graph_error(code: int, message: str | None = None, *, status: int | None = None, details: str | None = None,
                subcode: int | None = None, type: str | None = None,
                transient: bool | None = None) -> tuple[int, dict[str, Any]]:
    """(HTTP status, error dict) in Graph's shape, for `FakeGraphAPI.fail`; known codes get Meta's wording."""
    known_status, known_message, known_details, known_type = KNOWN_ERRORS.get(
        code, (400, f"(#{code}) Error", None, "OAuthException"))
    error: dict[str, Any] = {"message": message or known_message, "type": type or known_type, "code": code}
    if subcode is not None:
        error["error_subcode"] = subcode
    if transient is not None:
        error["is_transient"] = transient
    if details or known_details:
        error["error_data"] = {"messaging_product": "whatsapp", "details": details or known_details}
    error["fbtrace_id"] = fbtrace_id()
    return status or known_status, error


# Ready-made failures (HTTP status, error) for `fail("messages", ...)`.
RE_ENGAGEMENT = graph_error(131047)
THROUGHPUT_LIMIT = graph_error(130429)
PAIR_RATE_LIMIT = graph_error(131056)
UNKNOWN_ERROR = graph_error(131000)
SERVICE_UNAVAILABLE = graph_error(2, status=503, transient=True)


@dataclass
class Call:
    kind: str  # messages | read | media | media_url | download
    method: str
    path: str
    body: dict[str, Any] = field(default_factory=dict)
    files: dict[str, tuple[str, bytes, str]] = field(default_factory=dict)  # name -> (filename, data, mime)
    status: int = 200


@dataclass
class Sent:
    """A message the bot sent: its wamid, the recipient's wa_id (BSUIDs are resolved) and the JSON body."""

    wamid: str
    to: str
    body: dict[str, Any]

    @property
    def type(self) -> str:
        return str(self.body.get("type"))


@dataclass
class Media:
    media_id: str
    data: bytes
    mime_type: str
    filename: str | None = None

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


class FakeGraphAPI:
    """`calls` records every call; `sent()` the message bodies; `fail(kind, ...)` makes the next calls fail."""

    def __init__(self, token: str = TOKEN, *, strict: bool = True) -> None:
        self.token = token
        self.strict = strict
        self.calls: list[Call] = []
        self.messages: list[Sent] = []
        self.media: dict[str, Media] = {}
        self.uploads: list[Media] = []
        self.read: list[str] = []  # wamids marked as read (also by typing indicators)
        self.users: dict[str, str] = {}  # BSUID -> wa_id, see `link`
        self.failures: dict[str, list[tuple[int, dict[str, Any] | None]]] = {}
        self._wamids = itertools.count(1)
        self._media_ids = itertools.count(1_900_000_000_000_001)
        self.app = Starlette(routes=[
            Route("/media-download/{media_id}", self.download, methods=["GET"]),
            Route("/{version}/{phone_id}/messages", self.post_message, methods=["POST"]),
            Route("/{version}/{phone_id}/media", self.upload, methods=["POST"]),
            Route("/{version}/{media_id}", self.media_url, methods=["GET"]),
        ])
        self.url = ""

    # --- test controls ---------------------------------------------------------------------------------

    def fail(self, kind: str, *errors: tuple[int, dict[str, Any] | None]) -> None:
        """The next calls of `kind` answer these (HTTP status, Graph error dict) in order; None: a non-JSON body.

        kind: "messages" (sends), "read" (read receipts / typing), "media" (uploads), "media_url" (GET /{media_id}),
        "download" (the media bytes).
        """
        if kind not in ("messages", "read", "media", "media_url", "download"):
            raise ValueError(f"unknown kind {kind!r}")
        self.failures.setdefault(kind, []).extend(errors)

    def add_media(self, media_id: str, data: bytes, mime_type: str, filename: str | None = None) -> Media:
        self.media[media_id] = Media(media_id, data, mime_type, filename)
        return self.media[media_id]

    def new_media_id(self) -> str:
        return str(next(self._media_ids))

    def link(self, wa_id: str, user_id: str) -> None:
        """Messages sent to the BSUID `user_id` count as sent to `wa_id` in `sent`/`texts`."""
        self.users[user_id] = wa_id

    def outbox(self, to: str | None = None, type: str | None = None) -> list[Sent]:
        return [m for m in self.messages if (to is None or m.to == to) and (type is None or m.type == type)]

    def sent(self, to: str | None = None, type: str | None = None) -> list[dict[str, Any]]:
        """JSON bodies of the messages sent (read receipts excluded), optionally to one user / of one type."""
        return [m.body for m in self.outbox(to, type)]

    def texts(self, to: str) -> list[str]:
        """Text message bodies and interactive message body texts sent to `to`, in order."""
        out = []
        for body in self.sent(to):
            if body["type"] == "text":
                out.append(body["text"]["body"])
            elif body["type"] == "interactive":
                out.append(body["interactive"].get("body", {}).get("text", ""))
        return out

    def media_of(self, body: dict[str, Any]) -> Media:
        """The media a sent image/document/audio/… message refers to by id."""
        return self.media[body[body["type"]]["id"]]

    # --- server ----------------------------------------------------------------------------------------

    async def __aenter__(self) -> FakeGraphAPI:
        self._loopback = LoopbackServer(self.app)
        await self._loopback.start()
        self.url = self._loopback.url
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._loopback.stop()

    def _unauthorized(self, request: Request) -> Response | None:
        header = request.headers.get("authorization", "")
        if not header:
            return _error(*graph_error(2500, "An active access token must be used to query information about "
                                             "the current user.", status=400))
        if header != f"Bearer {self.token}":
            return _error(*graph_error(190))
        return None

    def _failure(self, kind: str) -> Response | None:
        queued = self.failures.get(kind)
        if not queued:
            return None
        status, error = queued.pop(0)
        self.calls[-1].status = status
        if error is None:
            return Response("Bad Gateway", status, media_type="text/html")
        return _error(status, error)

    async def post_message(self, request: Request) -> Response:
        if (denied := self._unauthorized(request)) is not None:
            return denied
        try:
            body = await request.json()
        except ValueError:
            return _error(*graph_error(100, "(#100) The parameter messaging_product is required."))
        kind = "read" if "status" in body and "type" not in body else "messages"
        self.calls.append(Call(kind, "POST", request.url.path, body))
        if (failure := self._failure(kind)) is not None:
            return failure
        if kind == "read":
            self.read.append(body.get("message_id", ""))
            return JSONResponse({"success": True})
        if self.strict and (problem := _check_message(body)) is not None:
            self.calls[-1].status = 400
            return _error(*graph_error(131009, details=problem))
        recipient = body.get("to") or body.get("recipient") or ""
        wa_id = self.users.get(recipient, recipient)
        wamid = self._wamid(wa_id)
        self.messages.append(Sent(wamid, wa_id, body))
        contact = {"input": recipient, "wa_id": wa_id} if "to" in body else {"input": recipient, "user_id": recipient}
        message: dict[str, str] = {"id": wamid}
        if body.get("type") == "template":
            message["message_status"] = "accepted"
        return JSONResponse({"messaging_product": "whatsapp", "contacts": [contact], "messages": [message]})

    async def upload(self, request: Request) -> Response:
        if (denied := self._unauthorized(request)) is not None:
            return denied
        form = await request.form()
        fields: dict[str, Any] = {}
        files: dict[str, tuple[str, bytes, str]] = {}
        for key, value in form.multi_items():
            if isinstance(value, str):
                fields[key] = value
            else:
                files[key] = (value.filename or "", await value.read(), value.content_type or "")
        await form.close()
        self.calls.append(Call("media", "POST", request.url.path, fields, files))
        if (failure := self._failure("media")) is not None:
            return failure
        if fields.get("messaging_product") != "whatsapp" or "file" not in files:
            self.calls[-1].status = 400
            return _error(*graph_error(100, "(#100) The parameter messaging_product is required."
                                       if "file" in files else "(#100) The parameter file is required."))
        filename, data, mime = files["file"]
        media = self.add_media(self.new_media_id(), data, fields.get("type") or mime, filename or None)
        self.uploads.append(media)
        return JSONResponse({"id": media.media_id})

    async def media_url(self, request: Request) -> Response:
        if (denied := self._unauthorized(request)) is not None:
            return denied
        media_id = request.path_params["media_id"]
        self.calls.append(Call("media_url", "GET", request.url.path))
        if (failure := self._failure("media_url")) is not None:
            return failure
        media = self.media.get(media_id)
        if media is None:
            self.calls[-1].status = 400
            return _error(*graph_error(
                100, f"Unsupported get request. Object with ID '{media_id}' does not exist, cannot be loaded due to "
                     "missing permissions, or does not support this operation. Please read the Graph API "
                     "documentation at https://developers.facebook.com/docs/graph-api",
                subcode=33, type="GraphMethodException"))
        return JSONResponse({"messaging_product": "whatsapp", "url": f"{self.url}/media-download/{media_id}",
                             "mime_type": media.mime_type, "sha256": media.sha256, "file_size": len(media.data),
                             "id": media_id})

    async def download(self, request: Request) -> Response:
        media_id = request.path_params["media_id"]
        self.calls.append(Call("download", "GET", request.url.path))
        if request.headers.get("authorization") != f"Bearer {self.token}":
            self.calls[-1].status = 401
            return Response("Unauthorized", 401, media_type="text/plain")
        if (failure := self._failure("download")) is not None:
            return failure
        media = self.media.get(media_id)
        if media is None:
            self.calls[-1].status = 404
            return Response("Not Found", 404, media_type="text/plain")
        return Response(media.data, media_type=media.mime_type)

    def _wamid(self, wa_id: str) -> str:
        raw = f"{len(wa_id):02d}{wa_id}-{next(self._wamids):020d}".encode()
        return "wamid." + base64.b64encode(b"HBg" + raw).decode()


def _error(status: int, error: dict[str, Any]) -> JSONResponse:
    return JSONResponse({"error": error}, status)


def _check_message(body: dict[str, Any]) -> str | None:
    """What Meta would reject in a message body (a subset of its rules), or None."""
    if body.get("messaging_product") != "whatsapp":
        return "messaging_product must be whatsapp"
    if not (body.get("to") or body.get("recipient")):
        return "to or recipient is required"
    kind = body.get("type")
    content = body.get(kind) if isinstance(kind, str) else None
    if not isinstance(content, dict):
        return f"the {kind} object is required"
    if kind == "text":
        text = content.get("body") or ""
        return None if 0 < len(text) <= 4096 else f"text body length {len(text)} not in 1..4096"
    if kind in ("image", "video", "audio", "document", "sticker"):
        if not (content.get("id") or content.get("link")):
            return f"{kind} needs an id or a link"
        caption = content.get("caption") or ""
        return None if len(caption) <= 1024 else f"caption length {len(caption)} > 1024"
    if kind == "interactive":
        return _check_interactive(content)
    return None


def _check_interactive(interactive: dict[str, Any]) -> str | None:
    text = (interactive.get("body") or {}).get("text") or ""
    header = interactive.get("header") or {}
    footer = (interactive.get("footer") or {}).get("text") or ""
    action = interactive.get("action") or {}
    if header.get("type") == "text" and len(header.get("text") or "") > 60:
        return "header text longer than 60 characters"
    if len(footer) > 60:
        return "footer text longer than 60 characters"
    if interactive.get("type") == "button":
        buttons = action.get("buttons") or []
        if not 0 < len(text) <= 1024:
            return f"body text length {len(text)} not in 1..1024"
        if not 1 <= len(buttons) <= 3:
            return f"{len(buttons)} buttons, expected 1..3"
        ids = [b["reply"]["id"] for b in buttons]
        if len(set(ids)) != len(ids):
            return "Duplicate button id"
        for button in buttons:
            if not 0 < len(button["reply"]["title"]) <= 20:
                return f"button title {button['reply']['title']!r} not 1..20 characters"
            if not 0 < len(button["reply"]["id"]) <= 256:
                return "button id not 1..256 characters"
    elif interactive.get("type") == "list":
        sections = action.get("sections") or []
        rows = [row for section in sections for row in section.get("rows") or []]
        if not 0 < len(text) <= 4096:
            return f"body text length {len(text)} not in 1..4096"
        if not 0 < len(action.get("button") or "") <= 20:
            return "list button label not 1..20 characters"
        if not 1 <= len(sections) <= 10 or not 1 <= len(rows) <= 10:
            return f"{len(sections)} sections / {len(rows)} rows, expected 1..10 each"
        if len(sections) > 1 and not all(section.get("title") for section in sections):
            return "section title is required when there are several sections"
        if any(len(section.get("title") or "") > 24 for section in sections):
            return "section title longer than 24 characters"
        ids = [row["id"] for row in rows]
        if len(set(ids)) != len(ids):
            return "Duplicate row id"
        for row in rows:
            if not 0 < len(row["title"]) <= 24:
                return f"row title {row['title']!r} not 1..24 characters"
            if len(row.get("description") or "") > 72:
                return "row description longer than 72 characters"
            if not 0 < len(row["id"]) <= 200:
                return "row id not 1..200 characters"
    return None


class RedirectTransport(httpx.AsyncBaseTransport):
    """Sends requests for graph.facebook.com to `target_url` (scheme, host, port), keeping path and query."""

    def __init__(self, target_url: str) -> None:
        self.target = httpx.URL(target_url)
        self.inner = httpx.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.host == GRAPH_HOST:
            request.url = request.url.copy_with(scheme=self.target.scheme, host=self.target.host,
                                                port=self.target.port)
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()
