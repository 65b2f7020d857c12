"""Report periods: this week, this month, last month, or a custom range of days. Pure: no Flask."""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from ..refusals import Refusal
from . import N_

PERIODS = {
    "this_week": N_("This week"),
    "this_month": N_("This month"),
    "last_month": N_("Last month"),
    "custom": N_("Custom range"),
}
DEFAULT_PERIOD = "this_month"
# A year of weeks is what a table can still show; longer ranges go by CSV, a year at a time.
MAX_DAYS = 366


@dataclass(frozen=True)
class Period:
    """Days from `start` to `end`, both included, in the bank's time zone."""

    start: date
    end: date

    def bounds(self, tz):
        """The period as instants: from the start of its first day to the start of the day after."""
        return _midnight(self.start, tz), _midnight(self.end + timedelta(days=1), tz)

    def weeks(self):
        """The Mondays of the weeks the period touches."""
        monday = self.start - timedelta(days=self.start.weekday())
        weeks = []
        while monday <= self.end:
            weeks.append(monday)
            monday += timedelta(days=7)
        return weeks

    def week_spans(self):
        """Each week the period touches as (ISO week number, first day, last day), its days
        cut to the period: a report counts only the period's days, and says which they are."""
        return [(monday.isocalendar().week, max(monday, self.start),
                 min(monday + timedelta(days=6), self.end)) for monday in self.weeks()]

    def whole_month(self):
        """Whether the period is one calendar month, first day to last."""
        return (self.start.day == 1 and (self.end + timedelta(days=1)).day == 1
                and (self.start.year, self.start.month) == (self.end.year, self.end.month))

    def week_of(self, day):
        """The week of the period a day of it falls in (0 = the first of `weeks`)."""
        return (day - self.start + timedelta(days=self.start.weekday())).days // 7


def _midnight(day, tz):
    return datetime.combine(day, time.min, tzinfo=tz)


def resolve(kind, start, end, today):
    """The period the user chose; custom ranges are checked and refused with a reason."""
    if kind == "this_week":
        monday = today - timedelta(days=today.weekday())
        return Period(monday, monday + timedelta(days=6))
    first_of_month = today.replace(day=1)
    if kind == "this_month":
        next_month = (first_of_month + timedelta(days=32)).replace(day=1)
        return Period(first_of_month, next_month - timedelta(days=1))
    if kind == "last_month":
        last_day = first_of_month - timedelta(days=1)
        return Period(last_day.replace(day=1), last_day)
    if kind != "custom":
        raise Refusal(N_("Choose a period."), "period")
    if start is None:
        raise Refusal(N_("Give the first day as a date."), "start")
    if end is None:
        raise Refusal(N_("Give the last day as a date."), "end")
    if end < start:
        raise Refusal(N_("The last day cannot be before the first day."), "end")
    if (end - start).days + 1 > MAX_DAYS:
        raise Refusal(N_("Choose at most %(days)s days."), "end", days=MAX_DAYS)
    return Period(start, end)
