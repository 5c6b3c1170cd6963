"""WhatsApp Cloud API through pywa: webhook payload -> Inbound, Outbound -> Graph API calls.

All of WhatsApp's limits live here: reply buttons and lists (whatsapp_render), texts <= 4096 characters and
interactive bodies <= 1024, the number's throughput, and the 24-hour customer service window: outside it only
an approved template may start the conversation, so a message is either announced by its template or held
until the person writes again.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, TypeVar

import httpx
from pywa import errors as wa_errors
from pywa.types.templates import BodyText, TemplateLanguage
from pywa.utils import UserIdentifier
from pywa_async import WhatsApp
from sqlmodel import select

from bot.delivery.deliverer import ConfigurationError, HeldError, Parts, PermanentError, TemporaryError, Unpaced
from bot.domain.messages import Inbound, Outbound, PhotoIn
from bot.domain.numbers import ascii_number
from bot.handlers import whatsapp_shape as shape
from bot.handlers.telegram import split_text
from bot.handlers.whatsapp_render import buttons_for
from bot.media import photos as media
from bot.ops import logs, metrics
from bot.settings import Settings
from bot.words.i18n import Renderer
from bot.words.markup import to_whatsapp
from storage.db import Database
from storage.models import Contact, utcnow

log = logging.getLogger(__name__)
ALBUM_BURST = "burst"

CHANNEL = "whatsapp"
MAX_TEXT = 4096
MAX_BODY = 1024
WINDOW = timedelta(hours=24)
UNSUPPORTED = {"audio", "voice", "sticker", "video", "unsupported", "unknown", "order", "system", "request_welcome"}
IGNORED = {"reaction"}
T = TypeVar("T", bound=shape.Shape)


class RedirectTransport(httpx.AsyncBaseTransport):
    """Points pywa's Graph API calls (it always builds graph.facebook.com URLs) at WHATSAPP_API_URL."""

    def __init__(self, api_url: str) -> None:
        self.target = httpx.URL(api_url.rstrip("/"))
        self.inner = httpx.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.host == "graph.facebook.com" and self.target.host != "graph.facebook.com":
            request.url = request.url.copy_with(scheme=self.target.scheme, host=self.target.host,
                                                port=self.target.port,
                                                path=self.target.path.rstrip("/") + request.url.path)
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


def _valid_pairs(model: type[T], items: list[Any]) -> list[tuple[T, Any]]:
    """(checked piece, raw item) for each item of the model's shape; the others are logged and left out."""
    pairs = []
    for item in items:
        parsed, problem = shape.parse(model, item)
        if parsed is None:
            log.warning("whatsapp: malformed %s ignored (%s)", model.__name__.lower(), problem)
            metrics.update(CHANNEL, "malformed")
        else:
            pairs.append((parsed, item))
    return pairs


def _valid(model: type[T], items: list[Any]) -> list[T]:
    return [parsed for parsed, _ in _valid_pairs(model, items)]


@dataclass(frozen=True)
class StatusUpdate:
    """A delivery report for a message we sent: sent, delivered, read or failed (with error codes)."""

    message_id: str
    status: str
    error_codes: tuple[int, ...] = ()


class WhatsAppChannel:
    """One business phone number: reads webhook payloads and sends Outbound messages (a delivery `Sender`)."""

    channel = CHANNEL

    def __init__(self, settings: Settings, db: Database, renderer: Renderer) -> None:
        if not (settings.whatsapp_access_token and settings.whatsapp_phone_number_id):
            raise ValueError("WHATSAPP_ACCESS_TOKEN and WHATSAPP_PHONE_NUMBER_ID are needed for WhatsApp")
        self.settings = settings
        self.db = db
        self.renderer = renderer
        self.session = httpx.AsyncClient(transport=RedirectTransport(settings.whatsapp_api_url), timeout=30)
        self.client = WhatsApp(
            phone_id=settings.whatsapp_phone_number_id,
            token=settings.whatsapp_access_token,
            session=self.session,
            api_version=float(settings.whatsapp_api_version.lstrip("v")),
            server=None,
            verify_token=settings.whatsapp_verify_token,
            app_secret=settings.whatsapp_app_secret,
            user_identifier_priority=(UserIdentifier.WA_ID, UserIdentifier.BSUID, UserIdentifier.PARENT_BSUID),
        )
        # Pacing is the deliverer's (bot/delivery/pacing.py), held by the one elected sender of this number.
        self.rate = settings.whatsapp_rate
        self.chat_rate = settings.whatsapp_chat_rate or None
        self.account = settings.whatsapp_phone_number_id

    async def stop(self) -> None:
        await self.session.aclose()

    # --- inbound ---------------------------------------------------------------------------------------

    def read_payload(self, payload: dict[str, Any]) -> tuple[list[dict[str, Any]], list[StatusUpdate]]:
        """The messages (with their sender's profile name) and status reports in one webhook payload.

        Each piece is checked against its shape (whatsapp_shape); a malformed one is logged and left out.
        """
        messages: list[dict[str, Any]] = []
        statuses: list[StatusUpdate] = []
        for value in self._message_values(payload):
            names = {c.wa_id: c.profile.name for c in _valid(shape.Contact, value.contacts)}
            for message, raw in _valid_pairs(shape.Message, value.messages):
                messages.append({**raw, "_name": names.get(message.from_, "")})
            for status in _valid(shape.Status, value.statuses):
                statuses.append(StatusUpdate(status.id, status.status, tuple(e.code for e in status.errors)))
        return messages, statuses

    def _message_values(self, payload: dict[str, Any]) -> list[shape.Value]:
        """The `value` of every well-formed `messages` change for this number."""
        parsed, problem = shape.parse(shape.Payload, payload)
        if parsed is None:
            log.warning("whatsapp: malformed payload ignored (%s)", problem)
            metrics.update(CHANNEL, "malformed")
            return []
        values = []
        for entry in _valid(shape.Entry, parsed.entry):
            for change in _valid(shape.Change, entry.changes):
                if change.field != "messages":
                    log.info("whatsapp: %r change ignored", change.field[:40])
                    continue
                value, problem = shape.parse(shape.Value, change.value)
                if value is None:
                    log.warning("whatsapp: malformed change ignored (%s)", problem)
                    metrics.update(CHANNEL, "malformed")
                    continue
                number = value.metadata.phone_number_id if value.metadata else None
                if number not in (None, self.settings.whatsapp_phone_number_id):
                    log.warning("whatsapp: payload for another number (%s) ignored", number)
                    continue
                values.append(value)
        return values

    async def to_inbound(self, message: dict[str, Any]) -> Inbound | None:
        """The Inbound for one message; None for one the bot ignores (a reaction). Media is downloaded here."""
        sender = str(message.get("from", ""))
        kind = str(message.get("type", "unknown"))
        base = {"channel": CHANNEL, "address": sender, "event_id": str(message.get("id")),
                "display_name": message.get("_name", ""),
                "verified_phone": f"+{sender}" if ascii_number(sender, 10**15 - 1) else ""}
        if kind == "text":
            return Inbound(**base, kind="text", text=(message.get("text") or {}).get("body", ""))
        if kind == "interactive":
            interactive = message.get("interactive") or {}
            reply = interactive.get("button_reply") or interactive.get("list_reply") or {}
            return Inbound(**base, kind="choice", text=str(reply.get("id", "")))
        if kind == "button":  # a quick reply on a template message: what it says is what they mean
            return Inbound(**base, kind="text", text=(message.get("button") or {}).get("text", ""))
        if kind in ("image", "document"):
            media = message.get(kind) or {}
            # WhatsApp has no album id: images arriving within seconds of each other get one reply.
            return Inbound(**base, kind="photos", album=ALBUM_BURST,
                           photos=(await self._download(str(media.get("id"))),))
        if kind == "location":
            location = message.get("location") or {}
            return Inbound(**base, kind="location", latitude=location.get("latitude"),
                           longitude=location.get("longitude"))
        if kind == "contacts":
            phones = [p for c in message.get("contacts") or [] for p in c.get("phones") or []]
            return Inbound(**base, kind="contact", phone=phones[0].get("phone", "") if phones else "")
        if kind in IGNORED:
            return None
        return Inbound(**base, kind="unsupported")

    async def _download(self, media_id: str) -> PhotoIn:
        """The media's bytes through the media endpoint (its URL lives minutes); none when declared too big.

        Media Meta says it no longer has gives empty bytes (the person is asked to send it again); a passing
        failure raises, so the webhook answers 500 and Meta delivers the update again.
        """
        try:
            media = await self.client.get_media_url(media_id)
        except wa_errors.WhatsAppError as exc:
            if exc.is_transient or (exc.status_code or 0) >= 500:
                raise
            log.warning("whatsapp: media %s unavailable: %s", media_id, exc)
            return PhotoIn(b"", media_id)
        if media.file_size and media.file_size > self.settings.max_photo_bytes:
            return PhotoIn(b"", media_id, media.file_size)
        return PhotoIn(await self.client.get_media_bytes(media.url), media_id, media.file_size)

    # --- outbound --------------------------------------------------------------------------------------

    async def send(self, outbound: Outbound, parts: Parts | None = None) -> str | None:
        """Sends within the 24-hour window; outside it announces the message by template and holds it."""
        parts = parts or Unpaced()
        window_open = await self._window_open(outbound.address)
        if not window_open and not (outbound.notice or {}).get("template_only"):
            await self._announce(outbound, parts)
            raise HeldError("outside the 24-hour window")
        try:
            if not window_open:
                return await self._template_instead(outbound, parts)
            return await self._send_free_form(outbound, parts)
        except wa_errors.ReEngagementMessage as exc:
            await self._announce(outbound, parts)
            raise HeldError(str(exc)) from exc
        except (wa_errors.ExpiredAccessToken, wa_errors.AuthException) as exc:
            raise ConfigurationError(f"WhatsApp refused the access token ({exc.code}): {exc.message}") from exc
        except wa_errors.ThrottlingError as exc:
            raise TemporaryError(f"throttled ({exc.code})") from exc
        except wa_errors.WhatsAppError as exc:
            if exc.is_transient or (exc.status_code or 0) >= 500 or exc.code in (1, 2, 131000):
                raise TemporaryError(f"{exc.code}: {exc.message}") from exc
            raise PermanentError(f"{exc.code}: {exc.message}") from exc
        except httpx.TransportError as exc:
            raise TemporaryError(str(exc)) from exc

    async def probe(self) -> None:
        """Reads the phone number's profile: raises ConfigurationError while the token is refused."""
        try:
            await self.client.get_business_phone_number()
        except (wa_errors.ExpiredAccessToken, wa_errors.AuthException) as exc:
            raise ConfigurationError(f"WhatsApp refused the access token ({exc.code}): {exc.message}") from exc
        except wa_errors.WhatsAppError as exc:  # the token was accepted; the question failed for another reason
            log.info("whatsapp: probe answered %s; the token works", exc.code)

    async def _send_free_form(self, outbound: Outbound, parts: Parts) -> str | None:
        """Each photo, then the text pieces (or one page of a long list); parts sent before are skipped."""
        to = outbound.address
        steps = [lambda path=path: self._send_image(to, path) for path in outbound.photos]
        if outbound.page > 1:
            text = self.renderer.label(outbound.locale, "buttons", "list_open")
            steps.append(lambda: self._send_text(to, text, self.buttons(outbound, outbound.page)))
        else:
            pieces = split_text(to_whatsapp(outbound.text), MAX_TEXT)
            if outbound.choices and len(pieces[-1]) > MAX_BODY:
                pieces.append(self.renderer.label(outbound.locale, "buttons", "list_open"))
            for i, piece in enumerate(pieces):
                buttons = self.buttons(outbound) if i == len(pieces) - 1 and outbound.choices else None
                steps.append(lambda piece=piece, buttons=buttons: self._send_text(to, piece, buttons))
        message_id: str | None = None
        for index, step in enumerate(steps):
            if index < parts.sent:
                continue
            await parts.slot()
            message_id = await step()
            if index < len(steps) - 1:
                await parts.done(index + 1)
        return message_id

    async def _send_image(self, to: str, path: str) -> str:
        data = await media.read(path, self.settings)
        mime = "image/png" if path.endswith(".png") else "image/jpeg"
        uploaded = await self.client.upload_media(data, mime_type=mime)
        return (await self.client.send_image(to, uploaded.id)).id

    async def _send_text(self, to: str, text: str, buttons: Any) -> str:
        return (await self.client.send_message(to, text, buttons=buttons)).id

    def buttons(self, outbound: Outbound, page: int = 1):  # type: ignore[no-untyped-def]
        labels = self.renderer.labels(outbound.locale)["buttons"]
        return buttons_for(outbound.choices, labels["list_open"], labels["list_more"], outbound.outbox_id, page)

    async def _window_open(self, address: str) -> bool:
        async with self.db.transaction() as session:
            contact = (await session.exec(select(Contact).where(
                Contact.channel == CHANNEL, Contact.address == address))).first()
        last = contact.last_inbound_at if contact else None
        return last is not None and utcnow() - last < WINDOW

    async def _template_instead(self, outbound: Outbound, parts: Parts) -> str | None:
        """Outside the window, a message whose template says it all (a siaran: its text as {{1}}) goes as that
        template and is done; with no template configured it is given up (the siaran counts it failed)."""
        kind = (outbound.notice or {}).get("kind", "")
        name = getattr(self.settings, f"whatsapp_template_{kind}", "") if kind else ""
        if not name:
            raise PermanentError(f"outside the 24-hour window and no WHATSAPP_TEMPLATE_{kind.upper()}")
        params = [" ".join(str(p).split())[:1024] for p in (outbound.notice or {}).get("params", [])]
        await parts.slot()
        sent = await self.client.send_template(outbound.address, name,
                                               TemplateLanguage(self.settings.whatsapp_template_language),
                                               params=[BodyText.params(*params)] if params else None)
        return sent.id

    async def _announce(self, outbound: Outbound, parts: Parts) -> None:
        """Sends the approved template for what the message is about, if one is configured for it."""
        kind = (outbound.notice or {}).get("kind", "")
        name = getattr(self.settings, f"whatsapp_template_{kind}", "") if kind else ""
        if not name:
            return
        params = [str(p)[:60] for p in (outbound.notice or {}).get("params", [])]
        try:
            await parts.slot()
            await self.client.send_template(outbound.address, name,
                                            TemplateLanguage(self.settings.whatsapp_template_language),
                                            params=[BodyText.params(*params)] if params else None)
        except (wa_errors.WhatsAppError, httpx.TransportError, ValueError) as exc:
            log.warning("whatsapp: template %s to %s not sent (%s); the message waits", name,
                        logs.contact_ref(CHANNEL, outbound.address), exc)
