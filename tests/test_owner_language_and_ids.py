"""Small things an owner or officer meets first: the app's language is the bot's, an officer asking their id
hears they are registered, and a mistyped photo path in the terminal gets a clear answer."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from bot.conversation.engine import Engine
from bot.handlers.terminal import Terminal
from bot.review.officers import add_officer
from bot.settings import Settings
from bot.words.i18n import locale_of_language
from storage.db import Database
from tests.chat import Network
from tests.conftest import World, make_image
from tests.support.conversations import CRAFT_PRODUCT, onboard, play


@pytest.mark.parametrize(("code", "locale"), [("en", "en"), ("en-US", "en"), ("EN_gb", "en"), ("id", "id"),
                                              ("ms", None), ("", None), (None, None)])
def test_locale_of_language(code: str | None, locale: str | None) -> None:
    assert locale_of_language(code) == locale


async def test_telegram_language_code_sets_a_new_contacts_language(world: World) -> None:
    english = world.user(5553001)
    english.user["language_code"] = "en-US"
    await english.send("/start")
    assert "Hello, and welcome" in english.last
    await english.tap("I agree")
    indonesian = world.user(5553002)  # "id", as most owners' phones
    await indonesian.send("/start")
    assert "Halo" in indonesian.last
    other = world.user(5553003)
    other.user["language_code"] = "fr"
    await other.send("/start")
    assert "Halo" in other.last  # a language we do not speak: Indonesian


async def test_language_code_does_not_override_a_chosen_language(world: World) -> None:
    owner = world.user(5553004)
    await owner.send("/start")
    await owner.send("/bahasa")
    await owner.tap("English")
    owner.user["language_code"] = "id"
    await owner.send("/start")
    assert "Halo" not in owner.last


async def test_id_tells_a_registered_officer_so(network: Network) -> None:
    await add_officer(network.engine.db, "Budi", "18.03", "fake", "officer-1")
    officer = network.chat("officer-1")
    await officer.send("/id")
    said = officer.texts()[0]
    assert "officer-1" in said and "sudah terdaftar sebagai petugas" in said and "Budi" in said
    assert "Lampung Utara" in said and "berikan ID ini" not in said
    stranger = network.chat("someone")
    await stranger.send("/id")
    assert "berikan ID ini ke admin" in stranger.texts()[0] and "terdaftar" not in stranger.texts()[0]


async def test_terminal_missing_photo_path_is_answered_clearly(database: Database, settings: Settings,
                                                               tmp_path: Path) -> None:
    out = io.StringIO()
    terminal = Terminal(Engine(database, settings), "me", out)
    await terminal.handle_line("/start")
    assert "Saya setuju" in out.getvalue()
    missing = tmp_path / "foto" / "keripik.jpg"
    before = len(out.getvalue())
    await terminal.handle_line(str(missing))
    said = out.getvalue()[before:]
    assert f"File foto tidak ditemukan: {missing}" in said
    assert terminal.missing_files("keripik.JPG") == ["keripik.JPG"]
    assert terminal.missing_files("/start") == [] and terminal.missing_files("Jl. Merdeka 5/7") == []
    real = tmp_path / "ada.jpg"
    real.write_bytes(make_image())
    assert terminal.missing_files(f"{real} {missing}") == [str(missing)]
    assert terminal.missing_files(str(real)) == []


async def test_terminal_missing_path_in_english(database: Database, settings: Settings) -> None:
    network = Network(Engine(database, settings), channel="terminal")
    owner = network.chat("me")
    await onboard(owner)
    await play(owner, CRAFT_PRODUCT[:1])
    await owner.send("/bahasa")
    await owner.tap("English")
    out = io.StringIO()
    await Terminal(network.engine, "me", out).handle_line("./photos/bag.png")
    assert "Photo file not found: ./photos/bag.png" in out.getvalue()
