"""Nudges toward INAPROC with a fixed clock: an approved product with no link gets one 3 working days after
its approval and one more after 10 (cuti bersama are no working days), never at night, never after
"berhenti", none once it is uploaded or listed; its button opens the upload kit (`kit:<product id>`)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlmodel import select

from bot.conversation.engine import Engine
from bot.domain.messages import Inbound
from bot.jobs.scheduled import Jobs
from bot.settings import Settings
from storage.db import Database
from storage.models import Contact, Owner, Product, ProductStatus
from tests.test_reminders import Clock, make_owner, messages_to, run_at

# Monday 16 March 2026, 10:00 WIB. Then: Tue 17 (1 working day), Wed 18 to Tue 24 Nyepi, Idul Fitri and their
# cuti bersama, Wed 25 (2), Thu 26 (3), Fri 27 (4), Mon 30 to Thu 2 Apr (5-8), Good Friday, Mon 6 (9), Tue 7 (10).
APPROVED = datetime(2026, 3, 16, 3, 0, tzinfo=UTC)
WORDS = "belum tayang"


def at_10_wib(day: int, month: int = 3) -> datetime:
    return datetime(2026, month, day, 3, 0, tzinfo=UTC)


async def approved_product(database: Database, address: str, status: str = ProductStatus.approved) -> int:
    """A product approved at APPROVED that had both draft nudges long before (they do not count here)."""
    product_id = await make_owner(database, address, APPROVED - timedelta(days=20), name="Keripik Tempe")
    async with database.transaction() as session:
        product = await session.get(Product, product_id)
        assert product is not None
        product.status = status
        product.reminder_count, product.reminded_at = 2, APPROVED - timedelta(days=15)
        product.approved_at = product.updated_at = APPROVED
        session.add(product)
    return product_id


async def test_nudged_after_3_and_10_working_days(database: Database, settings: Settings) -> None:
    clock = Clock(APPROVED)
    jobs = Jobs(database, settings, clock=clock)
    product_id = await approved_product(database, "waiting")
    assert await run_at(jobs, clock, at_10_wib(20)) == 0   # 3 days on the calendar, 1 working day
    assert await run_at(jobs, clock, at_10_wib(25)) == 0   # 2 working days: the cuti bersama do not count
    assert await run_at(jobs, clock, at_10_wib(26) - timedelta(hours=12)) == 0  # Wed 25, 22:00 WIB: night
    assert await run_at(jobs, clock, at_10_wib(26)) == 1
    first = await messages_to(database, "waiting", WORDS)
    assert len(first) == 1 and "Keripik Tempe" in first[0].payload["text"]
    assert [c["id"] for c in first[0].payload["choices"]] == [f"kit:{product_id}", "remind:stop"]
    assert "pengingat terakhir" not in first[0].payload["text"]
    assert await run_at(jobs, clock, at_10_wib(27)) == 0
    assert await run_at(jobs, clock, at_10_wib(6, 4)) == 0  # 9 working days (Good Friday)
    assert await run_at(jobs, clock, at_10_wib(7, 4)) == 1
    second = await messages_to(database, "waiting", WORDS)
    assert len(second) == 2 and "pengingat terakhir" in second[1].payload["text"]
    for day in (8, 20, 30):
        assert await run_at(jobs, clock, at_10_wib(day, 4)) == 0
    async with database.transaction() as session:
        product = await session.get(Product, product_id)
        assert product is not None and product.reminder_count == 2  # noqa: PLR2004


async def test_none_once_uploaded_or_listed_nor_after_berhenti(database: Database, settings: Settings) -> None:
    clock = Clock(APPROVED)
    jobs = Jobs(database, settings, clock=clock)
    await approved_product(database, "uploaded", ProductStatus.uploaded)
    await approved_product(database, "listed", ProductStatus.listed)
    await approved_product(database, "quiet")
    async with database.transaction() as session:  # said "berhenti"
        owner = (await session.exec(select(Owner).join(Contact, Contact.owner_id == Owner.id)  # type: ignore[arg-type]
                                    .where(Contact.address == "quiet"))).one()
        owner.reminders_off_at = APPROVED
        session.add(owner)
    nudged = await approved_product(database, "still-approved")
    assert await run_at(jobs, clock, at_10_wib(26)) == 1
    assert len(await messages_to(database, "still-approved", WORDS)) == 1
    for address in ("uploaded", "listed", "quiet"):
        assert await messages_to(database, address, WORDS) == []
    # Uploaded after the first nudge: no second one.
    async with database.transaction() as session:
        product = await session.get(Product, nudged)
        assert product is not None
        product.status = ProductStatus.uploaded
        session.add(product)
    assert await run_at(jobs, clock, at_10_wib(7, 4)) == 0


async def test_whatsapp_only_inside_its_window(database: Database, settings: Settings) -> None:
    """No approved WhatsApp template says "approved, not yet on INAPROC": outside the 24 hours, nothing."""
    clock = Clock(APPROVED)
    jobs = Jobs(database, settings.model_copy(update={"whatsapp_template_reminder": "pengingat_draf"}), clock=clock)
    product_id = await make_owner(database, "6281100000009", APPROVED, channel="whatsapp")
    async with database.transaction() as session:
        product = await session.get(Product, product_id)
        assert product is not None
        product.status, product.approved_at = ProductStatus.approved, APPROVED
        session.add(product)
    assert await run_at(jobs, clock, at_10_wib(26)) == 0
    assert await messages_to(database, "6281100000009", WORDS) == []


async def test_the_nudge_button_opens_the_upload_kit(database: Database, settings: Settings) -> None:
    clock = Clock(APPROVED)
    jobs = Jobs(database, settings, clock=clock)
    product_id = await approved_product(database, "kit-owner")
    assert await run_at(jobs, clock, at_10_wib(26)) == 1
    button = (await messages_to(database, "kit-owner", WORDS))[0].payload["choices"][0]["id"]
    said = await Engine(database, settings, clock=clock).handle(Inbound("fake", "kit-owner", "k1", "choice", button))
    stale = Engine(database, settings).renderer.render("id", "errors/stale_button")
    assert said and all(stale not in m.text for m in said)
    assert button == f"kit:{product_id}" and "INAPROC" in said[0].text, [m.text for m in said]
