"""The terminal channel: typed lines to Inbounds, Outbounds printed, scripted and interactive chats."""

from __future__ import annotations

import asyncio
import builtins
import io
import threading
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.conversation.engine import Engine
from bot.domain.messages import Choice, Outbound
from bot.handlers import terminal
from bot.handlers.terminal import Terminal, TerminalSender
from bot.settings import Settings
from storage.db import Database
from storage.models import OutboxMessage, OutboxStatus, utcnow
from tests.conftest import make_image
from tests.support.conversations import BUSINESS_ANSWERS

APPROVAL = Outbound("terminal", "me", "Produk #1 DISETUJUI", choices=[Choice("menu:main", "Menu")])


@pytest.fixture
async def offline(tmp_path: Path, settings: Settings) -> AsyncIterator[Terminal]:
    """A terminal whose engine is never asked anything (for parsing and printing)."""
    db = Database(f"sqlite:///{tmp_path / 'unused.db'}")
    yield Terminal(Engine(db, settings), "me", io.StringIO())
    await db.dispose()


async def queue_for(db: Database, outbound: Outbound) -> int:
    async with db.transaction() as session:
        row = OutboxMessage(channel=outbound.channel, address=outbound.address, payload=outbound.to_payload(),
                            next_attempt_at=utcnow())
        session.add(row)
        await session.flush()
        return row.id  # type: ignore[return-value]


# --- lines -> Inbound ---------------------------------------------------------------------------------

async def test_commands_and_text(offline: Terminal) -> None:
    command = offline.parse("/start")
    text = offline.parse("  Keripik Bu Sari ")
    assert command is not None and command.kind == "command" and command.text == "/start"
    assert text is not None and (text.kind, text.text) == ("text", "Keripik Bu Sari")
    assert (text.channel, text.address) == ("terminal", "me") and text.event_id != command.event_id
    assert offline.parse("   ") is None


async def test_a_number_picks_a_button_of_the_last_message(offline: Terminal) -> None:
    assert offline.parse("2").kind == "text"  # type: ignore[union-attr]  (no buttons printed yet)
    await offline.sender.send(Outbound("terminal", "me", "Keputusan?",
                                       choices=[Choice("rv:approve:1", "Setujui"), Choice("rv:revise:1", "Minta")]))
    picked = offline.parse("2")
    assert picked is not None and (picked.kind, picked.text) == ("choice", "rv:revise:1")
    assert offline.parse("3").kind == "text"  # type: ignore[union-attr]
    assert offline.parse("0").kind == "text"  # type: ignore[union-attr]
    await offline.sender.send(Outbound("terminal", "me", "Berapa stok?"))
    assert offline.parse("1").text == "1" and offline.parse("1").kind == "text"  # type: ignore[union-attr]


async def test_paths_of_existing_files_are_photos(offline: Terminal, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    red, blue = tmp_path / "red.jpg", tmp_path / "blue photo.png"
    red.write_bytes(make_image(color="red"))
    blue.write_bytes(make_image(fmt="PNG", color="blue"))
    photos = offline.parse(f"{red} '{blue}'")
    assert photos is not None and photos.kind == "photos"
    assert [p.source_id for p in photos.photos] == [str(red), str(blue)]
    assert photos.photos[0].data == red.read_bytes() and photos.photos[0].size == len(red.read_bytes())
    monkeypatch.chdir(tmp_path)
    relative = offline.parse("red.jpg")
    assert relative is not None and relative.kind == "photos" and relative.photos[0].source_id == "red.jpg"
    assert offline.parse("red.jpg and more").kind == "text"  # type: ignore[union-attr]
    assert offline.parse(f"{red} {tmp_path / 'missing.jpg'}").kind == "command"  # type: ignore[union-attr]
    assert offline.parse(str(tmp_path)).kind == "command"  # type: ignore[union-attr]  (a directory)
    assert offline.parse("x" * 5000).kind == "text"  # type: ignore[union-attr]  (too long for a file name)


async def test_a_file_over_the_limit_is_sent_by_size_not_read(offline: Terminal, tmp_path: Path) -> None:
    big = tmp_path / "big.jpg"
    big.write_bytes(b"x" * (offline.max_photo_bytes + 100))
    photos = offline.parse(str(big))
    assert photos is not None and photos.kind == "photos"
    assert photos.photos[0].data == b"" and photos.photos[0].size == offline.max_photo_bytes + 100


# --- Outbound -> text ---------------------------------------------------------------------------------

def test_printing_a_message(tmp_path: Path) -> None:
    out = io.StringIO()
    sender = TerminalSender(out, tmp_path / "media")
    text = sender.render(Outbound("terminal", "me", "Pengajuan baru", photos=["ab/abc.jpg"], choices=[
        Choice("a", "Setujui"), Choice("r", "Minta revisi"), Choice("x", "Tolak")]))
    assert text.splitlines() == ["Pengajuan baru", f"  🖼  {tmp_path / 'media' / 'ab' / 'abc.jpg'}",
                                 "  [1] Setujui   [2] Minta revisi   [3] Tolak"]
    assert "nomor HP" in sender.render(Outbound("terminal", "me", "Nomor HP?", request_contact="Kirim nomor HP saya"))


def test_long_keyboards_wrap_between_buttons(tmp_path: Path) -> None:
    sender = TerminalSender(io.StringIO(), tmp_path)
    labels = [f"Pilihan nomor {n}" for n in range(1, 13)]
    lines = sender.render(Outbound("terminal", "me", "Pilih", choices=[Choice(x, x) for x in labels])).splitlines()
    assert len(lines) > 2 and all(len(line) <= terminal.WIDTH for line in lines)
    for line in lines[1:]:
        assert line.startswith("  [") and line.rstrip().endswith(tuple("0123456789"))


# --- chats on the engine ------------------------------------------------------------------------------

async def test_scripted_chat_prints_replies_and_leaves_others_messages(database: Database,
                                                                       settings: Settings) -> None:
    waiting = await queue_for(database, APPROVAL)
    for_officer = await queue_for(database, Outbound("terminal", "officer-1", "Pengajuan baru"))
    out = io.StringIO()
    await Terminal(Engine(database, settings), "me", out).scripted(io.StringIO("/start\n\n1\nToko Sari\n"))
    text = out.getvalue()
    assert text.index("DISETUJUI") < text.index("> /start") < text.index("  [1] Saya setuju   [2] Tidak setuju")
    assert text.index("> 1\n") < text.index("Apa nama usaha") < text.index("> Toko Sari\n")
    async with database.transaction() as session:
        assert (await session.get(OutboxMessage, waiting)).status == OutboxStatus.sent  # type: ignore[union-attr]
        officer_row = await session.get(OutboxMessage, for_officer)
    assert officer_row is not None and officer_row.status == OutboxStatus.pending


async def test_interactive_chat_shows_what_others_send(database: Database, settings: Settings,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(terminal, "POLL_SECONDS", 0.05)
    typed = ["/start"]
    prompted, done = threading.Event(), threading.Event()

    def fake_input(prompt: str = "") -> str:
        if typed:
            return typed.pop(0)
        prompted.set()  # the reply to /start is printed, the owner is at the prompt again
        done.wait(10)
        raise EOFError

    monkeypatch.setattr(builtins, "input", fake_input)
    out = io.StringIO()
    chat = asyncio.create_task(Terminal(Engine(database, settings), "me", out).interactive())
    try:
        assert await asyncio.to_thread(prompted.wait, 10)
        await queue_for(database, APPROVAL)  # an officer decides while the owner is at the prompt
        for _ in range(200):
            if "DISETUJUI" in out.getvalue() and out.getvalue().endswith("> "):
                break
            await asyncio.sleep(0.05)
    finally:
        done.set()
        await asyncio.wait_for(chat, 10)
    text = out.getvalue()
    assert "Saya setuju" in text and "DISETUJUI" in text
    assert text.endswith("[1] Menu\n\n> ")  # the prompt comes back after a message from someone else


async def test_the_share_number_button_is_numbered_and_asks_the_number(database: Database,
                                                                        settings: Settings) -> None:
    """Every button has a number, "share my number" too: pressing it asks the number, sent as a shared contact."""
    out = io.StringIO()
    person = Terminal(Engine(database, settings), "me", out)
    script = ["/start", "1", *BUSINESS_ANSWERS[:-1]]
    await person.scripted(io.StringIO("\n".join(script) + "\n"))
    question = out.getvalue().rsplit("> ", 1)[-1]
    assert "nomor HP/WhatsApp" in question
    share = [line for line in question.splitlines() if "📱" in line]
    assert share == ["  [1] 📱 Kirim nomor HP saya"], question
    await person.scripted(io.StringIO("1\n0812 3456 7890\n"))
    tail = out.getvalue().split("> 1\n")[-1]
    assert tail.startswith("📱 Kirim nomor HP saya:\n> 0812 3456 7890\n")
    assert "Apa nama produknya" in tail  # the number was taken: on to the first product
    shared = person.parse("1")
    assert shared is not None and shared.kind == "text"  # no share button on the product question
