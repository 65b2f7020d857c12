"""What the directory says about a user, applied here: at their login and by `directory sync`.

A directory user is created at their first login, linked by the entry's stable id and never by
username; afterwards their name, email, language and groups follow the directory. A disabled or
vanished entry, or one outside LDAP_ALLOWED_GROUP, deactivates the user and ends their
sessions; the directory enabling it again reactivates them, unless an admin deactivated them.
"""

from dataclasses import dataclass, field

import sqlalchemy as sa

from .. import audit
from ..auth import operations as auth_operations
from ..extensions import db
from ..models import AuditKind, Language, User
from . import memberships
from .client import Directory, Settings, configured

# Why the directory no longer lets someone in, as the audit log's facts say it.
DISABLED, OUTSIDE_GROUP, GONE = "disabled", "outside_group", "gone"


def directory_from_config(config):
    """The directory the app signs in against, or None when LDAP_URL is not set."""
    return Directory(Settings.from_config(config)) if configured(config) else None


def refusal_reason(entry):
    """Why this entry may not sign in, or None."""
    if entry is None:
        return GONE
    if entry.disabled:
        return DISABLED
    if not entry.allowed:
        return OUTSIDE_GROUP
    return None


def linked_user(entry):
    return db.session.scalar(sa.select(User).where(User.directory_id == entry.directory_id))


def create_user(entry, username, now):
    """The intranet's user for a directory entry seen for the first time."""
    user = User(username=username, full_name=entry.full_name, email=entry.email,
                password_hash=None, language=Language(entry.language or "en"),
                directory_id=entry.directory_id, directory_dn=entry.dn,
                directory_checked_at=now, is_admin=False)
    db.session.add(user)
    db.session.flush()
    audit.record(AuditKind.DIRECTORY_CHANGE, user=user, change="created")
    return user


def rename(user, username):
    """The directory entry now signs in as `username` (free here: the caller checked)."""
    audit.record(AuditKind.DIRECTORY_CHANGE, user=user, change="renamed", previous=user.username)
    user.username = username


@dataclass
class Followed:
    """What following the directory changed for one user."""

    details: list = field(default_factory=list)
    deactivated: str | None = None
    reactivated: bool = False
    groups: list = field(default_factory=list)

    @property
    def changed(self):
        return bool(self.details or self.deactivated or self.reactivated or self.groups)


def follow(user, entry, now):
    """Bring `user` in line with their directory entry (None: it is gone). The caller commits."""
    followed = Followed()
    reason = refusal_reason(entry)
    if entry is not None:
        followed.details = _update_details(user, entry)
        user.directory_dn = entry.dn
    user.directory_checked_at = now
    if reason is not None:
        if user.active:
            user.active = False
            # As an admin's deactivation does: every session ends at its next request.
            auth_operations.end_sessions(user)
            audit.record(AuditKind.DIRECTORY_CHANGE, user=user, change="deactivated", reason=reason)
            followed.deactivated = reason
    elif not user.active and not user.deactivated_by_admin:
        user.active = True
        audit.record(AuditKind.DIRECTORY_CHANGE, user=user, change="reactivated")
        followed.reactivated = True
    # A vanished entry grants nothing; a disabled one keeps its groups for when it returns.
    followed.groups = memberships.grant(user, entry.group_keys if entry else frozenset())
    return followed


def _update_details(user, entry):
    changed = []
    wanted = {"full_name": entry.full_name, "email": entry.email or user.email}
    if entry.language:
        wanted["language"] = Language(entry.language)
    for name, value in wanted.items():
        if getattr(user, name) != value:
            setattr(user, name, value)
            changed.append(name)
    if changed:
        audit.record(AuditKind.DIRECTORY_CHANGE, user=user, change="details", fields=changed)
    return changed


@dataclass
class SyncRun:
    checked: int = 0
    # (username, Followed) of each user something changed for.
    changed: list = field(default_factory=list)


def sync(directory, now):
    """Follow the directory for every directory user (`flask --app wsgi directory sync`).
    DirectoryUnavailable stops the run; the caller then commits nothing."""
    run = SyncRun()
    users = db.session.scalars(
        sa.select(User).where(User.directory_id.is_not(None)).order_by(User.username)).all()
    for user in users:
        followed = follow(user, directory.lookup(user.directory_id), now)
        run.checked += 1
        if followed.changed:
            run.changed.append((user.username, followed))
    audit.record(AuditKind.DIRECTORY_SYNC, username=audit.COMMAND_LINE, checked=run.checked,
                 changed=len(run.changed),
                 deactivated=sum(1 for _, f in run.changed if f.deactivated),
                 reactivated=sum(1 for _, f in run.changed if f.reactivated))
    return run
