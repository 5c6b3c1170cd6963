"""The Dinas console over HTTP: sign-in links, session cookie, CSRF, region checks, the queue and deciding."""

from __future__ import annotations

import re
import time
from collections.abc import AsyncIterator

import httpx
import pytest
from itsdangerous import TimestampSigner, URLSafeTimedSerializer
from sqlmodel import select

from bot.review import signin
from bot.review.officers import add_officer, remove_officer
from bot.service.web import create_app
from bot.words.markup import to_plain
from storage.models import DinasLogin, OutboxMessage, Product, Review
from tests.chat import Chat, Network
from tests.conftest import count_rows, product_status
from tests.support.conversations import submit_with_officer

BASE = "http://127.0.0.1:8080"


@pytest.fixture
async def web(network: Network) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(network.engine.settings, network.engine.db, renderer=network.engine.renderer)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE) as client:
        yield client


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, html
    return found.group(1)


def form_fields(html: str, decision: str) -> dict[str, str]:
    """The hidden fields of the page's form for one decision, as a browser would send them."""
    for form in re.findall(r"<form.*?</form>", html, re.S):
        fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', form))
        if fields.get("decision") == decision:
            return fields
    raise AssertionError(f"no {decision} form")


def session_cookie(web: httpx.AsyncClient) -> str:
    return next(c.value for c in web.cookies.jar if c.name == "dinas_session")  # type: ignore[misc]


def use_cookie(web: httpx.AsyncClient, value: str) -> None:
    """Replaces the browser's session cookie (as someone who copied or edited it would)."""
    web.cookies.clear()
    web.cookies.set("dinas_session", value, domain="127.0.0.1", path="/dinas")


async def link_from_chat(officer: Chat) -> str:
    """The officer types `dasbor` and gets a sign-in link back (a path on the console)."""
    await officer.send("dasbor")
    text = to_plain(next(m.text for m in reversed(officer.inbox) if "/dinas/login/" in m.text))
    url = re.search(r"http://\S+/dinas/login/\S+", text)
    assert url and url.group(0).startswith(f"{BASE}/dinas/login/"), text
    return url.group(0).removeprefix(BASE)


async def sign_in(web: httpx.AsyncClient, path: str) -> httpx.Response:
    page = await web.get(path)
    assert page.status_code == 200, page.text
    return await web.post(path, data={"csrf": csrf_of(page.text)})


async def signed_in(network: Network, web: httpx.AsyncClient) -> tuple[Chat, Chat]:
    owner, officer = await submit_with_officer(network)
    done = await sign_in(web, await link_from_chat(officer))
    assert done.status_code == 303 and done.headers["location"] == "/dinas/"
    return owner, officer


async def test_sign_in_from_the_chat_then_queue_product_and_photos(network: Network, web: httpx.AsyncClient) -> None:
    owner, officer = await submit_with_officer(network)
    path = await link_from_chat(officer)
    page = await web.get(path)
    assert "Budi" in page.text and "Masuk" in page.text
    used = DinasLogin.used_at.is_not(None)  # type: ignore[union-attr]
    assert await count_rows(network.engine.db, DinasLogin, used) == 0  # opening it (a link preview) uses nothing
    done = await web.post(path, data={"csrf": csrf_of(page.text)})
    cookie = done.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie and "path=/dinas" in cookie and "max-age=28800" in cookie
    assert "secure" not in cookie  # plain http on loopback

    queue = await web.get("/dinas/")
    assert queue.status_code == 200
    assert "Keripik Singkong Balado 250 g" in queue.text and "Sari Wulandari" in queue.text
    assert "masuk hari ini" in queue.text or "hari kerja" in queue.text
    photo_ids = re.findall(r'src="/dinas/photos/(\d+)"', queue.text)
    assert len(photo_ids) == 2
    product = await web.get("/dinas/products/1")
    assert product.status_code == 200
    for text in ("Rp25.000", "1234567890123", "Jl. Merdeka No. 5, Kotabumi", "Riwayat", "Minta revisi"):
        assert text in product.text, text
    image = await web.get(f"/dinas/photos/{photo_ids[0]}")
    assert image.status_code == 200 and image.headers["content-type"] == "image/jpeg"
    assert image.content[:2] == b"\xff\xd8"
    english = await web.get("/dinas/?lang=en")
    assert "Review queue" in english.text and "Review queue" in (await web.get("/dinas/")).text


async def test_replayed_expired_forged_and_tampered_links_are_refused(
        network: Network, web: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch) -> None:
    owner, officer = await submit_with_officer(network)
    path = await link_from_chat(officer)
    assert (await sign_in(web, path)).status_code == 303
    web.cookies.clear()
    replay = await web.get(path)
    assert replay.status_code == 403 and "sudah dipakai" in replay.text
    other_page = await web.get(await link_from_chat(officer))  # a valid form, for a valid CSRF token
    posted = await web.post(path, data={"csrf": csrf_of(other_page.text)})
    assert posted.status_code == 403 and "dinas_session" not in posted.headers.get("set-cookie", "")
    assert (await web.get("/dinas/")).status_code == 401

    real_time = time.time
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: int(real_time()) - 16 * 60)
    old = await link_from_chat(officer)
    monkeypatch.undo()
    expired = await web.get(old)
    assert expired.status_code == 403 and "kedaluwarsa" in expired.text

    fresh = await link_from_chat(officer)
    token = fresh.rsplit("/", 1)[1]
    forged = URLSafeTimedSerializer("not the key", salt=signin.LOGIN_SALT).dumps({"t": "x", "o": 1})
    flipped = token[:-3] + ("A" if token[-3] != "A" else "B") + token[-2:]
    for bad in (forged, flipped, "nonsense", token + "x"):
        refused = await web.get(f"/dinas/login/{bad}")
        assert refused.status_code == 403 and "tidak sah" in refused.text, bad
        assert (await web.post(f"/dinas/login/{bad}", data={"csrf": csrf_of(other_page.text)})).status_code == 403
    assert await count_rows(network.engine.db, DinasLogin, DinasLogin.used_at.is_not(None)) == 1
    assert (await sign_in(web, fresh)).status_code == 303  # the genuine one still works


async def test_a_used_link_opened_again_while_signed_in_lands_in_the_console(network: Network,
                                                                           web: httpx.AsyncClient) -> None:
    """Tapping the chat's link a second time is no error for an officer who is still signed in."""
    owner, officer = await submit_with_officer(network)
    path = await link_from_chat(officer)
    assert (await sign_in(web, path)).status_code == 303
    again = await web.get(path)
    assert again.status_code == 303 and again.headers["location"] == "/dinas/"
    assert (await web.get("/dinas/")).status_code == 200
    posted = await web.post(path, data={"csrf": csrf_of((await web.get("/dinas/")).text)})
    assert posted.status_code == 303 and posted.headers["location"] == "/dinas/"
    assert await count_rows(network.engine.db, DinasLogin, DinasLogin.used_at.is_not(None)) == 1
    await web.post("/dinas/logout", data={"csrf": csrf_of((await web.get("/dinas/")).text)})
    signed_out = await web.get(path)  # no session: the link is used, and says so
    assert signed_out.status_code == 403 and "sudah dipakai" in signed_out.text


async def test_tampered_and_idle_cookies_logout_and_removed_officer(
        network: Network, web: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch) -> None:
    await signed_in(network, web)
    value = session_cookie(web)
    use_cookie(web, value[:-2] + ("AA" if not value.endswith("AA") else "BB"))
    assert (await web.get("/dinas/")).status_code == 401
    use_cookie(web, value)
    assert (await web.get("/dinas/")).status_code == 200

    real_time = time.time
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: int(real_time()) + 8 * 3600 + 5)
    assert (await web.get("/dinas/")).status_code == 401  # 8 hours idle
    monkeypatch.undo()

    use_cookie(web, value)
    queue = await web.get("/dinas/")
    kept = session_cookie(web)
    assert (await web.post("/dinas/logout", data={})).status_code == 403  # no CSRF token: still signed in
    out = await web.post("/dinas/logout", data={"csrf": csrf_of(queue.text)})
    assert out.status_code == 200 and "sudah keluar" in out.text
    use_cookie(web, kept)  # a copy of the cookie kept from before
    assert (await web.get("/dinas/")).status_code == 401

    await sign_in(web, await link_from_chat(network.chat("officer-1")))
    assert (await web.get("/dinas/")).status_code == 200
    await remove_officer(network.engine.db, 1)
    gone = await web.get("/dinas/")
    assert gone.status_code == 401 and "Silakan masuk" in gone.text


async def test_posts_need_the_csrf_token_and_other_regions_are_404(network: Network, web: httpx.AsyncClient) -> None:
    db = network.engine.db
    owner, _ = await signed_in(network, web)
    page = await web.get("/dinas/products/1")
    token = csrf_of(page.text)
    for data in ({"decision": "approved"}, {"decision": "approved", "csrf": "wrong"}):
        refused = await web.post("/dinas/products/1/decision", data=data)
        assert refused.status_code == 403 and "Tidak ada yang diubah" in refused.text
    assert await product_status(db) == "submitted"

    await add_officer(db, "Dewi", "Kota Depok", "fake", "officer-depok")
    web.cookies.clear()
    await sign_in(web, await link_from_chat(network.chat("officer-depok")))
    depok = await web.get("/dinas/")
    assert "Keripik" not in depok.text and "Tidak ada produk yang menunggu" in depok.text
    token = csrf_of(depok.text)
    for path in ("/dinas/products/1", "/dinas/products/999", "/dinas/products/abc", "/dinas/products/99999999999",
                 "/dinas/photos/1"):
        assert (await web.get(path)).status_code == 404, path
    posted = await web.post("/dinas/products/1/decision", data={"decision": "approved", "csrf": token})
    assert posted.status_code == 404
    assert await product_status(db) == "submitted" and await count_rows(db, Review) == 0


async def test_decide_on_the_web_tells_the_owner_and_a_late_decision_sees_who(network: Network,
                                                                              web: httpx.AsyncClient) -> None:
    db = network.engine.db
    owner, officer = await signed_in(network, web)
    async with db.transaction() as session:
        (await session.get(Product, 1)).nama_produk = '<script>alert(1)</script> =HYPERLINK("x")'
    page = await web.get("/dinas/products/1")
    assert "<script>alert" not in page.text and "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    token = csrf_of(page.text)

    missing = await web.post("/dinas/products/1/decision", data={**form_fields(page.text, "revision"), "note": "x"})
    assert missing.status_code == 400 and "error-summary" in missing.text
    assert 'href="#flagged"' in missing.text and 'href="#note"' in missing.text
    assert await product_status(db) == "submitted"

    sent = await web.post("/dinas/products/1/decision", data={
        **form_fields(page.text, "revision"), "flagged": ["harga", "deskripsi"],
        "note": "Harga & deskripsi <b>kurang</b>."})
    assert sent.status_code == 303 and sent.headers["location"] == "/dinas/products/1?done=1"
    async with db.transaction() as session:
        review = (await session.exec(select(Review))).one()
        to_owner = (await session.exec(select(OutboxMessage).where(OutboxMessage.address == "owner-1")
                                       .order_by(OutboxMessage.id.desc()))).first()
    assert review.source == "web" and review.flagged_fields == ["deskripsi", "harga"]
    assert "Deskripsi, Harga satuan" in to_owner.payload["text"] and [c["id"] for c in to_owner.payload["choices"]]
    done = await web.get("/dinas/products/1?done=1")
    assert "pemilik sudah diberi tahu" in done.text and "Sudah diputuskan oleh" in done.text
    assert "konsol web" in done.text

    late = await web.post("/dinas/products/1/decision", data={"decision": "approved", "csrf": token})
    assert late.status_code == 409 and "lebih dulu" in late.text and "Budi" in late.text
    assert await count_rows(db, Review) == 1


async def test_a_web_decision_on_a_submission_sent_again_since_is_refused(network: Network,
                                                                         web: httpx.AsyncClient) -> None:
    """Budi opens the product; meanwhile he asks a revision in the chat and the owner sends it again; the
    Approve form he opened first records nothing (409, told it changed); the page shows the latest version."""
    db = network.engine.db
    owner, budi = await signed_in(network, web)
    opened = await web.get("/dinas/products/1")
    await budi.press(next(c.id for m in budi.inbox for c in m.choices if c.id.startswith("rv:r:")))
    await budi.tap("Harga satuan")
    await budi.tap("Selesai memilih")
    await budi.send("Harga terlalu tinggi dibanding pasar.")
    await owner.tap("Perbaiki sekarang")
    await owner.send("22.500")
    await owner.tap("Kirim ke Dinas")
    assert await product_status(db) == "submitted"

    stale = await web.post("/dinas/products/1/decision", data=form_fields(opened.text, "approved"))
    assert stale.status_code == 409, stale.text
    assert "mengirim ulang produk ini" in stale.text and "Rp22.500" in stale.text
    assert await product_status(db) == "submitted" and await count_rows(db, Review) == 1
    for missing in ({}, {"decision": ""}, {"decision": "setuju"}):  # no decision: never an approval by default
        fields = {k: v for k, v in form_fields(stale.text, "approved").items() if k != "decision"} | missing
        refused = await web.post("/dinas/products/1/decision", data=fields)
        assert refused.status_code == 400 and 'href="#decision"' in refused.text
    assert await product_status(db) == "submitted" and await count_rows(db, Review) == 1
    fresh = await web.post("/dinas/products/1/decision", data=form_fields(stale.text, "approved"))
    assert fresh.status_code == 303 and await product_status(db) == "approved"


def _keys(value: object, prefix: str = "") -> set[str]:
    if isinstance(value, dict):
        return {k for key, inner in value.items() for k in _keys(inner, f"{prefix}{key}.")} | {prefix}
    return {prefix}


def test_console_words_exist_in_both_languages(settings) -> None:  # type: ignore[no-untyped-def]
    from bot.dinas.pages import Pages
    from bot.words.i18n import Renderer

    pages = Pages(settings.templates_dir, Renderer(settings.templates_dir))
    indonesian, english = pages.words("id"), pages.words("en")
    assert _keys(indonesian) == _keys(english)
    assert indonesian["queue"]["title"] != english["queue"]["title"]
