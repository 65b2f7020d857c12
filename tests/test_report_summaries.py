"""The reports read summaries kept in the transaction of every change to a case, and show the
figures that counting the cases gives: on random cases, periods, units and days against a plain
count in Python and against the GROUP BY queries the reports ran before the summaries; after
each case action; across summer time; with two people changing cases of one day at once on
PostgreSQL; and the check command, the demo loader and the migration keep them right."""

import random
import re
from datetime import date, datetime, timedelta

import pytest
import sqlalchemy as sa

from feedback_intranet.extensions import db
from feedback_intranet.models import (
    OPEN_STATUSES,
    Answer,
    Case,
    CaseEvent,
    CaseStatus,
    EventKind,
    IntakeChannel,
    Purpose,
    ReplyChannel,
    ReportDay,
    ReportForwardDay,
    Resolution,
    Segment,
    Topic,
    Unit,
)
from feedback_intranet.replies.answers import mark_delivered
from feedback_intranet.reports import queries, summaries, tables
from feedback_intranet.rules.banking_days import BankingCalendar, local_date
from feedback_intranet.rules.periods import Period, resolve

from .conftest import HELSINKI
from .test_case_pages import post_action
from .test_inbox_counters import act_at_once, two_agents  # noqa: F401  (a fixture)

NOT_OWED = (Resolution.NO_ANSWER_WANTED, Resolution.DUPLICATE, Resolution.WITHDRAWN)


def assert_summaries_right():
    db.session.expire_all()
    assert summaries.differences(db.session.connection(), HELSINKI) == {}


# --- The figures as the reports computed them before the summaries: GROUP BY over the cases. --

RESPONSIBLE_UNIT = sa.func.coalesce(Case.first_answer_unit_id, Case.current_unit_id)
FORWARDED = CaseEvent.kind == sa.literal(EventKind.FORWARDED, CaseEvent.kind.type,
                                         literal_execute=True)


def _received_in(period, unit_ids, tz):
    start, end = period.bounds(tz)
    return (Case.received_at >= start, Case.received_at < end, RESPONSIBLE_UNIT.in_(unit_ids))


def _week_index(period, tz):
    boundaries = [datetime.combine(monday, datetime.min.time(), tzinfo=tz)
                  for monday in period.weeks()[1:]]
    if not boundaries:
        return sa.literal(0)
    return sa.case(*[(Case.received_at < moment, index) for index, moment in enumerate(boundaries)],
                   else_=len(boundaries))


def _promise_columns(today):
    owed = sa.and_(Case.reply_wanted.is_(True),
                   sa.or_(Case.resolution.is_(None), Case.resolution.not_in(NOT_OWED)))
    noticed_in_time = Case.interim_notice_on <= Case.due_date
    kept = sa.or_(Case.first_answer_on <= Case.due_date,
                  sa.and_(noticed_in_time, Case.first_answer_on <= Case.estimated_decision_date))
    deadline_ahead = sa.or_(Case.due_date >= today,
                            sa.and_(noticed_in_time, Case.estimated_decision_date >= today))
    pending = sa.and_(Case.first_answer_on.is_(None), Case.status.in_(OPEN_STATUSES),
                      deadline_ahead)
    noticed = Case.interim_notice_on.is_not(None)

    def total(condition):
        return sa.func.coalesce(sa.func.sum(sa.case((sa.and_(owed, condition), 1), else_=0)), 0)

    return (total(sa.true()), total(kept), total(pending), total(noticed),
            total(sa.and_(noticed, Case.first_answer_on <= Case.estimated_decision_date)))


def old_figures(period, unit_ids, today, tz, names):
    def promise(key):
        rows = db.session.execute(sa.select(key, *_promise_columns(today))
                                  .where(*_received_in(period, unit_ids, tz)).group_by(key)).all()
        return {row[0]: tuple(row[1:]) for row in rows}

    def answer_days(key):
        rows = db.session.execute(
            sa.select(key, Case.first_answer_banking_days, sa.func.count())
            .where(*_received_in(period, unit_ids, tz), Case.first_answer_banking_days.is_not(None))
            .group_by(key, Case.first_answer_banking_days)).all()
        counts = {}
        for value, days, count in rows:
            counts.setdefault(value, []).append((days, count))
        return {value: sorted(pairs) for value, pairs in counts.items()}

    week = _week_index(period, tz).label("week")
    volumes = {dimension: {} for dimension in summaries.DIMENSIONS}
    for row in db.session.execute(
            sa.select(week, Case.topic_id, Case.segment, Case.reply_channel, Case.intake_channel,
                      sa.func.count()).where(*_received_in(period, unit_ids, tz))
            .group_by(week, Case.topic_id, Case.segment, Case.reply_channel, Case.intake_channel)):
        for dimension, value in zip(summaries.DIMENSIONS, row[1:5], strict=True):
            per_week = volumes[dimension].setdefault(value, [0] * len(period.weeks()))
            per_week[row[0]] += row[5]

    start, end = period.bounds(tz)
    received = sa.select(Case.id).where(Case.received_at >= start, Case.received_at < end)
    forwards = (CaseEvent.case_id.in_(received), FORWARDED)
    involves = sa.or_(CaseEvent.from_unit_id.in_(unit_ids), CaseEvent.to_unit_id.in_(unit_ids))
    source, target = sa.orm.aliased(Unit), sa.orm.aliased(Unit)
    moves = [tuple(row) for row in db.session.execute(
        sa.select(source.name, target.name, sa.func.count()).select_from(CaseEvent)
        .join(source, source.id == CaseEvent.from_unit_id)
        .join(target, target.id == CaseEvent.to_unit_id)
        .where(*forwards, involves)
        .group_by(source.id, source.name, target.id, target.name)
        .order_by(sa.func.count().desc(), source.name, target.name))]
    repeated = (sa.select(CaseEvent.case_id).where(*forwards).group_by(CaseEvent.case_id)
                .having(sa.func.count() > 1, sa.func.max(sa.case((involves, 1), else_=0)) == 1)
                ).subquery()
    more_than_once = db.session.scalar(sa.select(sa.func.count()).select_from(repeated))
    return {
        "promise": {"unit": promise(RESPONSIBLE_UNIT), "topic": promise(Case.topic_id),
                    "week": promise(week)},
        "answer_days": {"unit": answer_days(RESPONSIBLE_UNIT),
                        "channel": answer_days(Case.first_answer_channel)},
        "volumes": volumes,
        "forwarding": (moves, more_than_once),
    }


# --- The figures counted plainly in Python, case by case, from the README's definitions. ---

def plain_figures(period, unit_ids, today, tz, names):
    cases = db.session.scalars(sa.select(Case)).all()
    forwards = db.session.scalars(sa.select(CaseEvent).where(
        CaseEvent.kind == EventKind.FORWARDED).order_by(CaseEvent.id)).all()
    first_monday = period.start - timedelta(days=period.start.weekday())
    chosen = set(unit_ids)
    promise = {"unit": {}, "topic": {}, "week": {}}
    answer_days = {"unit": {}, "channel": {}}
    volumes = {dimension: {} for dimension in summaries.DIMENSIONS}
    in_period = set()
    for case in cases:
        day = case.received_at.astimezone(tz).date()
        if period.start <= day <= period.end:
            in_period.add(case.id)
        unit_id = case.first_answer_unit_id if case.first_answer_unit_id is not None \
            else case.current_unit_id
        if not (period.start <= day <= period.end and unit_id in chosen):
            continue
        week = (day - first_monday).days // 7
        answered, due = case.first_answer_on, case.due_date
        notice, estimate = case.interim_notice_on, case.estimated_decision_date
        notice_in_time = notice is not None and notice <= due
        owed = case.reply_wanted and case.resolution not in NOT_OWED
        by_estimate = answered is not None and estimate is not None and answered <= estimate
        kept = answered is not None and (answered <= due or (notice_in_time and by_estimate))
        pending = (answered is None and case.status in OPEN_STATUSES
                   and (due >= today or (notice_in_time and estimate is not None
                                         and estimate >= today)))
        figures = [owed, owed and kept, owed and pending, owed and notice is not None,
                   owed and notice is not None and by_estimate]
        for by, key in (("unit", unit_id), ("topic", case.topic_id), ("week", week)):
            totals = promise[by].setdefault(key, [0] * 5)
            for position, flag in enumerate(figures):
                totals[position] += int(flag)
        if case.first_answer_banking_days is not None:
            for by, key in (("unit", unit_id), ("channel", case.first_answer_channel)):
                counts = answer_days[by].setdefault(key, {})
                days = case.first_answer_banking_days
                counts[days] = counts.get(days, 0) + 1
        for dimension, value in (("topic", case.topic_id), ("segment", case.segment),
                                 ("reply_channel", case.reply_channel),
                                 ("intake_channel", case.intake_channel)):
            volumes[dimension].setdefault(value, [0] * len(period.weeks()))[week] += 1
    moves, per_case = {}, {}
    for event in forwards:
        if event.case_id not in in_period:
            continue
        per_case.setdefault(event.case_id, []).append(event)
        if (event.from_unit_id is not None and event.to_unit_id is not None
                and chosen & {event.from_unit_id, event.to_unit_id}):
            pair = (names[event.from_unit_id], names[event.to_unit_id])
            moves[pair] = moves.get(pair, 0) + 1
    more_than_once = sum(1 for events in per_case.values() if len(events) > 1 and any(
        chosen & {event.from_unit_id, event.to_unit_id} for event in events))
    return {
        "promise": {by: {key: tuple(totals) for key, totals in figures.items()}
                    for by, figures in promise.items()},
        "answer_days": {by: {key: sorted(counts.items()) for key, counts in figures.items()}
                        for by, figures in answer_days.items()},
        "volumes": volumes,
        "forwarding": (sorted(((source, target, count) for (source, target), count in moves.items()),
                              key=lambda move: (-move[2], move[0], move[1])), more_than_once),
    }


def summary_figures(period, unit_ids, today):
    """What the reports read now, in the same shapes."""
    def promise(by):
        return {key: (f.owed, f.kept, f.pending, f.noticed, f.by_estimate)
                for key, f in queries.promise(by, period, unit_ids, today).items()}

    def answer_days(by):
        return {key: sorted(pairs) for key, pairs in queries.answer_days(by, period, unit_ids).items()}

    moves, more_than_once = queries.forwarding(period, unit_ids, "en")
    return {
        "promise": {by: promise(by) for by in ("unit", "topic", "week")},
        "answer_days": {by: answer_days(by) for by in ("unit", "channel")},
        "volumes": queries.volumes(period, unit_ids),
        "forwarding": ([tuple(move) for move in moves], more_than_once),
    }


def report_tables(context, figures=None, monkeypatch=None):
    """Every table of every report over a period; with `figures`, built from those instead of
    the summaries' queries."""
    if figures is not None:
        def promise(by, *_args):
            return {key: queries.PromiseFigures(*totals)
                    for key, totals in figures["promise"][by].items()}

        monkeypatch.setattr(queries, "promise", promise)
        monkeypatch.setattr(queries, "answer_days", lambda by, *_a: figures["answer_days"][by])
        monkeypatch.setattr(queries, "volumes", lambda *_a: figures["volumes"])
        monkeypatch.setattr(queries, "forwarding", lambda *_a: figures["forwarding"])
    try:
        return {(name, table.name): (table.header, table.rows, table.totals)
                for name, kind in tables.REPORTS.items() if kind.uses_period
                for table in kind.build(context).tables}
    finally:
        if monkeypatch is not None:
            monkeypatch.undo()


@pytest.mark.parametrize("start, end", [
    (date(2026, 12, 14), date(2026, 12, 27)),  # Monday to Sunday
    (date(2026, 12, 16), date(2027, 1, 5)),    # Wednesday, over the new year
    (date(2025, 11, 30), date(2026, 11, 30)),  # Sunday, 366 days
])
def test_each_day_of_a_period_falls_in_the_week_of_its_monday(start, end):
    period, day = Period(start, end), start
    while day <= end:
        assert period.weeks()[period.week_of(day)] == day - timedelta(days=day.weekday())
        day += timedelta(days=1)


# --- Random cases, changed the way the operations change them, one commit at a time. ---

FIRST_DAY = date(2026, 1, 1)
DAYS = 400  # over both summer time changes and into the next year


def _random_moment(rng):
    day = FIRST_DAY + timedelta(days=rng.randrange(DAYS))
    # Often near local midnight, where the UTC date is another.
    hour = rng.choice([0, 0, 1, 2, 3, 4, 12, 21, 22, 23, 23])
    return datetime(day.year, day.month, day.day, hour, rng.randrange(60), tzinfo=HELSINKI)


def _new_case(rng, units, topics, calendar):
    received = _random_moment(rng)
    wanted = rng.random() < 0.85
    case = Case(
        reference=f"FB-R-{rng.randrange(10**9):09d}", received_at=received,
        intake_channel=rng.choice(list(IntakeChannel)), segment=rng.choice(list(Segment)),
        topic_id=rng.choice(topics).id, message="Palautetta.", reply_wanted=wanted,
        reply_channel=rng.choice(list(ReplyChannel)) if wanted else None, language="fi",
        status=CaseStatus.NEW, current_unit_id=rng.choice(units).id,
        due_date=calendar.due_date(received), effective_due_date=calendar.due_date(received))
    case.events.append(CaseEvent(kind=EventKind.RECEIVED, to_unit_id=case.current_unit_id,
                                 at=received))
    db.session.add(case)
    return case


def _change(rng, case, units, topics, calendar):
    received_on = local_date(case.received_at, HELSINKI)
    what = rng.choice(["answer", "answer", "notice", "close", "close", "reopen", "forward",
                       "forward", "forget", "details", "wish", "move", "take"])
    if what == "answer" and case.first_answer_on is None:
        at = case.received_at + timedelta(days=rng.randrange(0, 15), hours=rng.randrange(24))
        case.record_first_answer(at, rng.choice(list(ReplyChannel)), calendar)
        case.status = CaseStatus.ANSWERED
    elif what == "notice":
        case.interim_notice_on = received_on + timedelta(days=rng.randrange(0, 9))
        case.set_estimate(case.due_date + timedelta(days=rng.randrange(-2, 12)))
    elif what == "close":
        case.status = CaseStatus.CLOSED
        case.resolution = rng.choice(list(Resolution))
    elif what == "reopen" and case.status == CaseStatus.CLOSED:
        case.status, case.resolution = CaseStatus.ASSIGNED, None
    elif what == "forward":
        target = rng.choice(units)
        source = rng.choice([case.current_unit_id, case.current_unit_id, None])
        db.session.add(CaseEvent(case_id=case.id, kind=EventKind.FORWARDED, from_unit_id=source,
                                 to_unit_id=target.id, at=case.received_at + timedelta(hours=1)))
        case.current_unit_id = target.id
    elif what == "forget":
        case.forget_first_answer()
    elif what == "details":
        case.topic_id = rng.choice(topics).id
        case.segment = rng.choice(list(Segment))
        case.intake_channel = rng.choice(list(IntakeChannel))
    elif what == "wish":
        case.reply_wanted = not case.reply_wanted
        case.reply_channel = rng.choice(list(ReplyChannel)) if case.reply_wanted else None
    elif what == "move":  # not something the app does; the summaries follow it all the same
        case.received_at = _random_moment(rng)
    elif what == "take":
        case.status = CaseStatus.ASSIGNED


def _delete(case):
    for event in db.session.scalars(sa.select(CaseEvent).where(CaseEvent.case_id == case.id)):
        db.session.delete(event)
    db.session.delete(case)


def _random_period(rng):
    if rng.random() < 0.2:
        return resolve("last_month", None, None, FIRST_DAY + timedelta(days=rng.randrange(DAYS)))
    start = FIRST_DAY - timedelta(days=10) + timedelta(days=rng.randrange(DAYS))
    return Period(start, start + timedelta(days=rng.choice([0, 6, 13, 30, rng.randrange(366)])))


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_cases_give_the_same_figures_as_counting_them(data, make_unit, monkeypatch, seed):
    rng = random.Random(seed)
    calendar = BankingCalendar()
    units = [make_unit(code=f"u{n}", name=f"Unit {n}") for n in range(5)]
    topics = [Topic(code=f"t{n}", name=f"Topic {n}") for n in range(3)]
    db.session.add_all(topics)
    db.session.commit()
    cases = []
    for _step in range(160):
        if len(cases) < 15 or rng.random() < 0.3:
            cases.append(_new_case(rng, units, topics, calendar))
        elif rng.random() < 0.05:
            _delete(cases.pop(rng.randrange(len(cases))))
        else:
            for _change_count in range(rng.choice([1, 1, 2])):
                _change(rng, rng.choice(cases), units, topics, calendar)
        if rng.random() < 0.1:
            db.session.flush()  # a flush of its own before the commit's
        db.session.commit()
    assert_summaries_right()
    names = {unit.id: unit.name for unit in units}
    open_cases = db.session.scalars(sa.select(Case).where(Case.status.in_(OPEN_STATUSES))).all()
    for example in range(24):
        period = _random_period(rng)
        chosen = rng.sample(units, rng.randrange(1, len(units) + 1))
        today = FIRST_DAY + timedelta(days=rng.randrange(-5, DAYS + 20))
        if example % 2:
            # Around an open case's deadline, where today decides whether it is not yet due.
            case = rng.choice(open_cases)
            day = local_date(case.received_at, HELSINKI)
            period = Period(day - timedelta(days=rng.randrange(30)), day + timedelta(days=30))
            today = rng.choice([case.due_date, case.estimated_decision_date or case.due_date]) \
                + timedelta(days=rng.choice([-1, 0, 1]))
            chosen.append(db.session.get(Unit, case.first_answer_unit_id or case.current_unit_id))
            chosen = list(set(chosen))
        unit_ids = [unit.id for unit in chosen]
        kept = summary_figures(period, unit_ids, today)
        plain = plain_figures(period, unit_ids, today, HELSINKI, names)
        assert kept == plain, (period, unit_ids, today)
        assert old_figures(period, unit_ids, today, HELSINKI, names) == plain
        context = tables.Context(sorted(chosen, key=lambda unit: unit.name), period, today,
                                 HELSINKI, "en")
        assert report_tables(context) == report_tables(context, plain, monkeypatch)


# --- The summaries after each case action. ---

NOW = datetime(2026, 11, 25, 10, 0, tzinfo=HELSINKI)  # Wednesday


@pytest.fixture
def org(make_unit, make_user):
    from feedback_intranet.models import UnitKind

    cs = make_unit(code="cs", name="Customer service", kind=UnitKind.CUSTOMER_SERVICE)
    turku = make_unit(code="turku", name="Turku")
    return cs, turku, make_user("cs.agent", units=[cs, turku]), make_user("cs.lead", lead_of=[cs])


def test_every_case_action_keeps_the_summaries(client, login, org, make_case, clock):
    cs, turku, agent, _lead = org
    clock.set(NOW)
    cases = [make_case(cs, received_at=NOW - timedelta(days=i)) for i in range(5)]
    loans = Topic(code="loans", name="Loans")
    db.session.add(loans)
    db.session.commit()
    login("cs.agent")
    assert_summaries_right()
    steps = [
        (cases[0], "take", {}),
        (cases[1], "forward", {"unit": str(turku.id), "note": "Teille."}),
        (cases[1], "forward", {"unit": str(cs.id), "note": "Takaisin."}),
        (cases[2], "interim_notice", {"estimate": "2026-12-04",
                                      "text": "Vastaamme viimeistään 4.12.2026."}),
        (cases[0], "answer", {"channel": "email", "final": "y", "send": "Send",
                              "body": "Vastaus."}),
        (cases[2], "correct", {"topic_id": str(loans.id), "segment": "business",
                               "case_type": "feedback", "contact_name": "Aino Asiakas",
                               "contact_street": "Bulevardi 1", "contact_postal_code": "00120",
                               "contact_city": "Helsinki", "contact_phone": "+358401234567",
                               "contact_email": "aino@example.fi"}),
        (cases[3], "close", {"resolution": "withdrawn"}),
        (cases[3], "reopen", {"reason": "Asiakas soitti uudelleen."}),
        (cases[4], "duplicate", {"original": cases[3].reference}),
    ]
    for case, action, fields in steps:
        if action == "correct":  # a page of its own: its fields have no prefix
            page = client.get(f"/cases/{case.reference}/correct").get_data(as_text=True)
            hidden = dict(re.findall(r'name="(token|version)" type="hidden" value="([^"]+)"', page))
            response = client.post(f"/cases/{case.reference}/correct", data={**hidden, **fields})
        else:
            response = post_action(client, case, action, **fields)
        assert response.status_code == 302, (action, [line for line in response.get_data(
            as_text=True).splitlines() if "error" in line][:8])
        assert_summaries_right()
    # The email reaches the mail server: the first answer counts from then on.
    answer = db.session.scalar(sa.select(Answer).where(Answer.case_id == cases[0].id,
                                                       Answer.purpose == Purpose.ANSWER))
    case = db.session.get(Case, cases[0].id)
    mark_delivered(answer, case, NOW + timedelta(hours=2), BankingCalendar())
    db.session.commit()
    assert_summaries_right()
    assert db.session.scalar(sa.select(sa.func.sum(ReportDay.kept))) == 4  # one per dimension
    assert db.session.scalar(sa.select(sa.func.sum(ReportForwardDay.count))) == 2


def test_retention_leaves_them_right(org, make_case):
    from feedback_intranet import retention

    cs, _turku, _agent, _lead = org
    old = NOW - timedelta(days=4 * 365)
    closed = make_case(cs, received_at=old, status=CaseStatus.CLOSED)
    closed.closed_at, closed.resolution = old + timedelta(days=3), Resolution.OTHER
    db.session.commit()
    assert retention.apply(NOW, 36).cases == 1
    assert_summaries_right()
    assert db.session.scalar(sa.select(sa.func.sum(ReportDay.received))) == 4


def test_a_rolled_back_change_counts_nothing(org, make_case):
    cs, turku, _agent, _lead = org
    case = make_case(cs, received_at=NOW)
    case.current_unit_id = turku.id
    db.session.flush()
    db.session.rollback()
    case.status = CaseStatus.CLOSED
    db.session.commit()
    assert_summaries_right()


@pytest.mark.parametrize("received, day", [
    # Summer time begins on 29 March 2026 at 03:00 local (01:00 UTC); ends 25 October at 04:00.
    (datetime(2026, 3, 28, 23, 30, tzinfo=HELSINKI), date(2026, 3, 28)),  # 21:30 UTC
    (datetime(2026, 3, 29, 0, 30, tzinfo=HELSINKI), date(2026, 3, 29)),   # 22:30 UTC the day before
    (datetime(2026, 3, 29, 23, 30, tzinfo=HELSINKI), date(2026, 3, 29)),  # 20:30 UTC
    (datetime(2026, 3, 30, 0, 15, tzinfo=HELSINKI), date(2026, 3, 30)),   # 21:15 UTC the day before
    (datetime(2026, 10, 25, 0, 30, tzinfo=HELSINKI), date(2026, 10, 25)),  # 21:30 UTC the day before
    (datetime(2026, 10, 25, 3, 30, tzinfo=HELSINKI, fold=1), date(2026, 10, 25)),  # the hour twice
    (datetime(2026, 10, 25, 23, 30, tzinfo=HELSINKI), date(2026, 10, 25)),  # 21:30 UTC
    (datetime(2026, 10, 26, 1, 30, tzinfo=HELSINKI), date(2026, 10, 26)),  # 23:30 UTC the day before
])
def test_a_case_counts_on_its_local_day_across_summer_time(org, make_case, received, day):
    cs, _turku, _agent, _lead = org
    make_case(cs, received_at=received)
    assert db.session.scalars(sa.select(ReportDay.day).distinct()).all() == [day]
    for start in (day - timedelta(days=1), day, day + timedelta(days=1)):
        period = Period(start, start)
        expected = 1 if start == day else 0
        start_at, end_at = period.bounds(HELSINKI)
        assert (start_at <= received < end_at) == bool(expected)
        counted = queries.volumes(period, [cs.id])["segment"]
        assert sum(sum(weeks) for weeks in counted.values()) == expected


def test_the_check_command_finds_and_fixes_a_wrong_summary(runner, org, make_case):
    cs, _turku, _agent, _lead = org
    make_case(cs, received_at=NOW)
    assert runner.invoke(args=["reports", "check"]).exit_code == 0
    db.session.execute(sa.update(ReportDay).where(ReportDay.dimension == "topic")
                       .values(owed=ReportDay.owed + 2))
    db.session.execute(sa.delete(ReportDay).where(ReportDay.dimension == "segment"))
    db.session.commit()
    result = runner.invoke(args=["reports", "check"])
    assert result.exit_code == 1
    assert (f"daily figures, dimension topic, day {NOW.date().isoformat()}, unit cs, value"
            in result.output)
    assert ("the cases make received 1, owed 1, kept 0, awaiting 1, noticed 0, by the estimate 0; "
            "the summary says received 1, owed 3, kept 0, awaiting 1, noticed 0, by the estimate 0"
            in result.output)
    assert "; the summary says nothing" in result.output
    assert "report_day" not in result.output and "unit_id" not in result.output
    fixed = runner.invoke(args=["reports", "check", "--fix"])
    assert fixed.exit_code == 0 and "Counted again: 2 summary rows were wrong." in fixed.output
    assert_summaries_right()


@pytest.mark.committed  # seed-demo refreshes statistics on a connection of its own
def test_the_demo_loader_leaves_them_right(runner, data):
    assert runner.invoke(args=["seed-demo"]).exit_code == 0
    assert_summaries_right()
    assert db.session.scalar(sa.select(sa.func.sum(ReportDay.received))) > 4 * 200
    assert db.session.scalar(sa.select(sa.func.sum(ReportForwardDay.count))) > 0


# --- Two people at once on PostgreSQL. ---

@pytest.mark.committed
def test_two_people_changing_cases_of_one_day_at_once_keep_them_right(two_agents, make_case):  # noqa: F811
    """Both take, close, reopen, send an interim notice on and forward cases received the same
    day in the same unit and topic, so both commits move the same summary rows: never a lost
    update, never a deadlock, 10 rounds."""
    (cs, turku, _agent, _lead), clients = two_agents
    for _round in range(10):
        cases = [make_case(cs, received_at=NOW) for _ in clients]
        for action, fields in (("take", {}),
                               ("close", {"resolution": "other"}),
                               ("reopen", {"reason": "Uudelleen."}),
                               ("interim_notice", {"estimate": "2026-12-04",
                                                   "text": "Vastaamme viimeistään 4.12.2026."}),
                               ("forward", {"unit": str(turku.id), "note": "Teille."})):
            results = act_at_once(clients, cases, action, fields)
            assert results == [302, 302], (action, results)
        assert_summaries_right()
    assert db.session.scalar(sa.select(sa.func.sum(ReportForwardDay.count))) == 20
