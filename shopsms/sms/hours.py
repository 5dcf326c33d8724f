"""When marketing SMS may go out: a weekly window in Europe/Paris, never on a French
public holiday. Service messages (repairs, one message to a client) are not held."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

PARIS = ZoneInfo("Europe/Paris")


@dataclass(frozen=True)
class Window:
    days: frozenset[int]  # Monday = 0
    start: time
    end: time

    @classmethod
    def from_settings(cls, days: Iterable[int], start: str, end: str) -> Window:
        return cls(frozenset(days), time.fromisoformat(start), time.fromisoformat(end))


DEFAULT_WINDOW = Window.from_settings([0, 1, 2, 3, 4, 5], "08:00", "20:00")


@lru_cache(maxsize=16)
def _french_holidays(year: int) -> holidays.HolidayBase:
    return holidays.France(years=year)


def is_holiday(day: date) -> bool:
    return day in _french_holidays(day.year)


def _paris(moment: datetime) -> datetime:
    """Naive datetimes are UTC, as the database stores them."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(PARIS)


def is_allowed(moment: datetime, window: Window = DEFAULT_WINDOW) -> bool:
    local = _paris(moment)
    return (
        local.weekday() in window.days
        and not is_holiday(local.date())
        and window.start <= local.time() < window.end
    )


def next_allowed(moment: datetime, window: Window = DEFAULT_WINDOW) -> datetime:
    """The first minute at or after `moment` when marketing may go out (aware, Paris)."""
    local = _paris(moment)
    if is_allowed(local, window):
        return local
    day = local.date()
    if local.time() >= window.start:
        day += timedelta(days=1)
    for _ in range(366):
        if day.weekday() in window.days and not is_holiday(day):
            return datetime.combine(day, window.start, tzinfo=PARIS)
        day += timedelta(days=1)
    raise ValueError("the sending window never opens: check the sending days")
