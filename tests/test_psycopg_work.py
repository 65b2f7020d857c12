"""On PostgreSQL, psycopg converts each of the app's statements once per process and describes a
result's columns only when they are read (web/psycopg_work.py); what SQLAlchemy and the pages
read is as before."""

import psycopg
import pytest
import sqlalchemy as sa
from psycopg import _queries

from feedback_intranet.extensions import db
from feedback_intranet.models import UnitKind
from feedback_intranet.web import psycopg_work

from .conftest import database_url_from_env

pytestmark = pytest.mark.skipif(not (database_url_from_env() or "").startswith("postgresql"),
                                reason="psycopg is PostgreSQL's driver")


@pytest.fixture
def built(monkeypatch):
    """How many psycopg Columns are made from here on."""
    made = []
    original = psycopg.Column.__init__

    def counted(self, cursor, index):
        made.append(index)
        original(self, cursor, index)

    monkeypatch.setattr(psycopg.Column, "__init__", counted)
    return made


@pytest.fixture
def converted(monkeypatch):
    """The statements psycopg converts without keeping the conversion, from here on."""
    seen = []
    original = _queries._query2pg_nocache

    def counted(query, encoding):
        seen.append(len(query))
        return original(query, encoding)

    monkeypatch.setattr(_queries, "_query2pg_nocache", counted)
    return seen


def long_statement():
    """A statement longer than psycopg's own limit for keeping a conversion (4,096)."""
    columns = ", ".join(f"CAST(:value AS integer) + {n} AS column_{n}" for n in range(200))
    return sa.text(f"SELECT {columns}")


def test_a_long_statement_is_converted_once(app, converted):
    statement = long_statement()
    assert len(str(statement)) > 4096
    with app.app_context():
        first = db.session.execute(statement, {"value": 1}).one()
        again = db.session.execute(statement, {"value": 2}).one()
    assert first.column_199 == 200 and again.column_0 == 2
    assert converted == []  # both kept by the cache, not converted past it
    assert _queries.MAX_CACHED_STATEMENT_LENGTH == psycopg_work.MAX_STATEMENT_CHARS


def test_columns_are_described_once_per_statement_not_per_run(app, data, make_unit, built):
    make_unit(code="cs", name="Customer service", kind=UnitKind.CUSTOMER_SERVICE)
    statement = sa.select(sa.column("code"), sa.column("name")).select_from(sa.table("unit"))
    with app.app_context():
        rows = db.session.execute(statement).all()
        first = len(built)
        assert first >= 2  # the first run: SQLAlchemy reads the names and types
        for _ in range(5):
            assert db.session.execute(statement).all() == rows
    assert len(built) == first
    assert rows == [("cs", "Customer service")]


def test_a_description_stays_the_one_of_its_result(app):
    with app.app_context():
        cursor = db.session.connection().connection.dbapi_connection.cursor()
        assert isinstance(cursor, psycopg_work.Cursor)
        cursor.execute("SELECT 1 AS one, 'x'::text AS letter")
        described = cursor.description
        cursor.execute("SELECT 2 AS two")
        # Read after the cursor moved on, it still describes the first result.
        assert [column.name for column in described] == ["one", "letter"]
        assert [c.type_code for c in described] == [23, 25] and len(described) == 2
        assert described[1].name == "letter" and described[-1].type_code == 25
        assert [column.name for column in cursor.description] == ["two"]
        cursor.execute("CREATE TEMPORARY TABLE scratch (n integer)")
        assert cursor.description is None
        cursor.execute("INSERT INTO scratch VALUES (1)")
        assert cursor.description is None
        cursor.execute("SELECT")  # rows without columns are described, as psycopg does
        assert cursor.description is not None and len(cursor.description) == 0
        cursor.close()
        db.session.rollback()
