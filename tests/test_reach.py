"""Invitations for owners (bot/review/reach.py): a poster's Telegram deep link and WhatsApp click-to-chat link
preselect the region and record the source; forged, unknown or expired codes start normally; the console's
/dinas/invite refuses other regions; owners and products per source; `umkm-bot invite --out`."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from urllib.parse import unquote

import httpx
import pytest
from PIL import Image
from sqlalchemy import update
from sqlmodel import select
from typer.testing import CliRunner

from bot.cli import app as cli
from bot.conversation.engine import Engine
from bot.domain import regions
from bot.domain.messages import Inbound
from bot.review import invites, reach
from bot.review.officers import add_officer
from bot.review.signin import issue_link
from bot.service.web import Channels, create_app
from storage.db import Database
from storage.models import Business, Contact, Officer, OwnerInvite, utcnow
from tests.chat import Network
from tests.conftest import World, count_rows
from tests.dinas_data import add_business, add_product
from tests.fake_graph import FakeGraphAPI
from tests.support.conversations import BUSINESS_ANSWERS
from tests.test_admin_pages import csrf_of
from tests.test_whatsapp import WA, whatsapp_settings

BASE = "http://127.0.0.1:8080"
LAMPUNG_UTARA, LAMPUNG_BARAT = "18.03", "18.04"


async def make_invite(db: Database, region: str = LAMPUNG_UTARA, source: str = "Bazar Kotabumi") -> OwnerInvite:
    async with db.transaction() as session:
        invite = await reach.make(session, region, source, utcnow())
        session.expunge(invite)
        return invite


async def business_of(db: Database, address: str) -> Business | None:
    async with db.transaction() as session:
        contact = (await session.exec(select(Contact).where(Contact.address == address))).one()
        return (await session.exec(select(Business).where(Business.owner_id == contact.owner_id))).first()


def test_codes_fit_a_start_payload_and_never_look_like_an_officers() -> None:
    code = "daftar_" + "aB3-_" * 2 + "xy"
    assert len(code) <= 64 and re.fullmatch(r"[A-Za-z0-9_-]+", code)
    assert reach.find_code(f"Halo. Kode: {code}") == code and reach.find_code(code + "z") is None
    assert invites.find_code(code) is None and reach.find_code("inv_" + "a" * 32) is None


# --- Telegram: the real python-telegram-bot client against the fake Bot API ------------------------------

@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
async def test_a_telegram_deep_link_preselects_the_region_and_records_the_source(world: World) -> None:
    invite = await make_invite(world.db)
    owner = world.user(5550101)
    await owner.send(f"/start {invite.code}")
    assert "setuju" in owner.last
    await owner.tap("Saya setuju")
    for answer in BUSINESS_ANSWERS[:8]:
        await owner.send(answer)
    label = regions.get_region(LAMPUNG_UTARA).label  # type: ignore[union-attr]
    assert f"Usaha Bapak/Ibu berada di {label}, benar?" in owner.last
    await owner.tap(label)
    assert "alamat" in owner.last.lower()
    business = await business_of(world.db, "5550101")
    assert business is not None and business.invite_id == invite.id and business.region_code == LAMPUNG_UTARA


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
async def test_a_forged_telegram_code_is_a_normal_start(world: World) -> None:
    await make_invite(world.db)
    owner = world.user(5550102)
    await owner.send("/start daftar_AAAAAAAAAAAA")
    assert "setuju" in owner.last
    await owner.tap("Saya setuju")
    for answer in BUSINESS_ANSWERS[:8]:
        await owner.send(answer)
    assert "kabupaten/kota mana" in owner.last
    business = await business_of(world.db, "5550102")
    assert business is not None and business.invite_id is None


# --- WhatsApp: click-to-chat, a signed webhook --------------------------------------------------------------

@pytest.fixture
async def graph() -> AsyncIterator[FakeGraphAPI]:
    async with FakeGraphAPI() as fake:
        yield fake


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
async def test_a_whatsapp_click_to_chat_preselects_and_a_neighbours_poster_can_be_refused(
        graph: FakeGraphAPI, database: Database, tmp_path: Path) -> None:
    settings = whatsapp_settings(graph, tmp_path, whatsapp_display_number="+62 811-0000-111")
    engine = Engine(database, settings)
    channels = Channels(settings, engine)
    app = create_app(settings, database, channels.routes())
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bot.test") as client:
        wa = WA(graph, client, channels, database)
        invite = await make_invite(database, region=LAMPUNG_BARAT, source="Pasar Liwa")
        link = reach.links(settings, engine.renderer, invite).whatsapp
        assert link is not None and link.startswith("https://wa.me/628110000111?text=")
        owner = wa.user("6281200000001")
        await owner.send(unquote(link.split("text=", 1)[1]))  # the prefilled text, sent as it is
        assert "Apakah Bapak/Ibu setuju?" in owner.last
        await owner.tap("Saya setuju")
        for answer in BUSINESS_ANSWERS[:7]:
            await owner.send(answer)
        await owner.tap("Mikro")
        assert "Lampung Barat" in owner.last and "benar?" in owner.last
        await owner.press("region:none", "Bukan, ketik lagi")  # a neighbour's poster: they live elsewhere
        assert "Lampung Barat" not in owner.last
        await owner.send("lampung utara")
        assert "alamat" in owner.last.lower()
        business = await business_of(database, "6281200000001")
        assert business is not None and business.invite_id == invite.id and business.region_code == LAMPUNG_UTARA
    await channels.stop()


# --- the engine: forged, unknown, expired codes; officers' codes still bind ------------------------------

async def test_forged_unknown_or_expired_codes_start_normally_and_officer_codes_still_work(
        network: Network) -> None:
    db = network.engine.db
    expired = await make_invite(db, source="Kemarin")
    async with db.transaction() as session:
        row = await session.get(OwnerInvite, expired.id)
        row.expires_at = network.engine.clock() - timedelta(days=1)  # type: ignore[union-attr]
    chat = Network(network.engine, channel="telegram")
    for address, payload in (("801", "daftar_ZZZZZZZZZZZZ"), ("802", expired.code), ("803", "daftar_<script>"),
                             ("804", "x" * 64)):
        replies = await chat.deliver(Inbound("telegram", address, f"ev-{address}", "command", "/start",
                                             argument=payload))
        assert any("setuju" in r.text for r in replies), (payload, [r.text for r in replies])
        await chat.deliver(Inbound("telegram", address, f"ev-{address}-yes", "choice", "consent:yes"))
        business = await business_of(db, address)
        assert business is not None and business.invite_id is None
    boss = (await add_officer(db, "Bu Admin", "18", "fake", "admin-1", role="admin")).officer
    async with db.transaction() as session:
        made = await invites.create(session, network.engine.settings, boss, name="Rina", region_code=LAMPUNG_UTARA,
                                    channel="telegram", now=network.engine.clock())
    await chat.deliver(Inbound("telegram", "805", "ev-805", "command", "/start", argument=made.code))
    assert await count_rows(db, Officer, Officer.name == "Rina") == 1


# --- the console ---------------------------------------------------------------------------------------

@pytest.fixture
async def web(network: Network) -> AsyncIterator[httpx.AsyncClient]:
    settings = network.engine.settings.model_copy(update={"telegram_bot_username": "umkm_test_bot",
                                                          "whatsapp_display_number": "+62 811-0000-111"})
    app = create_app(settings, network.engine.db, renderer=network.engine.renderer)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE) as client:
        yield client


async def sign_in(web: httpx.AsyncClient, network: Network, officer_id: int | None) -> str:
    """Signs the browser in as the officer; returns the session's CSRF token."""
    web.cookies.clear()
    async with network.engine.db.transaction() as session:
        url = await issue_link(session, network.engine.settings, officer_id, utcnow())  # type: ignore[arg-type]
    path = url.removeprefix(BASE)
    assert (await web.post(path, data={"csrf": csrf_of((await web.get(path)).text)})).status_code == 303
    return csrf_of((await web.get("/dinas/")).text)


async def test_an_officer_makes_an_invitation_and_another_regions_officer_is_refused(
        network: Network, web: httpx.AsyncClient) -> None:
    db = network.engine.db
    budi = (await add_officer(db, "Budi", LAMPUNG_UTARA, "fake", "o-1")).officer.id
    sari = (await add_officer(db, "Sari", LAMPUNG_BARAT, "fake", "o-2")).officer.id
    csrf = await sign_in(web, network, sari)
    refused = await web.post("/dinas/invite", data={"csrf": csrf, "region": LAMPUNG_UTARA, "source": "Bazar"})
    assert refused.status_code == 403 and "wilayah sendiri" in refused.text
    assert await count_rows(db, OwnerInvite) == 0
    assert (await web.post("/dinas/invite", data={"csrf": "wrong", "region": LAMPUNG_BARAT})).status_code == 403
    assert await count_rows(db, OwnerInvite) == 0

    csrf = await sign_in(web, network, budi)
    page = await web.get("/dinas/invite")
    assert page.status_code == 200 and "Undang pelaku UMKM" in page.text and LAMPUNG_BARAT not in page.text
    made = await web.post("/dinas/invite", data={"csrf": csrf, "region": LAMPUNG_UTARA, "source": " Bazar  Kotabumi "})
    assert made.status_code == 303
    detail = await web.get(made.headers["location"])
    code = re.search(r"daftar_[A-Za-z0-9_-]{12}", detail.text).group(0)  # type: ignore[union-attr]
    assert f'href="https://t.me/umkm_test_bot?start={code}"' in detail.text
    assert "https://wa.me/628110000111?text=" in detail.text and detail.text.count("<svg") == 2
    again = await web.post("/dinas/invite", data={"csrf": csrf, "region": LAMPUNG_UTARA, "source": "Bazar Kotabumi"})
    assert again.headers["location"] == made.headers["location"]  # one row per (region, source)
    poster = await web.get(made.headers["location"] + "/poster")
    assert poster.status_code == 200 and "@page{size:A4" in poster.text and "Kabupaten Lampung Utara" in poster.text
    assert "http" not in re.sub(r'(href|xmlns)="[^"]*"', "", poster.text.split("<body>")[1]).replace(
        "https://", "")  # no external assets
    await sign_in(web, network, sari)
    assert (await web.get(made.headers["location"])).status_code == 404  # not Sari's region


async def test_owners_and_products_per_source(network: Network, web: httpx.AsyncClient) -> None:
    db = network.engine.db
    bazar = await make_invite(db, source="Bazar Kotabumi")
    pasar = await make_invite(db, source="Pasar")
    await make_invite(db, region=LAMPUNG_BARAT, source="Liwa")  # another district: not counted for 18.03
    first = await add_business(db)
    second = await add_business(db, region_code=LAMPUNG_BARAT)  # scanned a neighbour's poster: counts for bazar
    third = await add_business(db)
    plain = await add_business(db)
    async with db.transaction() as session:
        conn = await session.connection()
        for business, invite in ((first, bazar), (second, bazar), (third, pasar)):
            await conn.execute(update(Business).where(Business.id == business).values(invite_id=invite.id))
    budi = (await add_officer(db, "Budi", LAMPUNG_UTARA, "fake", "o-1")).officer.id
    for status in ("draft", "submitted", "approved", "listed"):
        await add_product(db, first, status=status, officer_id=budi)
    await add_product(db, second, status="rejected", officer_id=budi)
    await add_product(db, third, status="draft")
    await add_product(db, plain, status="approved", officer_id=budi)
    await sign_in(web, network, budi)
    progress = await web.get("/dinas/progress")
    assert 'href="/dinas/invite/sources"' in progress.text
    page = await web.get("/dinas/invite/sources")
    assert page.status_code == 200 and "Liwa" not in page.text
    csv_text = (await web.get("/dinas/invite/sources.csv")).content.decode("utf-8-sig")
    rows = [line.split(",") for line in csv_text.strip().splitlines()]
    assert rows[0][0] == "Sumber"
    # source, district, owners, products started, submitted, approved (ever), live
    assert rows[1] == ["Bazar Kotabumi", LAMPUNG_UTARA, "2", "5", "4", "2", "1"]
    assert rows[2] == ["Pasar", LAMPUNG_UTARA, "1", "1", "0", "0", "0"]
    assert rows[3] == ["", "", "1", "1", "1", "1", "0"]  # came by no invitation
    assert len(rows) == 4


# --- the CLI -------------------------------------------------------------------------------------------

def test_cli_invite_writes_a_png_and_an_svg_qr(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'umkm.db'}")
    monkeypatch.setenv("MEDIA_DIR", str(tmp_path / "media"))
    monkeypatch.setenv("TELEGRAM_BOT_USERNAME", "umkm_test_bot")
    monkeypatch.setenv("WHATSAPP_DISPLAY_NUMBER", "0811-0000-111")
    runner = CliRunner()
    png = tmp_path / "qr.png"
    done = runner.invoke(cli, ["invite", "--region", "Lampung Utara", "--source", "Bazar", "--out", str(png)])
    assert done.exit_code == 0, done.output
    code = re.search(r"start=(daftar_[A-Za-z0-9_-]{12})", done.output).group(1)  # type: ignore[union-attr]
    with Image.open(png) as image:
        image.load()
        assert image.format == "PNG" and image.size[0] == image.size[1] >= 290  # 10 px modules, 4 of border
    # No QR decoder is installed here: check the same modules segno encodes for this link instead.
    expected = reach.qr(f"https://t.me/umkm_test_bot?start={code}")
    assert image.size[0] == (expected.symbol_size(scale=10, border=4)[0])
    svg = tmp_path / "qr.svg"
    done = runner.invoke(cli, ["invite", "--region", "18.03", "--source", "Bazar", "--out", str(svg),
                               "--channel", "whatsapp"])
    assert done.exit_code == 0 and code in done.output and "wa.me/628110000111" in done.output
    assert svg.read_text().lstrip().startswith("<?xml") and "<svg" in svg.read_text()
    for bad in (["--region", "18"], ["--region", "18.03", "--out", str(tmp_path / "x.gif")],
                ["--region", "18.03", "--source", "x" * 61]):
        assert runner.invoke(cli, ["invite", *bad]).exit_code == 2, bad
