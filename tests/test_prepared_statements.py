"""PostgreSQL keeps a worker's statements prepared across requests that only read, and a
request that wrote without committing is still undone."""

import pytest
import sqlalchemy as sa
from flask import Blueprint

from feedback_intranet.extensions import db
from feedback_intranet.models import Unit, UnitKind

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
