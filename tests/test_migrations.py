"""The migration scripts build exactly the schema the models describe."""

import uuid
from zoneinfo import ZoneInfo

import flask_migrate
import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from feedback_intranet import create_app, search
from feedback_intranet.extensions import db

from .conftest import database_url_from_env
from .test_search import sqlite_units_indexed, units_that_may_see


@pytest.fixture
def empty_database_url(tmp_path):
    """A brand-new empty database: a SQLite file, or a fresh PostgreSQL database."""
    base = database_url_from_env()
    if not base:
        yield f"sqlite:///{tmp_path / 'migrations.sqlite'}"
        return
    name = f"fi_migrations_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    yield sa.engine.make_url(base).set(database=name).render_as_string(hide_password=False)
    with admin.connect() as connection:
        connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


# Alembic cannot compare expression indexes; the test looks for them by name instead.
@pytest.mark.filterwarnings("ignore:.*expression-based index")
def test_upgrade_on_an_empty_database_matches_the_models(empty_database_url):
    app = create_app({"CONFIG": "testing", "SQLALCHEMY_DATABASE_URI": empty_database_url})
    with app.app_context():
        flask_migrate.upgrade()
        with db.engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={
                "compare_type": True,
                "include_object": lambda obj, name, *rest: not search.is_search_object(name),
            })
            differences = compare_metadata(context, db.metadata)
            if connection.dialect.name == "sqlite":
                # Later migrations rebuild the case table: the search triggers must survive.
                triggers = connection.execute(sa.text(
                    "SELECT name FROM sqlite_master WHERE type = 'trigger'")).scalars().all()
                assert sorted(triggers) == [f"case_search_{name}" for name in (
                    "delete", "insert", "past_delete", "past_insert", "past_update", "update")]
            indexes = connection.execute(sa.text(
                "SELECT name FROM sqlite_master WHERE type = 'index'"
                if connection.dialect.name == "sqlite" else "SELECT indexname FROM pg_indexes"
            )).scalars().all()
            assert "ix_audit_event_username" in indexes
        assert differences == []

        flask_migrate.downgrade(revision="base")
        tables = set(sa.inspect(db.engine).get_table_names()) - {"alembic_version"}
        assert tables == set()
        flask_migrate.upgrade()  # and up again: the downgrades leave nothing behind
        db.engine.dispose()


def test_the_intake_migration_fills_in_existing_customers_and_cases(empty_database_url):
    app = create_app({"CONFIG": "testing", "SQLALCHEMY_DATABASE_URI": empty_database_url})
    with app.app_context():
        flask_migrate.upgrade(revision="0001_foundation")
        with db.engine.begin() as connection:
            connection.execute(sa.text(
                "INSERT INTO unit (id, code, name, kind, street_address, postal_code, city, active)"
                " VALUES (1, 'cs', 'Customer service', 'customer_service', '', '', '', true)"))
            connection.execute(sa.text(
                "INSERT INTO customer (id, customer_number, name, street_address, postal_code, city,"
                " phone, email, language, segment, home_office_id) VALUES (1, 'C1', 'Åsa  LINDQVIST',"
                " 'Gatan 1', '65100', 'Vasa', NULL, 'Asa@Example.FI', 'sv', 'private', 1)"))
            connection.execute(sa.text("INSERT INTO topic (id, code, name, active)"
                                       " VALUES (1, 'other', 'Other', true)"))
            connection.execute(sa.text(
                "INSERT INTO feedback_case (id, reference, received_at, intake_channel, contact_name,"
                " contact_street, contact_postal_code, contact_city, contact_phone, contact_email,"
                " segment, topic_id, case_type, message, reply_wanted, language, status,"
                " current_unit_id, customer_id, due_date, effective_due_date, version) VALUES"
                " (1, 'FB-2026-000001', '2026-11-25 08:00:00', 'web_form', '', '', '', '', '', '',"
                " 'private', 1, 'feedback', 'Hej', false, 'sv', 'new', 1, 1, '2026-11-30',"
                " '2026-11-30', 1)"))
        flask_migrate.upgrade()
        with db.engine.connect() as connection:
            customer = connection.execute(sa.text("SELECT name_key, email FROM customer")).one()
            case = connection.execute(sa.text(
                "SELECT match_method, masked_kinds FROM feedback_case")).one()
        assert tuple(customer) == ("åsa lindqvist", "asa@example.fi")
        assert tuple(case) == ("manual", "")
        db.engine.dispose()


def test_the_report_figures_migration_fills_in_answered_cases(empty_database_url):
    app = create_app({"CONFIG": "testing", "SQLALCHEMY_DATABASE_URI": empty_database_url})
    with app.app_context():
        flask_migrate.upgrade(revision="0006_search")
        with db.engine.begin() as connection:
            connection.execute(sa.text(
                "INSERT INTO unit (id, code, name, kind, street_address, postal_code, city, active)"
                " VALUES (1, 'cs', 'Customer service', 'customer_service', '', '', '', true)"))
            connection.execute(sa.text(
                "INSERT INTO staff_user (id, username, full_name, email, is_admin, active, language,"
                " notify_by_email, created_at) VALUES (1, 'a', 'A', 'a@bank.fi', false, true, 'fi',"
                " false, '2026-11-01 08:00:00')"))
            connection.execute(sa.text("INSERT INTO topic (id, code, name, name_fi, name_sv, active)"
                                       " VALUES (1, 'other', 'Other', 'Muu', 'Övrigt', true)"))
            connection.execute(sa.text(
                "INSERT INTO feedback_case (id, reference, received_at, intake_channel, contact_name,"
                " contact_street, contact_postal_code, contact_city, contact_phone, contact_email,"
                " segment, topic_id, case_type, message, reply_wanted, reply_channel, language,"
                " status, current_unit_id, match_method, masked_kinds, due_date,"
                " estimated_decision_date, effective_due_date, first_answered_at,"
                " first_answer_banking_days, own_banking_matter, delivery_problem, version) VALUES"
                " (1, 'FB-2026-000001', '2026-11-20 08:00:00', 'web_form', 'Aino', '', '', '', '',"
                " 'aino@example.fi', 'private', 1, 'feedback', 'Moi', true, 'email', 'fi',"
                " 'answered', 1, 'none', '', '2026-11-25', '2026-11-27', '2026-11-27',"
                " '2026-11-26 23:30:00', 5, false, '', 1)"))
            connection.execute(sa.text(
                "INSERT INTO case_event (id, case_id, kind, text, at) VALUES"
                " (1, 1, 'interim_notice', '', '2026-11-24 22:30:00'),"
                " (2, 1, 'interim_notice', '', '2026-11-25 09:00:00')"))
            connection.execute(sa.text(
                "INSERT INTO answer (id, case_id, purpose, channel, subject, text, status, failure,"
                " created_at, created_by_id, delivered_at) VALUES"
                " (1, 1, 'answer', 'phone', '', 'Hei', 'delivered', '', '2026-11-26 08:00:00', 1,"
                " '2026-11-26 23:30:00')"))
        flask_migrate.upgrade()
        with db.engine.connect() as connection:
            case = connection.execute(sa.text(
                "SELECT first_answer_on, first_answer_unit_id, first_answer_channel,"
                " interim_notice_on FROM feedback_case")).one()
        # 23:30 UTC is past midnight in Helsinki: the local days are the next ones.
        assert [str(value) for value in case] == ["2026-11-27", "1", "phone", "2026-11-25"]
        db.engine.dispose()


def test_the_waiting_replies_migration_takes_closed_cases_letters_out_of_the_print_queue(
        empty_database_url):
    app = create_app({"CONFIG": "testing", "SQLALCHEMY_DATABASE_URI": empty_database_url})
    with app.app_context():
        flask_migrate.upgrade(revision="0016_call_and_letter_versions")
        with db.engine.begin() as connection:
            connection.execute(sa.text(
                "INSERT INTO unit (id, code, name, kind, street_address, postal_code, city, active)"
                " VALUES (1, 'cs', 'Customer service', 'customer_service', '', '', '', true)"))
            connection.execute(sa.text(
                "INSERT INTO staff_user (id, username, full_name, email, is_admin, active, language,"
                " notify_by_email, created_at, failed_logins, must_change_password,"
                " session_version) VALUES (1, 'a', 'A', 'a@bank.fi', false, true, 'fi', false,"
                " '2026-11-01 08:00:00', 0, false, 1)"))
            connection.execute(sa.text("INSERT INTO topic (id, code, name, name_fi, name_sv, active)"
                                       " VALUES (1, 'other', 'Other', 'Muu', 'Övrigt', true)"))
            for number, status in ((1, "closed"), (2, "assigned")):
                connection.execute(sa.text(
                    "INSERT INTO feedback_case (id, reference, received_at, intake_channel,"
                    " contact_name, contact_street, contact_postal_code, contact_city,"
                    " contact_phone, contact_email, segment, topic_id, case_type, message,"
                    " reply_wanted, reply_channel, language, status, current_unit_id, match_method,"
                    " masked_kinds, due_date, effective_due_date, own_banking_matter,"
                    " delivery_problem, version, closed_at) VALUES"
                    f" ({number}, 'FB-2026-00000{number}', '2026-11-20 08:00:00', 'web_form',"
                    " 'Aino', '', '', '', '', '', 'private', 1, 'feedback', 'Moi', true, 'letter',"
                    f" 'fi', '{status}', 1, 'none', '', '2026-11-25', '2026-11-25', false, '', 1,"
                    " '2026-11-24 08:00:00')"))
                connection.execute(sa.text(
                    "INSERT INTO answer (id, case_id, purpose, channel, subject, text, status,"
                    f" failure, created_at, created_by_id) VALUES ({number}, {number}, 'answer',"
                    " 'letter', '', 'Hei', 'pending', '', '2026-11-23 08:00:00', 1)"))
                connection.execute(sa.text(
                    "INSERT INTO letter (id, case_id, answer_id, unit_id, pdf, created_at, version)"
                    f" VALUES ({number}, {number}, {number}, 1, :pdf, '2026-11-23 08:00:00', 1)"),
                    {"pdf": b""})
        flask_migrate.upgrade()
        with db.engine.connect() as connection:
            statuses = connection.execute(sa.text(
                "SELECT status FROM answer ORDER BY id")).scalars().all()
            events = connection.execute(sa.text(
                "SELECT case_id, kind FROM case_event")).all()
        assert statuses == ["cancelled", "pending"]  # the open case's letter still waits
        assert [tuple(e) for e in events] == [(1, "reply_cancelled")]
        db.engine.dispose()


def test_a_database_from_before_the_truncate_trigger_refuses_truncate_after_upgrading(
        empty_database_url):
    if not empty_database_url.startswith("postgresql"):
        pytest.skip("the triggers are PostgreSQL's")
    app = create_app({"CONFIG": "testing", "SQLALCHEMY_DATABASE_URI": empty_database_url})
    with app.app_context():
        flask_migrate.upgrade(revision="0018_outbox_faults")
        # Today's 0010 installs every trigger; a database migrated before 0019 lacked this one.
        with db.engine.begin() as connection:
            connection.execute(sa.text("DROP TRIGGER audit_event_no_truncate ON audit_event"))
            connection.execute(sa.text("TRUNCATE audit_event"))
        flask_migrate.upgrade()
        with db.engine.connect() as connection, pytest.raises(
                sa.exc.DBAPIError, match="append-only: TRUNCATE refused"):
            connection.execute(sa.text("TRUNCATE audit_event"))
        db.engine.dispose()


def test_the_report_summaries_migration_counts_the_existing_cases(empty_database_url):
    from feedback_intranet.reports import summaries

    app = create_app({"CONFIG": "testing", "SQLALCHEMY_DATABASE_URI": empty_database_url})
    with app.app_context():
        flask_migrate.upgrade(revision="0022_inbox_counts")
        with db.engine.begin() as connection:
            connection.execute(sa.text(
                "INSERT INTO unit (id, code, name, kind, street_address, postal_code, city, active)"
                " VALUES (1, 'cs', 'Customer service', 'customer_service', '', '', '', true),"
                " (2, 'turku', 'Turku', 'branch', '', '', '', true)"))
            connection.execute(sa.text("INSERT INTO topic (id, code, name, name_fi, name_sv, active)"
                                       " VALUES (1, 'other', 'Other', 'Muu', 'Övrigt', true)"))
            columns = (
                "id, reference, received_at, intake_channel, contact_name, contact_street,"
                " contact_postal_code, contact_city, contact_phone, contact_email, segment, topic_id,"
                " case_type, message, reply_wanted, reply_channel, language, status, current_unit_id,"
                " match_method, masked_kinds, due_date, estimated_decision_date, effective_due_date,"
                " interim_notice_on, first_answered_at, first_answer_on, first_answer_banking_days,"
                " first_answer_unit_id, first_answer_channel, own_banking_matter, delivery_problem,"
                " version")
            # 1: received at 22:30 UTC, 00:30 in Helsinki, answered by Turku; 2: open, an interim
            # notice in time moved its deadline to the estimate; 3: no answer wanted.
            connection.execute(sa.text(
                f"INSERT INTO feedback_case ({columns}) VALUES"  # nosec B608
                " (1, 'FB-2026-000001', '2026-11-19 22:30:00', 'web_form', '', '', '', '', '', '',"
                " 'private', 1, 'feedback', 'Moi', true, 'email', 'fi', 'answered', 2, 'none', '',"
                " '2026-11-25', NULL, '2026-11-25', NULL, '2026-11-24 08:00:00', '2026-11-24', 2,"
                " 2, 'letter', false, '', 1),"
                " (2, 'FB-2026-000002', '2026-11-20 08:00:00', 'phone', '', '', '', '', '', '',"
                " 'business', 1, 'feedback', 'Moi', true, 'phone', 'fi', 'assigned', 1, 'none', '',"
                " '2026-11-25', '2026-12-02', '2026-12-02', '2026-11-23', NULL, NULL, NULL,"
                " NULL, NULL, false, '', 1),"
                " (3, 'FB-2026-000003', '2026-11-20 09:00:00', 'web_form', '', '', '', '', '', '',"
                " 'private', 1, 'feedback', 'Moi', false, NULL, 'fi', 'new', 1, 'none', '',"
                " '2026-11-25', NULL, '2026-11-25', NULL, NULL, NULL, NULL, NULL, NULL, false, '',"
                " 1)"))
            connection.execute(sa.text(
                "INSERT INTO case_event (id, case_id, kind, from_unit_id, to_unit_id, text, at)"
                " VALUES (1, 1, 'forwarded', 1, 2, '', '2026-11-20 09:00:00'),"
                " (2, 1, 'forwarded', 2, 1, '', '2026-11-20 10:00:00'),"
                " (3, 1, 'forwarded', 1, 2, '', '2026-11-20 11:00:00')"))
        flask_migrate.upgrade()
        with db.engine.connect() as connection:
            topic_rows = connection.execute(sa.text(
                "SELECT day, unit_id, deadline, received, owed, kept, awaiting, noticed,"
                " by_estimate FROM report_day WHERE dimension = 'topic' ORDER BY day, unit_id,"
                " deadline")).all()
            forwards = connection.execute(sa.text(
                "SELECT day, from_unit_id, to_unit_id, count FROM report_forward_day"
                " ORDER BY from_unit_id")).all()
            repeated = connection.execute(sa.text(
                "SELECT day, units, count FROM report_reforward_day")).all()
            assert summaries.differences(connection, ZoneInfo("Europe/Helsinki")) == {}
        assert [[str(value) for value in row] for row in topic_rows] == [
            ["2026-11-20", "1", "2026-11-20", "1", "0", "0", "0", "0", "0"],
            ["2026-11-20", "1", "2026-12-02", "1", "1", "0", "1", "1", "0"],
            ["2026-11-20", "2", "2026-11-20", "1", "1", "1", "0", "0", "0"],
        ]
        assert [[str(value) for value in row] for row in forwards] == [
            ["2026-11-20", "1", "2", "2"], ["2026-11-20", "2", "1", "1"]]
        assert [[str(value) for value in row] for row in repeated] == [["2026-11-20", ",1,2,", "1"]]
        db.engine.dispose()


def test_the_audit_facts_migration_keeps_every_row_as_stored_and_the_log_append_only(
        empty_database_url):
    app = create_app({"CONFIG": "testing", "SQLALCHEMY_DATABASE_URI": empty_database_url})
    with app.app_context():
        flask_migrate.upgrade(revision="0029_contact_country")
        with db.engine.begin() as connection:
            connection.execute(sa.text(
                "INSERT INTO audit_event (id, at, kind, user_id, username, address, case_id,"
                " case_reference, customer_id, detail) VALUES (1, '2026-11-20 08:00:00',"
                " 'admin_change', NULL, 'admin', '127.0.0.1', NULL, '', NULL,"
                " '/admin/closing-days closing day 2026-12-31')"))
        flask_migrate.upgrade()
        with db.engine.connect() as connection:
            row = connection.execute(sa.text("SELECT detail, facts FROM audit_event")).one()
        assert tuple(row) == ("/admin/closing-days closing day 2026-12-31", None)
        if empty_database_url.startswith("postgresql"):
            for statement in ("UPDATE audit_event SET facts = '{}'", "DELETE FROM audit_event",
                              "TRUNCATE audit_event"):
                with db.engine.connect() as connection, pytest.raises(
                        sa.exc.DBAPIError, match="append-only"):
                    connection.execute(sa.text(statement))
        db.engine.dispose()


@pytest.mark.skipif(not (database_url_from_env() or "").startswith("postgresql"),
                    reason="the index of words and units is PostgreSQL's")
def test_the_search_units_migration_fills_in_every_unit_that_had_a_case(empty_database_url):
    def index_columns(connection):
        return connection.execute(sa.text(
            "SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_feedback_case_word_prefixes'"
        )).scalar_one()

    app = create_app({"CONFIG": "testing", "SQLALCHEMY_DATABASE_URI": empty_database_url})
    with app.app_context():
        flask_migrate.upgrade()
        _seed_demo(120)
        with db.engine.begin() as connection:
            _add_past_units(connection, 1)
        flask_migrate.downgrade(revision="0038_search_hyphens")
        with db.engine.connect() as connection:
            columns = {column["name"] for column in sa.inspect(connection).get_columns("feedback_case")}
            assert search.UNITS_COLUMN not in columns
            assert search.UNITS_COLUMN not in index_columns(connection)
        flask_migrate.downgrade(revision="0037_search_prefixes")
        with db.engine.begin() as connection:
            # As the code of 0037's time left it: 0037 installs the search objects of its day.
            for statement in search.UNITS_DROP:
                connection.execute(sa.text(statement))
        flask_migrate.upgrade()
        with db.engine.connect() as connection:
            assert index_columns(connection).endswith(f", {search.UNITS_COLUMN})")
            had = dict(connection.execute(sa.text(
                f"SELECT id, {search.UNITS_COLUMN} FROM feedback_case")).all())
            expected = units_that_may_see(connection)
            now = units_that_may_see(connection, past=False)
        assert {case_id: set(units) for case_id, units in had.items()} == expected
        assert expected != now  # some cases' past units are neither their holder nor receiver
        db.engine.dispose()


@pytest.mark.skipif((database_url_from_env() or "").startswith("postgresql"),
                    reason="the index of words and units is SQLite's FTS5")
def test_sqlite_search_units_migration_and_install_over_the_words_only_index(empty_database_url):
    """0040 builds the index of words and units from every case and goes back to the words
    only; `install` (which the migrations before 0040 call too) over the words-only index of
    their day builds the new one instead of keeping the old table under new triggers."""
    def columns(connection):
        return connection.execute(sa.text(
            "SELECT name FROM pragma_table_info('case_search')")).scalars().all()

    app = create_app({"CONFIG": "testing", "SQLALCHEMY_DATABASE_URI": empty_database_url})
    with app.app_context():
        flask_migrate.upgrade()
        _seed_demo(60)
        flask_migrate.downgrade(revision="0039_search_units")
        with db.engine.begin() as connection:
            assert columns(connection) == ["message", "contact_name"]
            _add_past_units(connection, 3)
        flask_migrate.upgrade()
        with db.engine.connect() as connection:
            assert columns(connection) == ["message", "contact_name", "units"]
            expected = units_that_may_see(connection)
            assert sqlite_units_indexed(connection) == expected
        flask_migrate.downgrade(revision="0039_search_units")
        with db.engine.begin() as connection:
            assert columns(connection) == ["message", "contact_name"]
            search.install(connection)
            assert columns(connection) == ["message", "contact_name", "units"]
            assert sqlite_units_indexed(connection) == expected
            triggers = connection.execute(sa.text(
                "SELECT count(*) FROM sqlite_master WHERE type = 'trigger'")).scalar()
            assert triggers == 6
        db.engine.dispose()


def _seed_demo(cases):
    from feedback_intranet.demo import seed_demo
    from feedback_intranet.rules.banking_days import BankingCalendar

    from .conftest import DEFAULT_NOW

    seed_demo(DEFAULT_NOW, BankingCalendar(), cases=cases, seed=18)
    db.session.commit()
    db.session.remove()


def _add_past_units(connection, cases):
    """The demo's cases left customer service only: the first `cases` of them held by another
    unit before too, which is neither their holder nor their receiver now."""
    connection.execute(sa.text(
        "INSERT INTO case_past_unit (case_id, unit_id) SELECT c.id, u.id FROM feedback_case c,"
        " unit u WHERE u.id <> c.current_unit_id AND u.id <> coalesce(c.service_unit_id, 0)"
        " ORDER BY c.id, u.id LIMIT :cases"), {"cases": cases})
