"""Indonesia's three time zones, by Kemendagri province code, and the hours in which people may be messaged.

WIB (UTC+7): Sumatra, Java, West and Central Kalimantan. WITA (UTC+8): Bali, Nusa Tenggara, South, East and
North Kalimantan, Sulawesi. WIT (UTC+9): Maluku and Papua. None of them keeps daylight saving time.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta, timezone

WIB = timezone(timedelta(hours=7), "WIB")
WITA = timezone(timedelta(hours=8), "WITA")
WIT = timezone(timedelta(hours=9), "WIT")
_WITA = {"51", "52", "53", "63", "64", "65", "71", "72", "73", "74", "75", "76"}
_WIT = {"81", "82", "91", "92", "93", "94", "95", "96"}
DAY_STARTS, DAY_ENDS = time(7), time(21)


def zone_of(region_code: str | None) -> timezone:
    """The time zone of a province or kab/kota code ("51.71" Denpasar: WITA); WIB when unknown."""
    province = (region_code or "").split(".")[0]
    return WITA if province in _WITA else WIT if province in _WIT else WIB


def awake_from(now: datetime, region_code: str | None) -> datetime | None:
    """None between 07:00 and 21:00 in the region's time zone; otherwise the next 07:00 there (as UTC-aware)."""
    zone = zone_of(region_code)
    local = now.astimezone(zone)
    if DAY_STARTS <= local.time() < DAY_ENDS:
        return None
    day = local.date() if local.time() < DAY_STARTS else local.date() + timedelta(days=1)
    return datetime.combine(day, DAY_STARTS, zone)
