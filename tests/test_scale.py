"""Guards for bank scale: pages cost the same queries at any size, inbox queries use indexes.

Timings belong to the benchmark (bench/run.py), never to tests.
"""

import itertools
import re
import tracemalloc
from datetime import date, timedelta

import psycopg
import pytest
import sqlalchemy as sa

from feedback_intranet import demo, running_totals, search
from feedback_intranet.cases.queries import TIMELINE_SHOWN
from feedback_intranet.demo import DEMO_PASSWORD, seed_demo
from feedback_intranet.extensions import cache, db
from feedback_intranet.models import (
    Answer,
    AnswerStatus,
    Case,
    CaseEvent,
    CaseStatus,
    EventKind,
    InboxCount,
    ReplyChannel,
    ReportDay,
)
from feedback_intranet.rules.banking_days import BankingCalendar

from .conftest import DEFAULT_NOW

# Searches of the commonest words and prefixes of the demo messages, by each kind of user: a
# two-letter query, words that never meet, and a company's name, which customer service never sees.
SEARCHES = [
    ("branch.staff", "/cases/search?q=kiitos"),
    ("branch.lead", "/cases/search?q=kor"),
    ("admin", "/cases/search?q=mobiilisovellus+kaatuu"),
    ("cs.agent", "/cases/search?q=ka"),
    ("cs.agent", "/cases/search?q=kiitos+mitt"),
    ("cs.agent", "/cases/search?q=saaristo"),
]

# Every page a branch employee or team lead opens all day, by the demo user who opens it.
PAGES = [
    ("cs.agent", "/inbox/cs"),
    ("cs.agent", "/inbox/cs?filter=overdue"),
    ("cs.agent", "/inbox/cs?filter=unassigned"),
    ("cs.agent", "/inbox/cs?filter=mine"),
    ("cs.agent", "/inbox/cs?page=last"),
    ("cs.agent", "/my-cases"),
    ("cs.agent", "/inbox/cs?sort=customer"),
    ("cs.agent", "/inbox/cs?sort=topic&order=desc"),
    ("cs.agent", "/inbox/cs?sort=received&page=last"),
    ("cs.agent", "/inbox/cs?filter=no_answer&sort=customer&order=desc"),
    ("cs.agent", "/cases/search?q=kortti"),
    *SEARCHES,
    ("cs.agent", "/callbacks/cs"),
    ("cs.agent", "/letters/cs"),
    ("cs.lead", "/workload/cs"),
    ("cs.lead", "/reports/"),
    ("cs.lead", "/reports/promise"),
    ("cs.lead", "/reports/answer-time"),
    ("cs.lead", "/reports/volumes"),
    ("cs.lead", "/reports/forwarding"),
    ("admin", "/admin/users"),
    ("admin", "/admin/closing-days"),
    ("admin", "/admin/inbound-mail"),
    ("cs.agent", "/register-feedback"),
    ("cs.agent", "/register-feedback/customers?q=virtanen"),
    ("admin", "/inbox/cs?filter=unassigned"),  # an admin's inbox also lists every unit
    (None, "/feedback"),
]
INBOX_PAGES = [path for _user, path in PAGES[:10]] + ["/workload/cs"]


def _seed(cases):
    seed_demo(DEFAULT_NOW, BankingCalendar(), cases=cases)
    db.session.commit()


def _longest_case_reference():
    return db.session.scalar(
        sa.select(Case.reference).join(Case.events).where(Case.current_unit.has(code="cs"))
        .group_by(Case.id, Case.reference).order_by(sa.func.count().desc(), Case.id).limit(1))


def _oldest_new_case_reference():
    return db.session.scalar(
        sa.select(Case.reference).where(Case.current_unit.has(code="cs"), Case.status == "new")
        .order_by(Case.id).limit(1))


def _busiest_customers_case_reference():
    """A customer service case of the customer with the most cases: its page lists the others."""
    busiest = sa.select(Case.customer_id).where(Case.customer_id.is_not(None)).group_by(
        Case.customer_id).order_by(sa.func.count().desc(), Case.customer_id).limit(1)
    return db.session.scalar(
        sa.select(Case.reference).where(Case.customer_id == busiest.scalar_subquery(),
                                        Case.current_unit.has(code="cs"))
        .order_by(Case.id).limit(1))


def _query_counts(client, busiest):
    """Queries per page. The case pages: the case in customer service with the longest timeline,
    an unassigned one as its team lead sees it, with every action's form (assign, forward,
    answer with templates), and `busiest`, a case whose customer has the most others."""
    counts = {}
    case_pages = {("cs.agent", f"/cases/{_longest_case_reference()}"): "case page",
                  ("cs.lead", f"/cases/{_oldest_new_case_reference()}"): "open case, team lead",
                  ("cs.agent", f"/cases/{busiest}"): "case of the busiest customer"}
    for user, path in [*PAGES, *case_pages]:
        client.post("/logout")
        if user:
            client.post("/login", data={"username": user, "password": DEMO_PASSWORD})
        with client.application.app_context():
            cache.clear()  # every page as first seen after a change: nothing of it cached
        response = client.get(path)
        assert response.status_code == 200, path
        counts[case_pages.get((user, path), path)] = int(response.headers["X-Query-Count"])
    return counts


def test_query_counts_stay_the_same_when_the_data_grows_tenfold(client, data):
    _seed(60)
    # The same case at both sizes: its customer has about ten times as many cases at the second.
    busiest = _busiest_customers_case_reference()
    few = _query_counts(client, busiest)
    _seed(600)
    many = _query_counts(client, busiest)
    # A search on PostgreSQL reads further runs of the newest cases (two at most), then the
    # index, only when the first run holds too few matches: three statements at most, whatever
    # the size.
    searches = [path for path in few if path.startswith("/cases/search")]
    assert {path: many[path] for path in many if path not in searches} \
        == {path: few[path] for path in few if path not in searches}
    assert all(abs(many[path] - few[path]) <= 1 + search.FURTHER_RUNS for path in searches), \
        (few, many)
    assert max([*few.values(), *many.values()]) <= 8, (few, many)


@pytest.mark.parametrize("seed", [2026, 1, 7, 18])
def test_the_long_running_cases_are_in_customer_services_inbox(data, monkeypatch, seed):
    """Whatever customer the demo picks for them: the bench measures customer service's
    longest case page."""
    monkeypatch.setattr(demo, "LONG_CASES_FROM", 50)
    seed_demo(DEFAULT_NOW, BankingCalendar(), cases=60, seed=seed)
    counts = sa.select(CaseEvent.case_id).group_by(CaseEvent.case_id).having(sa.func.count() >= 200)
    units = db.session.scalars(sa.select(Case).where(Case.id.in_(counts))).all()
    assert [case.current_unit.code for case in units] == ["cs", "cs"]


def test_a_case_of_200_events_and_20_answers_costs_what_a_short_one_does(
        client, data, monkeypatch):
    """The demo at scale has long-running cases (demo._showcase), whose page reads what any
    case page reads; and a case's page reads no more statements as its timeline and answers
    grow."""
    monkeypatch.setattr(demo, "LONG_CASES_FROM", 50)
    _seed(60)
    long_one = db.session.scalar(sa.select(Case).where(Case.reference == _longest_case_reference()))
    assert len(long_one.events) >= 200 and len(long_one.answers) == demo.LONG_ANSWERS
    client.post("/login", data={"username": "cs.agent", "password": DEMO_PASSWORD})

    def cost(case):
        response = client.get(f"/cases/{case.reference}")
        assert response.status_code == 200
        return int(response.headers["X-Query-Count"]), response.get_data(as_text=True)

    assert cost(long_one)[0] <= 8
    short_one = db.session.scalar(
        sa.select(Case).join(Case.events).where(Case.current_unit_id == long_one.current_unit_id,
                                                Case.status == long_one.status)
        .group_by(Case.id).having(sa.func.count() < 10).limit(1))
    short, _page = cost(short_one)
    for n in range(200):
        short_one.events.append(CaseEvent(kind=EventKind.NOTE, at=DEFAULT_NOW, text=f"Note {n}.",
                                          actor_id=short_one.assignee_id))
    for n in range(20):
        short_one.answers.append(Answer(channel=ReplyChannel.EMAIL, text=f"Answer {n}.",
                                        status=AnswerStatus.DELIVERED, created_at=DEFAULT_NOW,
                                        delivered_at=DEFAULT_NOW,
                                        created_by_id=short_one.assignee_id))
    db.session.commit()
    grown, page = cost(short_one)
    assert grown == short
    # The newest events and a link to the earlier ones; all of them on request, at the same cost.
    assert page.count('<li class="event-') == TIMELINE_SHOWN
    assert "Show 17" in page and "earlier events" in page
    response = client.get(f"/cases/{short_one.reference}?timeline=all")
    assert int(response.headers["X-Query-Count"]) == short
    assert response.get_data(as_text=True).count('<li class="event-') >= 200


@pytest.fixture
def statements(app):
    """The SELECTs on cases that the app runs while the test makes requests."""
    seen = []

    def record(connection, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("SELECT") and "feedback_case" in statement:
            seen.append((statement, parameters))

    with app.app_context():
        engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", record)
    yield seen
    sa.event.remove(engine, "before_cursor_execute", record)


def _plan(connection, statement, parameters, bitmaps=True):
    if connection.dialect.name == "sqlite":
        # Indented as PostgreSQL's is: each step under the one it serves.
        depth, lines = {0: -1}, []
        for step, parent, _unused, detail in connection.exec_driver_sql(
                f"EXPLAIN QUERY PLAN {statement}", parameters):
            depth[step] = depth.get(parent, -1) + 1
            lines.append("  " * depth[step] + detail)
        return "\n".join(lines)
    # The planner rightly scans tiny tables; with sequential scans priced out it shows what
    # it would do with a million cases. Without `bitmaps` it may not gather a few rows by
    # bitmap and sort them either (a list read in an index's order); GIN indexes (the text
    # search) are read only by bitmap.
    connection.exec_driver_sql("SET enable_seqscan = off")
    connection.exec_driver_sql(f"SET enable_bitmapscan = {'on' if bitmaps else 'off'}")
    # Nor sort a dozen rows when it can read them in order: whether it would depends on the
    # statistics earlier tests left; a list that has no index in its order still shows a sort.
    connection.exec_driver_sql(f"SET enable_sort = {'on' if bitmaps else 'off'}")
    rows = connection.exec_driver_sql(f"EXPLAIN {statement}", parameters).all()
    return "\n".join(row[0] for row in rows)


_PREPARED = itertools.count()


def _generic_plan(connection, statement, parameters):
    """PostgreSQL's plan of a prepared statement for any values of its parameters: the one a
    worker settles on after a few runs of an inbox's list (models.common.fixed_limit), made
    under the settings `_plan` left (no sequential scans, bitmaps or sorts where it could do
    without): which index it reads, in order or not."""
    names = list(dict.fromkeys(re.findall(r"%\((\w+)\)s", statement)))
    numbered = re.sub(r"%\((\w+)\)s", lambda found: f"${names.index(found[1]) + 1}", statement)
    driver = connection.connection.driver_connection
    values = ", ".join(psycopg.sql.Literal(parameters[name]).as_string(driver) for name in names)
    # A name of its own and a setting for this transaction only: a failure leaves nothing that
    # the next test's statements would meet.
    name = f"guarded_{next(_PREPARED)}"
    connection.exec_driver_sql(f"PREPARE {name} AS {numbered}")
    connection.exec_driver_sql("SET LOCAL plan_cache_mode = force_generic_plan")
    rows = connection.exec_driver_sql(f"EXPLAIN EXECUTE {name}({values})").all()
    connection.exec_driver_sql("SET LOCAL plan_cache_mode = auto")
    connection.exec_driver_sql(f"DEALLOCATE {name}")
    return "\n".join(row[0] for row in rows)


def _full_scan_of_cases(plan, dialect):
    if dialect == "sqlite":
        return any(line.strip().startswith("SCAN feedback_case") and "INDEX" not in line
                   for line in plan.splitlines())
    return "Seq Scan on feedback_case" in plan


def test_inbox_queries_use_an_index_not_a_scan_of_all_cases(client, data, statements):
    _seed(200)
    statements.clear()  # the loader's own reads (it counts every case for the summaries)
    client.post("/login", data={"username": "cs.lead", "password": DEMO_PASSWORD})
    for path in INBOX_PAGES:
        assert client.get(path).status_code == 200
    assert statements
    # The test's own connection, which sees the rows it made.
    connection = db.session.connection()
    for statement, parameters in statements:
        plan = _plan(connection, statement, parameters)
        assert not _full_scan_of_cases(plan, connection.dialect.name), f"{statement}\n{plan}"


def _plan_tree(plan, dialect):
    """A plan from `_plan` as a tree: [(step, [the steps under it])]. PostgreSQL's lines without
    an arrow are the details of the step above them, joined to its line."""
    tree = []
    open_ = [(-1, tree)]  # (depth, steps under it) of the steps above the current line
    for number, line in enumerate(plan.splitlines()):
        if dialect == "sqlite":
            depth = len(line) - len(line.lstrip())
        elif "->" in line:
            depth = line.index("->")
        elif number == 0:
            depth = 0
        else:
            under, siblings = open_[-1][1], open_[-2][1]
            siblings[-1] = (f"{siblings[-1][0]} {line.strip()}", under)
            continue
        while open_[-1][0] >= depth:
            open_.pop()
        under = []
        open_[-1][1].append((line.strip().removeprefix("->").strip(), under))
        open_.append((depth, under))
    return tree


def _sorts_cases_in_memory(plan, dialect, statement):
    """Whether the plan sorts cases as it reads them, rather than reading them in an index's
    order. Sorting the few rows of lists that each read an index in order up to a limit (the
    statuses of an inbox's page, merged) sorts no case so read, nor does reading the rows of
    those few by their primary key."""
    def reads_cases(step):
        # One case by its id (not every case in the id's order).
        by_key = "USING INTEGER PRIMARY KEY" in step or re.search(
            r"using pk_feedback_case .*Index Cond: \(id = ", step)
        return not by_key and (re.match(r"(SCAN|SEARCH) feedback_case\b", step)
                               or " on feedback_case " in step)

    def reaches_cases(steps):  # they, or steps under them with no limit between, read cases
        return any(reads_cases(step) or not step.startswith("Limit") and reaches_cases(under)
                   for step, under in steps)

    # SQLite's plan shows no limits: the statement says whether every list of cases has its own
    # (and the whole its own).
    each_limited = statement.count("LIMIT") >= statement.count("UNION ALL") + 2
    tree = _plan_tree(plan, dialect)
    subqueries = {step.split()[-1]: under for step, under in _steps(tree)
                  if step.startswith(("CO-ROUTINE", "MATERIALIZE"))}

    def sorts(steps):
        if dialect == "sqlite":
            # SQLite's sort stands beside the reads whose rows it sorts.
            read = [step for step, _under in steps if step.startswith(("SCAN", "SEARCH"))]
            here = any(step.startswith("USE TEMP B-TREE") for step, _under in steps) and any(
                reads_cases(step) or not each_limited
                and reaches_cases(subqueries.get(step.split()[1], [])) for step in read)
        else:
            here = any(step.startswith(("Sort", "Incremental Sort")) and reaches_cases(under)
                       for step, under in steps)
        return here or any(sorts(under) for _step, under in steps)

    return sorts(tree)


def _steps(tree):
    for step, under in tree:
        yield step, under
        yield from _steps(under)


def test_the_sort_guard_tells_sorted_reads_of_cases_from_merged_ordered_lists(data):
    """_sorts_cases_in_memory on the plans of both databases: a sort of the cases as read is
    caught, also under a merge of lists without limits; a sort of lists read in order up to a
    limit each is not, nor of the rows those lists' keys lead to by the primary key."""
    _seed(20)
    connection = db.session.connection()

    def sorts(statement):
        plan = _plan(connection, statement, {}, bitmaps=False)
        return _sorts_cases_in_memory(plan, connection.dialect.name, statement), plan

    def merged(limit, rows=False):
        lists = [f"SELECT * FROM (SELECT id, message FROM feedback_case WHERE current_unit_id = "
                 f"{unit} ORDER BY id {limit}) AS list_{unit}" for unit in (1, 2)]
        merged = f"({' UNION ALL '.join(lists)}) AS merged"
        if rows:  # the merged keys' rows, read by the primary key
            return (f"SELECT feedback_case.* FROM feedback_case JOIN {merged} ON merged.id = "
                    f"feedback_case.id ORDER BY merged.message LIMIT 5")
        return f"SELECT id FROM {merged} ORDER BY message LIMIT 5"

    caught, plan = sorts("SELECT id FROM feedback_case WHERE current_unit_id = 1 ORDER BY message")
    assert caught, plan
    caught, plan = sorts(merged(limit=""))
    assert caught, plan
    caught, plan = sorts(merged(limit="LIMIT 5"))
    assert not caught, plan
    caught, plan = sorts(merged(limit="", rows=True))
    assert caught, plan
    caught, plan = sorts(merged(limit="LIMIT 5", rows=True))
    assert not caught, plan
    caught, plan = sorts("SELECT id FROM feedback_case WHERE current_unit_id = 1 ORDER BY id LIMIT 5")
    assert not caught, plan


@pytest.mark.parametrize(("filter_name", "sort", "index"), [
    ("open", "due", "ix_feedback_case_inbox"),
    ("open", "received", "ix_feedback_case_by_received"),
    ("open", "customer", "ix_feedback_case_by_customer"),
    ("open", "topic", "ix_feedback_case_by_topic_"),  # in the reader's language
    # One person's cases, through the indexes that start with the holder.
    ("mine", "due", "ix_feedback_case_assignee"),
    ("mine", "received", "ix_feedback_case_mine_by_received"),
    ("mine", "customer", "ix_feedback_case_mine_by_customer"),
    ("mine", "topic", "ix_feedback_case_mine_by_topic_"),
])
def test_each_sort_reads_its_own_index_in_order(client, data, statements, filter_name, sort,
                                                index):
    """However deep the page, in either direction: the rows come in the index's order, so no
    page sorts a unit's (or a person's) cases (the deepest page costs what the first does)."""
    _seed(200)
    client.post("/login", data={"username": "cs.agent", "password": DEMO_PASSWORD})
    for query in ("", "&order=desc", "&page=last", "&order=desc&page=last"):
        assert client.get(f"/inbox/cs?filter={filter_name}&sort={sort}{query}").status_code == 200
    lists = [(statement, parameters) for statement, parameters in statements
             if "LIMIT" in statement and "ORDER BY" in statement]
    assert lists
    connection = db.session.connection()
    for statement, parameters in lists:
        plan = _plan(connection, statement, parameters, bitmaps=False)
        # A worker's plan after a few runs too, one for every unit, day and cursor: the same
        # index read in order (with what PostgreSQL could do without switched off, as above).
        plans = [plan] if connection.dialect.name == "sqlite" else [
            plan, _generic_plan(connection, statement, parameters)]
        for plan in plans:
            # PostgreSQL's choice for one person among 200 cases follows its statistics (any
            # index of the sort will do at this size); at a million it takes the holder's
            # (checked by hand, bench/results.md). SQLite is told which to read.
            if filter_name != "mine" or connection.dialect.name == "sqlite":
                assert index in plan, f"{statement}\n{plan}"
            assert not _sorts_cases_in_memory(plan, connection.dialect.name, statement), \
                f"{statement}\n{plan}"


def test_the_case_page_reads_its_case_and_the_customers_others_through_indexes(
        client, data, statements):
    _seed(200)
    statements.clear()  # the loader's own reads (it counts every case for the summaries)
    reference = _busiest_customers_case_reference()
    client.post("/login", data={"username": "cs.agent", "password": DEMO_PASSWORD})
    page = client.get(f"/cases/{reference}").get_data(as_text=True)
    assert 'id="other-cases-title"' in page and statements
    connection = db.session.connection()
    for statement, parameters in statements:
        plan = _plan(connection, statement, parameters)
        assert not _full_scan_of_cases(plan, connection.dialect.name), f"{statement}\n{plan}"


# The audit page: every case view writes a row, so the log outgrows the cases.
AUDIT_FILTERS = [
    ("", "ix_audit_event_at"),
    ("user=CS.Agent", "ix_audit_event_username"),
    ("case=FB-2026-000001", "ix_audit_event_reference"),
    ("kind=case_viewed", "ix_audit_event_kind"),
    ("user=cs.agent&start=2026-11-01&end=2026-11-30", "ix_audit_event_username"),
]


# Committed: PostgreSQL's plan here rests on audit_event's statistics. Emptied tables leave them
# unknown, as the test was written for; after tests rolled back, autovacuum may have counted an
# empty table, and the planner then takes the date index for the user filter.
@pytest.mark.committed
@pytest.mark.parametrize("filters, index", AUDIT_FILTERS)
def test_each_audit_filter_reads_its_own_index(app, client, data, filters, index):
    _seed(20)
    for user in ("cs.agent", "admin"):
        client.post("/logout")
        client.post("/login", data={"username": user, "password": DEMO_PASSWORD})
    seen = []

    def record(connection, cursor, statement, parameters, context, executemany):
        if "FROM audit_event" in statement and "ORDER BY" in statement:
            seen.append((statement, parameters))

    with app.app_context():
        engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        assert client.get(f"/admin/audit?{filters}").status_code == 200
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)
    [(statement, parameters)] = seen
    # The test's own connection, which sees the rows it made.
    connection = db.session.connection()
    plan = _plan(connection, statement, parameters)
    assert index in plan, plan
    if connection.dialect.name == "sqlite":
        assert "TEMP B-TREE" not in plan, plan  # read in the index's order, never sorted
    else:
        assert "Sort" not in plan, plan


# A year of every report over all units: each reads its summaries by their keys (the escalations
# by theirs), no cases.
REPORT_PAGES = [f"/reports/{name}?period=custom&start=2025-11-26&end=2026-11-26"
                for name in ("promise", "answer-time", "volumes", "forwarding")]


def test_report_pages_read_their_summaries_through_the_key_not_the_cases(app, client, data):
    _seed(200)
    seen = []

    def record(connection, cursor, statement, parameters, context, executemany):
        if any(table in statement for table in ("report_", "feedback_case", "case_escalation")):
            seen.append((statement, parameters))

    with app.app_context():
        engine = db.engine
    client.post("/login", data={"username": "admin", "password": DEMO_PASSWORD})
    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        for path in REPORT_PAGES:
            assert client.get(path).status_code == 200, path
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)
    # Promise 3 and its escalations 1, time to answer 2, volumes 1, forwarding 2.
    assert len(seen) == 9
    connection = db.session.connection()
    for statement, parameters in seen:
        assert "feedback_case" not in statement, statement
        plan = _plan(connection, statement, parameters)
        if "case_escalation" in statement:
            # Per unit and per day, each half through the escalations' own index, never the table.
            assert plan.count("ix_case_escalation_unit_day") == 2, f"{statement}\n{plan}"
            assert "Seq Scan" not in plan, f"{statement}\n{plan}"
            if connection.dialect.name == "sqlite":
                assert plan.count("SEARCH case_escalation USING COVERING INDEX") == 2, plan
        elif connection.dialect.name == "sqlite":
            assert "USING INDEX sqlite_autoindex_report_" in plan, f"{statement}\n{plan}"
            assert not any(line.strip().startswith("SCAN report_") for line in plan.splitlines())
        else:
            assert "Index" in plan and "pk_report_" in plan, f"{statement}\n{plan}"
            assert "Seq Scan on report_" not in plan, f"{statement}\n{plan}"


def test_the_text_search_reads_the_full_text_index_never_every_case(client, data, statements):
    """SQLite reads its full-text index newest first (ordered by the index, no sort of matches);
    PostgreSQL reads its parts in order. Neither scans the cases."""
    _seed(200)
    for user, path in SEARCHES:
        client.post("/logout")
        client.post("/login", data={"username": user, "password": DEMO_PASSWORD})
        assert client.get(path).status_code == 200
    texts = [(statement, parameters) for statement, parameters in statements
             if "case_search" in statement or "to_tsvector" in statement]
    # "ka" searches exact keys only; PostgreSQL may read a further run and the index.
    assert len(SEARCHES) - 1 <= len(texts) <= 3 * (len(SEARCHES) - 1), texts
    connection = db.session.connection()
    narrowed = 0
    for statement, parameters in texts:
        plan = _plan(connection, statement, parameters)
        assert not _full_scan_of_cases(plan, connection.dialect.name), f"{statement}\n{plan}"
        if connection.dialect.name == "sqlite":
            # 192: the rowid order and the MATCH are both the index's (FTS5's plan flags).
            assert "SCAN case_search VIRTUAL TABLE INDEX 192:" in plan, plan
            # The user's units are words of the index's query (an admin's: every case).
            narrowed += any("units : (" in str(value) for value in parameters)
        elif "case_search_prefixes" in statement:
            assert "ix_feedback_case_word_prefixes" in plan, plan
            if search.UNITS_COLUMN in statement:
                # The user's units narrow the index's matches before a case is read.
                conditions = [line for line in plan.splitlines() if "Index Cond" in line]
                assert any(search.UNITS_COLUMN in line for line in conditions), plan
                narrowed += 1
        else:
            # The newest cases, each tested: never the index's list of every match.
            assert "ix_feedback_case_word_prefixes" not in plan and "Parallel" not in plan, plan
    # SQLite: every search but the admin's; PostgreSQL: the branch's few matches among 200 cases
    # send its searches to the index.
    assert narrowed == len(SEARCHES) - 2 if connection.dialect.name == "sqlite" else narrowed


def _reads_the_whole_table(plan, dialect, table):
    if dialect == "sqlite":
        return any(line.strip().startswith(f"SCAN {table}") for line in plan.splitlines())
    return f"Seq Scan on {table}" in plan


@pytest.mark.parametrize("model", [ReportDay, InboxCount])
def test_running_totals_left_at_zero_are_deleted_through_the_key(data, units, model):
    """Every commit that empties a counter deletes its row: through the key, never by reading
    every row of the table (SQLite scans the table for a row-value IN)."""
    table = model.__table__
    keys = [column.name for column in table.primary_key.columns]
    counts = [column.name for column in table.columns if column.name not in keys]
    first = date(2026, 11, 2)
    samples = {"unit_id": units["cs"].id, "holder_id": 0, "reply_wanted": True,
               "status": CaseStatus.NEW, "dimension": "topic", "value": "7"}

    def key(day):
        return tuple(day if table.c[name].type.python_type is date else samples[name]
                     for name in keys)

    connection = db.session.connection()
    running_totals.add(connection, table, keys, counts,
                       {key(first + timedelta(days=n)): [n + 1] * len(counts) for n in range(3)})
    seen = []

    def record(_connection, _cursor, statement, parameters, _context, _many):
        if statement.lstrip().upper().startswith("DELETE"):
            seen.append((statement, parameters))

    sa.event.listen(connection, "before_cursor_execute", record)
    try:
        running_totals.add(connection, table, keys, counts,
                           {key(first + timedelta(days=n)): [-(n + 1)] * len(counts)
                            for n in range(2)})
    finally:
        sa.event.remove(connection, "before_cursor_execute", record)
    left = connection.execute(sa.select(table)).mappings().all()
    assert [(tuple(row[name] for name in keys), [row[name] for name in counts]) for row in left] \
        == [(key(first + timedelta(days=2)), [3] * len(counts))]
    [(statement, parameters)] = seen
    plan = _plan(connection, statement, parameters)
    assert not _reads_the_whole_table(plan, connection.dialect.name, table.name), \
        f"{statement}\n{plan}"


def _copies_of(case, count):
    """`count` more open cases in the case's inbox: copies of its row, each with a reference of its
    own, written in one statement (thousands of cases through the model would take minutes)."""
    table = Case.__table__
    row = db.session.execute(sa.select(table).where(table.c.id == case.id)).mappings().one()
    first = db.session.scalar(sa.select(sa.func.max(table.c.id)))
    db.session.execute(sa.insert(table), [
        {**{name: value for name, value in row.items() if name != "id"},
         "reference": f"FB-2025-{first + number:06d}"} for number in range(1, count + 1)])
    db.session.commit()


def _export_memory(client, path):
    """(rows, the most memory Python held at once) while the export streams to the client."""
    response = client.get(path, buffered=False)
    tracemalloc.start()
    try:
        rows = sum(piece.count(b"\r\n") for piece in response.iter_encoded()) - 1
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
        response.close()
    return rows, peak


def test_an_export_holds_as_much_memory_for_four_times_the_rows(client, login, service_team,
                                                                make_case):
    """The inbox export streams its rows in batches: a worker's memory stays flat whatever the
    size of the inbox it writes out. (A list of every row would add some 300 bytes a row: 2 MB
    for the larger file, on top of the 2 MB that either export holds at most.)"""
    case = make_case(service_team[0])
    _copies_of(case, 1999)
    login("cs.agent")
    path = "/inbox/cs/export.csv"
    client.get(path).close()  # the first export fills the caches every later one shares
    rows, small = _export_memory(client, path)
    assert rows == 2000
    _copies_of(case, 6000)
    rows, large = _export_memory(client, path)
    assert rows == 8000
    assert large < small * 1.5, (small, large)
