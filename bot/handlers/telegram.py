"""Telegram: an update (checked and read by telegram_shape) -> Inbound, Outbound -> Bot API calls through
python-telegram-bot (over aiohttp, telegram_http).

All of Telegram's limits live here: callback_data <= 64 bytes, texts <= 4096 characters, albums of 2-10
photos, at most ~30 messages a second overall and one a second per chat.
"""

from __future__ import annotations

import asyncio
import logging
import re
from typing import Any

from telegram import (
    BotCommand,
    BotCommandScopeChat,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputMediaPhoto,
    KeyboardButton,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
)
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)
from telegram.ext import ExtBot

from bot.delivery.deliverer import (
    AddressChanged,
    ConfigurationError,
    Parts,
    PermanentError,
    TemporaryError,
    Unpaced,
)
from bot.domain.messages import Inbound, Outbound, PhotoIn
from bot.handlers import telegram_shape
from bot.handlers.telegram_http import AiohttpRequest
from bot.media import photos as media
from bot.settings import Settings
from bot.words.i18n import Renderer
from bot.words.markup import split_html
from storage.db import DatabaseUnavailable

log = logging.getLogger(__name__)

CHANNEL = "telegram"
MAX_TEXT = 4096
MAX_CALLBACK_BYTES = 64
ALLOWED_UPDATES = ["message", "callback_query"]
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
COMMANDS = ("start", "menu", "produk", "bantuan", "batal", "bahasa")
TELEGRAM_CHAT_ID = re.compile(r"-?[1-9][0-9]{0,19}")
OFFICER_COMMANDS = ("dasbor", "menu", "bantuan", "batal", "bahasa")  # set per officer chat


def split_text(text: str, limit: int = MAX_TEXT) -> list[str]:
    """Cuts a long text into pieces of at most `limit` characters, at line breaks where it can."""
    pieces: list[str] = []
    while len(text) > limit:
        cut = text.rfind("\n", 0, limit)
        cut = cut if cut > limit // 2 else limit
        pieces.append(text[:cut])
        text = text[cut:].lstrip("\n")
    return [*pieces, text] if text or not pieces else pieces


def keyboard(outbound: Outbound) -> InlineKeyboardMarkup | ReplyKeyboardMarkup | ReplyKeyboardRemove | None:
    if outbound.request_contact:
        button = KeyboardButton(outbound.request_contact, request_contact=True)
        return ReplyKeyboardMarkup([[button]], resize_keyboard=True, one_time_keyboard=True)
    rows = []
    for choice in outbound.choices:
        if len(choice.id.encode()) > MAX_CALLBACK_BYTES:
            log.error("choice id %r is over Telegram's 64 bytes; button left out", choice.id)
            continue
        rows.append([InlineKeyboardButton(choice.label, callback_data=choice.id)])
    return InlineKeyboardMarkup(rows) if rows else None


class TelegramChannel:
    """One bot: turns updates into Inbound events and sends Outbound messages (a delivery `Sender`)."""

    channel = CHANNEL

    def __init__(self, settings: Settings) -> None:
        if not settings.telegram_bot_token:
            raise ValueError("TELEGRAM_BOT_TOKEN is not set")
        root = settings.telegram_api_url.rstrip("/")
        self.settings = settings
        self.bot = ExtBot(
            settings.telegram_bot_token,
            base_url=f"{root}/bot",
            base_file_url=f"{root}/file/bot",
            request=AiohttpRequest(),
            get_updates_request=AiohttpRequest(connection_pool_size=1),
        )
        # Pacing is the deliverer's (bot/delivery/pacing.py), held by the one elected sender of this bot.
        self.rate = settings.telegram_rate
        self.chat_rate = settings.telegram_chat_rate
        self.account = settings.telegram_bot_token.split(":")[0]

    async def start(self) -> None:
        await self.bot.initialize()

    async def stop(self) -> None:
        await self.bot.shutdown()

    # --- inbound ---------------------------------------------------------------------------------------

    async def to_inbound(self, update: telegram_shape.Update) -> Inbound | None:
        """The Inbound for one (checked) update, or None for an update the bot does not handle (logged)."""
        if update.callback_query is not None:
            query = update.callback_query
            return Inbound(CHANNEL, str(query.message.chat.id), str(update.update_id), "choice", query.data,
                           display_name=query.from_.full_name, language=query.from_.language_code or "")
        message = update.message
        if message is None:
            log.info("telegram update %s of an unhandled kind ignored", update.update_id)
            return None
        return await self._message_inbound(str(update.update_id), message)

    async def _message_inbound(self, event_id: str, message: telegram_shape.Message) -> Inbound:
        base = {"channel": CHANNEL, "address": str(message.chat.id), "event_id": event_id,
                "display_name": message.from_.full_name, "language": message.from_.language_code or ""}
        if message.text is not None:
            text = message.text
            if text.startswith("/"):
                command, *argument = text.split(maxsplit=1)
                return Inbound(**base, kind="command", text=command.split("@")[0], argument="".join(argument))
            return Inbound(**base, kind="text", text=text)
        album = message.media_group_id or ""
        if message.photo:
            largest = max(message.photo, key=lambda p: (p.width * p.height, p.file_size or 0))
            return Inbound(**base, kind="photos", album=album,
                           photos=(await self._download(largest.file_id, largest.file_size),))
        if message.document is not None:
            doc = message.document
            return Inbound(**base, kind="photos", album=album,
                           photos=(await self._download(doc.file_id, doc.file_size),))
        if message.contact is not None:
            contact = message.contact
            own = contact.user_id == message.from_.id
            verified = "+" + "".join(c for c in contact.phone_number if c in "0123456789") if own else ""
            return Inbound(**base, kind="contact", phone=contact.phone_number, verified_phone=verified)
        if message.location is not None:
            return Inbound(**base, kind="location", latitude=message.location.latitude,
                           longitude=message.location.longitude)
        return Inbound(**base, kind="unsupported")

    async def _download(self, file_id: str, size: int | None) -> PhotoIn:
        """The file's bytes through getFile; nothing is downloaded when its declared size is over the limit."""
        if size is not None and size > self.settings.max_photo_bytes:
            return PhotoIn(b"", file_id, size)
        file = await self.bot.get_file(file_id)
        if file.file_size is not None and file.file_size > self.settings.max_photo_bytes:
            return PhotoIn(b"", file_id, file.file_size)
        return PhotoIn(bytes(await file.download_as_bytearray()), file_id, size)

    async def answer_callback(self, query_id: str) -> None:
        """Stops the button's spinner (long polling; a webhook answers in its HTTP response instead)."""
        try:
            await self.bot.answer_callback_query(query_id)
        except TelegramError as exc:  # an old query cannot be answered any more; the tap still counts
            log.info("answerCallbackQuery failed: %s", exc)

    # --- outbound --------------------------------------------------------------------------------------

    async def send(self, outbound: Outbound, parts: Parts | None = None) -> str | None:
        """Sends photos (an album when several), then the text in pieces with the buttons on the last.

        Each part is one step; the steps an earlier try sent (`parts.sent`) are skipped.
        """
        parts = parts or Unpaced()
        steps = self._steps(outbound)
        message_id = None
        try:
            for index, (count, step) in enumerate(steps):
                if index < parts.sent:
                    continue
                await parts.slot(count)
                message_id = await step()
                if index < len(steps) - 1:
                    await parts.done(index + 1)
            return str(message_id) if message_id is not None else None
        except RetryAfter as exc:
            raise TemporaryError(str(exc), retry_after=_seconds(exc.retry_after)) from exc
        except ChatMigrated as exc:
            raise AddressChanged(str(exc.new_chat_id)) from exc
        except InvalidToken as exc:
            raise ConfigurationError(f"Telegram refused the bot token (401/404): {exc}") from exc
        except (Forbidden, BadRequest) as exc:
            raise PermanentError(str(exc)) from exc
        except (TimedOut, NetworkError) as exc:
            raise TemporaryError(str(exc)) from exc

    def _steps(self, outbound: Outbound) -> list[tuple[int, Any]]:
        """(messages it takes, the call) for each part: the photos (one album), then each piece of the text."""
        chat_id = int(outbound.address)
        pieces = split_html(outbound.text, MAX_TEXT)
        markup = keyboard(outbound)
        steps: list[tuple[int, Any]] = []
        if outbound.photos:
            steps.append((min(len(outbound.photos), 10), lambda: self._send_photos(chat_id, outbound.photos)))
        for i, piece in enumerate(pieces):
            last = i == len(pieces) - 1
            steps.append((1, lambda p=piece, last=last: self._send_text(chat_id, p, markup if last else None)))
        return steps

    async def _send_text(self, chat_id: int, text: str, markup: Any) -> int:
        return (await self.bot.send_message(chat_id, text, parse_mode="HTML", reply_markup=markup)).message_id

    async def probe(self) -> None:
        """getMe: raises ConfigurationError while the token is refused."""
        try:
            await self.bot.get_me()
        except InvalidToken as exc:
            raise ConfigurationError(f"Telegram refused the bot token (401/404): {exc}") from exc

    async def _send_photos(self, chat_id: int, paths: list[str]) -> int:
        files = [await media.read(p, self.settings) for p in paths[:10]]
        if len(files) == 1:
            return (await self.bot.send_photo(chat_id, files[0])).message_id
        sent = await self.bot.send_media_group(chat_id, [InputMediaPhoto(f) for f in files])
        return sent[-1].message_id

    # --- setup -----------------------------------------------------------------------------------------

    async def set_commands(self, renderer: Renderer) -> None:
        """Registers the command menu in Indonesian (default) and English."""
        for locale, language_code in (("id", None), ("en", "en")):
            descriptions = renderer.labels(locale)["commands"]
            commands = [BotCommand(c, descriptions[c]) for c in COMMANDS]
            await self.bot.set_my_commands(commands, language_code=language_code)

    async def set_officer_commands(self, renderer: Renderer, chats: list[tuple[str, str]]) -> None:
        """Officer chats (chat id, locale) get their own menu, with /dasbor (a sign-in link to the console)."""
        for chat_id, locale in chats:
            if not TELEGRAM_CHAT_ID.fullmatch(chat_id):
                continue
            descriptions = renderer.labels(locale if locale in ("id", "en") else "id")["commands"]
            commands = [BotCommand(c, descriptions[c]) for c in OFFICER_COMMANDS]
            await self.bot.set_my_commands(commands, scope=BotCommandScopeChat(int(chat_id)))

    async def register_webhook(self) -> None:
        url = f"{(self.settings.public_url or '').rstrip('/')}/telegram/webhook"
        await self.bot.set_webhook(url, secret_token=self.settings.telegram_webhook_secret,
                                   allowed_updates=ALLOWED_UPDATES)

    async def poll(self, handle_update, stop: asyncio.Event, wait: int = 25) -> None:  # type: ignore[no-untyped-def]
        """Long polling: each update is handled (and committed) before the offset moves past it."""
        await self.bot.delete_webhook()
        offset: int | None = None
        failures = 0
        while not stop.is_set():
            try:
                updates = await self.bot.get_updates(offset=offset, timeout=wait,
                                                     allowed_updates=ALLOWED_UPDATES)
                failures = 0
            except TelegramError as exc:
                failures += 1
                log.warning("getUpdates failed (%s); retrying", exc)
                await _sleep_or_stop(stop, min(60.0, 2.0 ** failures))
                continue
            for update in updates:
                try:
                    await handle_update(update.to_dict())
                except DatabaseUnavailable:
                    log.warning("telegram update %s not applied (database unavailable); fetched again",
                                update.update_id)
                    await _sleep_or_stop(stop, 2.0)
                    break
                offset = update.update_id + 1


def _seconds(value: Any) -> float:
    return value.total_seconds() if hasattr(value, "total_seconds") else float(value)


async def _sleep_or_stop(stop: asyncio.Event, seconds: float) -> None:
    try:
        await asyncio.wait_for(stop.wait(), seconds)
    except TimeoutError:
        pass
