"""The inbox counters are kept in the transaction of every change and always equal what counting
the cases gives: through the case actions, random changes, days going by and being carried
forward, the demo loader, the check command, and two people changing cases of the same counter
at once (also while the days gone by are carried forward) on PostgreSQL."""

import threading
from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from feedback_intranet import clock as bank_clock
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
    assert rows_of_days_gone_by() == 0  # carried forward as the nightly run leaves them


def rows_of_days_gone_by():
    """Counter rows of a single day before carried_before(today), which carrying forward
    leaves none of."""
    cutoff = counters.carried_before(_today())
    return db.session.scalar(sa.select(sa.func.count()).select_from(InboxCount).where(
        InboxCount.due < cutoff, InboxCount.due != counters.CARRIED))


def _today():
    return bank_clock.today()  # the app's today, by the test's clock


def backlog(org, make_case, days):
    """Open cases of customer service due on each of `days` days before NOW, held by nobody,
    by the agent and by the lead, some with no answer wanted, and one answered: rows for every
    day."""
    cs, _turku, agent, lead = org
    for day in range(days):
        received = NOW - timedelta(days=day + 8)
        make_case(cs, received_at=received)
        make_case(cs, received_at=received, status=CaseStatus.ASSIGNED, assignee=agent)
        make_case(cs, received_at=received, status=CaseStatus.ASSIGNED, assignee=lead,
                  reply_wanted=day % 3 != 0)
        if day % 4 == 0:
            make_case(cs, received_at=received, status=CaseStatus.ANSWERED, assignee=agent)


def counter_rows(unit):
    return db.session.scalar(sa.select(sa.func.count()).select_from(InboxCount)
                             .where(InboxCount.unit_id == unit.id))


def test_days_gone_by_are_carried_forward_onto_a_row_per_group_and_every_figure_stays(
        org, make_case, clock):
    """A backlog of forty days: changed today, its cases go straight onto the carried rows; the
    rows they were on, and the days that go by, are carried forward by the nightly command."""
    cs, turku, agent, _lead = org
    clock.set(NOW - timedelta(days=60))  # the cases arrive when they were still due ahead
    backlog(org, make_case, 40)
    clock.set(NOW)
    before = counter_rows(cs)
    assert before > 60 and rows_of_days_gone_by() == before
    assert_right([cs.id, turku.id], agent.id, NOW.date())

    # In batches, as the nightly command commits them: every figure is right after each.
    moved = 0
    while batch := counters.carry_forward(NOW.date(), limit=7):
        db.session.commit()
        moved += batch
        assert_right([cs.id, turku.id], agent.id, NOW.date())
    assert moved == before
    # One row per status, holder and wish: new, the agent's, the lead's (two wishes), answered.
    assert counter_rows(cs) == 5 and rows_of_days_gone_by() == 0
    assert_right([cs.id, turku.id], agent.id, NOW.date())
    assert counters.carry_forward(NOW.date()) == 0  # nothing left to carry: the same again

    # Days go by: what was due ahead becomes overdue on its own rows, then is carried.
    recent = make_case(cs, received_at=NOW)
    for days in (1, 3, 4, 8):
        clock.set(NOW + timedelta(days=days))
        today = clock().astimezone(HELSINKI).date()
        assert_right([cs.id, turku.id], agent.id, today)
        recent.assignee_id = agent.id if days % 2 else None
        recent.status = CaseStatus.ASSIGNED if days % 2 else CaseStatus.NEW
        db.session.commit()
        counters.carry_forward(today)
        db.session.commit()
        assert rows_of_days_gone_by() == 0
        assert_right([cs.id, turku.id], agent.id, today)
        # Every due date from yesterday on keeps a row of its own: "due today" for a request
        # begun before midnight.
        assert all(due == counters.CARRIED or due >= today - timedelta(days=1)
                   for due in db.session.scalars(sa.select(InboxCount.due)))


@settings(deadline=None, max_examples=40,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.sampled_from(["status", "holder", "unit", "wish", "due", "delete",
                                           "days", "carry"]),
                          st.integers(0, 4), st.integers(0, 3)), max_size=14))
# Held, its day gone by, then held by someone else before the night carries the day forward.
@example([("status", 0, 1), ("due", 0, 1), ("days", 2, 1), ("holder", 0, 1)])
def test_random_changes_days_and_carrying_forward_keep_the_counters(org, make_case, clock,
                                                                    changes):
    cs, turku, agent, lead = org
    units = [cs.id, turku.id]
    clock.set(NOW)
    cases = [make_case(cs, received_at=NOW - timedelta(days=3 * i)) for i in range(5)]
    statuses = list(CaseStatus)

    def gone(case):
        return sa.inspect(case).deleted or sa.inspect(case).detached

    def delete(case):
        for event in case.events:
            db.session.delete(event)
        db.session.delete(case)

    try:
        for what, index, value in changes:
            case = cases[index]
            if gone(case) and what not in ("days", "carry"):
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
                case.set_estimate(_today() + timedelta(days=value - 1) if value else None)
            elif what == "delete":
                delete(case)
            elif what == "days":
                clock.advance(timedelta(days=index + value))
            else:
                counters.carry_forward(_today())
            db.session.commit()
            assert_right(units, agent.id, _today())
    finally:  # each example starts again from no cases, also after a failing one
        db.session.rollback()
        for case in cases:
            if not gone(case):
                delete(case)
        db.session.commit()
        # A case counted on a day since gone by leaves that day's row and the carried one
        # opposite each other: carried forward, they are gone.
        counters.carry_forward(_today())
        db.session.commit()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(InboxCount)) == 0


def test_a_case_changed_before_its_day_is_carried_forward_leaves_no_holder_behind(
        org, make_case, clock):
    """Between the day's going by and the night's carrying it forward, the old holder's counts
    stand on two rows (+1 on the day's, -1 on the carried one): the workload lists only who
    holds cases."""
    cs, turku, agent, lead = org
    clock.set(NOW)
    case = make_case(cs, received_at=NOW, status=CaseStatus.ASSIGNED, assignee=agent)
    clock.set(NOW + timedelta(days=30))
    case.assignee_id = lead.id
    db.session.commit()
    today = _today()
    assert counters.workload(cs.id, today) == {lead.id: (1, 1, 0)}
    assert_right([cs.id, turku.id], agent.id, today)
    counters.carry_forward(today)
    db.session.commit()
    assert counters.workload(cs.id, today) == {lead.id: (1, 1, 0)}
    assert rows_of_days_gone_by() == 0


def test_the_carry_forward_command_says_what_it_carried(runner, org, make_case, clock):
    cs, _turku, _agent, _lead = org
    clock.set(NOW - timedelta(days=30))
    backlog(org, make_case, 3)
    clock.set(NOW)
    result = runner.invoke(args=["counters", "carry-forward"])
    assert result.exit_code == 0, result.output
    # Three days of new, the agent's, the lead's, and one answered.
    assert result.output == "Carried forward 10 counters of days before 2026-11-24.\n"
    assert runner.invoke(args=["counters", "carry-forward"]).output == (
        "Carried forward 0 counters of days before 2026-11-24.\n")
    assert runner.invoke(args=["counters", "check"]).exit_code == 0
    # A wrong carried counter is named by the days it carries.
    db.session.execute(sa.update(InboxCount).where(InboxCount.due == counters.CARRIED,
                                                   InboxCount.holder_id == 0)
                       .values(count=InboxCount.count + 1))
    db.session.commit()
    result = runner.invoke(args=["counters", "check"])
    assert result.exit_code == 1
    assert result.output == ("cs, new, held by nobody, answer wanted, due before 2026-11-24: "
                             "3 cases, the counter says 4\n")


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


@pytest.mark.committed
def test_carrying_forward_while_two_people_change_overdue_cases_keeps_them_right(
        two_agents, make_case, clock, app):
    """Each round a day's cases become ones to carry; two people take and then forward them
    while the nightly run carries the same rows forward: never a lost update, never a
    deadlock, 25 rounds."""
    (cs, turku, agent, _lead), clients = two_agents
    for _round in range(25):
        cases = [make_case(cs, received_at=clock()) for _ in clients]
        make_case(cs, received_at=clock())  # a third, left as it is, on the same rows
        clock.advance(timedelta(days=14))  # now overdue by days carried forward (Easter too)
        carried = []

        def carry(carried=carried):
            with app.app_context():
                carried.append(counters.carry_forward(_today()))
                db.session.commit()
                db.session.remove()

        for action, fields in (("take", {}), ("forward", {"unit": str(turku.id), "note": "Teille."})):
            results = act_at_once(clients, cases, action, fields, also=carry)
            assert results == [302, 302], (action, results)
        assert carried[0] >= 1  # the day the three were due, carried while they were taken
        assert_right([cs.id, turku.id], agent.id, _today())
    counters.carry_forward(_today())
    db.session.commit()
    assert rows_of_days_gone_by() == 0
    assert_right([cs.id, turku.id], agent.id, _today())


def act_at_once(clients, cases, action, fields, also=None):
    """Each client posts `action` with `fields` on its case at the same moment (and `also`
    runs beside them): the statuses."""
    pages = [c.get(f"/cases/{case.reference}").get_data(as_text=True)
             for c, case in zip(clients, cases, strict=True)]
    parties = len(clients) + (also is not None)
    barrier, results = threading.Barrier(parties), [None] * len(clients)

    def post(i):
        data = hidden_fields(pages[i], action)
        data.update({f"{action}-{k}": v for k, v in fields.items()})
        barrier.wait()
        results[i] = clients[i].post(f"/cases/{cases[i].reference}/{action}", data=data).status_code

    def run_also():
        barrier.wait()
        also()

    threads = [threading.Thread(target=post, args=(i,)) for i in range(len(clients))]
    if also is not None:
        threads.append(threading.Thread(target=run_also))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results
