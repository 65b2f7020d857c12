"""Extra closing days: the banking calendar as the database knows it today."""

from collections.abc import Mapping
from datetime import date
from functools import cached_property, lru_cache

import sqlalchemy as sa
from flask import g, has_request_context
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from .extensions import db
from .i18n import gettext as _
from .models import OPEN_STATUSES, Case, ClosingDay, DeviatingHours
from .refusals import Refusal
from .rules.badges import badges_changed_by_closing
from .rules.banking_days import BankingCalendar, holiday_name
from .rules.dates import format_date

IN_FORCE = ClosingDay.withdrawn_at.is_(None)


def banking_calendar(tz):
    """The calendar with the bank's closing days in force; read once per request, fresh in
    workers, with the signed-in user when there is one (`closing_days_sql`). A withdrawn day no
    longer counts."""
    if not has_request_context():
        return BankingCalendar(_closing_days(), tz)
    if g.get("banking_calendar") is None:
        days = g.pop("closing_days", None)
        g.banking_calendar = BankingCalendar(_closing_days() if days is None else days, tz)
    return g.banking_calendar


def _closing_days():
    return db.session.scalars(sa.select(ClosingDay.day).where(IN_FORCE)).all()


class _iso_day(FunctionElement):
    """A date as its ISO text, 2026-12-24, whatever the server's DateStyle."""

    type = sa.String()
    inherit_cache = True


@compiles(_iso_day)
def _iso_day_as_stored(element, compiler, **kw):
    return compiler.process(element.clauses, **kw)  # SQLite keeps a date as that very text


@compiles(_iso_day, "postgresql")
def _iso_day_postgresql(element, compiler, **kw):
    return f"to_char({compiler.process(element.clauses, **kw)}, 'YYYY-MM-DD')"


def closing_days_sql():
    """The closing days in force as one text, "2026-12-24,2026-12-31" (NULL when none), for a
    statement that reads them with something else: the user loader's, so that a page's calendar
    costs no statement of its own. Its value goes to `remember_closing_days`."""
    # The separator written into the statement: given as text, it is a parameter SQLAlchemy
    # writes in on every run (a regular expression over the loader's whole statement).
    return (sa.select(sa.func.aggregate_strings(_iso_day(ClosingDay.day), sa.literal_column("','")))
            .where(IN_FORCE).scalar_subquery())


def remember_closing_days(text):
    """The value of `closing_days_sql`, read at the start of this request: `banking_calendar`
    builds the calendar from it instead of reading the days again."""
    g.closing_days = [date.fromisoformat(day) for day in (text or "").split(",") if day]


def next_banking_day(today, tz):
    """The banking day after `today` (the calendar read once per request)."""
    return banking_calendar(tz).add_banking_days(today, 1)


# How many of the next weekdays that are not bank holidays the SQL form of the next banking day
# looks at: more extra closing days in a row than this are not a bank's.
_NEXT_DAY_CANDIDATES = 10


@lru_cache(maxsize=4)
def _next_plain_banking_days(today, tz):
    """The next days without a weekend or bank holiday: the same all day, and the user loader
    asks on every request."""
    plain, day, candidates = BankingCalendar((), tz), today, []
    for _n in range(_NEXT_DAY_CANDIDATES):
        day = plain.add_banking_days(day, 1)
        candidates.append(day)
    return tuple(candidates)


def next_banking_day_sql():
    """`banking_calendar(tz).add_banking_days(today, 1)` as an SQL expression, for a statement
    that must not wait for the calendar's own read (the user loader's): the first of the next
    days without a weekend or bank holiday that no closing day in force takes (the last of them
    if all are taken). The candidate days are bound parameters (`next_banking_day_parameters`),
    so one statement, built once, serves every day: building it anew cost the loader more than
    running it. The earliest candidate left, not a CASE of a test per candidate: PostgreSQL
    started the CASE's ten subplans on every run, 0.1 ms of each request's user."""
    days = [sa.bindparam(f"next_day_{n}", type_=sa.Date) for n in range(_NEXT_DAY_CANDIDATES)]
    candidates = sa.union_all(*(sa.select(day.label("day")) for day in days)).subquery()
    closed = sa.select(ClosingDay.day).where(IN_FORCE, ClosingDay.day.between(days[0], days[-1]))
    return (sa.select(sa.func.coalesce(sa.func.min(candidates.c.day), days[-1]))
            .where(candidates.c.day.not_in(closed)).scalar_subquery())


def next_banking_day_parameters(today, tz):
    """The values of `next_banking_day_sql`'s parameters on `today`."""
    return {f"next_day_{n}": day for n, day in enumerate(_next_plain_banking_days(today, tz))}


def forget_calendar():
    """After a change of the closing days: the rest of the request reads them again."""
    if has_request_context():
        g.pop("banking_calendar", None)
        g.pop("closing_days", None)


def check_closing_day(day, calendar, language):
    """Refuse a day the bank is closed on already: a weekend, a bank holiday, a closing day."""
    if day.weekday() == 5:
        raise Refusal(_("%(day)s is a Saturday: the bank is closed at weekends anyway.",
                        day=format_date(day)), "day")
    if day.weekday() == 6:
        raise Refusal(_("%(day)s is a Sunday: the bank is closed at weekends anyway.",
                        day=format_date(day)), "day")
    holiday = holiday_name(day, language)
    if holiday:
        raise Refusal(_("%(day)s is a bank holiday (%(holiday)s): the bank is closed anyway.",
                        day=format_date(day), holiday=holiday), "day")
    if not calendar.is_banking_day(day):
        raise Refusal(_("%(day)s is already a closing day.", day=format_date(day)), "day")


def badges_changed(day, today, calendar):
    """How many open cases' badges (banking days left, or overdue) closing `day` changes: one
    count, whatever the number of cases. Their due dates stay as promised."""
    change = badges_changed_by_closing(day, today, calendar)
    if change.due_from is not None:
        # An estimate shows its date, a reply deadline counts banking days like a due date.
        moved = sa.and_(Case.effective_due_date >= change.due_from,
                        sa.or_(Case.estimated_decision_date.is_(None),
                               Case.reply_due_date.is_not(None)))
    else:
        moved = Case.effective_due_date < change.due_before
    return db.session.scalar(
        sa.select(sa.func.count()).select_from(Case)
        .where(Case.status.in_(OPEN_STATUSES), Case.reply_wanted.is_(True), moved))


def add_closing_day(actor, day, reason, calendar, language):
    """Add an extra closing day; due dates already promised stay as they are."""
    check_closing_day(day, calendar, language)
    if not reason.strip():
        raise Refusal(_("Give a reason for the closing day."), "reason")
    closing_day = ClosingDay(day=day, reason=reason.strip(), created_by=actor)
    db.session.add(closing_day)
    db.session.flush()
    forget_calendar()
    return closing_day


def withdraw_closing_day(actor, closing_day, *, now, today):
    """Withdraw a future closing day added by mistake: it stays on the list, marked, and no
    longer counts. A day that has come has been kept closed, and stays so."""
    if closing_day.withdrawn:
        raise Refusal(_("%(day)s was already withdrawn.", day=format_date(closing_day.day)))
    if closing_day.day <= today:
        raise Refusal(_("%(day)s has already come: only a future closing day can be withdrawn.",
                        day=format_date(closing_day.day)))
    closing_day.withdrawn_at = now
    closing_day.withdrawn_by = actor
    db.session.flush()
    forget_calendar()
    return closing_day


def deviating_hours():
    """Service hours that differ from the regular ones, by (date, segment or None); read when
    first looked at, since most actions given them never do (an answer by email or letter)."""
    return _DeviatingHours()


class _DeviatingHours(Mapping):
    @cached_property
    def _hours(self):
        return {(row.day, str(row.segment) if row.segment else None):
                (row.opens, row.closes) if row.opens and row.closes else None
                for row in db.session.scalars(sa.select(DeviatingHours))}

    def __getitem__(self, key):
        return self._hours[key]

    def __iter__(self):
        return iter(self._hours)

    def __len__(self):
        return len(self._hours)
