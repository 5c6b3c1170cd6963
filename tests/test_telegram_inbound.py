"""Real Telegram update shapes (tests/fixtures/telegram) read into Inbound events by the checked model alone."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.domain.messages import Inbound, PhotoIn
from bot.handlers import telegram_shape
from bot.handlers.telegram import TelegramChannel
from bot.settings import Settings
from tests.fake_telegram import TOKEN, FakeBotAPI

FIXTURES = Path(__file__).parent / "fixtures" / "telegram"


def fixture(name: str) -> dict:
    return json.loads((FIXTURES / f"{name}.json").read_text())


@pytest.fixture
async def channel(tmp_path: Path):
    async with FakeBotAPI() as api:
        api.add_file("AgACAgQAAxkBAAIBlarge", b"large photo")
        api.add_file("BQACAgQAAxkBAAIBdoc", b"%PDF-1.4")
        settings = Settings(_env_file=None, database_url=f"sqlite:///{tmp_path / 't.db'}", media_dir=tmp_path,
                            telegram_bot_token=TOKEN, telegram_api_url=api.url)
        telegram = TelegramChannel(settings)
        await telegram.start()
        yield telegram
        await telegram.stop()


async def inbound(channel: TelegramChannel, data: dict) -> Inbound | None:
    update = telegram_shape.read(data)
    assert not isinstance(update, str), update
    return await channel.to_inbound(update)


SARI = {"channel": "telegram", "address": "5551234"}


async def test_text_and_command_carry_the_full_name_and_app_language(channel: TelegramChannel) -> None:
    assert await inbound(channel, fixture("text_message")) == Inbound(
        **SARI, event_id="100000001", kind="text", text="halo", display_name="Sari Wulandari", language="id")
    start = fixture("command_start")
    start["message"]["text"] = "/start@umkm_test_bot kode"
    start["message"]["from"]["language_code"] = "en"
    assert await inbound(channel, start) == Inbound(
        **SARI, event_id="100000000", kind="command", text="/start", display_name="Sari Wulandari", language="en",
        argument="kode")  # a deep link's payload (an officer's invitation code)


async def test_a_button_tap_is_a_choice_in_the_chat_of_its_message(channel: TelegramChannel) -> None:
    tap = fixture("callback_query")
    tap["callback_query"]["message"]["chat"]["id"] = -100777  # a group's button: the reply goes to the group
    assert await inbound(channel, tap) == Inbound(
        "telegram", "-100777", "100000002", "choice", tap["callback_query"]["data"],
        display_name="Sari Wulandari", language="id")


async def test_a_shared_contact_is_verified_only_when_it_is_the_senders_own(channel: TelegramChannel) -> None:
    own = await inbound(channel, fixture("contact"))
    assert own is not None and own.kind == "contact"
    assert (own.phone, own.verified_phone, own.display_name) == ("6281234567890", "+6281234567890", "Sari")
    other = fixture("contact")
    other["message"]["contact"]["user_id"] = 999
    read = await inbound(channel, other)
    assert read is not None and read.verified_phone == ""


async def test_the_largest_photo_of_an_album_item_is_downloaded(channel: TelegramChannel) -> None:
    read = await inbound(channel, fixture("photo_album_item"))
    assert read is not None and read.kind == "photos" and read.album == "13598714236785232"
    assert read.photos == (PhotoIn(b"large photo", "AgACAgQAAxkBAAIBlarge", 73219),)
    document = await inbound(channel, fixture("document"))
    assert document is not None and document.photos[0].data == b"%PDF-1.4"  # the photo checks refuse it later


async def test_other_kinds_are_unsupported_or_ignored(channel: TelegramChannel) -> None:
    sticker = await inbound(channel, fixture("sticker"))
    assert sticker is not None and sticker.kind == "unsupported"
    assert await inbound(channel, fixture("edited_message")) is None
    location = fixture("text_message")
    del location["message"]["text"]
    location["message"]["location"] = {"latitude": -4.83, "longitude": 104.88}
    read = await inbound(channel, location)
    assert read is not None and (read.kind, read.latitude, read.longitude) == ("location", -4.83, 104.88)
