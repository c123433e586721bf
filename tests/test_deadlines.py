"""Deadlines: working days skip weekends and Dutch public holidays; calendar days do not."""

from datetime import UTC, datetime

import pytest

from meldingen.reports.deadlines import compute_deadline, is_working_day
from meldingen.timeutil import AMSTERDAM


def local(*args):
    return datetime(*args, tzinfo=AMSTERDAM)


def test_three_working_days_from_a_monday_is_thursday():
    assert compute_deadline(local(2026, 3, 2, 10, 0), 3, False) == local(2026, 3, 5, 10, 0)


def test_working_days_skip_the_weekend():
    assert compute_deadline(local(2026, 3, 6, 9, 30), 1, False) == local(2026, 3, 9, 9, 30)


def test_working_days_skip_koningsdag_2026():
    # Friday 24 April 2026 + 5 working days: Mon 27 April is Koningsdag, so Monday 4 May.
    assert not is_working_day(local(2026, 4, 27).date())
    assert compute_deadline(local(2026, 4, 24, 12, 0), 5, False) == local(2026, 5, 4, 12, 0)


def test_working_days_skip_easter_monday_and_good_friday():
    # Thursday 2 April 2026 + 1 working day: Good Friday 3 April and Easter Monday 6 April are skipped.
    assert compute_deadline(local(2026, 4, 2, 8, 0), 1, False) == local(2026, 4, 7, 8, 0)


def test_good_friday_can_be_a_working_day_for_an_organisation():
    settings = {"good_friday_is_workday": True}
    assert compute_deadline(local(2026, 4, 2, 8, 0), 1, False, settings) == local(2026, 4, 3, 8, 0)


def test_working_days_skip_christmas():
    # Wednesday 23 December 2026 + 2 working days: 25 and 26 December (Fri, Sat) and the Sunday go by.
    assert compute_deadline(local(2026, 12, 23, 16, 0), 2, False) == local(2026, 12, 28, 16, 0)


def test_working_days_skip_whit_monday():
    # Pinksteren 2026: Sunday 24 May, Whit Monday 25 May.
    assert compute_deadline(local(2026, 5, 22, 10, 0), 1, False) == local(2026, 5, 26, 10, 0)


def test_liberation_day_counts_only_in_lustrum_years_by_default():
    assert is_working_day(local(2026, 5, 5).date())
    assert not is_working_day(local(2025, 5, 5).date())
    assert not is_working_day(local(2026, 5, 5).date(), {"liberation_day_every_year": True})


def test_calendar_days_ignore_weekends_and_holidays():
    assert compute_deadline(local(2026, 4, 24, 12, 0), 5, True) == local(2026, 4, 29, 12, 0)


def test_calendar_days_keep_the_wall_clock_across_daylight_saving():
    # Clocks go forward on 29 March 2026; the deadline stays at 10:00 local time.
    deadline = compute_deadline(local(2026, 3, 28, 10, 0), 2, True)
    assert deadline == local(2026, 3, 30, 10, 0)
    assert deadline.utcoffset().total_seconds() == 7200


def test_deadline_counts_from_amsterdam_time_not_utc():
    from datetime import timezone

    # 23:30 UTC on Friday is already Saturday in Amsterdam (summer time): one working day → Monday.
    created = datetime(2026, 6, 5, 23, 30, tzinfo=UTC)
    assert compute_deadline(created, 1, False) == local(2026, 6, 8, 1, 30)


def test_no_handling_time_means_no_deadline():
    assert compute_deadline(local(2026, 1, 5, 9, 0), None, False) is None


@pytest.mark.parametrize("day", [(2026, 1, 1), (2026, 4, 5), (2026, 5, 14), (2026, 12, 26)])
def test_public_holidays_are_not_working_days(day):
    assert not is_working_day(local(*day).date())
