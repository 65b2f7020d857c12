"""Reading the audit log: filters, newest first, a page at a time or all as CSV."""

from datetime import datetime, time, timedelta

import sqlalchemy as sa

from ..extensions import db
from ..models import AuditEvent

PAGE_SIZE = 100


def audit_query(*, username="", kind="", reference="", start=None, end=None, tz):
    """The filtered events, newest first; days are the bank's local days."""
    query = sa.select(AuditEvent).order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
    if username:
        query = query.where(sa.func.lower(AuditEvent.username) == username.strip().lower())
    if kind:
        query = query.where(AuditEvent.kind == kind)
    if reference:
        query = query.where(AuditEvent.case_reference == reference.strip().upper())
    if start:
        query = query.where(AuditEvent.at >= datetime.combine(start, time.min, tzinfo=tz))
    if end:
        query = query.where(AuditEvent.at < datetime.combine(end + timedelta(days=1), time.min,
                                                             tzinfo=tz))
    return query


def audit_rows(query):
    """Every event the query finds, read a thousand at a time: for a download of any length."""
    return db.session.scalars(query.execution_options(yield_per=1000))


def audit_page(query, before_id=None):
    """One page, and the id to continue from (older events) when there are more."""
    if before_id:
        anchor = db.session.get(AuditEvent, before_id)
        if anchor is not None:
            query = query.where(sa.tuple_(AuditEvent.at, AuditEvent.id) < (anchor.at, anchor.id))
    rows = list(db.session.scalars(query.limit(PAGE_SIZE + 1)))
    more = len(rows) > PAGE_SIZE
    rows = rows[:PAGE_SIZE]
    return rows, rows[-1].id if more else None
