"""Logging in: checking credentials without telling whether a username exists."""

from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.orm.attributes import set_committed_value

from .. import audit
from ..directory import operations as directory_operations
from ..directory.client import DirectoryUnavailable
from ..extensions import db, passwords
from ..i18n import gettext as _
from ..i18n import lazy_gettext as _l
from ..models import AuditKind, User, UTCDateTime
from ..monitoring import metrics
from ..passwords import password_problem
from ..refusals import Refusal
from ..rules import N_


def authenticate(username, password, *, now, lockout_failures, lockout_minutes, directory=None,
                 only_local_admins=False):
    """The active user with these credentials, or None; Refusal when the login is refused
    for a reason the person should be told (the directory is down, the username is held by a
    local account, the directory does not let them in). The caller commits in every case.

    Failures in a row are counted per account; at `lockout_failures` the account locks for
    `lockout_minutes`. The caller says the same thing for every None, so nobody learns whether
    a username exists or is locked.

    Counting a failure, with the lockout it may bring, and accepting a right password are each
    one UPDATE that holds only while the account is not locked: attempts in parallel wait for
    each other on the row, so once a lockout is recorded no attempt gets in, and a success
    before it resets the count.

    With a `directory` (directory.client.Directory) it is asked first; a local password is
    tried only for local accounts, and with `only_local_admins` only for local admins.
    """
    # Usernames are stored lower-case, as the per-username throttle counts them.
    name = username.strip().lower()
    user = db.session.scalar(sa.select(User).where(User.username == name))
    directory_down = False
    # A locked account is not tried against the directory: wrong guesses here would count
    # towards the directory's own lockout of the person's account.
    if directory is not None and not _locked_now(user, now):
        try:
            entry = directory.authenticate(username, password)
        except DirectoryUnavailable:
            entry, directory_down = None, True
        if entry is not None:
            return _directory_login(entry, user, name, now)
    # With a directory configured, the log says which of the two a login was checked against.
    via = {} if directory is None else {"via": "directory"}
    may_use_password = user is not None and user.directory_id is None and (
        directory is None or not only_local_admins or user.is_admin)
    if directory_down and not may_use_password:
        _failed("directory_down", user=user, username=username.strip(), **via)
        raise Refusal(DIRECTORY_DOWN, "password")
    if may_use_password and directory is not None:
        via = {"via": "local"}
    # A locked account's password is still checked (and ignored), so it takes as long.
    if not passwords.verify(user.password_hash if may_use_password else None, password):
        locked = user is not None and not _count_failure(user, now, lockout_failures,
                                                         lockout_minutes)
        _failed("locked" if locked else None, user=user, username=username.strip(), **via)
        if user is not None and not locked and user.locked_until is not None:
            audit.record(AuditKind.LOCKED, user=user, failures=lockout_failures,
                         minutes=lockout_minutes)
            metrics.account_locked()
        if directory_down:
            raise Refusal(DIRECTORY_DOWN, "password")
        return None
    if not user.active:
        _failed("inactive", user=user, **via)
        return None
    # Hashed first: the UPDATE below holds the user's row until the commit, not while hashing.
    new_hash = passwords.hash(password) if passwords.needs_rehash(user.password_hash) else None
    if not _accept(user, now):
        _failed("locked", user=user, username=username.strip(), **via)
        return None
    audit.record(AuditKind.LOGIN, user=user, **via)
    if new_hash:
        user.password_hash = new_hash
    return user


DIRECTORY_DOWN = N_("The bank's directory cannot be reached just now, so signing in with your "
                    "directory password does not work. Try again in a few minutes; if it goes "
                    "on, tell IT support.")
USERNAME_HELD = N_("Your directory account has the username %(username)s, which an account of "
                   "the intranet's own already has. An administrator must link the two (or "
                   "rename one) before you can sign in.")
NOT_LET_IN = N_("Your directory account may not sign in to the intranet: it is disabled or not "
                "in the intranet's directory group. Ask IT support if this is a mistake.")


def _directory_login(entry, held, name, now):
    """The person proved their directory password: their user, created at the first login and
    brought in line with the directory at every one."""
    via = {"via": "directory"}
    user = directory_operations.linked_user(entry)
    if user is None and held is not None:
        # Never attached to someone else's account by a shared username: an admin links them.
        _failed("username_held", user=held, **via)
        raise Refusal(USERNAME_HELD, "username", username=name)
    reason = directory_operations.refusal_reason(entry)
    if user is None:
        if reason is not None:
            _failed(reason, username=name, **via)
            raise Refusal(NOT_LET_IN, "password")
        user = directory_operations.create_user(entry, name, now)
    elif user.username != name and held is None:
        # Renamed in the directory (same entry, a new sign-in name): the account follows, so
        # the throttle and the lockout count by the name the person types.
        directory_operations.rename(user, name)
    directory_operations.follow(user, entry, now)
    if reason is not None:
        _failed(reason, user=user, **via)
        raise Refusal(NOT_LET_IN, "password")
    if not user.active:
        _failed("inactive", user=user, **via)
        return None
    if not _accept(user, now):
        _failed("locked", user=user, **via)
        return None
    audit.record(AuditKind.LOGIN, user=user, **via)
    return user


def _failed(reason, **fields):
    """A failed login: its audit row (`reason` None: a wrong username or password), and its
    count for monitoring."""
    audit.record(AuditKind.LOGIN_FAILED, **fields, **({"reason": reason} if reason else {}))
    metrics.login_failed(reason)


def _locked_now(user, now):
    return user is not None and user.locked_until is not None and user.locked_until > now


def _not_locked(now):
    return sa.or_(User.locked_until.is_(None), User.locked_until <= now)


def _count_failure(user, now, lockout_failures, lockout_minutes):
    """One more failure, locking the account at `lockout_failures` (and starting the count
    again); False when the account is locked."""
    reached = User.failed_logins + 1 >= lockout_failures
    until = sa.literal(now + timedelta(minutes=lockout_minutes), UTCDateTime)
    return _update_unless_locked(user, now, {
        User.failed_logins: sa.case((reached, 0), else_=User.failed_logins + 1),
        User.locked_until: sa.case((reached, until), else_=sa.null()),
    })


def _accept(user, now):
    """A right password resets the failure count; False when the account is locked."""
    return _update_unless_locked(user, now, {User.failed_logins: 0, User.locked_until: None})


def _update_unless_locked(user, now, values):
    """Set `values` on the user's row in SQL unless the account is locked; the object gets the
    values written. False when the account is locked."""
    row = db.session.execute(
        sa.update(User).where(User.id == user.id, _not_locked(now)).values(values)
        .returning(User.failed_logins, User.locked_until),
        execution_options={"synchronize_session": False},
    ).one_or_none()
    if row is None:
        return False
    set_committed_value(user, "failed_logins", row.failed_logins)
    set_committed_value(user, "locked_until", row.locked_until)
    return True


DIRECTORY_PASSWORD = _l("You sign in with the bank's directory: change your password there, as "
                        "for your other work accounts.")


def change_password(user, current, new):
    """The user's own change: the current password first, then the rules for a new one."""
    if user.directory_id is not None:
        raise Refusal(DIRECTORY_PASSWORD)
    if not passwords.verify(user.password_hash, current):
        raise Refusal(_("The current password is wrong."), "current")
    if new == current:
        raise Refusal(_("Choose a password different from the current one."), "new")
    problem = password_problem(new, user.username)
    if problem:
        raise Refusal(problem, "new")
    user.password_hash = passwords.hash(new)
    user.must_change_password = False
    # Whoever holds a copy of an older session is out; the caller renews the user's own.
    end_sessions(user)
    audit.record(AuditKind.PASSWORD_CHANGED, user=user)


def end_sessions(user):
    """End every session of the user: their cookies carry a session version this raises.

    The new version is on `user` at once, for a caller that renews its own session before
    committing; a raise by someone else after that commit still ends it.
    """
    _count_up(user, "session_version")


def _count_up(user, counter):
    """Add one to a counter of the user's in SQL, so simultaneous additions all count; the
    object gets the new value without writing it again."""
    column = getattr(User, counter)
    value = db.session.execute(
        sa.update(User).where(User.id == user.id).values({column: column + 1}).returning(column),
        execution_options={"synchronize_session": False},
    ).scalar_one()
    set_committed_value(user, counter, value)
    return value


def safe_next_path(target):
    """`target` if it is a path on this site, else None (no open redirects)."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return None
    if "\\" in target or any(ord(ch) < 32 for ch in target):
        return None
    return target
