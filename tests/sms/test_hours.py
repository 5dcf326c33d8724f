from datetime import UTC, datetime

import pytest

from shopsms.sms.hours import PARIS, Window, is_allowed, next_allowed


def paris(*args):
    return datetime(*args, tzinfo=PARIS)


@pytest.mark.parametrize(
    ("moment", "allowed"),
    [
        (paris(2026, 11, 23, 8, 0), True),  # Monday 08:00 opens
        (paris(2026, 11, 23, 19, 59), True),
        (paris(2026, 11, 23, 20, 0), False),  # 20:00 is closed
        (paris(2026, 11, 23, 7, 59), False),
        (paris(2026, 11, 28, 12, 0), True),  # Saturday
        (paris(2026, 11, 22, 12, 0), False),  # Sunday
        (paris(2026, 12, 25, 12, 0), False),  # Christmas, a Friday
        (paris(2026, 7, 14, 12, 0), False),  # Bastille Day, a Tuesday
        (paris(2026, 5, 14, 12, 0), False),  # Ascension Thursday 2026
    ],
)
def test_the_window_and_public_holidays(moment, allowed):
    assert is_allowed(moment) is allowed


def test_naive_datetimes_are_utc_and_summer_time_is_respected():
    # 06:30 UTC in July is 08:30 in Paris (UTC+2): open. In January it is 07:30: closed.
    assert is_allowed(datetime(2026, 7, 15, 6, 30))
    assert not is_allowed(datetime(2026, 1, 15, 6, 30))
    assert is_allowed(datetime(2026, 1, 15, 7, 30, tzinfo=UTC))


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (paris(2026, 11, 23, 10, 0), paris(2026, 11, 23, 10, 0)),  # open now: now
        (paris(2026, 11, 23, 6, 0), paris(2026, 11, 23, 8, 0)),  # later the same day
        (paris(2026, 11, 23, 21, 0), paris(2026, 11, 24, 8, 0)),  # tomorrow morning
        (paris(2026, 11, 28, 20, 30), paris(2026, 11, 30, 8, 0)),  # Sat night → Monday
        (paris(2026, 12, 24, 20, 0), paris(2026, 12, 26, 8, 0)),  # over Christmas
        (paris(2026, 5, 13, 22, 0), paris(2026, 5, 15, 8, 0)),  # over Ascension
    ],
)
def test_next_allowed_minute(moment, expected):
    assert next_allowed(moment) == expected


def test_a_custom_window_from_the_settings():
    window = Window.from_settings([0, 1, 2, 3, 4], "09:30", "18:00")
    assert not is_allowed(paris(2026, 11, 28, 12, 0), window)  # no Saturday
    assert next_allowed(paris(2026, 11, 27, 18, 0), window) == paris(2026, 11, 30, 9, 30)
    with pytest.raises(ValueError):
        next_allowed(paris(2026, 11, 27, 18, 0), Window.from_settings([], "09:00", "18:00"))
