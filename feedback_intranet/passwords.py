"""Password hashing with argon2id; the cost comes from the app's config."""

import contextlib

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from .i18n import gettext

# Verified against when the username is unknown, so a failed login takes as
# long whether or not the user exists.
_DUMMY_PASSWORD = "not-a-real-password"


class Passwords:
    def __init__(self):
        self._hasher = PasswordHasher()
        self._dummy_hash = None

    def init_app(self, app):
        self._hasher = PasswordHasher(
            time_cost=app.config["ARGON2_TIME_COST"],
            memory_cost=app.config["ARGON2_MEMORY_COST"],
            parallelism=app.config["ARGON2_PARALLELISM"],
        )
        self._dummy_hash = None

    def hash(self, password):
        return self._hasher.hash(password)

    def verify(self, password_hash, password):
        """True when the password matches; a missing hash is checked against a dummy."""
        if password_hash is None:
            # Made on first use, not at start-up: hashing at production cost takes a while.
            if self._dummy_hash is None:
                self._dummy_hash = self._hasher.hash(_DUMMY_PASSWORD)
            with contextlib.suppress(VerificationError, InvalidHashError):
                self._hasher.verify(self._dummy_hash, password)
            return False
        try:
            return self._hasher.verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, password_hash):
        return self._hasher.check_needs_rehash(password_hash)


MIN_PASSWORD_LENGTH = 12


def password_problem(password, username):
    """Why a new password is not acceptable, or None."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return gettext("Use at least %(num)d characters.", num=MIN_PASSWORD_LENGTH)
    if password.strip().lower() == username.strip().lower():
        return gettext("The password may not be the username.")
    return None
