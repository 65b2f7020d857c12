"""What a user's directory groups grant here, through the admins' group mappings.

Only what the directory grants is changed (from_directory, lead_from_directory,
admin_from_directory); what an admin set by hand stays. The flags the intranet reads,
is_team_lead and is_admin, are recomputed from both, and a membership neither grants goes.
"""

import sqlalchemy as sa

from .. import audit
from ..extensions import db
from ..models import AuditKind, DirectoryRole, GroupMapping, Membership, Unit


def grant(user, group_keys, *, actor=None):
    """Apply the mappings of `group_keys` (groups.normalise) to `user`; audit each change and
    return them as (change, unit_id or None). `actor` is the admin who made it happen, if one
    did (None: a login or the sync)."""
    mappings = db.session.scalars(
        sa.select(GroupMapping).where(GroupMapping.group_key.in_(sorted(group_keys)))
    ).all() if group_keys else []
    leads = {m.unit_id for m in mappings if m.role is DirectoryRole.TEAM_LEAD}
    # A team lead of a unit is a member of it.
    members = leads | {m.unit_id for m in mappings if m.role is DirectoryRole.MEMBER}
    admin = any(m.role is DirectoryRole.ADMIN for m in mappings)

    changes = []

    def record(change, unit_id=None):
        changes.append((change, unit_id))

    held = {membership.unit_id: membership for membership in user.memberships}
    for unit_id in sorted(members - held.keys()):
        user.memberships.append(Membership(
            unit_id=unit_id, by_hand=False, lead_by_hand=False, from_directory=True,
            lead_from_directory=unit_id in leads, is_team_lead=unit_id in leads))
        record("member", unit_id=unit_id)
        if unit_id in leads:
            record("team_lead", unit_id=unit_id)
    for unit_id, membership in sorted(held.items()):
        was_member, was_lead = membership.from_directory, membership.lead_from_directory
        membership.from_directory = unit_id in members
        membership.lead_from_directory = unit_id in leads
        membership.is_team_lead = membership.lead_by_hand or membership.lead_from_directory
        if membership.from_directory != was_member:
            record("member" if membership.from_directory else "no_longer_member", unit_id=unit_id)
        if membership.lead_from_directory != was_lead:
            record("team_lead" if membership.lead_from_directory else "no_longer_team_lead",
                   unit_id=unit_id)
        if not (membership.by_hand or membership.from_directory):
            user.memberships.remove(membership)
    if user.admin_from_directory != admin:
        user.admin_from_directory = admin
        record("admin" if admin else "no_longer_admin")
    user.is_admin = user.admin_by_hand or user.admin_from_directory
    _audit(user, changes, actor)
    return changes


def _audit(user, changes, actor):
    """One audit event per change, naming the unit by its code as the rest of the log does."""
    unit_ids = {unit_id for _change, unit_id in changes if unit_id is not None}
    codes = dict(db.session.execute(
        sa.select(Unit.id, Unit.code).where(Unit.id.in_(sorted(unit_ids)))).all()) if unit_ids else {}
    for change, unit_id in changes:
        facts = {"unit_id": unit_id, "unit": codes.get(unit_id)} if unit_id is not None else {}
        audit.record(AuditKind.DIRECTORY_CHANGE, user=user, change=change,
                     **({"actor": actor.username} if actor is not None else {}), **facts)
