"""Who may see and do what: the one place permission rules live."""

import sqlalchemy as sa

from .models import Case, CasePastUnit


def member_unit_ids(user):
    return {m.unit_id for m in user.memberships}


def led_unit_ids(user):
    return {m.unit_id for m in user.memberships if m.is_team_lead}


def can_view_unit(user, unit_id):
    """Admins see every inbox; others only those of their own units."""
    return user.is_admin or unit_id in member_unit_ids(user)


def can_lead_unit(user, unit_id):
    return user.is_admin or unit_id in led_unit_ids(user)


def can_view_case(user, case):
    """The holding unit sees a case; so do units that held it before, and the customer service
    unit that received it from the form, wherever it has gone since (read-only)."""
    if can_view_unit(user, case.current_unit_id):
        return True
    units = member_unit_ids(user)
    if case.service_unit_id in units:
        return True
    return any(past.unit_id in units for past in case.past_units)


def units_seen_by(user):
    """The ids of the units whose cases `user` may see; None: every case (an admin)."""
    return None if user.is_admin else member_unit_ids(user) or {-1}


def cases_visible_to(user):
    """`can_view_case` as an SQL condition on cases, for lists and searches."""
    return cases_visible_in(units_seen_by(user))


def cases_visible_in(units):
    """The cases members of `units` (ids, or an expanding parameter; None: every case) may see,
    as an SQL condition: held by one of them now, received through one, or held by one before."""
    if units is None:
        return sa.true()
    return sa.or_(
        Case.current_unit_id.in_(units),
        Case.service_unit_id.in_(units),
        # Correlated: one key lookup per candidate, not a list of every case ever handed on.
        sa.exists().where(CasePastUnit.case_id == Case.id, CasePastUnit.unit_id.in_(units)),
    )


def visible_case_ids_newest_first(user):
    """`cases_visible_to` as selects of case ids, each newest first through its own index: the
    unit's cases, those it received from the form, those it held before. A case may come in
    more than one; merged in order they give the cases the user may see, newest first."""
    if user.is_admin:
        return [sa.select(Case.id.label("id")).order_by(Case.id.desc())]
    selects = []
    for unit_id in sorted(member_unit_ids(user)) or [-1]:
        selects += [
            sa.select(Case.id.label("id")).where(Case.current_unit_id == unit_id)
            .order_by(Case.id.desc()),
            sa.select(Case.id.label("id")).where(Case.service_unit_id == unit_id)
            .order_by(Case.id.desc()),
            sa.select(CasePastUnit.case_id.label("id")).where(CasePastUnit.unit_id == unit_id)
            .order_by(CasePastUnit.case_id.desc()),
        ]
    return selects


def can_handle_case(user, case):
    """Members of the unit holding the case act on it; everyone else only reads."""
    return can_view_unit(user, case.current_unit_id)


def available_actions(user, case):
    """The actions `user` may take on `case` now; operations check them again."""
    # An anonymised case keeps only its figures: nothing may add personal data back.
    if not can_handle_case(user, case) or case.anonymised_at is not None:
        return set()
    status = str(case.status)
    is_open = case.is_open
    lead = can_lead_unit(user, case.current_unit_id)
    actions = {"note"}
    if status != "closed":
        actions |= {"correct", "close", "duplicate", "customer"}
        # What waits for the customer can be cancelled wherever closing can be refused for it.
        if case.assignee_id in (None, user.id) or lead:
            actions |= {"cancel_reply", "move_callback"}
    else:
        actions.add("reopen")
    if is_open:
        actions.add("forward")
        # Taking a case a colleague holds is a reassignment: the team lead's call.
        if case.assignee_id is None or (lead and case.assignee_id != user.id):
            actions.add("take")
        if lead:
            actions.add("assign")
        if case.assignee_id is not None and (case.assignee_id == user.id or lead):
            actions.add("unassign")
        holds = case.assignee_id == user.id or case.assignee_id is None or lead
        if holds:
            actions |= {"answer", "banking_matter"}
        if case.reply_wanted and holds:
            actions.add("interim_notice")
    return actions


def can_set_customer(user, case):
    """Customer service, and the unit holding the case, link an unclosed case to the register."""
    if str(case.status) == "closed":
        return False
    units = member_unit_ids(user)
    return "customer" in available_actions(user, case) or case.service_unit_id in units


def can_register_feedback(user):
    """Staff of a unit register feedback customers gave them, and look the customer up in the
    register for it; admins too. A user in no unit handles no feedback."""
    return user.is_admin or bool(member_unit_ids(user))


def can_administer(user):
    """Staff users, units, topics, routing, closing days, texts and the logs: admins only."""
    return user.is_admin


def can_see_reports(user):
    """Reports are for team leads (of the units they lead) and admins (of all)."""
    return user.is_admin or bool(led_unit_ids(user))


def report_unit_ids(user):
    """Whose figures the user sees: admins every unit (None), team leads the units they lead."""
    return None if user.is_admin else led_unit_ids(user)
