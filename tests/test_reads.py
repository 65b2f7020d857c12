"""Reads of plain columns on the session's connection (reads.py), and the case page's timeline
read so: the same rows as through the session, and what the request changed is seen."""

from datetime import timedelta

import sqlalchemy as sa

from feedback_intranet.cases import queries
from feedback_intranet.extensions import db
from feedback_intranet.models import CaseEvent, EventKind, Unit
from feedback_intranet.reads import read

from .conftest import DEFAULT_NOW


def test_a_read_sees_what_the_session_has_not_yet_written(data, make_unit):
    unit = make_unit(code="turku", name="Turku")
    unit.name = "Turku Centre"
    db.session.add(Unit(code="vaasa", name="Vaasa", kind=unit.kind, street_address="Testikatu 1",
                        postal_code="00100", city="Helsinki"))
    assert read(sa.select(Unit.code, Unit.name).order_by(Unit.code)).all() == [
        ("turku", "Turku Centre"), ("vaasa", "Vaasa")]
    db.session.rollback()
    assert read(sa.select(Unit.code, Unit.name)).all() == [("turku", "Turku")]


def test_a_read_gives_the_rows_and_names_the_session_gives(data, units, make_user, make_case):
    make_user("cs.agent", units=[units["cs"]])
    make_case(units["cs"])
    statement = (sa.select(Unit.id, Unit.name.label("unit_name"), sa.func.count(CaseEvent.id))
                 .outerjoin(CaseEvent, CaseEvent.to_unit_id == Unit.id)
                 .group_by(Unit.id, Unit.name).order_by(Unit.id))
    through_session = db.session.execute(statement).all()
    rows = read(statement).all()
    assert rows == through_session and len(rows) == 4
    # Columns and labels are named alike; an unlabelled expression is not ("count_1" against
    # "count"), so callers read such rows by position.
    assert [(row.id, row.unit_name) for row in rows] == [
        (row.id, row.unit_name) for row in through_session]
    assert rows[0].unit_name == "Customer service"


def test_the_timeline_reads_each_event_with_its_actor_and_units_by_name(data, units, make_user,
                                                                        make_case):
    agent = make_user("cs.agent", units=[units["cs"]], full_name="Anna Agent")
    units["turku"].name_fi, units["turku"].name_sv = "Turku FI", "Åbo"
    case = make_case(units["cs"])
    for minutes, event in enumerate([
            CaseEvent(kind=EventKind.ASSIGNED, actor=agent, facts={"previous": None}),
            CaseEvent(kind=EventKind.FORWARDED, actor=agent, from_unit_id=units["cs"].id,
                      to_unit_id=units["turku"].id, text="Teidän asiakkaanne."),
            CaseEvent(kind=EventKind.NOTE, text="Ilman tekijää", facts=None)], start=1):
        event.at = DEFAULT_NOW + timedelta(minutes=minutes)
        case.events.append(event)
    db.session.commit()

    timeline = queries.timeline(case)
    stored = db.session.scalars(sa.select(CaseEvent).where(CaseEvent.case_id == case.id)
                                .order_by(CaseEvent.at, CaseEvent.id)).all()
    assert timeline.earlier == 0 and len(timeline.events) == len(stored) == 4
    for shown, event in zip(timeline.events, stored, strict=True):
        assert (shown.id, shown.kind, shown.at, shown.text, shown.facts) == (
            event.id, event.kind, event.at, event.text, event.facts)
        assert (shown.actor.full_name if shown.actor else None) == (
            event.actor.full_name if event.actor else None)
        for unit_shown, unit in ((shown.from_unit, event.from_unit),
                                 (shown.to_unit, event.to_unit)):
            assert (unit_shown is None) == (unit is None)
            if unit is not None:
                assert [unit_shown.name_in(language) for language in ("en", "fi", "sv")] == [
                    unit.name_in(language) for language in ("en", "fi", "sv")]
    assert timeline.received.kind == EventKind.RECEIVED
    assert timeline.events[2].to_unit.name_in("sv") == "Åbo"
    assert timeline.events[3].actor is None and timeline.events[3].from_unit is None

    # The newest two and the receipt; one left out before them.
    shortened = queries.timeline(case, newest=2)
    assert [event.kind for event in shortened.events] == [
        EventKind.RECEIVED, EventKind.FORWARDED, EventKind.NOTE]
    assert shortened.earlier == 1
