"""The bank's organisation and register: units, staff, customers, topics, routing, closing days."""

from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa
from flask_babel import get_locale
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from ..extensions import db
from ..i18n import lazy_gettext as _l
from ..rules.sort_keys import sort_key
from .common import (
    Language,
    Segment,
    TitledEnum,
    UnitKind,
    UTCDateTime,
    enum_column,
    name_key,
    utcnow,
)


@dataclass(frozen=True)
class MemberName:
    """A member as the assign forms and the workload list them: a few columns, not the whole
    row of a user (which a team lead's inbox read on every view, cached or not). Members listed
    for assigning are active; the workload's holders who left may not be."""

    id: int
    full_name: str
    active: bool = True


class NamedInThreeLanguages:
    """A name in English (`name`) with its Finnish and Swedish forms; an empty form falls back to
    the English name. Staff read it in their language, customers in theirs."""

    def name_in(self, language):
        return self.name_for(language, self.name, self.name_fi, self.name_sv)

    @property
    def local_name(self):
        """The name in the language being written (a page, an email), as enums' titles are."""
        return self.name_in(get_locale() or "en")

    @staticmethod
    def name_for(language, name, name_fi, name_sv):
        """The name in `language` from the three columns (for rows read without the object)."""
        return {"fi": name_fi, "sv": name_sv}.get(str(language)) or name


def in_name_order(named, language):
    """Units or topics in the alphabetical order of their names in `language`."""
    return sorted(named, key=lambda item: sort_key(item.name_in(language)))


class Unit(NamedInThreeLanguages, db.Model):
    __tablename__ = "unit"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(32), unique=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    name_fi: Mapped[str] = mapped_column(sa.String(120), default="")
    name_sv: Mapped[str] = mapped_column(sa.String(120), default="")
    kind: Mapped[UnitKind] = enum_column(UnitKind)
    street_address: Mapped[str] = mapped_column(sa.String(200), default="")
    postal_code: Mapped[str] = mapped_column(sa.String(10), default="")
    city: Mapped[str] = mapped_column(sa.String(80), default="")
    active: Mapped[bool] = mapped_column(default=True)
    # Where the morning's escalations go while the unit has no team lead, and the language to write
    # to it in; empty: to the administrators.
    escalation_email: Mapped[str] = mapped_column(sa.String(254), default="", server_default="")
    escalation_language: Mapped[Language] = enum_column(Language, default=Language.FI,
                                                        server_default=Language.FI.value)

    def __repr__(self):
        return f"<Unit {self.code}>"


class Membership(db.Model):
    """A user's place in a unit; a team lead leads that unit only."""

    __tablename__ = "membership"

    user_id: Mapped[int] = mapped_column(sa.ForeignKey("staff_user.id"), primary_key=True)
    unit_id: Mapped[int] = mapped_column(sa.ForeignKey("unit.id"), primary_key=True, index=True)
    # In force when either grants it: `is_team_lead` is the one the intranet reads, kept equal to
    # lead_by_hand or lead_from_directory. The directory sync never touches what an admin set by
    # hand, and a row goes when neither an admin nor the directory grants it.
    is_team_lead: Mapped[bool] = mapped_column(default=False)
    by_hand: Mapped[bool] = mapped_column(default=True, server_default=sa.true())
    lead_by_hand: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    from_directory: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    lead_from_directory: Mapped[bool] = mapped_column(default=False, server_default=sa.false())

    user: Mapped["User"] = relationship(back_populates="memberships")
    unit: Mapped[Unit] = relationship(lazy="joined")


class User(UserMixin, db.Model):
    __tablename__ = "staff_user"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(sa.String(64), unique=True)
    full_name: Mapped[str] = mapped_column(sa.String(120))
    email: Mapped[str] = mapped_column(sa.String(254))
    password_hash: Mapped[str | None] = mapped_column(sa.String(255))
    # The one the intranet reads: admin_by_hand or admin_from_directory.
    is_admin: Mapped[bool] = mapped_column(default=False)
    admin_by_hand: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    admin_from_directory: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    active: Mapped[bool] = mapped_column(default=True)
    # An admin's deactivation: the directory cannot lift it, only an admin.
    deactivated_by_admin: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    # A directory user: the entry's stable id (objectGUID on Active Directory, entryUUID on
    # OpenLDAP), never the username; None for a local account. Such users have no password here.
    directory_id: Mapped[str | None] = mapped_column(sa.String(64), unique=True)
    directory_dn: Mapped[str] = mapped_column(sa.String(500), default="", server_default="")
    directory_checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    language: Mapped[Language] = enum_column(Language, default=Language.EN)
    # Opted in to an email when a case is assigned or forwarded to them or their unit.
    notify_by_email: Mapped[bool] = mapped_column(default=False)
    # An email when a customer writes back about a case they hold.
    notify_customer_replied: Mapped[bool] = mapped_column(default=True, server_default=sa.true())
    # Opted in to open the next case of their list after a forward, an answer or a close.
    open_next_case: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    # The morning summary of their own cases; a team lead's sections for the units they lead
    # come whatever this says.
    morning_digest: Mapped[bool] = mapped_column(default=True, server_default=sa.true())
    # Failed logins in a row; at the configured number the account locks for a while.
    failed_logins: Mapped[int] = mapped_column(default=0, server_default="0")
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Set by an admin: the next login must choose a new password before anything else.
    must_change_password: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    # Each session carries the number it started with; raising it (logout, a new password)
    # ends every session of the user, a copied cookie included.
    session_version: Mapped[int] = mapped_column(default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    memberships: Mapped[list[Membership]] = relationship(
        back_populates="user", cascade="all, delete-orphan", order_by=Membership.unit_id
    )

    @property
    def is_active(self):
        return self.active

    def get_id(self):
        # What Flask-Login keeps in the session cookie (Flask-Login's "alternative token").
        return f"{self.id}:{self.session_version}"

    def __repr__(self):
        return f"<User {self.username}>"


class DirectoryRole(TitledEnum):
    MEMBER = "member", _l("Member of the unit")
    TEAM_LEAD = "team_lead", _l("Team lead of the unit")
    ADMIN = "admin", _l("Administrator")


class GroupMapping(db.Model):
    """A directory group and what its members are here: members or team leads of a unit, or
    administrators. Nested groups count (the directory settings say how they are followed)."""

    __tablename__ = "group_mapping"

    id: Mapped[int] = mapped_column(primary_key=True)
    # The group's DN as the admin typed it, and as compared: lower case, no spaces around
    # its commas and equals signs.
    group_dn: Mapped[str] = mapped_column(sa.String(500))
    group_key: Mapped[str] = mapped_column(sa.String(500))
    role: Mapped[DirectoryRole] = enum_column(DirectoryRole)
    # None for the administrators' group.
    unit_id: Mapped[int | None] = mapped_column(sa.ForeignKey("unit.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    unit: Mapped[Unit | None] = relationship()

    __table_args__ = (sa.UniqueConstraint("group_key", "role", "unit_id"),)


class Customer(db.Model):
    """One entry of the customer register."""

    __tablename__ = "customer"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_number: Mapped[str] = mapped_column(sa.String(20), unique=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    street_address: Mapped[str] = mapped_column(sa.String(200))
    postal_code: Mapped[str] = mapped_column(sa.String(10))
    city: Mapped[str] = mapped_column(sa.String(80))
    phone: Mapped[str | None] = mapped_column(sa.String(20), index=True)
    email: Mapped[str | None] = mapped_column(sa.String(254), index=True)
    language: Mapped[Language] = enum_column(Language)
    segment: Mapped[Segment] = enum_column(Segment)
    home_office_id: Mapped[int] = mapped_column(sa.ForeignKey("unit.id"), index=True)

    # The name case-folded with single spaces: matching compares names this way.
    name_key: Mapped[str] = mapped_column(sa.String(120))

    home_office: Mapped[Unit] = relationship()

    __table_args__ = (sa.Index("ix_customer_name_key_postal_code", "name_key", "postal_code"),)

    @validates("name")
    def _keep_name_key(self, _key, name):
        self.name_key = name_key(name)
        return name

    @validates("email")
    def _normalise_email(self, _key, email):
        return email.strip().lower() if email else email


class Topic(NamedInThreeLanguages, db.Model):
    """What the feedback is about; the bank edits the list."""

    __tablename__ = "topic"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(32), unique=True)
    name: Mapped[str] = mapped_column(sa.String(80))
    # Customers choose topics in their own language; empty falls back to the English name.
    name_fi: Mapped[str] = mapped_column(sa.String(80), default="")
    name_sv: Mapped[str] = mapped_column(sa.String(80), default="")
    active: Mapped[bool] = mapped_column(default=True)
    # The central unit responsible for the topic's product: the suggested forward target.
    central_unit_id: Mapped[int | None] = mapped_column(sa.ForeignKey("unit.id"))

    central_unit: Mapped[Unit | None] = relationship()


class RoutingRule(db.Model):
    """Feedback on a topic from a segment goes straight to a unit, skipping customer service."""

    __tablename__ = "routing_rule"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    topic_id: Mapped[int] = mapped_column(sa.ForeignKey("topic.id"))
    # None: any segment.
    segment: Mapped[Segment | None] = enum_column(Segment, nullable=True)
    unit_id: Mapped[int] = mapped_column(sa.ForeignKey("unit.id"))
    active: Mapped[bool] = mapped_column(default=True)

    topic: Mapped[Topic] = relationship()
    unit: Mapped[Unit] = relationship()


class ClosingDay(db.Model):
    """A day the bank is closed besides weekends and Finnish bank holidays.

    A future day added by mistake is withdrawn, never deleted: the row keeps who added and who
    withdrew it, and a withdrawn day no longer counts in the banking calendar.
    """

    __tablename__ = "closing_day"

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date]
    reason: Mapped[str] = mapped_column(sa.String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("staff_user.id"))
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    withdrawn_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("staff_user.id"))

    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    withdrawn_by: Mapped[User | None] = relationship(foreign_keys=[withdrawn_by_id])

    # A day is closed once at a time; a withdrawn day may be closed again.
    __table_args__ = (
        sa.Index("uq_closing_day_day_in_force", "day", unique=True,
                 sqlite_where=sa.text("withdrawn_at IS NULL"),
                 postgresql_where=sa.text("withdrawn_at IS NULL")),
    )

    @property
    def withdrawn(self):
        return self.withdrawn_at is not None


class MorningDigest(db.Model):
    """One morning summary sent: at most one per recipient and day, written in the transaction
    of its outbox message, so a second run the same day sends nothing twice."""

    __tablename__ = "morning_digest"

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date]
    # "user:<id>" for a member of staff, "address:<email>" for a unit's escalation address.
    recipient: Mapped[str] = mapped_column(sa.String(300))
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("staff_user.id"))
    outbox_message_id: Mapped[int | None] = mapped_column(sa.ForeignKey("outbox_message.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (sa.UniqueConstraint("day", "recipient"),)


class ReferenceCounter(db.Model):
    """The last case number given out in a Helsinki calendar year."""

    __tablename__ = "reference_counter"

    year: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    last_number: Mapped[int] = mapped_column(default=0)
