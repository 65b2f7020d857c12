"""Inbox figures cached under their unit's stamp (see stamps): counts and rendered rows.

A key names everything the figure depends on besides the cases (the stamp stands for
those), so an entry is never wrong, only unused once the stamp moves on; the cache's own
size limit and timeout clear such entries away. If the cache cannot be reached, the figure
is computed as if it were missing: a broken Redis slows the inbox, it does not stop it.
"""

import functools
import hashlib
import importlib.metadata
import pickle  # nosec B403 - our own values, pickled and unpickled within one process
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import cachetools
from flask_caching.backends.base import BaseCache
from markupsafe import Markup

from ..backups import database_identity
from ..extensions import cache, db
from ..logs import get_logger

ROOT = Path(__file__).resolve().parent.parent.parent
log = get_logger(__name__)
_BACKENDS = {"memory": f"{__name__}.WorkerCache", "redis": "RedisCache",
             "rediss": "RedisCache", "none": "NullCache"}
# What a worker's own cache holds at most: pages' tables and figures, and rows (inboxes.rows).
WORKER_CACHE_BYTES = 16 * 1024 * 1024


# An unanswering Redis must not hold a request for long: the figure is computed instead.
REDIS_TIMEOUTS = {"socket_timeout": "0.25", "socket_connect_timeout": "0.25"}


def release_fingerprint(config):
    """A digest of the code, templates, translations, time zone and holiday calendar: entries
    of another release or setting left in a shared cache are never read by this one."""
    setting = f"{config['TIMEZONE']} {importlib.metadata.version('holidays')} {_files_digest()}"
    return hashlib.sha256(setting.encode()).hexdigest()[:12]


@functools.cache
def _files_digest():
    """The release's files do not change under a running process: read them once."""
    digest = hashlib.sha256()
    for pattern in ("feedback_intranet/**/*.py", "feedback_intranet/**/*.mo", "templates/**/*.html"):
        for path in sorted(ROOT.glob(pattern)):
            digest.update(str(path.relative_to(ROOT)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def init_app(app):
    uri = app.config["INBOX_CACHE_URI"]
    scheme = uri.partition("://")[0]
    if scheme not in _BACKENDS:
        raise ValueError(f"INBOX_CACHE_URI must start with memory://, redis://, rediss:// or "
                         f"none://, not {uri!r}")
    shared = scheme.startswith("redis")
    cache.init_app(app, config={
        "CACHE_TYPE": _BACKENDS[scheme],
        "CACHE_REDIS_URL": _with_timeouts(uri) if shared else None,
        # Only a shared cache can hold another release's or database's entries: a worker's own
        # starts empty.
        "CACHE_KEY_PREFIX": SharedPrefix(release_fingerprint(app.config)) if shared else "inbox:",
        "CACHE_DEFAULT_TIMEOUT": 3600,
    })


class SharedPrefix:
    """A shared cache's key prefix: the release's fingerprint and the database's identity.

    An app on a restored backup (or any copy of the database) must never read what an app on
    the original wrote: the copy's cases have the same ids and versions, and move on to the
    same versions with other contents. The identity is read once, at the cache's first use in
    the app's context, so the factory connects to nothing.
    """

    def __init__(self, fingerprint):
        self.fingerprint, self.prefix = fingerprint, None

    def __call__(self):
        if self.prefix is None:
            self.prefix = f"inbox:{self.fingerprint}:{database_identity(db.engine)}:"
        return self.prefix


class WorkerCache(BaseCache):
    """A worker's own cache: least recently used entries go first once it holds
    WORKER_CACHE_BYTES, each in constant time (cachelib's SimpleCache sorts every entry on each
    store once full, and inbox rows fill it quickly). Values are stored pickled, so a caller
    never changes what the next one reads; text (a drawn row) is stored as it is, as no caller
    can change it."""

    def __init__(self, default_timeout=300, max_bytes=WORKER_CACHE_BYTES):
        super().__init__(default_timeout=default_timeout)
        # Counted as the memory each value takes: a text with a character past Latin-1 takes two
        # or four bytes a character.
        self._entries = cachetools.TTLCache(max_bytes, default_timeout, getsizeof=sys.getsizeof)
        self._lock = threading.Lock()

    @classmethod
    def factory(cls, app, config, args, kwargs):
        return cls(*args, **kwargs)

    def get(self, key):
        return self.get_many(key)[0]

    def get_many(self, *keys):
        """Under one lock for a page's fifty rows: taking it and unpickling for each row was a
        twentieth of an inbox's first view after a change."""
        with self._lock:
            stored = [self._stored(key) for key in keys]
        return [value if value is None or type(value) is str
                else pickle.loads(value)  # nosec B301 - see the import
                for value in stored]

    def _stored(self, key):
        try:  # TTLCache.get looks a key up twice
            return self._entries[key]
        except KeyError:
            return None

    def set(self, key, value, timeout=None):
        if type(value) is not str:
            value = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
        with self._lock:
            self._entries[key] = value
        return True

    def delete(self, key):
        with self._lock:
            return self._entries.pop(key, None) is not None

    def has(self, key):
        with self._lock:
            return key in self._entries

    def clear(self):
        with self._lock:
            self._entries.clear()
        return True


def _with_timeouts(uri):
    """The Redis URI with short socket timeouts, unless it sets its own."""
    parts = urlsplit(uri)
    query = dict(parse_qsl(parts.query))
    return urlunsplit(parts._replace(query=urlencode({**REDIS_TIMEOUTS, **query})))


def key(*parts):
    return ":".join("" if part is None else str(part) for part in parts)


def get_many(keys):
    """{key: value} of the keys found; an unreachable cache finds none."""
    try:
        values = cache.get_many(*keys)
    except Exception as error:  # noqa: BLE001 - any failure of the cache means "not cached"
        log.warning("inbox cache unreachable: %s", type(error).__name__)
        return {}
    return {k: v for k, v in zip(keys, values, strict=True) if v is not None}


def set_many(mapping):
    try:
        cache.set_many(mapping)
    except Exception as error:  # noqa: BLE001
        log.warning("inbox cache unreachable: %s", type(error).__name__)


class Entry(NamedTuple):
    key: str
    compute: Callable[[], object]


def cached(*entries):
    """The entries' values, in order: one cache read for all, then only the missing ones
    computed and stored."""
    keys = [entry.key for entry in entries]
    found = get_many(keys)
    missing = {entry.key: entry.compute() for entry in entries if entry.key not in found}
    if missing:
        set_many(missing)
    values = {**found, **missing}
    return [values[key] for key in keys]



def html(fragment):
    """A cached fragment back as markup: our own template rendered it, escaping what users
    typed, and the cache is trusted as the database is (README: a private Redis)."""
    return Markup(fragment)  # nosec B704
