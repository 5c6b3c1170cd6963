"""Emphasis per channel: templates write `*bold*`, Telegram gets HTML, WhatsApp its own bold, the terminal
plain text; whatever an owner typed shows exactly as typed everywhere."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from bot.domain.messages import Outbound
from bot.handlers.terminal import TerminalSender
from bot.settings import ROOT
from bot.words.i18n import Renderer
from bot.words.markup import ZERO_WIDTH_SPACE, escape, split_html, to_html, to_plain, to_whatsapp
from tests.conftest import World
from tests.fake_telegram import visible_text
from tests.support.conversations import CRAFT_PRODUCT
from tests.test_whatsapp import (  # noqa: F401  (fixtures)
    WA,
    database,  # noqa: F401  (SQLite for both channels here)
    graph,
    wa,
)
from tests.test_whatsapp import onboard as wa_onboard

NAME = "<b>x</b> & Co *best* a_b_c ~1~ `k` \\ end"


@pytest.mark.parametrize("value", [NAME, "*", "**", "\\*", "a*b", "&amp;", "<", "x\\"])
def test_escaped_values_read_exactly_as_typed(value: str) -> None:
    marked = f"*Nama:* {escape(value)}"
    assert to_plain(marked) == f"Nama: {value}"
    assert visible_text({"text": to_html(marked), "parse_mode": "HTML"}) == f"Nama: {value}"
    assert to_whatsapp(marked).replace(ZERO_WIDTH_SPACE, "") == f"*Nama:* {value}"


def test_whatsapp_literal_stars_cannot_pair_into_bold() -> None:
    shown = to_whatsapp(f"Produk {escape('*promo*')}")
    assert shown == f"Produk *{ZERO_WIDTH_SPACE}promo*{ZERO_WIDTH_SPACE}"


def test_telegram_split_never_cuts_inside_a_tag() -> None:
    text = "\n".join(f"Baris {i}: *{'tebal ' * 15}* " + escape("<&>") for i in range(120))
    pieces = split_html(text, 4096)
    assert len(pieces) > 2
    for piece in pieces:
        shown = visible_text({"text": piece, "parse_mode": "HTML"})
        assert shown is not None and len(shown) <= 4096
    one_line = split_html("*" + "x" * 5000 + "*", 4096)  # a bold span longer than a message
    assert [visible_text({"text": p, "parse_mode": "HTML"}) for p in one_line] == ["x" * 4096, "x" * 904]
    assert one_line[0].startswith("<b>") and one_line[1].startswith("<b>")


@pytest.mark.parametrize("locale", ["id", "en"])
def test_rendered_templates_escape_values_but_keep_their_own_emphasis(locale: str) -> None:
    renderer = Renderer(ROOT / "templates")
    question = renderer.render(locale, "ask/product/merek")
    text = renderer.render(locale, "ask/_frame", question=question, position=3, total=12, optional=True,
                           current=NAME)
    word = {"id": "lewati", "en": "skip"}[locale]
    assert f"<b>{word}</b>" in to_html(text)
    assert NAME in to_plain(text) and f"*{word}*" not in to_plain(text)
    assert NAME in visible_text({"text": to_html(text), "parse_mode": "HTML"})


async def test_terminal_prints_plain_text(tmp_path: Path) -> None:
    out = io.StringIO()
    await TerminalSender(out, tmp_path).send(Outbound("terminal", "me", "Ketik *lewati* " + escape(NAME)))
    assert out.getvalue().strip() == f"Ketik lewati {NAME}"


async def test_telegram_english_emphasis_and_owner_values(world: World) -> None:
    owner = world.user(5550001)
    await owner.send("/start")
    await owner.tap("Saya setuju")
    await owner.send("/bahasa")
    await owner.tap("English")
    await owner.send("help")
    sent = world.api.sent("sendMessage", 5550001)[-1].params
    assert sent["parse_mode"] == "HTML" and "<b>skip</b>" in sent["text"]
    assert "*skip*" not in owner.last


async def test_whatsapp_gets_its_own_bold_and_literal_owner_stars(wa: WA) -> None:  # noqa: F811
    owner = wa.user("6281200000001")
    await wa_onboard(owner)
    await owner.send("Tas *Anyaman* Pandan")
    await owner.tap(CRAFT_PRODUCT[1][1])
    assert "ketik *lewati* kalau" in owner.last
    await owner.send("menu")
    await owner.tap("Produk saya")
    assert f"Tas *{ZERO_WIDTH_SPACE}Anyaman*{ZERO_WIDTH_SPACE} Pandan" in owner.last


def test_whatsapp_leaves_a_lone_underscore_alone() -> None:
    assert to_whatsapp("Email: " + escape("sari_w@mail.id")) == "Email: sari_w@mail.id"
    assert ZERO_WIDTH_SPACE in to_whatsapp("Ketik *lewati*. " + escape("a*b"))


async def test_whatsapp_english_bold(wa: WA) -> None:  # noqa: F811
    owner = wa.user("6281200000009")
    await owner.send("halo")
    await owner.send("bahasa")
    await owner.tap("English")
    await owner.tap("I agree")
    await owner.send("help")
    body = next(t for t in reversed(owner.texts) if "skip an optional question" in t)
    assert "*skip* — skip an optional question" in body and ZERO_WIDTH_SPACE not in body
