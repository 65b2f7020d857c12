"""The append-only log of security events: who logged in, looked at or changed what."""

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from ..i18n import lazy_gettext as _l
from .common import TitledEnum, UTCDateTime, enum_column


class AuditKind(TitledEnum):
    LOGIN = "login", _l("Login")
    LOGIN_FAILED = "login_failed", _l("Failed login")
    LOCKED = "locked", _l("Account locked")
    LOGOUT = "logout", _l("Logout")
    PASSWORD_CHANGED = "password_changed", _l("Password changed")
    SESSION_ENDED = "session_ended", _l("Session ended")
    REFUSED = "refused", _l("Access refused")
    CASE_VIEWED = "case_viewed", _l("Case viewed")
    EXPORT = "export", _l("CSV export")
    LETTER_DOWNLOAD = "letter_download", _l("Letter downloaded")
    ADMIN_CHANGE = "admin_change", _l("Admin change")
    RETENTION = "retention", _l("Retention run")
    DATA_REQUEST = "data_request", _l("Data request")
    DIRECTORY_CHANGE = "directory_change", _l("Directory change")
    DIRECTORY_SYNC = "directory_sync", _l("Directory sync")


class AuditEvent(db.Model):
    """One security event. Rows are only ever inserted (PostgreSQL refuses anything else).

    Cases and customers are named by id and reference only, never by name or text, so the
    retention of personal data never needs to touch this table. No foreign keys either: the
    log outlives what it names.
    """

    __tablename__ = "audit_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    kind: Mapped[AuditKind] = enum_column(AuditKind)
    user_id: Mapped[int | None]
    # The username as typed at a failed login, or the acting user's; staff data, not customer data.
    username: Mapped[str] = mapped_column(sa.String(64), default="")
    address: Mapped[str] = mapped_column(sa.String(45), default="")
    case_id: Mapped[int | None]
    case_reference: Mapped[str] = mapped_column(sa.String(20), default="")
    customer_id: Mapped[int | None]
    # What happened, without personal data: a path, a status, which admin record changed.
    # `facts` for rows written since migration 0030, read in the reader's language by
    # admin.audit_texts; `detail` is the English sentence of the rows written before.
    detail: Mapped[str] = mapped_column(sa.String(300), default="")
    facts: Mapped[dict | None] = mapped_column(sa.JSON)

    # The audit page reads newest first, alone or by one of its filters: an index each, so a
    # filter finds its rows without walking a log of millions of case views.
    __table_args__ = (
        sa.Index("ix_audit_event_at", "at", "id"),
        sa.Index("ix_audit_event_reference", "case_reference", "at", "id"),
        sa.Index("ix_audit_event_kind", "kind", "at", "id"),
    )


sa.Index("ix_audit_event_username", sa.func.lower(AuditEvent.username), AuditEvent.at,
         AuditEvent.id)
