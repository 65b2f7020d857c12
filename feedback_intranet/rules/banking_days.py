"""Finnish banking days and the due date of a case. Pure: no Flask, no database.

A banking day is Monday to Friday, not a Finnish holiday (the `holidays`
package's Finland calendar, which includes Midsummer Eve and Christmas Eve),
and not one of the bank's extra closing days.
"""

from bisect import bisect_right
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

HELSINKI = ZoneInfo("Europe/Helsinki")
ANSWER_PROMISE_BANKING_DAYS = 3
# The days the intranet deals in. Beyond them date arithmetic overflows (the day after
# 31 December 9999) or crawls (banking days counted across centuries), so days typed or put
# in a URL outside them are refused.
FIRST_DAY, LAST_DAY = date(1900, 1, 1), date(2999, 12, 31)


@lru_cache(maxsize=128)
def _finnish_holidays(year):
    return frozenset(holidays.Finland(years=year))


# The `holidays` package's names for its languages.
_HOLIDAY_LANGUAGES = {"fi": "fi", "sv": "sv_FI", "en": "en_US"}


def holiday_name(day, language="en"):
    """The name of the Finnish bank holiday on `day` in `language` ("Jouluaatto"), or None."""
    if day not in _finnish_holidays(day.year):
        return None
    names = holidays.Finland(years=day.year, language=_HOLIDAY_LANGUAGES.get(language, "en_US"))
    return names.get(day)


def _weekdays_up_to(day):
    """Weekdays from 1 January of year 1 (a Monday) up to and including `day`."""
    n = day.toordinal()
    return 5 * (n // 7) + min(n % 7, 5)


def local_date(moment, tz=HELSINKI):
    """The calendar day on which an aware moment falls in `tz`."""
    if moment.tzinfo is None:
        raise ValueError("an aware datetime is required")
    return moment.astimezone(tz).date()


class BankingCalendar:
    """Banking days given the bank's extra closing days."""

    def __init__(self, closing_days=(), tz=HELSINKI):
        self.closing_days = frozenset(closing_days)
        self.tz = tz
        self._closed_weekdays_by_year = {}

    def _closed_weekdays(self, year):
        """Sorted weekdays of `year` on which the bank is closed."""
        if year not in self._closed_weekdays_by_year:
            closed = {
                d
                for d in _finnish_holidays(year) | {c for c in self.closing_days if c.year == year}
                if d.weekday() < 5
            }
            self._closed_weekdays_by_year[year] = sorted(closed)
        return self._closed_weekdays_by_year[year]

    def is_banking_day(self, day):
        return (
            day.weekday() < 5
            and day not in _finnish_holidays(day.year)
            and day not in self.closing_days
        )

    def add_banking_days(self, day, n):
        """The n-th banking day after `day` (n >= 1); `day` itself need not be one."""
        if n < 1:
            raise ValueError("n must be at least 1")
        while n:
            day += timedelta(days=1)
            if self.is_banking_day(day):
                n -= 1
        return day

    def banking_days_between(self, start, end):
        """Banking days after `start` up to and including `end`; negative when end < start."""
        if end < start:
            return -self.banking_days_between(end, start)
        count = _weekdays_up_to(end) - _weekdays_up_to(start)
        for year in range(start.year, end.year + 1):
            closed = self._closed_weekdays(year)
            count -= bisect_right(closed, end) - bisect_right(closed, start)
        return count

    def due_date(self, received_at, days=ANSWER_PROMISE_BANKING_DAYS):
        """The promised answer date: the third banking day after the day of receipt."""
        return self.add_banking_days(local_date(received_at, self.tz), days)

    def end_of_day(self, day):
        """The moment a case due on `day` becomes overdue: midnight after it, local time."""
        return datetime.combine(day + timedelta(days=1), time.min, tzinfo=self.tz)

    def is_overdue(self, due, now):
        return now >= self.end_of_day(due)
