"""The admin pages (/dinas/admin/...): roles, invitations that bind a chat, deactivation, targets, unrouted
submissions, health and the audit; every refusal (not an admin, another area, wrong CSRF) changes nothing."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import update
from sqlmodel import select

from bot.dinas import targets as dinas_targets
from bot.domain.messages import Inbound
from bot.review import admin, invites
from bot.review.officers import add_officer
from bot.review.signin import issue_link
from bot.service.web import create_app
from storage.db import Database
from storage.models import (
    AdminAction,
    Contact,
    DinasLogin,
    Officer,
    OfficerInvite,
    OutboxMessage,
    OutboxStatus,
    RegionTarget,
    utcnow,
)
from tests.chat import Network
from tests.conftest import count_rows
from tests.support.conversations import fill_product, onboard

BASE = "http://127.0.0.1:8080"
PAGES = ("/dinas/admin/officers", "/dinas/admin/targets", "/dinas/admin/unrouted", "/dinas/admin/health",
         "/dinas/admin/audit")


@pytest.fixture
async def web(network: Network) -> AsyncIterator[httpx.AsyncClient]:
    settings = network.engine.settings.model_copy(update={"telegram_bot_username": "umkm_test_bot",
                                                          "whatsapp_display_number": "+62 811-0000-111"})
    app = create_app(settings, network.engine.db, renderer=network.engine.renderer)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE) as client:
        yield client


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, html
    return found.group(1)


async def officer(db: Database, name: str, region: str, address: str, role: str = "officer") -> int:
    row = await add_officer(db, name, region, "fake", address)
    async with db.transaction() as session:
        connection = await session.connection()
        await connection.execute(update(Officer).where(Officer.id == row.officer.id).values(role=role))
    return row.officer.id  # type: ignore[return-value]


async def sign_in(web: httpx.AsyncClient, db: Database, officer_id: int) -> str:
    """Signs the browser in as the officer; returns a CSRF token of the session."""
    web.cookies.clear()
    async with db.transaction() as session:
        url = await issue_link(session, network_settings(db), officer_id, utcnow())
    path = url.removeprefix(BASE)
    page = await web.get(path)
    assert (await web.post(path, data={"csrf": csrf_of(page.text)})).status_code == 303
    return csrf_of((await web.get("/dinas/")).text)


_SETTINGS = {}


def network_settings(db: Database):  # type: ignore[no-untyped-def]
    return _SETTINGS[id(db)]


@pytest.fixture(autouse=True)
def _remember_settings(network: Network) -> None:
    _SETTINGS[id(network.engine.db)] = network.engine.settings


async def test_an_officer_gets_403_on_every_admin_page_and_their_posts_change_nothing(
        network: Network, web: httpx.AsyncClient) -> None:
    db = network.engine.db
    budi = await officer(db, "Budi", "18.03", "officer-1")
    other = await officer(db, "Sari", "18.03", "officer-2")
    csrf = await sign_in(web, db, budi)
    assert "/dinas/admin/" not in (await web.get("/dinas/")).text  # no admin link for an officer
    for page in PAGES:
        answer = await web.get(page)
        assert answer.status_code == 403 and "Khusus admin" in answer.text, page
    posts = {"/dinas/admin/officers/invite": {"name": "X", "region": "18.03", "channel": "telegram"},
             "/dinas/admin/officers/deactivate": {"officer_id": str(other)},
             "/dinas/admin/targets": {"region": "18.03", "target": "5"}}
    for path, data in posts.items():
        assert (await web.post(path, data={"csrf": csrf, **data})).status_code == 403, path
    assert await count_rows(db, OfficerInvite) == 0 and await count_rows(db, RegionTarget) == 0
    assert await count_rows(db, Officer, Officer.active == True) == 2  # noqa: E712
    assert await count_rows(db, AdminAction) == 0


async def test_an_invitation_link_binds_the_new_officers_chat_once(network: Network, web: httpx.AsyncClient) -> None:
    db = network.engine.db
    boss = await officer(db, "Bu Admin", "18", "admin-1", role="admin")
    csrf = await sign_in(web, db, boss)
    page = await web.get("/dinas/admin/officers")
    assert page.status_code == 200 and "Undang petugas baru" in page.text and "Bu Admin" in page.text
    made = await web.post("/dinas/admin/officers/invite",
                          data={"csrf": csrf, "name": "Rina Putri", "region": "18.03", "channel": "telegram"})
    assert made.status_code == 200, made.text
    link = re.search(r'href="(https://t\.me/umkm_test_bot\?start=(inv_[A-Za-z0-9_-]{32}))"', made.text)
    assert link, made.text
    code = link.group(2)
    assert len(code) <= 64
    telegram = Network(network.engine, channel="telegram")

    async def start(address: str, payload: str) -> list:  # type: ignore[type-arg]
        return await telegram.deliver(Inbound("telegram", address, f"ev-{address}-{payload[-4:]}", "command",
                                              "/start", argument=payload))

    replies = await start("777", "inv_" + "A" * 32)  # forged: a normal start (consent), nothing bound
    assert await count_rows(db, Officer) == 1 and "Rina" not in " ".join(r.text for r in replies)
    replies = await start("555", code)
    assert any("Rina Putri" in r.text for r in replies)
    async with db.transaction() as session:
        contact = (await session.exec(select(Contact).where(Contact.address == "555"))).one()
        rina = await session.get(Officer, contact.officer_id)
        assert rina is not None and rina.region_code == "18.03" and rina.role == "officer" and rina.active
    await start("556", code)  # used: the second chat is not bound
    async with db.transaction() as session:
        assert (await session.exec(select(Contact).where(Contact.address == "556"))).one().officer_id is None
    listing = await web.get("/dinas/admin/officers")
    assert "Rina Putri" in listing.text and "telegram" in listing.text
    audit = await web.get("/dinas/admin/audit")
    assert "mengundang petugas" in audit.text and "Bu Admin" in audit.text
    whatsapp = await web.post("/dinas/admin/officers/invite",
                              data={"csrf": csrf, "name": "Dedi", "region": "18.04", "channel": "whatsapp"})
    assert re.search(r"https://wa\.me/628110000111\?text=inv_[A-Za-z0-9_-]{32}", whatsapp.text)
    outside = await web.post("/dinas/admin/officers/invite",
                             data={"csrf": csrf, "name": "Luar", "region": "31.71", "channel": "telegram"})
    assert outside.status_code == 400 and "di dalam wilayah" in outside.text
    assert await count_rows(db, OfficerInvite) == 2


async def test_an_expired_invitation_binds_nothing(network: Network) -> None:
    db = network.engine.db
    boss_id = await officer(db, "Bu Admin", "18", "admin-1", role="admin")
    long_ago = network.engine.clock() - invites.INVITE_TTL - timedelta(minutes=1)
    async with db.transaction() as session:
        boss = await session.get(Officer, boss_id)
        made = await invites.create(session, network.engine.settings, boss, name="Lama", region_code="18.03",  # type: ignore[arg-type]
                                    channel="whatsapp", now=long_ago)
    whatsapp = Network(network.engine, channel="whatsapp")
    await whatsapp.deliver(Inbound("whatsapp", "628120000", "wamid.late", "text", made.code))
    assert await count_rows(db, Officer) == 1
    async with db.transaction() as session:  # the same code, still valid: the chat becomes the officer's
        await (await session.connection()).execute(update(OfficerInvite).values(expires_at=network.engine.clock()
                                                                                + timedelta(days=1)))
    await whatsapp.deliver(Inbound("whatsapp", "628120000", "wamid.ontime", "text", made.code))
    assert await count_rows(db, Officer) == 2


async def test_deactivation_ends_sessions_and_refuses_other_areas_forged_posts(
        network: Network, web: httpx.AsyncClient) -> None:
    db = network.engine.db
    boss = await officer(db, "Bu Admin", "18.03", "admin-1", role="admin")
    budi = await officer(db, "Budi", "18.03", "officer-1")
    far = await officer(db, "Jauh", "31.71", "officer-9")
    neighbour = await officer(db, "Tetangga", "18.04", "officer-8")
    budi_browser = httpx.AsyncClient(transport=web._transport, base_url=BASE)  # type: ignore[attr-defined]
    await sign_in(budi_browser, db, budi)
    csrf = await sign_in(web, db, boss)
    for target in (far, neighbour):  # another area's officer id: 404, nothing changed
        refused = await web.post("/dinas/admin/officers/deactivate", data={"csrf": csrf, "officer_id": str(target)})
        assert refused.status_code == 404
    forged = await web.post("/dinas/admin/officers/deactivate", data={"csrf": "wrong", "officer_id": str(budi)})
    assert forged.status_code == 403
    assert await count_rows(db, Officer, Officer.active == True) == 4  # noqa: E712
    assert (await budi_browser.get("/dinas/")).status_code == 200
    done = await web.post("/dinas/admin/officers/deactivate", data={"csrf": csrf, "officer_id": str(budi)})
    assert done.status_code == 303
    assert (await budi_browser.get("/dinas/")).status_code == 401
    assert await count_rows(db, DinasLogin, DinasLogin.officer_id == budi, DinasLogin.ended_at.is_(None)) == 0  # type: ignore[union-attr]
    assert await count_rows(db, Officer, Officer.active == True) == 3  # noqa: E712
    assert await count_rows(db, AdminAction, AdminAction.action == "deactivate") == 1
    await budi_browser.aclose()


async def test_targets_of_the_area_only(network: Network, web: httpx.AsyncClient) -> None:
    db = network.engine.db
    assert (admin.DEFAULT_TARGET, admin.MAX_TARGET) == (dinas_targets.DEFAULT_TARGET, dinas_targets.MAX_TARGET)
    boss = await officer(db, "Bu Admin", "18.03", "admin-1", role="admin")
    csrf = await sign_in(web, db, boss)
    page = await web.get("/dinas/admin/targets")
    assert page.status_code == 200 and "Lampung Utara" in page.text and "bawaan" in page.text
    other = await web.post("/dinas/admin/targets", data={"csrf": csrf, "region": "31.71", "target": "5"})
    assert other.status_code == 404
    wrong = await web.post("/dinas/admin/targets", data={"csrf": csrf, "region": "18.03", "target": "banyak"})
    assert wrong.status_code == 400 and "sebagai angka" in wrong.text
    backwards = await web.post("/dinas/admin/targets", data={"csrf": csrf, "region": "18.03", "target": "5",
                                                             "period_start": "2027-01-01", "period_end": "2026-01-01"})
    assert backwards.status_code == 400
    assert await count_rows(db, RegionTarget) == 0
    saved = await web.post("/dinas/admin/targets", data={"csrf": csrf, "region": "18.03", "target": "1.500",
                                                         "period_start": "2027-01-01", "period_end": "2027-12-31"})
    assert saved.status_code == 303
    async with db.transaction() as session:
        row = await session.get(RegionTarget, "18.03")
        assert row is not None and row.target == 1500 and str(row.period_end) == "2027-12-31"
    assert "1.500" in (await web.get("/dinas/admin/targets")).text


async def test_unrouted_submissions_warned_and_routed_to_a_chosen_officer(
        network: Network, web: httpx.AsyncClient) -> None:
    db = network.engine.db
    boss = await officer(db, "Bu Admin", "18", "admin-1", role="admin")
    owner = network.chat("owner-1")
    await onboard(owner)
    await fill_product(owner)
    await owner.tap("Kirim ke Dinas")
    csrf = await sign_in(web, db, boss)
    page = await web.get("/dinas/admin/officers")
    assert "1</strong> pengajuan menunggu" in page.text
    unrouted = await web.get("/dinas/admin/unrouted")
    assert "Keripik Singkong Balado" in unrouted.text and "Bu Admin (18)" in unrouted.text
    before = await count_rows(db, OutboxMessage, OutboxMessage.address == "admin-1")
    far = await officer(db, "Jauh", "31", "officer-9", role="admin")
    refused = await web.post("/dinas/admin/unrouted", data={"csrf": csrf, "product_id": "1", "officer_id": str(far)})
    assert refused.status_code == 404
    assert await count_rows(db, OutboxMessage, OutboxMessage.address == "admin-1") == before
    routed = await web.post("/dinas/admin/unrouted", data={"csrf": csrf, "product_id": "1", "officer_id": str(boss)})
    assert routed.status_code == 303
    assert await count_rows(db, OutboxMessage, OutboxMessage.address == "admin-1") == before + 1
    assert await count_rows(db, AdminAction, AdminAction.action == "route") == 1


async def test_health_shows_states_in_words_and_retries_a_failed_message(
        network: Network, web: httpx.AsyncClient) -> None:
    db = network.engine.db
    boss = await officer(db, "Bu Admin", "18", "admin-1", role="admin")
    async with db.transaction() as session:
        session.add(OutboxMessage(channel="telegram", address="9", status=OutboxStatus.failed,
                                  last_error="Forbidden: bot was blocked by the user"))
    csrf = await sign_in(web, db, boss)
    page = await web.get("/dinas/admin/health")
    assert page.status_code == 200
    assert "✓ Baik" in page.text and "bot was blocked" in page.text
    message_id = re.search(r'name="message_id" value="(\d+)"', page.text).group(1)  # type: ignore[union-attr]
    retried = await web.post("/dinas/admin/health/retry", data={"csrf": csrf, "message_id": message_id})
    assert retried.status_code == 303
    async with db.transaction() as session:
        row = await session.get(OutboxMessage, int(message_id))
        assert row is not None and row.status == OutboxStatus.pending
    assert await count_rows(db, AdminAction, AdminAction.action == "retry") == 1


def test_invite_codes_fit_telegrams_start_payload() -> None:
    code = "inv_" + "a" * 32
    assert invites.find_code(f"/start {code}") == code and invites.find_code(code + "x") is None
    assert re.fullmatch(r"[A-Za-z0-9_-]{1,64}", code)
