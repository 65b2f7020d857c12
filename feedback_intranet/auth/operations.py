"""Logging in: checking credentials without telling whether a username exists."""

import sqlalchemy as sa

from ..extensions import db, passwords
from ..models import User


def authenticate(username, password):
    """The active user with these credentials, or None."""
    user = db.session.scalar(sa.select(User).where(User.username == username.strip()))
    if not passwords.verify(user.password_hash if user else None, password):
        return None
    if not user.active:
        return None
    if passwords.needs_rehash(user.password_hash):
        user.password_hash = passwords.hash(password)
    return user


def safe_next_path(target):
    """`target` if it is a path on this site, else None (no open redirects)."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return None
    if "\\" in target or any(ord(ch) < 32 for ch in target):
        return None
    return target
