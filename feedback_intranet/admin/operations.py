"""Admin changes to staff users and units. Nothing is ever deleted, only deactivated."""


import sqlalchemy as sa

from .. import access, audit
from ..auth.operations import end_sessions
from ..cases.common import add_event
from ..directory.client import DirectoryUnavailable
from ..directory.groups import normalise as group_key
from ..directory.operations import DISABLED, OUTSIDE_GROUP, follow, linked_user, refusal_reason
from ..extensions import db, passwords
from ..i18n import gettext as _
from ..i18n import lazy_gettext as _l
from ..models import (
    OPEN_STATUSES,
    AuditKind,
    BankText,
    Case,
    CaseStatus,
    DeviatingHours,
    DirectoryRole,
    EventKind,
    GroupMapping,
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
    """`roles` maps unit id to "member" or "lead": the memberships set by hand; other units are
    left by hand. What the directory grants stays whatever the admin chooses."""
    known = {unit_id for unit_id in db.session.scalars(sa.select(Unit.id))}
    unknown = set(roles) - known
    if unknown:
        raise Refusal(_("Unknown unit."), "units")
    existing = {m.unit_id: m for m in user.memberships}
    for unit_id, membership in existing.items():
        if unit_id not in roles:
            membership.by_hand, membership.lead_by_hand = False, False
            if not membership.from_directory:
                user.memberships.remove(membership)
    for unit_id, role in roles.items():
        membership = existing.get(unit_id)
        if membership is None:
            membership = Membership(unit_id=unit_id, from_directory=False,
                                    lead_from_directory=False)
            user.memberships.append(membership)
        membership.by_hand, membership.lead_by_hand = True, role == "lead"
    for membership in user.memberships:
        membership.is_team_lead = membership.lead_by_hand or membership.lead_from_directory


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
    """Create (user is None) or change a staff user and the unit memberships set by hand.

    `is_admin` and `roles` are what an admin grants by hand; what the directory grants a
    directory user stays. `active` False is an admin's deactivation, which the directory never
    lifts; lifting it makes a local account active again, while a directory user's follows the
    directory at the next login or sync. `actor` None is the command line, which an operator
    runs on the server.
    """
    if actor is not None and not access.can_administer(actor):
        raise PermissionError("Only administrators manage staff users.")
    username = username.strip().lower()
    _one_line(email, "email")
    _check_unique(User, User.username, username, user.id if user else None, "username",
                  _l("Username %(value)s is already taken."))
    from_directory = user is not None and user.directory_id is not None
    if from_directory and password:
        # At the top of the page: a directory user's page has no password field.
        raise Refusal(_("A user who signs in with the bank's directory has no password here."))
    if user is None and not password:
        raise Refusal(_("A new user needs a password."), "password")
    if password:
        problem = password_problem(password, username)
        if problem:
            raise Refusal(problem, "password")
    if user is not None and actor is not None and user.id == actor.id and (
            not active or not (is_admin or user.admin_from_directory)):
        raise Refusal(_("You cannot remove your own administrator rights or deactivate "
                           "yourself."), "is_admin")
    if user is None:
        user = User(admin_from_directory=False)
        db.session.add(user)
    elif not active and not user.deactivated_by_admin:
        if user.active:
            _return_cases_to_inbox(actor, user, now)
        end_sessions(user)  # so lifting the deactivation does not revive them
    if not from_directory:
        # A directory user's username, name and email are the directory's: each sign-in and
        # sync writes them again, so the page shows them and this keeps them.
        user.username = username
        user.full_name = full_name.strip()
        user.email = email.strip()
    user.language = language
    user.admin_by_hand = is_admin
    user.is_admin = is_admin or bool(user.admin_from_directory)
    user.deactivated_by_admin = not active
    if not active:
        user.active = False
    elif not from_directory:
        user.active = True
    # A directory user's password is the directory's business.
    user.must_change_password = must_change_password and not from_directory
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


def link_to_directory(actor, user, directory, username, now):
    """Link a local account to the directory entry found by `username`, by the entry's stable
    id: from now on the person signs in with the directory under that username, the local
    password goes, and their name, email and groups follow the entry at once. The caller
    audits."""
    _require_admin(actor)
    if directory is None:
        raise Refusal(_("The bank's directory is not configured here (LDAP_URL)."))
    if user.directory_id is not None:
        raise Refusal(_("%(username)s is already linked to a directory entry.",
                        username=user.username), "directory_username")
    try:
        entry = directory.find(username)
    except DirectoryUnavailable:
        raise Refusal(_("The bank's directory cannot be reached just now: try again in a "
                        "moment."), "directory_username") from None
    if entry is None:
        raise Refusal(_("The bank's directory has no user %(username)s.",
                        username=username.strip()), "directory_username")
    refused = {DISABLED: _("That directory account is disabled: it could not sign in."),
               OUTSIDE_GROUP: _("That directory account is outside the group allowed to use "
                                "the intranet: it could not sign in.")}.get(refusal_reason(entry))
    if refused:
        raise Refusal(refused, "directory_username")
    holder = linked_user(entry)
    if holder is not None:
        raise Refusal(_("That directory entry is already linked to %(username)s.",
                        username=holder.username), "directory_username")
    # The account takes the username the person signs in with, as a first directory login
    # would have made it: the login's lockout and throttle count by it.
    name = username.strip().lower()
    holder = db.session.scalar(sa.select(User).where(User.username == name, User.id != user.id))
    if holder is not None:
        raise Refusal(_("Another account has the username %(username)s: rename it first.",
                        username=name), "directory_username")
    user.username = name
    user.directory_id, user.directory_dn = entry.directory_id, entry.dn
    user.password_hash, user.must_change_password = None, False
    user.failed_logins, user.locked_until = 0, None
    end_sessions(user)  # sessions that began with the local password end with it
    follow(user, entry, now)
    db.session.flush()
    return user


def unlink_from_directory(actor, user):
    """Make a directory user a local account again: what the directory granted goes, and the
    user has no password until an admin sets one. The caller audits."""
    _require_admin(actor)
    if user.directory_id is None:
        raise Refusal(_("%(username)s is not linked to a directory entry.",
                        username=user.username))
    if actor.id == user.id:
        raise Refusal(_("You cannot unlink your own account."))
    user.directory_id, user.directory_dn, user.directory_checked_at = None, "", None
    user.admin_from_directory = False
    user.is_admin = user.admin_by_hand
    for membership in list(user.memberships):
        membership.from_directory = membership.lead_from_directory = False
        if not membership.by_hand:
            user.memberships.remove(membership)
        else:
            membership.is_team_lead = membership.lead_by_hand
    if not user.deactivated_by_admin:
        user.active = True
    end_sessions(user)
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


def add_group_mapping(actor, *, group_dn, role, unit_id):
    """Members of the directory group `group_dn` become members or team leads of a unit, or
    administrators. The caller audits; the directory grants it at each login and sync."""
    _require_admin(actor)
    group_dn = group_dn.strip()
    key = group_key(group_dn)
    if "=" not in key:
        raise Refusal(_("Write the group's DN, for example CN=FB-Turku,OU=Groups,DC=bank,"
                        "DC=internal."), "group_dn")
    if len(group_dn) > 500:
        raise Refusal(_("A DN is at most 500 characters."), "group_dn")
    role = DirectoryRole(role)
    if role == DirectoryRole.ADMIN:
        unit_id = None
    else:
        unit = db.session.get(Unit, unit_id) if unit_id else None
        if unit is None or not unit.active:
            raise Refusal(_("Choose the unit whose members or team leads the group holds."),
                          "unit")
    duplicate = sa.select(GroupMapping.id).where(
        GroupMapping.group_key == key, GroupMapping.role == role,
        GroupMapping.unit_id.is_(None) if unit_id is None else GroupMapping.unit_id == unit_id)
    if db.session.scalar(duplicate) is not None:
        raise Refusal(_("That group is already mapped so."), "group_dn")
    mapping = GroupMapping(group_dn=group_dn, group_key=key, role=role, unit_id=unit_id)
    db.session.add(mapping)
    db.session.flush()
    return mapping


def remove_group_mapping(actor, mapping):
    """The group no longer grants this; its members lose it at their next login or sync."""
    _require_admin(actor)
    db.session.delete(mapping)
    db.session.flush()
