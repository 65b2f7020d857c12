"""Admin changes to staff users and units. Nothing is ever deleted, only deactivated."""

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from .. import access, audit
from ..auth.operations import end_sessions
from ..cases.common import add_event
from ..extensions import db, passwords
from ..models import (
    OPEN_STATUSES,
    AuditKind,
    BankText,
    Case,
    CaseStatus,
    DeviatingHours,
    EventKind,
    Language,
    Membership,
    ReplyTemplate,
    RoutingRule,
    Topic,
    Unit,
    UnitKind,
    UnitText,
    User,
)
from ..passwords import password_problem
from ..refusals import Refusal


def _check_unique(model, column, value, exclude_id, field, message):
    """`message` is a lazy string with a %(value)s placeholder."""
    query = sa.select(model.id).where(column == value)
    if exclude_id is not None:
        query = query.where(model.id != exclude_id)
    if db.session.scalar(query) is not None:
        raise Refusal(str(message) % {"value": value}, field)


def _one_line(value, field):
    """Text that goes into email headers (a unit's name is the sender name of its answers, a
    user's email the recipient of notifications) cannot hold a line break."""
    if len(value.strip().splitlines()) > 1:
        raise Refusal(_("Write this on one line: it goes into the headers of emails."), field)


def _set_memberships(user, roles):
    """`roles` maps unit id to "member" or "lead"; other units are left."""
    known = {unit_id for unit_id in db.session.scalars(sa.select(Unit.id))}
    unknown = set(roles) - known
    if unknown:
        raise Refusal(_("Unknown unit."), "units")
    existing = {m.unit_id: m for m in user.memberships}
    for unit_id, membership in existing.items():
        if unit_id not in roles:
            user.memberships.remove(membership)
    for unit_id, role in roles.items():
        membership = existing.get(unit_id)
        if membership is None:
            membership = Membership(unit_id=unit_id)
            user.memberships.append(membership)
        membership.is_team_lead = role == "lead"


def _return_cases_to_inbox(actor, user, now):
    """A deactivated user's open cases go back to their units' inboxes, on the timeline."""
    cases = db.session.scalars(
        sa.select(Case).where(Case.assignee_id == user.id, Case.status.in_(OPEN_STATUSES))
    )
    for case in cases:
        case.assignee_id = None
        case.status = CaseStatus.NEW
        add_event(case, EventKind.UNASSIGNED, actor, now, from_unit_id=case.current_unit_id,
                  deactivated=user.full_name)


def save_user(actor, user, *, username, full_name, email, password, language, is_admin,
              active, roles, now, must_change_password=False):
    """Create (user is None) or change a staff user and their unit memberships.

    `actor` None is the command line, which an operator runs on the server.
    """
    if actor is not None and not access.can_administer(actor):
        raise PermissionError("Only administrators manage staff users.")
    username = username.strip().lower()
    _one_line(email, "email")
    _check_unique(User, User.username, username, user.id if user else None, "username",
                  _l("Username %(value)s is already taken."))
    if user is None and not password:
        raise Refusal(_("A new user needs a password."), "password")
    if password:
        problem = password_problem(password, username)
        if problem:
            raise Refusal(problem, "password")
    if user is not None and actor is not None and user.id == actor.id and (not active or not is_admin):
        raise Refusal(_("You cannot remove your own administrator rights or deactivate "
                           "yourself."), "is_admin")
    if user is None:
        user = User()
        db.session.add(user)
    elif user.active and not active:
        _return_cases_to_inbox(actor, user, now)
        end_sessions(user)  # so reactivating the account does not revive them
    user.username = username
    user.full_name = full_name.strip()
    user.email = email.strip()
    user.language = language
    user.is_admin = is_admin
    user.active = active
    user.must_change_password = must_change_password
    if password:
        user.password_hash = passwords.hash(password)
        # A new password set by an admin unlocks the account and ends its sessions.
        user.failed_logins, user.locked_until = 0, None
        if user.id is not None:
            end_sessions(user)
            audit.record(AuditKind.PASSWORD_CHANGED, user=user,
                         **({"set_by": actor.username} if actor else {"command_line": True}))
    _set_memberships(user, roles)
    db.session.flush()
    return user


def save_unit(actor, unit, *, code, name, kind, street_address, postal_code, city, active,
              texts=None, name_fi="", name_sv="", escalation_email="",
              escalation_language=Language.FI):
    """Create (unit is None) or change a unit; a unit with open cases stays active.

    `escalation_email` ("" for none) hears of the unit's overdue cases, in
    `escalation_language`, while the unit has no team lead."""
    _require_admin(actor)
    code = code.strip().lower()
    for value, field in ((name, "name"), (name_fi, "name_fi"), (name_sv, "name_sv"),
                         (escalation_email, "escalation_email")):
        _one_line(value, field)
    _check_unique(Unit, Unit.code, code, unit.id if unit else None, "code",
                  _l("Code %(value)s is already taken."))
    if unit is not None and unit.active and not active:
        open_cases = db.session.scalar(
            sa.select(sa.func.count())
            .select_from(Case)
            .where(Case.current_unit_id == unit.id, Case.status.in_(OPEN_STATUSES))
        )
        if open_cases:
            raise Refusal(
                _("%(unit)s still holds %(count)s open cases. Forward or close them before "
                  "deactivating the unit.", unit=unit.local_name, count=open_cases),
                "active",
            )
    if unit is None:
        unit = Unit()
        db.session.add(unit)
    unit.code = code
    unit.name = name.strip()
    unit.name_fi, unit.name_sv = name_fi.strip(), name_sv.strip()
    unit.kind = kind
    unit.street_address = street_address.strip()
    unit.postal_code = postal_code.strip()
    unit.city = city.strip()
    unit.active = active
    unit.escalation_email = escalation_email.strip()
    unit.escalation_language = escalation_language
    db.session.flush()
    for language, (greeting, signature) in (texts or {}).items():
        row = db.session.get(UnitText, (unit.id, language)) or UnitText(unit_id=unit.id,
                                                                         language=language)
        row.greeting, row.signature = greeting.strip(), signature.strip()
        db.session.add(row)
    db.session.flush()
    return unit


def _require_admin(actor):
    if not access.can_administer(actor):
        raise PermissionError("Only administrators change this.")


def save_topic(actor, topic, *, code, name, central_unit_id, active, name_fi="", name_sv=""):
    """Create (topic is None) or change a feedback topic and its responsible central unit."""
    _require_admin(actor)
    code = code.strip().lower()
    _check_unique(Topic, Topic.code, code, topic.id if topic else None, "code",
                  _l("Code %(value)s is already taken."))
    if central_unit_id:
        unit = db.session.get(Unit, central_unit_id)
        if unit is None or unit.kind != UnitKind.CENTRAL_UNIT or not unit.active:
            raise Refusal(_("Choose an active central unit."), "central_unit")
    if topic is None:
        topic = Topic()
        db.session.add(topic)
    topic.code = code
    topic.name = name.strip()
    topic.name_fi, topic.name_sv = name_fi.strip(), name_sv.strip()
    topic.central_unit_id = central_unit_id or None
    topic.active = active
    db.session.flush()
    return topic


def save_routing_rule(actor, rule, *, name, topic_id, segment, unit_id, active):
    """Create (rule is None) or change an automatic routing rule."""
    _require_admin(actor)
    if db.session.get(Topic, topic_id) is None:
        raise Refusal(_("Choose a topic."), "topic")
    unit = db.session.get(Unit, unit_id)
    if unit is None or not unit.active:
        raise Refusal(_("Choose an active unit."), "unit")
    if rule is None:
        rule = RoutingRule()
        db.session.add(rule)
    rule.name = name.strip()
    rule.topic_id = topic_id
    rule.segment = segment or None
    rule.unit_id = unit_id
    rule.active = active
    db.session.flush()
    return rule


def save_reply_template(actor, template, *, title, topic_id, language, body, active):
    _require_admin(actor)
    if topic_id and db.session.get(Topic, topic_id) is None:
        raise Refusal(_("Choose a topic."), "topic")
    if template is None:
        template = ReplyTemplate()
        db.session.add(template)
    template.title, template.topic_id = title.strip(), topic_id or None
    template.language, template.body, template.active = language, body.strip(), active
    db.session.flush()
    return template


def save_bank_texts(actor, key, texts):
    """The bank's standard text `key` in each language: {language: text}."""
    _require_admin(actor)
    for language, text in texts.items():
        row = db.session.get(BankText, (key, language)) or BankText(key=key, language=language)
        row.text = text.strip()
        db.session.add(row)
    db.session.flush()


def add_deviating_hours(actor, *, day, segment, opens, closes, reason):
    """Different phone service hours on a date; no hours means no service that day."""
    _require_admin(actor)
    if (opens is None) != (closes is None):
        raise Refusal(_("Give both the opening and the closing time, or neither."), "closes")
    if opens is not None and opens >= closes:
        raise Refusal(_("Closing must come after opening."), "closes")
    exists = db.session.scalar(sa.select(DeviatingHours.id).where(
        DeviatingHours.day == day,
        DeviatingHours.segment.is_(None) if not segment else DeviatingHours.segment == segment))
    if exists:
        raise Refusal(_("That date already has deviating hours for these customers."), "day")
    row = DeviatingHours(day=day, segment=segment or None, opens=opens, closes=closes,
                         reason=reason.strip())
    db.session.add(row)
    db.session.flush()
    return row


def remove_deviating_hours(actor, row):
    _require_admin(actor)
    db.session.delete(row)
    db.session.flush()
