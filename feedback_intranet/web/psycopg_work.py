"""What psycopg did again for every statement on PostgreSQL, done once per statement instead.

- **Converting the statement** (``%(name)s`` to ``$1``): psycopg keeps the 128 latest
  conversions, but only of statements up to 4,096 characters. The user loader's statement (4.4
  thousand, on every request) and the case page's (10.6 thousand) were split with a regular
  expression on every run: 0.15 and 0.4 ms. It now keeps the app's statements up to 16 thousand
  characters, 256 of them (as many as a connection keeps prepared, web/prepared.py).
- **Describing the result's columns**: SQLAlchemy asks for ``cursor.description`` after every
  statement, and psycopg built a ``Column`` for each column each time (383 on a case page, some
  2 µs each), though SQLAlchemy reads them only the first time it runs a statement and keeps
  what it learnt. The cursor now describes the columns when they are first read.
"""

import functools
from collections.abc import Sequence

import psycopg
from psycopg import _queries, pq

MAX_STATEMENT_CHARS = 16_384
KEPT_STATEMENTS = 256
_ROWS = (pq.ExecStatus.TUPLES_OK, pq.ExecStatus.SINGLE_TUPLE, pq.ExecStatus.TUPLES_CHUNK)


def keep_conversions():
    """psycopg converts each of the app's statements once per process. Its limits are module
    settings: tests/test_psycopg_work.py fails if a release of psycopg moves them."""
    if _queries.MAX_CACHED_STATEMENT_LENGTH < MAX_STATEMENT_CHARS:
        _queries.MAX_CACHED_STATEMENT_LENGTH = MAX_STATEMENT_CHARS
        _queries._query2pg = functools.lru_cache(maxsize=KEPT_STATEMENTS)(
            _queries._query2pg_nocache)


class _Described:
    """What psycopg's Column reads from a cursor, as it was when the result arrived: the cursor
    may have run another statement by the time the columns are read."""

    __slots__ = ("pgresult", "_encoding", "adapters")

    def __init__(self, cursor, result):
        self.pgresult, self._encoding, self.adapters = result, cursor._encoding, cursor.adapters


class Columns(Sequence):
    """`cursor.description`, each Column made when first read."""

    __slots__ = ("_described", "_count", "_columns")

    def __init__(self, cursor, result):
        self._described, self._count, self._columns = _Described(cursor, result), result.nfields, None

    def __len__(self):
        return self._count

    def __getitem__(self, index):
        if self._columns is None:
            self._columns = [psycopg.Column(self._described, n) for n in range(self._count)]
        return self._columns[index]


class Cursor(psycopg.Cursor):
    """psycopg's cursor, describing the result's columns only when they are read."""

    @property
    def description(self):
        result = self.pgresult
        if result and (result.nfields or result.status in _ROWS):
            return Columns(self, result)
        return None
