"""The review service (bot/review/service.py): one decision logic for the chat and the web, first decision wins."""

from __future__ import annotations

import asyncio

import pytest
from sqlmodel import select

from bot.delivery.outbox import OutboxWriter
from bot.flows.business import BUSINESS
from bot.flows.product import PRODUCT
from bot.review import service as review
from bot.review.officers import add_officer
from storage.models import Decision, Officer, OutboxMessage, Product, Review, ReviewSource, utcnow
from tests.chat import Network
from tests.conftest import count_rows, product_status
from tests.support.conversations import submit_with_officer


async def officer(network: Network, officer_id: int) -> Officer:
    async with network.engine.db.transaction() as session:
        found = await session.get(Officer, officer_id)
    assert found is not None
    return found


async def web_decide(network: Network, officer_id: int, decision: Decision | str | None, reason: str = "",
                     flagged: list[str] | None = None, seen: int | None = None) -> review.Outcome:
    """A decision as the web console makes it: its own transaction and outbox writer; by default on the round
    of the submission as it is now (the officer has just opened it)."""
    actor = review.Actor(await officer(network, officer_id), ReviewSource.web)
    async with network.engine.db.transaction() as session:
        seen = await review.current_round(session, 1) if seen is None else seen
        outbox = OutboxWriter(session, utcnow())
        chosen = review.Chosen(1, decision, seen, reason, tuple(flagged or ()))
        outcome = await review.decide(session, outbox, network.engine.renderer, actor, chosen)
        await outbox.flush()
        return outcome


def owner_messages(rows: list[OutboxMessage]) -> list[str]:
    return [r.payload["text"] for r in rows if r.address == "owner-1"]


async def outbox_rows(network: Network) -> list[OutboxMessage]:
    async with network.engine.db.transaction() as session:
        return list((await session.exec(select(OutboxMessage).order_by(OutboxMessage.id))).all())


@pytest.mark.parametrize("value, expected", [
    ("12", 12), ("2147483647", 2147483647), ("2147483648", None), ("0", None), ("", None), ("٣", None),
    ("１", None), ("+1", None), (" 1", None), ("1e3", None), ("99999999999", None), (None, None),
])
def test_ids_are_ascii_digits_below_2_31(value: str | None, expected: int | None) -> None:
    assert review.parse_id(value) == expected


async def test_regions_are_chosen_in_sql(network: Network) -> None:
    db = network.engine.db
    await submit_with_officer(network)                                    # Budi, 18.03 (officer 1)
    await add_officer(db, "Wati", "18", "fake", "officer-2")              # the province
    await add_officer(db, "Dewi", "Kota Depok", "fake", "officer-3")      # elsewhere
    async with db.transaction() as session:
        covering = await review.officers_covering(session, "18.03")
        assert [o.name for o in covering] == ["Budi", "Wati"]
        assert await review.officers_covering(session, "18.04") == [await session.get(Officer, 2)]
        for officer_id, expected in ((1, [1]), (2, [1]), (3, [])):
            mine = await session.get(Officer, officer_id)
            assert [p.id for p, _ in await review.pending_for(session, mine)] == expected
            assert await review.pending_count(session, mine) == len(expected)
        with pytest.raises(review.NotInRegion):
            await review.find_in_region(session, await session.get(Officer, 3), 1)
        with pytest.raises(review.NotInRegion):
            await review.find_in_region(session, await session.get(Officer, 1), 999)


async def test_web_approval_tells_the_owner_and_the_other_officers(network: Network) -> None:
    db = network.engine.db
    owner, budi = await submit_with_officer(network)
    await add_officer(db, "Wati", "18", "fake", "officer-2")
    await add_officer(db, "Dewi", "Kota Depok", "fake", "officer-3")
    before = len(await outbox_rows(network))
    outcome = await web_decide(network, 2, Decision.approved)
    assert outcome.decided and await product_status(db) == "approved"
    new = (await outbox_rows(network))[before:]
    assert [r.address for r in new] == ["owner-1", "officer-1"]
    assert "DISETUJUI" in new[0].payload["text"]
    assert "disetujui oleh Wati" in new[1].payload["text"] and "konsol web" in new[1].payload["text"]
    async with db.transaction() as session:
        saved = (await session.exec(select(Review))).one()
    assert saved.source == "web" and saved.officer_id == 2
    assert saved.snapshot and saved.snapshot["harga"] == 25000 and saved.snapshot["nib"] == "1234567890123"
    assert len(saved.snapshot["photos"]) == 2

    again = await web_decide(network, 1, Decision.rejected, "Terlambat")
    assert not again.decided and again.decider is not None and again.decider.name == "Wati"
    assert len(await outbox_rows(network)) == before + 2 and await count_rows(db, Review) == 1


async def test_bad_revisions_change_nothing(network: Network) -> None:
    db = network.engine.db
    await submit_with_officer(network)
    before = len(await outbox_rows(network))
    for flagged, reason, key in (([], "Perbaiki harga", "flag_one"), (["harga", "hacked"], "Perbaiki", "stale_button"),
                                 (["harga"], "", "empty")):
        with pytest.raises(ValueError) as error:
            await web_decide(network, 1, Decision.revision, reason, flagged)
        if key != "empty":
            assert error.value.args[0] == key
    with pytest.raises(ValueError):
        await web_decide(network, 1, Decision.rejected, " ")
    for missing in (None, "", "approve", "APPROVED"):  # taken exactly as chosen: nothing defaults to approval
        with pytest.raises(review.InvalidDecision) as invalid:
            await web_decide(network, 1, missing, "Bagus sekali")
        assert invalid.value.problems == {"decision": "no_decision"}
    assert await product_status(db) == "submitted" and await count_rows(db, Review) == 0
    assert len(await outbox_rows(network)) == before


async def test_business_fields_can_be_flagged_and_a_resubmission_shows_changes(network: Network) -> None:
    db = network.engine.db
    owner, _ = await submit_with_officer(network)
    outcome = await web_decide(network, 1, Decision.revision, "NIB tidak cocok dengan KBLI; harga terlalu tinggi.",
                               ["nib", "harga", "nib"])
    assert outcome.decided and outcome.review is not None
    assert outcome.review.flagged_fields == ["nib", "harga"]  # in the order the owner is asked, once each
    told = owner_messages(await outbox_rows(network))[-1]
    assert "NIB, Harga satuan" in told and "NIB tidak cocok" in told

    async with db.transaction() as session:  # the owner fixed the price and sent it again
        product = await session.get(Product, 1)
        product.harga, product.status = 19000, "submitted"
    async with db.transaction() as session:
        product = await session.get(Product, 1)
        business = (await review.find_in_region(session, await session.get(Officer, 1), 1))[1]
        again = await review.resubmission(session, product, business)
    assert again == review.Resubmission(number=1, changed=["harga"],
                                        note="NIB tidak cocok dengan KBLI; harga terlalu tinggi.",
                                        flagged=["nib", "harga"])


async def test_chat_and_web_decide_at_once_exactly_one_wins(network: Network) -> None:
    """Budi taps Approve in the chat while Wati rejects in the browser: one decision, the owner told once."""
    db = network.engine.db
    owner, budi = await submit_with_officer(network)
    await add_officer(db, "Wati", "18", "fake", "officer-2")
    chat, web = await asyncio.gather(budi.tap("Setujui"),
                                     web_decide(network, 2, Decision.rejected, "Foto tidak jelas sama sekali"))
    async with db.transaction() as session:
        reviews = (await session.exec(select(Review))).all()
        product = await session.get(Product, 1)
    assert len(reviews) == 1
    told = [t for t in owner_messages(await outbox_rows(network)) if "DISETUJUI" in t or "DITOLAK" in t]
    assert len(told) == 1
    if web.decided:
        assert reviews[0].source == "web" and product.status == "rejected" and "DITOLAK" in told[0]
        assert "sudah ditolak oleh Wati" in budi.last
    else:
        assert reviews[0].source == "chat" and product.status == "approved" and "DISETUJUI" in told[0]
        assert web.decider is not None and web.decider.name == "Budi"
    assert chat is not None


async def test_chat_flags_business_fields_and_a_resubmission_says_revisi_ke_n(network: Network) -> None:
    """In the chat the picker offers business fields too; the resubmission names the round and the changes."""
    owner, officer = await submit_with_officer(network)
    await officer.tap("Minta revisi")
    assert "NIB" in officer.buttons and "Nama usaha" in officer.buttons
    await officer.tap("Harga satuan")
    await officer.tap("NIB")
    await officer.tap("Selesai memilih")
    await officer.send("Harga terlalu tinggi dan NIB perlu dicek.")
    assert "NIB, Harga satuan" in owner.last
    async with network.engine.db.transaction() as session:
        saved = (await session.exec(select(Review))).one()
    assert saved.flagged_fields == ["nib", "harga"] and saved.source == "chat"

    assert "(NIB)" in owner.last  # the notice asks the first flagged field: the profile's come first
    await owner.send("1234567890124")
    assert "harga satuannya" in owner.last
    await owner.send("20rb")
    assert "Ringkasan produk" in owner.last
    await owner.tap("Kirim ke Dinas")
    note = officer.inbox[-1].text
    assert "Revisi ke-1" in note and "Harga satuan" in note and "Harga terlalu tinggi dan NIB perlu dicek." in note


async def test_dasbor_is_for_officers_only(network: Network) -> None:
    owner, officer = await submit_with_officer(network)
    await owner.send("dasbor")
    assert "/dinas/login/" not in " ".join(owner.texts())
    await officer.send("/dasbor")
    assert "/dinas/login/" in " ".join(officer.texts()[-2:])


async def test_a_chat_decision_on_a_submission_sent_again_since_is_refused(network: Network) -> None:
    """Budi got the submission; Wati asked for a revision; the owner sent it again; Budi then taps Approve on
    the message he got first: nothing is recorded, he is told it changed and gets the latest version."""
    db = network.engine.db
    owner, budi = await submit_with_officer(network)
    await add_officer(db, "Wati", "18", "fake", "officer-2")
    first = next(m for m in budi.inbox if m.choices and m.choices[0].id.startswith("rv:a:"))
    outcome = await web_decide(network, 2, Decision.revision, "Harga terlalu tinggi.", ["harga"])
    assert outcome.decided
    await owner.press("fix:1")  # the button of the notice the web decision queued
    await owner.send("22.500")
    await owner.tap("Kirim ke Dinas")
    assert await product_status(db) == "submitted"

    start = len(budi.inbox)
    await budi.press(first.choices[0].id)
    assert await product_status(db) == "submitted" and await count_rows(db, Review) == 1
    told = budi.texts(start)
    assert any("dikirim ulang oleh pemilik" in t and "tidak dicatat" in t for t in told), told
    assert "Rp22.500" in budi.last and "DISETUJUI" not in owner.last  # the latest version, with its buttons
    await budi.tap("Setujui")
    assert await product_status(db) == "approved" and "DISETUJUI" in owner.last


async def test_a_stale_revision_or_rejection_is_refused_before_asking_anything(network: Network) -> None:
    """Old Ask revision / Reject buttons, and a button from before rounds existed, change nothing."""
    db = network.engine.db
    owner, budi = await submit_with_officer(network)
    old = [c.id for c in budi.inbox[-1].choices]
    await web_decide(network, 1, Decision.revision, "Harga terlalu tinggi.", ["harga"])
    await owner.press("fix:1")  # the button of the notice the web decision queued
    await owner.send("22.500")
    await owner.tap("Kirim ke Dinas")
    for button in (*old[1:], "rv:a:1"):
        start = len(budi.inbox)
        await budi.press(button)
        assert any("dikirim ulang oleh pemilik" in t for t in budi.texts(start)), button
    await budi.send("Alasan yang panjang sekali")  # not taken as a reason: the conversation left the question
    assert await product_status(db) == "submitted" and await count_rows(db, Review) == 1


def test_only_questions_the_owner_answers_can_be_flagged() -> None:
    """A revision asks the owner again: a derived value (the business's PKP status on a product), a question that
    does not apply (the akta of a perorangan) or one the upload kit asks after approval is never offered."""
    assert "usaha_pkp" not in review.FLAGGABLE
    assert "inaproc_akun" not in review.FLAGGABLE and "email" not in review.FLAGGABLE
    assert {"kemasan", "ukuran", "ppn_termasuk", "bentuk_usaha", "akta", "pkp", "tkdn"} <= set(review.FLAGGABLE)
    assert review.flags_problem(Decision.revision, ["usaha_pkp"]) == "stale_button"
    perorangan = [s.field for s in review.flaggable(BUSINESS, {"bentuk_usaha": "perorangan"})]
    assert "akta" not in perorangan and "pkp" in perorangan
    assert "akta" in [s.field for s in review.flaggable(BUSINESS, {"bentuk_usaha": "cv"})]
    pkp = [s.field for s in review.flaggable(PRODUCT, {"usaha_pkp": "pkp"})]
    assert "ppn_termasuk" in pkp and "usaha_pkp" not in pkp
    assert "ppn_termasuk" not in [s.field for s in review.flaggable(PRODUCT, {"usaha_pkp": "non_pkp"})]
