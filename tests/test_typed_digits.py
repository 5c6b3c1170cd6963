"""Digits people type in other scripts ("²", "③", "٣", "１") and ids no database column holds never break a turn."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import select

from bot.domain import validators
from bot.domain.numbers import MAX_ID, ascii_number
from bot.review.officers import add_officer
from storage.models import Contact, Conversation, InboundEvent
from tests.chat import Chat, Network
from tests.support.conversations import fill_product, onboard

APOLOGY = "gangguan di sistem"
STALE = "Tombol itu sudah tidak berlaku"

# Every Unicode digit and number ("²", "③", "٣", "१", "１", "½") and every space character, mixed.
DIGITS_AND_SPACES = st.characters(categories=["Nd", "No", "Zs"])


def picks_a_button(text: str) -> bool:
    """A small plain number picks a button by its position; that path is tested elsewhere and moves the chat."""
    number = ascii_number(text)
    return number is not None and number <= 20


TYPED = st.text(DIGITS_AND_SPACES, min_size=1, max_size=12).filter(lambda s: s.strip() and not picks_a_button(s))
HUGE = st.integers(min_value=MAX_ID + 1, max_value=10**40).map(str)
ODD_IDS = st.one_of(HUGE, st.text(DIGITS_AND_SPACES, min_size=1, max_size=12)).filter(lambda s: ascii_number(s) is None)


@pytest.mark.parametrize(("text", "value"), [
    ("2", 2), (" 12 ", 12), ("0", 0), ("2147483647", MAX_ID), ("2147483648", None), ("9" * 400, None),
    ("²", None), ("③", None), ("¹²", None), ("٣", None), ("१", None), ("１", None), ("½", None),
    ("-1", None), ("+1", None), ("1_000", None), ("1.0", None), ("", None), ("1 2", None), ("0x1", None),
])
def test_ascii_number_reads_plain_digits_only(text: str, value: int | None) -> None:
    assert ascii_number(text) == value


async def chats_at_every_step(network: Network) -> dict[str, Chat]:
    """One chat waiting at each kind of step: consent, typed text, buttons, summary, menu, officer menu."""
    chats = {name: network.chat(name) for name in ("consent", "text", "choice", "summary", "menu", "officer")}
    await chats["consent"].send("/start")
    await chats["text"].send("/start")
    await chats["text"].tap("Saya setuju")
    await chats["text"].send("Keripik Bu Sari")
    await chats["text"].send("Sari Wulandari")
    await chats["text"].send("perorangan")
    assert "NIB" in chats["text"].last
    await onboard(chats["choice"])
    await chats["choice"].send("Keripik Singkong Balado")
    assert chats["choice"].inbox[-1].choices
    await onboard(chats["summary"])
    await fill_product(chats["summary"])
    assert "Ringkasan produk" in chats["summary"].last
    await onboard(chats["menu"])
    await chats["menu"].send("menu")
    await add_officer(network.engine.db, "Budi", "18.03", "fake", "officer")
    await chats["officer"].send("menu")
    return chats


async def states(network: Network) -> dict[str, tuple[str, str]]:
    async with network.engine.db.transaction() as session:
        rows = (await session.exec(select(Contact.address, Conversation.flow, Conversation.step)
                                   .where(Conversation.contact_id == Contact.id))).all()
    return {address: (flow, step) for address, flow, step in rows}


_cache: dict[int, tuple[dict[str, Chat], dict[str, tuple[str, str]]]] = {}


async def prepared(network: Network) -> tuple[dict[str, Chat], dict[str, tuple[str, str]]]:
    """The chats at every step, made once per test (hypothesis runs the body once per example)."""
    if id(network) not in _cache:
        _cache.clear()
        chats = await chats_at_every_step(network)
        _cache[id(network)] = chats, await states(network)
    return _cache[id(network)]


@settings(max_examples=15, deadline=None, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=TYPED)
async def test_typed_digits_and_spaces_never_get_the_apology(network: Network, text: str) -> None:
    chats, before = await prepared(network)
    for name, chat in chats.items():
        start = len(chat.inbox)
        await chat.send(text)
        replies = chat.texts(start)
        assert replies, f"{name}: no answer to {text!r}"
        assert not any(APOLOGY in r for r in replies), f"{name}: apology for {text!r}"
    assert await states(network) == before, f"{text!r} moved a chat"


@settings(max_examples=10, deadline=None, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(number=ODD_IDS)
async def test_button_ids_out_of_range_answer_like_a_stale_button(network: Network, number: str) -> None:
    chats, _ = await prepared(network)
    owner, officer = chats["menu"], chats["officer"]
    for chat, button in [*((owner, f"{name}:{number}") for name in ("open", "fix", "submit", "edit")),
                         *((officer, f"{name}{number}") for name in ("rv:a:", "rv:r:", "rv:x:", "show:"))]:
        start = len(chat.inbox)
        await chat.press(button)
        replies = chat.texts(start)
        assert replies and not any(APOLOGY in r for r in replies), f"{button!r}: {replies}"
        assert any(STALE in r for r in replies), f"{button!r} was not answered as a stale button: {replies}"


async def test_a_huge_typed_number_is_only_text(network: Network) -> None:
    owner = network.chat("owner-1")
    await onboard(owner)
    await owner.send("menu")
    await owner.send(str(2**63))
    assert APOLOGY not in owner.last and await _events(network) > 0


async def _events(network: Network) -> int:
    async with network.engine.db.transaction() as session:
        return len((await session.exec(select(InboundEvent))).all())


def test_the_terminal_chat_survives_superscript_digits(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "WHATSAPP_", "PUBLIC_URL"))}
    env.update(DATABASE_URL=f"sqlite:///{tmp_path / 'chat.db'}", MEDIA_DIR=str(tmp_path / "media"))
    typed = "/start\n²\n③\n¹²\n٣\n１\n1\n"
    result = subprocess.run([sys.executable, "-m", "bot", "chat", "--as", "demo"], input=typed, text=True,
                            capture_output=True, cwd=tmp_path, env=env, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Traceback" not in result.stderr and APOLOGY not in result.stdout
    assert "Apa nama usaha" in result.stdout  # "1" still picks the first button ("Saya setuju") after all that


@pytest.mark.parametrize("typed", ["1½", "1²", "Rp 25.000²", "٢٥ rb", "２５rb", "1¼ kg", "५०० gr", "40⁰%"])
def test_numbers_with_digits_of_other_scripts_are_asked_again(typed: str) -> None:
    """"1½" is not one Rupiah and "٢٥ rb" is not read half-way: the owner is asked to type it with 0-9."""
    for validate in (validators.rupiah, validators.count, validators.weight_grams, validators.percent):
        with pytest.raises(ValueError):
            validate(typed)
