"""Whether this process can serve: the database answers within a second with its schema at the
migrations' head, and Redis answers where a Redis URI is configured.

The checks run in a small pool of threads so that a database that does not answer is reported
after a second, not when the connection gives up; a check still hanging from an earlier
request is waited for again rather than started twice, so a dead server never piles up threads
or connections. Reasons name what failed, never a host, a password or an error's text: the
endpoint is open to the load balancer, and the log has the details.
"""

import functools
import threading
import time
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path

import redis
import sqlalchemy as sa
from alembic.script import ScriptDirectory
from flask import current_app

from ..extensions import db
from ..logs import get_logger

log = get_logger(__name__)
MIGRATIONS = Path(__file__).resolve().parent.parent.parent / "migrations"
TIMEOUT_SECONDS = 1.0
DATABASE, SCHEMA, REDIS = "database", "schema", "redis"

_pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="readiness")
_lock = threading.Lock()
_running = {}


@dataclass
class Readiness:
    checked: tuple = ()
    failed: dict = field(default_factory=dict)

    @property
    def ready(self):
        return not self.failed


@functools.cache
def schema_head():
    """The revisions the code needs: the migrations' heads, read once per process."""
    return frozenset(ScriptDirectory(str(MIGRATIONS)).get_heads())


def redis_uris(config):
    """Every distinct Redis server the app is configured to use."""
    uris = (config["RATELIMIT_STORAGE_URI"], config["INBOX_CACHE_URI"])
    return sorted({uri for uri in uris if uri.partition("://")[0] in ("redis", "rediss")})


def check():
    """Run the checks (in an app context); a Readiness with what failed and why."""
    engine, uris = db.engine, redis_uris(current_app.config)
    futures = {DATABASE: _start((DATABASE, str(engine.url)), functools.partial(_revisions,
                                                                             engine))}
    for number, uri in enumerate(uris):
        futures[f"{REDIS}:{number}"] = _start((REDIS, uri), functools.partial(_ping, uri))
    wait(futures.values(), timeout=TIMEOUT_SECONDS)
    result = Readiness(checked=(DATABASE, SCHEMA, REDIS) if uris else (DATABASE, SCHEMA))
    for name, future in futures.items():
        name = name.partition(":")[0]
        if not future.done():
            result.failed[name] = f"did not answer within {TIMEOUT_SECONDS:g} s"
        elif future.exception() is not None:
            error = future.exception()
            log.warning("Readiness: %s failed: %s: %s", name, type(error).__name__, error)
            result.failed[name] = f"cannot be reached ({type(error).__name__})"
        elif name == DATABASE:
            revisions, seconds = future.result()
            if seconds > TIMEOUT_SECONDS:
                result.failed[DATABASE] = f"answered in {seconds:.1f} s, over {TIMEOUT_SECONDS:g} s"
            problem = _schema_problem(revisions)
            if problem:
                result.failed[SCHEMA] = problem
    if DATABASE in result.failed:
        result.failed[SCHEMA] = "not known: the database did not answer"
    return result


def _start(key, run):
    """The check's running future, or a new one: never two of the same check at once."""
    with _lock:
        future = _running.get(key)
        if future is None or future.done():
            future = _running[key] = _pool.submit(run)
        return future


def _revisions(engine):
    """The database's migration revisions (None: no migrations applied), and how long it took."""
    began = time.monotonic()
    with engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            # A lock or a slow server ends the statement on the server too.
            connection.execute(sa.text("SET LOCAL statement_timeout = 1000"))
        if not sa.inspect(connection).has_table("alembic_version"):
            return None, time.monotonic() - began
        revisions = frozenset(connection.scalars(sa.text("SELECT version_num FROM alembic_version")))
        connection.rollback()
    return revisions, time.monotonic() - began


def _schema_problem(revisions):
    needed = schema_head()
    if not revisions:
        return "no migrations applied: run flask db upgrade"
    if revisions != needed:
        return (f"at {', '.join(sorted(revisions))}, the code needs {', '.join(sorted(needed))}: "
                "run flask db upgrade")
    return None


@functools.cache
def _client(uri):
    return redis.Redis.from_url(uri, socket_timeout=TIMEOUT_SECONDS,
                                socket_connect_timeout=TIMEOUT_SECONDS)


def _ping(uri):
    _client(uri).ping()
