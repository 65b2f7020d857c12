"""The login throttle: an attempt takes a slot of the per-username and of the per-address limit
before its password is checked, and a successful login gives its slots back.

Taking a slot is one atomic increment in RATELIMIT_STORAGE_URI, so attempts sent at once cannot
all pass a look taken before any of them was counted: per window of the limit, at most its number
of wrong passwords is checked. In Redis that holds across workers and hosts; memory:// counts in
each worker. Fixed windows, as a counter is what lets a slot be given back.

If the shared store cannot be reached, each worker counts in its own memory meanwhile (as with
memory://): logins go on, still limited, and the account lockout, counted in the database, holds.
"""

from limits import parse
from limits.storage import MemoryStorage
from limits.strategies import FixedWindowRateLimiter
from redis.exceptions import RedisError

from ..extensions import limiter
from ..logs import get_logger

log = get_logger(__name__)
# What a store that cannot be reached raises: Redis' own errors, or the socket's.
UNREACHABLE = (RedisError, OSError)
_own_memory = MemoryStorage()


class Slots:
    """The slots one attempt holds."""

    def __init__(self, counter):
        self._counter = counter
        self._held = []

    def take(self, item, keys):
        self._held.append((item, keys))
        return self._counter.hit(item, *keys)

    def give_back(self):
        try:
            for item, keys in self._held:
                # A negative cost takes one off the window's counter, atomically.
                self._counter.hit(item, *keys, cost=-1)
        except UNREACHABLE as error:
            # The slots run out with their window instead.
            log.warning("The login throttle's store cannot be reached: %s", error)
        self._held.clear()


def reserve(config, username, address):
    """Slots of both limits for one attempt at logging in, or None when either limit is spent
    (and then the attempt holds none: a refused attempt does not count)."""
    try:
        return _reserve(limiter.storage, config, username, address)
    except UNREACHABLE as error:
        log.warning("The login throttle's store cannot be reached, counting in this worker "
                    "meanwhile: %s", error)
        return _reserve(_own_memory, config, username, address)


def _reserve(storage, config, username, address):
    prefix = config.get("RATELIMIT_KEY_PREFIX", "")
    slots = Slots(FixedWindowRateLimiter(storage))
    # Usernames are counted as they are stored: lower-case, without surrounding spaces.
    for item, keys in [
        (parse(config["LOGIN_LIMIT_PER_USERNAME"]), (prefix, "login-username",
                                                     username.strip().lower()[:64])),
        (parse(config["LOGIN_LIMIT_PER_ADDRESS"]), (prefix, "login-address", address)),
    ]:
        if not slots.take(item, keys):
            slots.give_back()
            return None
    return slots
