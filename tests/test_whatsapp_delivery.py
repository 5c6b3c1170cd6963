"""WhatsApp delivery faults: "more" taps once and through the outbox, image + text parts, an expired token."""

from __future__ import annotations

from pathlib import Path

from sqlmodel import select

from bot.delivery.deliverer import Deliverer
from bot.domain.messages import Choice, Outbound
from storage.models import ChannelState, OutboxMessage, OutboxStatus
from tests.conftest import make_image
from tests.fake_graph import SERVICE_UNAVAILABLE, graph_error
from tests.test_delivery import Clock
from tests.test_whatsapp import (
    OWNER,
    WA,
    wa,  # noqa: F401
)
from tests.test_whatsapp import database as database  # noqa: F401  (fixtures)
from tests.test_whatsapp import graph as graph  # noqa: F401


async def queue(wa: WA, outbound: Outbound) -> int:  # noqa: F811  (the fixture)
    async with wa.db.transaction() as session:
        row = OutboxMessage(channel="whatsapp", address=outbound.address, payload=outbound.to_payload(),
                            next_attempt_at=Clock().now)
        session.add(row)
        await session.flush()
        assert row.id is not None
        return row.id


def deliverer(wa: WA, clock: Clock) -> Deliverer:  # noqa: F811  (the fixture)
    assert wa.channels.whatsapp is not None
    return Deliverer(wa.db, {"whatsapp": wa.channels.whatsapp}, clock=clock, base_delay=30)


async def test_a_replayed_more_tap_sends_one_page_through_the_outbox(wa: WA) -> None:  # noqa: F811  (the fixture)
    owner = wa.user(OWNER)
    await owner.send("halo")  # opens the 24-hour window
    choices = [Choice(f"opt:{i}", f"Pilihan nomor {i}") for i in range(1, 16)]
    row_id = await queue(wa, Outbound("whatsapp", OWNER, "Pilih satu:", choices))
    await deliverer(wa, Clock()).deliver_due()
    lists = len(wa.graph.sent(OWNER, "interactive"))
    wa.graph.fail("messages", SERVICE_UNAVAILABLE)  # the first page send fails: the webhook still answers 200
    payload = owner.message_payload("list_reply", interactive={
        "type": "list_reply", "list_reply": {"id": f"more:{row_id}:2", "title": "Lainnya…"}})
    for _ in range(3):
        assert (await owner.post(payload)).status_code == 200
    async with wa.db.transaction() as session:
        pages = [r for r in (await session.exec(select(OutboxMessage))).all() if r.payload.get("page") == 2]
    assert len(pages) == 1 and pages[0].status == OutboxStatus.pending
    async with wa.db.transaction() as session:
        pages[0].next_attempt_at = Clock().now
        session.add(pages[0])
    await deliverer(wa, Clock()).deliver_due()
    sent = wa.graph.sent(OWNER, "interactive")[lists:]
    assert len(sent) == 1 and sent[0]["interactive"]["action"]["sections"][0]["rows"][0]["id"] == "opt:10"


async def test_an_image_is_not_sent_again_when_its_text_failed(wa: WA, tmp_path: Path) -> None:  # noqa: F811  (the fixture)
    owner = wa.user(OWNER)
    await owner.send("halo")
    media = Path(wa.channels.settings.media_dir)
    media.mkdir(parents=True, exist_ok=True)  # noqa: ASYNC240
    (media / "p.jpg").write_bytes(make_image())  # noqa: ASYNC240
    await queue(wa, Outbound("whatsapp", OWNER, "Foto produk Anda", photos=["p.jpg"]))
    before = len(wa.graph.sent(OWNER, "image"))
    clock = Clock()
    sender = deliverer(wa, clock)
    images_then_fail = [SERVICE_UNAVAILABLE]  # the image goes out, then its text is refused once
    original = wa.channels.whatsapp._send_text  # type: ignore[union-attr]

    async def text_fails_once(to, text, buttons):  # type: ignore[no-untyped-def]
        if images_then_fail:
            wa.graph.fail("messages", images_then_fail.pop())
        return await original(to, text, buttons)

    wa.channels.whatsapp._send_text = text_fails_once  # type: ignore[union-attr,method-assign]
    await sender.deliver_due()
    clock.advance(30)
    await sender.deliver_due()
    assert len(wa.graph.sent(OWNER, "image")) == before + 1
    assert wa.graph.texts(OWNER)[-1] == "Foto produk Anda"


async def test_an_expired_token_pauses_whatsapp_and_keeps_the_message(wa: WA) -> None:  # noqa: F811  (the fixture)
    owner = wa.user(OWNER)
    await owner.send("halo")
    row_id = await queue(wa, Outbound("whatsapp", OWNER, "Halo lagi"))
    wa.graph.fail("messages", graph_error(190))
    await deliverer(wa, Clock()).deliver_due()
    async with wa.db.transaction() as session:
        row = await session.get(OutboxMessage, row_id)
        state = await session.get(ChannelState, "whatsapp")
    assert row is not None and row.status == OutboxStatus.pending and row.attempts == 0
    assert state is not None and state.paused_reason and "190" in state.paused_reason
