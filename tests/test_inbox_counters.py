"""The inbox counters are kept in the transaction of every change and always equal what counting
the cases gives: through the case actions, random changes, the demo loader, the check command,
and two people changing cases of the same counter at once on PostgreSQL."""

import threading
from datetime import date, datetime, timedelta

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from feedback_intranet.extensions import db
from feedback_intranet.inboxes import counters
from feedback_intranet.inboxes.queries import FILTERS
from feedback_intranet.models import OPEN_STATUSES, Case, CaseStatus, InboxCount, UnitKind
from feedback_intranet.rules.banking_days import BankingCalendar

from .conftest import HELSINKI, PASSWORD
from .test_case_pages import hidden_fields, post_action

NOW = datetime(2026, 11, 25, 10, 0, tzinfo=HELSINKI)  # Wednesday


def counted_from_cases(unit_id, user_id, today, next_bd):
    """The filters' counts the plain way: counting the unit's cases."""
    def count(*conditions):
        return db.session.scalar(sa.select(sa.func.count()).select_from(Case).where(
            Case.current_unit_id == unit_id, *conditions))

    is_open, waits = Case.status.in_(OPEN_STATUSES), Case.reply_wanted.is_(True)
    overdue = sa.and_(is_open, waits, Case.effective_due_date < today)
    return {
        "open": count(is_open, waits),
        "unassigned": count(Case.status == CaseStatus.NEW),
        "mine": count(Case.status == CaseStatus.ASSIGNED, Case.assignee_id == user_id),
        "overdue": count(overdue),
        # The shared definition word for word: overdue, plus long unassigned.
        "attention": count(overdue) + count(Case.status == CaseStatus.NEW,
                                            Case.effective_due_date <= next_bd, ~overdue),
        "due_today": count(is_open, waits, Case.effective_due_date == today),
        "no_answer": count(is_open, Case.reply_wanted.is_(False)),
        "answered": count(Case.status == CaseStatus.ANSWERED),
    }


def workload_from_cases(unit_id, today):
    """Per holder the plain way: (held, overdue, due today)."""
    held = {}
    for case in db.session.scalars(sa.select(Case).where(
            Case.current_unit_id == unit_id, Case.status == CaseStatus.ASSIGNED)):
        counts = held.setdefault(case.assignee_id, [0, 0, 0])
        counts[0] += 1
        if case.reply_wanted:
            counts[1] += case.effective_due_date < today
            counts[2] += case.effective_due_date == today
    return {holder: tuple(counts) for holder, counts in held.items()}


def assert_right(unit_ids, user_id, today):
    db.session.expire_all()
    assert counters.differences() == {}
    next_bd = BankingCalendar().add_banking_days(today, 1)
    for unit_id in unit_ids:
        counts, held = counters.unit_counts(unit_id, today, next_bd)
        kept = {**counts, "mine": held.get(user_id, 0)}
        assert kept == counted_from_cases(unit_id, user_id, today, next_bd)
        assert counters.workload(unit_id, today) == workload_from_cases(unit_id, today)
    assert {*counters.unit_counts(unit_ids[0], today, next_bd)[0], "mine"} == set(FILTERS)


@pytest.fixture
def org(make_unit, make_user):
    cs = make_unit(code="cs", name="Customer service", kind=UnitKind.CUSTOMER_SERVICE)
    turku = make_unit(code="turku", name="Turku")
    return cs, turku, make_user("cs.agent", units=[cs]), make_user("cs.lead", lead_of=[cs])


def test_every_case_action_keeps_the_counters(client, login, org, make_case, clock):
    cs, turku, agent, _lead = org
    clock.set(NOW)
    units = [cs.id, turku.id]
    cases = [make_case(cs, received_at=NOW - timedelta(days=i)) for i in range(4)]
    silent = make_case(cs, received_at=NOW, reply_wanted=False)
    login("cs.agent")
    assert_right(units, agent.id, NOW.date())
    steps = [
        (cases[0], "take", {}),
        (cases[1], "forward", {"unit": str(turku.id), "note": "Teille."}),
        (cases[2], "interim_notice", {"estimate": "2026-12-04",
                                      "text": "Vastaamme viimeistään 4.12.2026."}),
        (cases[0], "answer", {"channel": "email", "final": "y", "send": "Send",
                              "body": "Vastaus."}),
        (cases[3], "close", {"resolution": "other"}),
        (cases[3], "reopen", {"reason": "Asiakas soitti uudelleen."}),
        (silent, "close", {"resolution": "no_answer_wanted"}),
    ]
    for case, action, fields in steps:
        response = post_action(client, case, action, **fields)
        assert response.status_code == 302, (action, response.get_data(as_text=True)[:500])
        assert_right(units, agent.id, NOW.date())


@settings(deadline=None, max_examples=40,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.integers(0, 4), st.sampled_from(["status", "holder", "unit",
                                                              "wish", "due", "delete"]),
                          st.integers(0, 3)), max_size=12))
def test_random_changes_keep_the_counters(org, make_case, changes):
    cs, turku, agent, lead = org
    units = [cs.id, turku.id]
    cases = [make_case(cs, received_at=NOW) for _ in range(5)]
    statuses = list(CaseStatus)
    for index, what, value in changes:
        case = cases[index]
        if sa.inspect(case).deleted or sa.inspect(case).detached:
            continue
        if what == "status":
            case.status = statuses[value]
        elif what == "holder":
            case.assignee_id = [None, agent.id, lead.id, None][value]
        elif what == "unit":
            case.current_unit_id = units[value % 2]
        elif what == "wish":
            case.reply_wanted = value % 2 == 0
        elif what == "due":
            case.set_estimate(date(2026, 12, 1) + timedelta(days=value) if value else None)
        else:
            for event in case.events:
                db.session.delete(event)
            db.session.delete(case)
        db.session.commit()
    assert_right(units, agent.id, NOW.date())
    # Each example starts again from no cases.
    for case in cases:
        if not (sa.inspect(case).deleted or sa.inspect(case).detached):
            for event in case.events:
                db.session.delete(event)
            db.session.delete(case)
    db.session.commit()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(InboxCount)) == 0


def test_retention_leaves_them_right(app, org, make_case, clock):
    from feedback_intranet import retention

    cs, turku, agent, _lead = org
    old = NOW - timedelta(days=4 * 365)
    closed = make_case(cs, received_at=old, status=CaseStatus.CLOSED)
    closed.closed_at = old + timedelta(days=3)
    make_case(cs, received_at=NOW, status=CaseStatus.ASSIGNED, assignee=agent)
    db.session.commit()
    assert retention.apply(NOW, 36).cases == 1
    assert_right([cs.id, turku.id], agent.id, NOW.date())


def test_a_rolled_back_change_counts_nothing(org, make_case):
    cs, turku, agent, _lead = org
    case = make_case(cs, received_at=NOW)
    case.current_unit_id = turku.id
    db.session.flush()
    db.session.rollback()
    case.status = CaseStatus.ANSWERED
    db.session.commit()
    assert_right([cs.id, turku.id], agent.id, NOW.date())


def test_the_check_command_finds_and_fixes_a_wrong_counter(runner, org, make_case):
    cs, _turku, _agent, _lead = org
    make_case(cs, received_at=NOW)
    assert runner.invoke(args=["counters", "check"]).exit_code == 0
    db.session.execute(sa.update(InboxCount).values(count=InboxCount.count + 2))
    db.session.commit()
    result = runner.invoke(args=["counters", "check"])
    assert result.exit_code == 1
    assert result.output.startswith("cs, new, held by nobody, answer wanted, due ")
    assert result.output.endswith(": 1 case, the counter says 3\n")
    fixed = runner.invoke(args=["counters", "check", "--fix"])
    assert fixed.exit_code == 0 and "Counted again: 1 counter was wrong." in fixed.output
    assert counters.differences() == {}


@pytest.mark.committed  # seed-demo refreshes statistics on a connection of its own
def test_the_demo_loader_leaves_them_right(runner, data):
    assert runner.invoke(args=["seed-demo"]).exit_code == 0
    assert counters.differences() == {}
    assert db.session.scalar(sa.select(sa.func.sum(InboxCount.count))) > 50


@pytest.fixture
def two_agents(app, org, clock, database_url):
    if not database_url.startswith("postgresql"):
        pytest.skip("two sessions acting at once need PostgreSQL's row locks")
    clock.set(NOW)
    clients = []
    for name in ("cs.agent", "cs.lead"):
        client = app.test_client()
        assert client.post("/login", data={"username": name, "password": PASSWORD}).status_code == 302
        clients.append(client)
    return org, clients


@pytest.mark.committed
def test_two_people_changing_cases_of_one_counter_at_once_keep_it_right(two_agents, make_case):
    """Both take, then one forwards and the other answers, cases due the same day, so both
    commits move the same counters: never a lost update, never a deadlock, 25 rounds."""
    (cs, turku, agent, _lead), clients = two_agents
    for _round in range(25):
        cases = [make_case(cs, received_at=NOW) for _ in clients]
        for action, fields in (("take", {}), ("forward", {"unit": str(turku.id), "note": "Teille."})):
            results = act_at_once(clients, cases, action, fields)
            assert results == [302, 302], (action, results)
        assert_right([cs.id, turku.id], agent.id, NOW.date())


def act_at_once(clients, cases, action, fields):
    """Each client posts `action` with `fields` on its case at the same moment: the statuses."""
    pages = [c.get(f"/cases/{case.reference}").get_data(as_text=True)
             for c, case in zip(clients, cases, strict=True)]
    barrier, results = threading.Barrier(len(clients)), [None] * len(clients)

    def post(i):
        data = hidden_fields(pages[i], action)
        data.update({f"{action}-{k}": v for k, v in fields.items()})
        barrier.wait()
        results[i] = clients[i].post(f"/cases/{cases[i].reference}/{action}", data=data).status_code

    threads = [threading.Thread(target=post, args=(i,)) for i in range(len(clients))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results
