"""Report summaries: the figures of the cases received on each day, kept in the transaction of
every change to a case (reports.summaries), so a report sums a year of days instead of counting
a year of cases."""

from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db


class ReportDay(db.Model):
    """Cases received on one local day (the bank's time zone), counted for one unit (the one that
    answered them, else the one holding them) and one value of one dimension: the topic (its id),
    the segment, the reply channel ("" for no answer wanted) or the intake channel. Each case is
    in one row per dimension.

    The promise's figures are over the cases owed an answer. Whether an unanswered open case is
    still "not yet due" depends on today, so such cases ("awaiting") are keyed by their deadline:
    the due date, or the later estimate when an interim notice went out by the due date. Every
    other case's row has the day itself there, so it adds no rows."""

    __tablename__ = "report_day"

    dimension: Mapped[str] = mapped_column(sa.String(16), primary_key=True)
    day: Mapped[date] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(sa.ForeignKey("unit.id"), primary_key=True)
    value: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    deadline: Mapped[date] = mapped_column(primary_key=True)
    received: Mapped[int]
    owed: Mapped[int]
    kept: Mapped[int]
    awaiting: Mapped[int]
    noticed: Mapped[int]
    by_estimate: Mapped[int]


class ReportAnswerDay(db.Model):
    """Cases received on one local day whose first answer, by one unit and channel ("" for none
    recorded), came a number of banking days after the day of receipt."""

    __tablename__ = "report_answer_day"

    day: Mapped[date] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(sa.ForeignKey("unit.id"), primary_key=True)
    channel: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    banking_days: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    count: Mapped[int]


class ReportForwardDay(db.Model):
    """Forwards from one unit to another of the cases received on one local day."""

    __tablename__ = "report_forward_day"

    day: Mapped[date] = mapped_column(primary_key=True)
    from_unit_id: Mapped[int] = mapped_column(sa.ForeignKey("unit.id"), primary_key=True)
    to_unit_id: Mapped[int] = mapped_column(sa.ForeignKey("unit.id"), primary_key=True)
    count: Mapped[int]


class ReportReforwardDay(db.Model):
    """Cases received on one local day that were forwarded more than once, by the units their
    forwards involve (their ids, ascending, between commas: ",3,7,"), so that any choice of
    units finds the cases whose forwards involve one of them."""

    __tablename__ = "report_reforward_day"

    day: Mapped[date] = mapped_column(primary_key=True)
    units: Mapped[str] = mapped_column(sa.Text, primary_key=True)
    count: Mapped[int]
