"""Extra closing days: the banking calendar as the database knows it today."""

import sqlalchemy as sa
from flask import g, has_request_context
from flask_babel import gettext as _

from .extensions import db
from .models import ClosingDay, DeviatingHours
from .refusals import Refusal
from .rules.banking_days import BankingCalendar
from .rules.dates import format_date


def banking_calendar(tz):
    """The calendar with the bank's closing days; read once per request, fresh in workers."""
    if has_request_context() and g.get("banking_calendar") is not None:
        return g.banking_calendar
    calendar = BankingCalendar(db.session.scalars(sa.select(ClosingDay.day)).all(), tz)
    if has_request_context():
        g.banking_calendar = calendar
    return calendar


def add_closing_day(actor, day, reason):
    """Add an extra closing day; due dates already promised stay as they are."""
    if not reason.strip():
        raise Refusal(_("Give a reason for the closing day."), "reason")
    if db.session.scalar(sa.select(ClosingDay.id).where(ClosingDay.day == day)):
        raise Refusal(_("%(day)s is already a closing day.", day=format_date(day)), "day")
    closing_day = ClosingDay(day=day, reason=reason.strip(), created_by=actor)
    db.session.add(closing_day)
    db.session.flush()
    return closing_day


def deviating_hours():
    """Service hours that differ from the regular ones, by (date, segment or None)."""
    rows = db.session.scalars(sa.select(DeviatingHours))
    return {(row.day, str(row.segment) if row.segment else None):
            (row.opens, row.closes) if row.opens and row.closes else None for row in rows}
