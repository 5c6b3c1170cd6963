"""The terminal as a chat channel (`umkm-bot chat`): typed lines in, printed messages out.

Channel "terminal", address = the `--as` id. It runs on the same engine, database and outbox as Telegram and
WhatsApp: each typed line is one `Inbound`, and what the engine wrote to the outbox for this address is
delivered by a `Deliverer` whose only sender is `TerminalSender`. Messages for another terminal address
(an officer's notification, say) stay pending until a `chat --as <that id>` picks them up.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import shlex
import sys
import threading
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

from sqlmodel import select

from bot.conversation.engine import Engine
from bot.delivery.deliverer import Deliverer
from bot.domain.messages import Choice, Inbound, Outbound, PhotoIn
from bot.domain.numbers import ascii_number
from bot.media import photos as media
from bot.settings import Settings
from bot.words.markup import to_plain
from storage.db import Database
from storage.models import Contact

log = logging.getLogger(__name__)

CHANNEL = "terminal"
POLL_SECONDS = 1.0
QUIT = ("/quit", "/exit")
WIDTH = 100


class TerminalSender:
    """Prints an Outbound for a person: text, photo paths, numbered choices, a hint to type the phone number.

    The "share my number" button (`request_contact`) is numbered after the others, with a phone sign; pressing
    it asks for the number on the next line, which goes to the bot as a shared contact (a terminal vouches for
    no number, so it is not a verified one).
    """

    channel = CHANNEL

    def __init__(self, out: TextIO, media_dir: Path, locate: Callable[[str], str] | None = None) -> None:
        """`locate` tells where a photo key lives (default: the file under `media_dir`)."""
        self.out = out
        self.media_dir = media_dir
        self.locate = locate or (lambda key: str(media_dir / key))
        self.last_choices: list[Choice] = []

    async def send(self, outbound: Outbound, parts: object = None) -> str | None:
        self.out.write(self.render(outbound) + "\n\n")
        self.out.flush()
        self.last_choices = buttons(outbound)
        return None

    def render(self, outbound: Outbound) -> str:
        lines = [to_plain(outbound.text)]
        lines.extend(f"  🖼  {self.locate(path)}" for path in outbound.photos)
        lines.extend(_choice_lines(buttons(outbound)))
        return "\n".join(lines)


#: The id of the terminal's own "share my number" button (never sent to the engine).
SHARE_CONTACT = "terminal:share-contact"


def buttons(outbound: Outbound) -> list[Choice]:
    """The message's choices, then its "share my number" button when it has one: all numbered alike."""
    share = [Choice(SHARE_CONTACT, f"📱 {outbound.request_contact}")] if outbound.request_contact else []
    return [*outbound.choices, *share]


PATH_START = ("/", "~/", "./", "../")
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".gif", ".webp", ".heic", ".heif", ".bmp", ".tif", ".tiff")


def _looks_like_a_path(token: str) -> bool:
    """A file name with an image's extension, or a path with folders ("/home/sari/x", "./foto/x")."""
    if token.lower().endswith(IMAGE_SUFFIXES):
        return True
    return token.startswith(PATH_START) and "/" in token.lstrip("./~")


def _choice_lines(choices: list[Choice]) -> list[str]:
    """`  [1] Setujui   [2] Minta revisi`, wrapped between buttons, never inside one."""
    lines: list[str] = []
    line = ""
    for number, choice in enumerate(choices, 1):
        item = f"[{number}] {choice.label}"
        if line and len(line) + 3 + len(item) > WIDTH:
            lines.append(line)
            line = ""
        line = f"{line}   {item}" if line else f"  {item}"
    return [*lines, line] if line else lines


class Terminal:
    """One person at the terminal: turns their lines into Inbounds and prints what the bot sends them."""

    def __init__(self, engine: Engine, address: str, out: TextIO) -> None:
        self.engine = engine
        self.address = address
        self.out = out
        self.max_photo_bytes = engine.settings.max_photo_bytes
        self.sender = TerminalSender(out, engine.settings.media_dir,
                                     lambda key: media.describe(key, engine.settings))
        self.deliverer = Deliverer(engine.db, {CHANNEL: self.sender})
        self._prompting = False
        self.sharing_contact = False  # the share button was pressed: the next line is the number

    def parse(self, line: str) -> Inbound | None:
        """A command, photos (every token an existing file), a choice (a number after buttons), or text."""
        text = line.strip()
        if not text:
            return None
        event_id = uuid.uuid4().hex
        photos = self._photos(text)  # first: an absolute path starts with "/" too
        if photos:
            return Inbound(CHANNEL, self.address, event_id, "photos", photos=photos)
        sharing, self.sharing_contact = self.sharing_contact, False
        if text.startswith("/"):
            return Inbound(CHANNEL, self.address, event_id, "command", text)
        if sharing:
            return Inbound(CHANNEL, self.address, event_id, "contact", phone=text)
        choices = self.sender.last_choices
        number = ascii_number(text)
        if number is not None and 1 <= number <= len(choices):
            if choices[number - 1].id == SHARE_CONTACT:
                self.sharing_contact = True
                self.out.write(f"{choices[number - 1].label}:\n")
                return None
            return Inbound(CHANNEL, self.address, event_id, "choice", choices[number - 1].id)
        return Inbound(CHANNEL, self.address, event_id, "text", text)

    def _photos(self, text: str) -> tuple[PhotoIn, ...]:
        try:
            tokens = shlex.split(text)
        except ValueError:
            tokens = text.split()
        photos = []
        try:
            paths = [Path(token).expanduser() for token in tokens]
            if not paths or not all(path.is_file() for path in paths):
                return ()
            for path in paths:
                size = path.stat().st_size  # a file over the limit is refused by its size, not read
                data = path.read_bytes() if size <= self.max_photo_bytes else b""
                photos.append(PhotoIn(data, source_id=str(path), size=size))
        except (OSError, RuntimeError):  # a word too long for a file name, an unreadable file, "~nobody"
            return ()
        return tuple(photos)

    def missing_files(self, text: str) -> list[str]:
        """The file paths a line names that do not exist ("foto/keripik.jpg" typed with a typo)."""
        try:
            tokens = shlex.split(text)
        except ValueError:
            tokens = text.split()
        if not tokens or not all(_looks_like_a_path(t) for t in tokens):
            return []
        try:
            return [t for t in tokens if not Path(t).expanduser().exists()]
        except (OSError, RuntimeError):
            return tokens

    async def _locale(self) -> str:
        async with self.engine.db.transaction() as session:
            query = select(Contact.locale).where(Contact.channel == CHANNEL, Contact.address == self.address)
            return (await session.exec(query)).first() or self.engine.settings.default_locale

    async def handle_line(self, line: str) -> None:
        """Hands one typed line to the engine, then prints what is waiting for this address.

        A line of file paths of which some do not exist is answered here: the engine never sees the typo.
        """
        missing = self.missing_files(line.strip())
        if missing:
            text = self.engine.renderer.render(await self._locale(), "errors/photo_path_missing", paths=missing)
            self.out.write(to_plain(text) + "\n\n")
            self.out.flush()
            return
        inbound = self.parse(line)
        if inbound is not None:
            await self.engine.handle(inbound)
        await self.poll()

    async def poll(self) -> int:
        """Prints every pending message for this address (replies and messages from others)."""
        total = 0
        while (count := await self.deliverer.deliver_due(CHANNEL, self.address)) > 0:
            total += count
        return total

    async def scripted(self, lines: TextIO) -> None:
        """One message per line, each echoed as `> line` before the replies."""
        await self.poll()
        for raw in lines:
            line = raw.rstrip("\r\n")
            if not line.strip():
                continue
            self.out.write(f"> {line}\n")
            self.out.flush()
            if line.strip() in QUIT:
                break
            await self.handle_line(line)
        await self.poll()

    async def interactive(self) -> None:
        """Prompts `> ` and, every second, prints what others send to this address (e.g. an officer)."""
        self.out.write(f"Chatting as {CHANNEL}:{self.address}. Type /start to begin, a number to press a button,"
                       f" file paths to send photos, /quit (or Ctrl-D) to leave.\n\n")
        reader = _LineReader(asyncio.get_running_loop())
        poller = asyncio.create_task(self._poll_forever())
        try:
            await self.poll()
            while True:
                self._prompting = True
                line = await reader.readline("> ")
                self._prompting = False
                if line is None or line.strip() in QUIT:
                    break
                await self.handle_line(line)
        finally:
            poller.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await poller

    async def _poll_forever(self) -> None:
        """Background poll while the person types; the prompt is shown again after anything printed."""
        while True:
            await asyncio.sleep(POLL_SECONDS)
            try:
                if self._prompting and await self.poll():
                    self.out.write("> ")
                    self.out.flush()
            except Exception:
                log.exception("terminal: polling failed")


class _LineReader:
    """Reads prompted lines in a daemon thread, so Ctrl-C or the end of the chat never waits for `input()`."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        with contextlib.suppress(ImportError):
            import readline  # noqa: F401  (line editing and history for input())
        self._loop = loop
        self._requests: queue.SimpleQueue[tuple[str, asyncio.Future[str | None]]] = queue.SimpleQueue()
        threading.Thread(target=self._run, name="terminal-input", daemon=True).start()

    async def readline(self, prompt: str) -> str | None:
        """The next line typed, or None at the end of input (Ctrl-D)."""
        future: asyncio.Future[str | None] = self._loop.create_future()
        self._requests.put((prompt, future))
        return await future

    def _run(self) -> None:
        while True:
            prompt, future = self._requests.get()
            try:
                line: str | None = input(prompt)
            except (EOFError, KeyboardInterrupt, OSError):
                line = None
            try:
                self._loop.call_soon_threadsafe(_resolve, future, line)
            except RuntimeError:  # the chat is over and its loop closed
                return
            if line is None:
                return


def _resolve(future: asyncio.Future[str | None], line: str | None) -> None:
    if not future.done():
        future.set_result(line)


async def chat(settings: Settings, address: str, stdin: TextIO | None = None, out: TextIO | None = None) -> None:
    """`umkm-bot chat`: migrates, then chats as `terminal:<address>` (interactive on a tty, scripted otherwise)."""
    stdin = stdin or sys.stdin
    out = out or sys.stdout
    db = Database(settings.database_url)
    try:
        await db.upgrade()
        terminal = Terminal(Engine(db, settings), address, out)
        if stdin.isatty():
            await terminal.interactive()
        else:
            await terminal.scripted(stdin)
    finally:
        await db.dispose()
