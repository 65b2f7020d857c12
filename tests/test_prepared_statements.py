"""PostgreSQL keeps a worker's statements prepared across requests that only read, and a
request that wrote without committing is still undone."""

import re

import pytest
import sqlalchemy as sa
from flask import Blueprint

from feedback_intranet.extensions import cache, db
from feedback_intranet.models import CaseStatus, Unit, UnitKind
from feedback_intranet.web.prepared import PREPARED_MAX

from .conftest import database_url_from_env, statements_sent

pytestmark = [
    pytest.mark.skipif(not (database_url_from_env() or "").startswith("postgresql"),
                       reason="psycopg's prepared statements are PostgreSQL's"),
    pytest.mark.committed,  # the app's own connections, committing for real
]


def _prepared(app):
    """The statements prepared on the app's one pooled connection."""
    with app.app_context():
        return db.session.scalars(sa.text(
            "SELECT regexp_replace(statement, '\\s+', ' ', 'g') FROM pg_prepared_statements")).all()


@pytest.fixture
def one_connection(app):
    """Every request of `app` on the same connection, as a sync worker's are."""
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {
        **app.config["SQLALCHEMY_ENGINE_OPTIONS"], "pool_size": 1, "max_overflow": 0}
    return app


def test_pages_that_only_read_keep_their_statements_prepared(one_connection, data, make_unit,
                                                             make_user, login, client):
    make_user("cs.agent", units=[make_unit(code="cs", name="Customer service")])
    login("cs.agent")
    with statements_sent(one_connection) as sent:
        for _ in range(8):  # psycopg prepares a statement on its sixth run
            assert client.get("/my-cases").status_code == 200
    prepared = _prepared(one_connection)
    assert any(statement.startswith("SELECT staff_user.id") for statement in prepared), prepared
    # Nothing but SELECTs ran, so the server was not asked whether the transaction wrote.
    assert sent and all(statement.startswith("SELECT ") for statement in sent), sent
    assert not [statement for statement in sent if "txid_current_if_assigned" in statement]


def test_a_request_that_wrote_and_did_not_commit_is_undone(one_connection, data, client):
    """The commit is for a transaction that wrote nothing: a write left uncommitted (a bug the
    close used to hide) is rolled back as before."""
    bp = Blueprint("leaky", __name__)

    @bp.route("/leaky")
    def leaky():
        db.session.execute(sa.insert(Unit).values(code="leak", name="Leak", name_fi="Vuoto",
                                                  name_sv="Läcka", kind=UnitKind.BRANCH_OFFICE))
        return "written, not committed"

    one_connection.register_blueprint(bp)
    assert client.get("/leaky").status_code == 200
    with one_connection.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).where(Unit.code == "leak")) == 0


def test_case_lists_write_their_limit_into_the_statement(one_connection, data, make_unit,
                                                        make_user, make_case, login, client):
    """models.common.fixed_limit: with LIMIT as a parameter PostgreSQL priced the plan for any
    values as if a tenth of a million cases were wanted, so it planned every first view of an
    inbox, and every my-cases page, anew (seen in pg_prepared_statements at a million cases,
    bench/results.md; at a test's size either plan may win, by the statistics earlier tests
    left)."""
    unit = make_unit(code="cs", name="Customer service")
    agent = make_user("cs.agent", units=[unit])
    make_case(unit)
    make_case(unit, status=CaseStatus.ASSIGNED, assignee=agent)
    login("cs.agent")
    with statements_sent(one_connection) as sent:
        for page in ("/inbox/cs?sort=customer", "/inbox/cs?filter=mine", "/my-cases"):
            with one_connection.app_context():
                cache.clear()  # a first view after a change: the rows are read
            assert client.get(page).status_code == 200
    # The lists' statements: those that end with their LIMIT.
    limits = [found[1] for found in (re.search(r"\n LIMIT (\S+)$", statement)
                                     for statement in sent) if found]
    # The open inbox (its two statuses merged, each with the limit too) and "mine" (a page and
    # one more row), then my cases.
    assert limits == ["51", "51", "50"], limits


def test_a_worker_keeps_more_statements_prepared_than_psycopgs_hundred(one_connection, data):
    """The inboxes' pages alone run some 100 statements over a day, the other pages 30 more:
    psycopg's default of 100 dropped the least recently used, which then came back unprepared."""
    statements = [sa.select(sa.literal_column(str(n)) + sa.bindparam("one", 1))
                  for n in range(PREPARED_MAX - 10)]
    with one_connection.app_context():
        for _ in range(7):  # prepared on the sixth run
            for statement in statements:
                db.session.execute(statement)
            db.session.commit()
    assert len(_prepared(one_connection)) >= PREPARED_MAX - 10
