"""Loading what a URL names, with the access check: 404 whether it is missing or not yours."""

import sqlalchemy as sa
from flask import abort
from flask_login import current_user

from .. import access
from ..extensions import db
from ..models import Case, Membership, Unit, User, in_name_order
from ..models.organisation import MemberName


def active_units(language):
    """Every active unit by its name in `language`: what an admin's inbox lists to switch to."""
    return in_name_order(db.session.scalars(sa.select(Unit).where(Unit.active)), language)


def visible_unit_or_404(unit_code, among=()):
    """The unit if the user may see it. `among` is units the caller has loaded anyway, where an
    admin's unit is looked for before reading it."""
    # A member's own units came with the user; only admins looking elsewhere need a query.
    unit = next((m.unit for m in current_user.memberships if m.unit.code == unit_code), None)
    if unit is None and access.can_administer(current_user):
        unit = next((u for u in among if u.code == unit_code), None) or db.session.scalar(
            sa.select(Unit).where(Unit.code == unit_code))
    # The same answer whether the unit exists or not: its existence is not the user's business.
    if unit is None or not access.can_view_unit(current_user, unit.id):
        abort(404)
    return unit


def unit_members(unit_id):
    """The active members of a unit, by name: whom its cases can be assigned to."""
    return [MemberName(*row) for row in db.session.execute(
        sa.select(User.id, User.full_name).join(Membership)
        .where(Membership.unit_id == unit_id, User.active).order_by(User.full_name))]


def member_or_404(unit_id, user_id):
    """Whose cases a team lead may list: a member of the unit, or someone who left it but still
    holds some of its cases. Anyone else is not the lead's business."""
    member = db.session.scalar(sa.select(User).where(
        User.id == user_id,
        sa.or_(sa.exists().where(Membership.user_id == User.id, Membership.unit_id == unit_id),
               sa.exists().where(Case.assignee_id == User.id, Case.current_unit_id == unit_id)),
    )) if user_id else None
    if member is None:
        abort(404)
    return member
