"""Event-time arithmetic on the Scottish calendar."""

from datetime import date

import pytest

from sdsrules.calendar import add_months, add_working_days, is_working_day, parse_duration


class TestDurations:
    def test_within_12_months_of_5_march_is_on_or_before_5_march_next_year(self):
        assert parse_duration("12 months").after(date(2024, 3, 5)) == date(2025, 3, 5)

    def test_a_month_past_a_short_month_end_lands_on_its_last_day(self):
        assert add_months(date(2024, 1, 31), 1) == date(2024, 2, 29)
        assert add_months(date(2023, 1, 31), 1) == date(2023, 2, 28)

    @pytest.mark.parametrize("text", ["28", "soon", "3 fortnights", "-2 days", 5])
    def test_an_unusable_duration_says_what_is_allowed(self, text):
        with pytest.raises(ValueError, match="duration"):
            parse_duration(text)


class TestWorkingDays:
    def test_good_friday_is_a_holiday_in_scotland_and_easter_monday_is_not(self):
        assert not is_working_day(date(2024, 3, 29))
        assert is_working_day(date(2024, 4, 1))

    def test_five_working_days_skip_the_weekend_and_good_friday(self):
        # Wed 27 Mar 2024 + 5: Thu 28, (Fri 29 Good Friday), Mon 1 Apr, Tue 2, Wed 3, Thu 4
        assert add_working_days(date(2024, 3, 27), 5) == date(2024, 4, 4)

    def test_st_andrews_day_observed_on_monday_is_skipped(self):
        # Fri 29 Nov 2024 + 1: Sat, Sun, Mon 2 Dec (St Andrew's Day observed) -> Tue 3 Dec
        assert add_working_days(date(2024, 11, 29), 1) == date(2024, 12, 3)
