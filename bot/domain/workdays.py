"""Working days in Indonesia: Monday to Friday, without national public holidays nor the government's joint
holidays (cuti bersama, e.g. the days around Idul Fitri), as the `holidays` library lists them."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

JAKARTA = ZoneInfo("Asia/Jakarta")


@cache
def _holidays(year: int) -> Any:
    import holidays  # imported when first needed (~9 MB)

    # "government": the cuti bersama of the joint ministerial decree (SKB 3 Menteri), days the Dinas is closed.
    return holidays.country_holidays("ID", years=year, categories=("public", "government"))


def is_working_day(day: date) -> bool:
    return day.weekday() < 5 and day not in _holidays(day.year)


def working_days_between(start: datetime, end: datetime) -> int:
    """Working days after the day of `start` up to and including the day of `end` (Jakarta dates).

    A submission made on Friday evening has waited 1 working day on Monday, 0 during the weekend.
    """
    first, last = start.astimezone(JAKARTA).date(), end.astimezone(JAKARTA).date()
    count, day = 0, first
    while day < last:
        day += timedelta(days=1)
        count += is_working_day(day)
    return count
