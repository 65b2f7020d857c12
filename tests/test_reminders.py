"""The morning summaries: who hears what on each banking morning of a week with Ascension Day,
an extra closing day and a weekend; nothing on closed days, nothing twice, in each reader's
language, never the customer's words; escalations to the team lead, the unit's escalation
address or the administrators; delivered by the outbox worker as automatic mail."""

import threading
from collections import Counter
from datetime import date, datetime, timedelta

import pytest
import sqlalchemy as sa

from feedback_intranet import clock as app_clock
from feedback_intranet.closing_days import banking_calendar
from feedback_intranet.extensions import db
from feedback_intranet.models import (
    Answer,
    AnswerStatus,
    CallbackTask,
    CaseEscalation,
    CaseEvent,
    CasePastUnit,
    CaseStatus,
    ClosingDay,
    EventKind,
    Language,
    Letter,
    Membership,
    MorningDigest,
    OutboxKind,
    OutboxMessage,
    Purpose,
    ReplyChannel,
    Segment,
    UnitKind,
)
from feedback_intranet.reminders import digests, operations
from feedback_intranet.reminders import queries as q
from feedback_intranet.rules.banking_days import BankingCalendar

from .conftest import HELSINKI

# The week of Ascension Day 2026: Thursday 14.5 is the holiday, the bank closes Friday 15.5 too.
MONDAY, TUESDAY, WEDNESDAY = date(2026, 5, 11), date(2026, 5, 12), date(2026, 5, 13)
ASCENSION_DAY, BRIDGE_DAY = date(2026, 5, 14), date(2026, 5, 15)
NEXT_MONDAY = date(2026, 5, 18)
WEEK = [MONDAY + timedelta(days=n) for n in range(8)]


def morning(day):
    return datetime.combine(day, datetime.min.time().replace(hour=7, minute=30), tzinfo=HELSINKI)


def run(clock, day, dry_run=False):
    clock.set(morning(day))
    return operations.send_morning(app_clock.now(), banking_calendar(app_clock.timezone()),
                                   dry_run=dry_run)


def summaries(day=None):
    """{recipient address: outbox message} of the summaries queued (on `day`)."""
    query = sa.select(OutboxMessage).where(OutboxMessage.kind == OutboxKind.MORNING_DIGEST)
    if day is not None:
        query = query.where(OutboxMessage.created_at == morning(day))
    return {m.recipient: m for m in db.session.scalars(query)}


@pytest.fixture
def office(data, make_unit, make_user, make_case, topic):
    """Customer service with a lead (en), a member (sv) and a member who turned the summary off;
    Cards, a central unit without a lead or address (so: the administrator); Vaasa, without a
    lead but with an escalation address read in Swedish."""
    topic.name_fi, topic.name_sv = "Kortit", "Kort"
    cs = make_unit(code="cs", name="Customer service", kind=UnitKind.CUSTOMER_SERVICE)
    cs.name_fi, cs.name_sv = "Asiakaspalvelu", "Kundtjänst"
    cards = make_unit(code="cards", name="Cards", kind=UnitKind.CENTRAL_UNIT)
    vaasa = make_unit(code="vaasa", name="Vaasa")
    vaasa.escalation_email, vaasa.escalation_language = "Vaasa.Desk@bank.example", Language.SV
    people = {
        "lead": make_user("cs.lead", lead_of=[cs]),
        "agent": make_user("cs.agent", units=[cs]),
        "quiet": make_user("cs.quiet", units=[cs]),
        "cards": make_user("cards.staff", units=[cards]),
        "admin": make_user("admin", is_admin=True),
    }
    people["agent"].language = Language.SV
    people["quiet"].morning_digest = False
    db.session.add(ClosingDay(day=BRIDGE_DAY, reason="Bridge day after Ascension"))
    db.session.commit()

    def case(unit, due, holder=None, **kwargs):
        made = make_case(unit, received_at=morning(due) - timedelta(days=5),
                         status=CaseStatus.ASSIGNED if holder else CaseStatus.NEW,
                         assignee=holder, **kwargs)
        made.due_date = made.effective_due_date = due
        if holder:
            made.events.append(CaseEvent(kind=EventKind.ASSIGNED, actor_id=holder.id,
                                         from_unit_id=unit.id, at=morning(due) - timedelta(days=4)))
        db.session.commit()
        return made

    cases = {
        "A": case(cs, WEDNESDAY, people["agent"]),
        "B": case(cs, TUESDAY),
        "C": case(cards, WEDNESDAY, people["cards"]),
        "D": case(vaasa, date(2026, 5, 8)),
        "E": case(cs, TUESDAY, people["quiet"]),
    }
    return {"units": {"cs": cs, "cards": cards, "vaasa": vaasa}, "people": people,
            "cases": cases, "case": case}


LEAD, AGENT, QUIET = "cs.lead@bank.example", "cs.agent@bank.example", "cs.quiet@bank.example"
CARDS, ADMIN, VAASA = "cards.staff@bank.example", "admin@bank.example", "vaasa.desk@bank.example"


def test_across_a_week_with_a_holiday_a_closing_day_and_a_weekend_each_morning_tells_who_needs_to_know(
        office, clock):
    sent = {}
    for day in WEEK:
        run(clock, day)
        sent[day] = summaries(day)

    assert set(sent[MONDAY]) == {LEAD, VAASA}  # B unassigned and due tomorrow; D overdue
    assert set(sent[TUESDAY]) == {LEAD, AGENT, CARDS, VAASA}  # A and C due the next banking day
    assert set(sent[WEDNESDAY]) == {LEAD, AGENT, CARDS, VAASA}
    for closed in (ASCENSION_DAY, BRIDGE_DAY, date(2026, 5, 16), date(2026, 5, 17)):
        assert sent[closed] == {}
    assert set(sent[NEXT_MONDAY]) == {LEAD, AGENT, CARDS, ADMIN, VAASA}

    a, b, c, e = (office["cases"][k].reference for k in "ABCE")
    assert f"{b} · Cards · due in 1 banking day" in sent[MONDAY][LEAD].body_text
    assert "förfaller om 1 bankdag" in sent[TUESDAY][AGENT].body_text  # A, in Swedish
    assert "Due on the next banking day" in sent[TUESDAY][CARDS].body_text
    # Wednesday: the next banking day is Monday, after the holiday, the closing day and the weekend.
    assert "förfaller i dag" in sent[WEDNESDAY][AGENT].body_text
    wednesday_lead = sent[WEDNESDAY][LEAD].body_text
    assert "overdue 1 banking day" in wednesday_lead  # B and E, overdue since Tuesday ended
    assert e in wednesday_lead and "Cs Quiet" in wednesday_lead and a not in wednesday_lead
    # C is held by a central unit and due: send an interim notice rather than "answer".
    cards_wednesday = sent[WEDNESDAY][CARDS].body_text
    assert "send an interim notice with an estimate" in cards_wednesday
    assert "\nDue today\n" not in cards_wednesday
    # Next Monday A and C are overdue 1 banking day (Thursday and Friday were closed).
    assert "overdue 1 banking day" in sent[NEXT_MONDAY][CARDS].body_text
    admin = sent[NEXT_MONDAY][ADMIN].body_text
    assert "Cards has no team lead, so its summary comes to you." in admin
    assert c in admin and "/inbox/cards?filter=attention" in admin


def test_a_second_run_the_same_morning_sends_nothing_twice(office, clock):
    first = run(clock, NEXT_MONDAY)
    assert (first.sent, first.with_escalations) == (5, 3)  # cs, cards and Vaasa escalate
    again = run(clock, NEXT_MONDAY)
    assert (again.sent, again.already_sent) == (0, 5)
    assert len(summaries()) == 5
    records = db.session.scalars(sa.select(MorningDigest)).all()
    assert sorted(r.recipient for r in records) == sorted(
        [f"user:{office['people'][k].id}" for k in ("lead", "agent", "cards", "admin")]
        + [f"address:{VAASA}"])
    assert all(r.outbox_message_id and r.day == NEXT_MONDAY for r in records)


def test_nothing_is_sent_to_anyone_with_nothing_to_be_told(office, clock):
    done = run(clock, MONDAY)
    # The agent, the cards member and the administrator have nothing on Monday; the member
    # who turned the summary off and leads nothing is not asked.
    assert (done.sent, done.nothing_to_tell) == (2, 3)


def test_each_summary_is_written_in_its_readers_language(office, clock):
    office["people"]["lead"].language = Language.FI
    db.session.commit()
    run(clock, NEXT_MONDAY)
    sent = summaries(NEXT_MONDAY)
    assert '<html lang="fi">' in sent[LEAD].body_html
    assert "ASIAKASPALVELU" in sent[LEAD].body_text and "Kortit" in sent[LEAD].body_text
    assert "myöhässä" in sent[LEAD].body_text
    assert '<html lang="sv">' in sent[AGENT].body_html and "Kort" in sent[AGENT].body_text
    assert "försenad 1 bankdag" in sent[AGENT].body_text
    # The escalation address reads Swedish, as set for Vaasa; the admin English.
    assert '<html lang="sv">' in sent[VAASA].body_html and "försenad" in sent[VAASA].body_text
    assert '<html lang="en">' in sent[ADMIN].body_html and "overdue" in sent[ADMIN].body_text


def test_a_member_who_turned_the_summary_off_hears_nothing_but_a_lead_still_gets_the_units(
        office, clock):
    lead = office["people"]["lead"]
    lead.morning_digest = False
    office["case"](office["units"]["cs"], WEDNESDAY, lead)  # the lead's own case, due that day
    db.session.commit()
    run(clock, WEDNESDAY)
    sent = summaries(WEDNESDAY)
    assert QUIET not in sent  # E is overdue in their hands: their lead hears of it
    body = sent[LEAD].body_text
    assert "CUSTOMER SERVICE" in body and office["cases"]["E"].reference in body
    assert "Your cases" not in body and "YOUR CASES" not in body


def test_a_unit_without_a_lead_escalates_to_its_address_or_else_to_the_administrators(
        office, clock, make_user):
    run(clock, MONDAY)
    sent = summaries(MONDAY)
    vaasa = sent[VAASA]
    assert "Vaasa" in vaasa.body_text and office["cases"]["D"].reference in vaasa.body_text
    assert ADMIN not in sent  # Vaasa's address was told; Cards has nothing to tell yet
    # Once Vaasa has a lead, the lead is told and the address no longer.
    make_user("vaasa.lead", lead_of=[office["units"]["vaasa"]])
    run(clock, TUESDAY)
    sent = summaries(TUESDAY)
    assert "vaasa.lead@bank.example" in sent and VAASA not in sent
    # Without an address either, the administrators are told.
    office["units"]["vaasa"].escalation_email = ""
    db.session.execute(sa.delete(Membership).where(
        Membership.unit_id == office["units"]["vaasa"].id))
    second_admin = make_user("second.admin", is_admin=True)
    second_admin.language = Language.SV
    db.session.commit()
    run(clock, WEDNESDAY)
    sent = summaries(WEDNESDAY)
    assert VAASA not in sent and office["cases"]["D"].reference in sent[ADMIN].body_text
    assert "Vaasa has no team lead, so its summary comes to you." in sent[ADMIN].body_text
    assert '<html lang="sv">' in sent["second.admin@bank.example"].body_html


def test_the_summary_never_carries_the_customers_message_name_or_contact_details(
        office, clock, make_case):
    secret = make_case(office["units"]["cs"], received_at=morning(MONDAY) - timedelta(days=9),
                       contact_name="Tuulikki Salaisuus", message="Tilini FI21 1234 5600 0007 85 on lukittu.")
    secret.contact_email, secret.contact_phone = "tuulikki@example.fi", "+358401112233"
    secret.contact_street = "Piilotie 13"
    db.session.commit()
    run(clock, MONDAY)
    mail = summaries(MONDAY)[LEAD]
    whole = mail.subject + mail.body_text + mail.body_html
    assert secret.reference in whole
    for private in ("Tuulikki", "Salaisuus", "Tilini", "lukittu", "tuulikki@example.fi",
                    "+358401112233", "Piilotie", "Aino Asiakas", "Korttini"):
        assert private not in whole


def test_an_overdue_case_is_escalated_once_per_unit_on_its_first_overdue_morning(office, clock):
    for day in WEEK:
        run(clock, day)
    cases = office["cases"]
    escalations = {(e.case_id, e.unit_id): e.escalated_on
                   for e in db.session.scalars(sa.select(CaseEscalation))}
    units = office["units"]
    assert escalations == {
        (cases["D"].id, units["vaasa"].id): MONDAY,
        (cases["B"].id, units["cs"].id): WEDNESDAY,
        (cases["E"].id, units["cs"].id): WEDNESDAY,
        (cases["A"].id, units["cs"].id): NEXT_MONDAY,
        (cases["C"].id, units["cards"].id): NEXT_MONDAY,
    }
    # Forwarded to Cards while overdue, B is escalated there too, on its first morning there.
    cases["B"].current_unit_id = units["cards"].id
    db.session.add(CasePastUnit(case_id=cases["B"].id, unit_id=units["cs"].id))
    db.session.commit()
    run(clock, NEXT_MONDAY + timedelta(days=1))
    assert db.session.get(CaseEscalation, (cases["B"].id, units["cards"].id)).escalated_on == (
        NEXT_MONDAY + timedelta(days=1))
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CaseEscalation)) == 6


def test_letters_not_posted_calls_not_made_and_cases_of_people_who_left_reach_the_lead(
        office, clock, make_user):
    cs, people, cases = office["units"]["cs"], office["people"], office["cases"]

    def answer(case, channel, made, status=AnswerStatus.PENDING):
        row = Answer(case_id=case.id, purpose=Purpose.ANSWER, channel=channel, text="Hei",
                     status=status, created_at=made, created_by_id=people["agent"].id)
        db.session.add(row)
        db.session.flush()
        return row

    # Letters made Monday are late on Wednesday morning (Tuesday was the day to post them);
    # Tuesday's are not yet, nor is a cancelled one.
    monday, tuesday = morning(MONDAY) + timedelta(hours=3), morning(TUESDAY) + timedelta(hours=3)
    # Their cases are held by a member, so they are listed for their letters and calls only.
    late, cancelled, fresh = (office["case"](cs, NEXT_MONDAY, people["quiet"]) for _ in range(3))
    for case, made, status in ((late, monday, AnswerStatus.PENDING),
                               (cancelled, monday, AnswerStatus.CANCELLED),
                               (fresh, tuesday, AnswerStatus.PENDING)):
        row = answer(case, ReplyChannel.LETTER, made, status)
        db.session.add(Letter(case_id=case.id, answer_id=row.id, unit_id=cs.id, pdf=b"%PDF",
                              created_at=made))
    # A call planned for Tuesday 10-11 and not made; one planned for Wednesday is not late yet.
    unmade, planned = (office["case"](cs, NEXT_MONDAY, people["quiet"]) for _ in range(2))
    for case, start in ((unmade, morning(TUESDAY) + timedelta(hours=2, minutes=30)),
                        (planned, morning(WEDNESDAY) + timedelta(hours=2, minutes=30))):
        row = answer(case, ReplyChannel.PHONE, monday)
        db.session.add(CallbackTask(case_id=case.id, answer_id=row.id, unit_id=cs.id,
                                    phone="+358401234567", segment=Segment.PRIVATE,
                                    window_start=start, window_end=start + timedelta(hours=1),
                                    due_at=start + timedelta(hours=1), created_at=monday))
    # The agent moved to Cards; a former colleague left the bank.
    db.session.execute(sa.delete(Membership).where(Membership.user_id == people["agent"].id))
    former = make_user("cs.former", units=[cs])
    held = office["case"](cs, NEXT_MONDAY, former)
    former.active = False
    db.session.commit()

    run(clock, WEDNESDAY)
    body = summaries(WEDNESDAY)[LEAD].body_text
    letters = body.split("Letters not marked posted by the next banking day")[1].split("\n\n")[0]
    assert late.reference in letters and "made on 11.5.2026" in letters
    assert cancelled.reference not in body and fresh.reference not in body
    calls = body.split("Callbacks not made on their day")[1].split("\n\n")[0]
    assert unmade.reference in calls and "to call on 12.5.2026 at 10:00" in calls
    assert planned.reference not in calls
    left = body.split("Held by people who have left the unit")[1].split("\n\n")[0]
    assert f"{cases['A'].reference} · Cards · due today · held by Cs Agent" in left
    assert f"{held.reference} · Cards · due in 1 banking day · held by Cs Former" in left
    assert "/letters/cs" in body and "/callbacks/cs" in body


def test_a_case_whose_answer_is_on_its_way_is_not_called_due_on_the_next_banking_day(
        office, clock):
    a = office["cases"]["A"]
    db.session.add(Answer(case_id=a.id, purpose=Purpose.ANSWER, channel=ReplyChannel.LETTER,
                          text="Hei", status=AnswerStatus.PENDING, created_at=morning(MONDAY),
                          created_by_id=office["people"]["agent"].id))
    db.session.commit()
    run(clock, TUESDAY)
    assert AGENT not in summaries(TUESDAY)


def test_a_long_list_shows_its_first_rows_and_says_how_many_more_with_a_link(office, clock):
    for _ in range(q.CAP + 3):
        office["case"](office["units"]["cs"], date(2026, 5, 4))
    run(clock, MONDAY)
    body = summaries(MONDAY)[LEAD].body_text
    overdue = body.split("Overdue\n")[1].split("\n\n")[0]
    assert overdue.count("\n- ") + overdue.startswith("- ") == q.CAP
    assert "and 3 more: http://127.0.0.1:5000/inbox/cs?filter=attention" in overdue


def test_the_lead_reads_who_holds_an_overdue_case_and_for_how_many_banking_days(office, clock):
    run(clock, NEXT_MONDAY)
    # A was taken on Saturday 9.5: held Monday to Wednesday and Monday again, the closed days not
    # counted.
    body = summaries(NEXT_MONDAY)[LEAD].body_text
    a, b = office["cases"]["A"].reference, office["cases"]["B"].reference
    assert f"{a} · Cards · overdue 1 banking day · held by Cs Agent for 4 banking days" in body
    assert f"{b} · Cards · overdue 2 banking days · held by nobody" in body


def test_the_summary_reaches_a_real_mail_server_marked_as_automatic_mail(
        office, clock, smtp_server, run_worker):
    run(clock, TUESDAY)
    db.session.commit()
    assert run_worker() == {"sent": 4}
    by_recipient = {m["To"]: m for m in smtp_server.messages}
    assert set(by_recipient) == {LEAD, AGENT, CARDS, VAASA}
    mail = by_recipient[AGENT]
    assert mail["Auto-Submitted"] == "auto-generated"
    [text] = [part.get_payload(decode=True).decode() for part in mail.walk()
              if part.get_content_type() == "text/plain"]
    assert "förfaller om 1 bankdag" in text and office["cases"]["A"].reference in text


@pytest.mark.parametrize("kind, automatic", [
    (OutboxKind.NOTIFICATION, True), (OutboxKind.MORNING_DIGEST, True),
    (OutboxKind.CONFIRMATION, True), (OutboxKind.ANSWER, False),
    (OutboxKind.INTERIM_NOTICE, False), (OutboxKind.WRITTEN_CONFIRMATION, False),
])
def test_only_mail_nobody_wrote_is_marked_auto_submitted(data, clock, smtp_server, run_worker,
                                                          kind, automatic):
    from feedback_intranet import outbox

    outbox.enqueue(kind=kind, recipient="someone@example.fi", subject="Hei", body_text="Hei",
                   now=app_clock.now())
    db.session.commit()
    assert run_worker() == {"sent": 1}
    [mail] = smtp_server.messages
    assert mail["Auto-Submitted"] == ("auto-generated" if automatic else None)


def test_the_command_says_what_it_sent_and_nothing_on_easter_monday(office, runner, clock):
    clock.set(morning(date(2026, 4, 6)))
    result = runner.invoke(args=["reminders", "send"])
    assert result.output == "Monday 6.4.2026 is not a banking day (Easter Monday): nothing sent.\n"
    clock.set(morning(date(2026, 4, 4)))
    assert "Saturday 4.4.2026 is not a banking day (weekend)" in runner.invoke(
        args=["reminders", "send"]).output
    clock.set(morning(BRIDGE_DAY))
    assert ("Friday 15.5.2026 is not a banking day (a closing day: Bridge day after Ascension)"
            in runner.invoke(args=["reminders", "send"]).output)

    clock.set(morning(NEXT_MONDAY))
    dry = runner.invoke(args=["reminders", "send", "--dry-run"]).output
    # The lead holds nothing, so has no section of their own cases.
    assert "cs.lead@bank.example (en): cs: 3 overdue\n" in dry
    assert "vaasa.desk@bank.example (sv): vaasa (no team lead): 1 overdue\n" in dry
    assert dry.endswith("Would send 5 morning summaries.\n")
    assert summaries() == {}

    result = runner.invoke(args=["reminders", "send"])
    assert result.output == ("Sent 5 morning summaries (3 with escalations); 5 cases escalated "
                             "as overdue for the first time.\n")
    again = runner.invoke(args=["reminders", "send"]).output
    assert again == "Sent 0 morning summaries (0 with escalations); 5 people had theirs already.\n"


# Pure parts.

def person(id, wants_own=True, is_admin=False, leads=(), language="fi"):
    return q.Person(id, f"Person {id}", f"p{id}@bank.example", language, wants_own, is_admin,
                    tuple(leads))


def unit(id, address="", language="fi"):
    return q.UnitInfo(id, f"u{id}", (f"Unit {id}", "", ""), "branch_office", address, language)


def test_units_without_a_lead_go_to_their_address_else_to_every_administrator():
    people = [person(1, leads=[10]), person(2, wants_own=False, is_admin=True),
              person(3, is_admin=True, leads=[11]), person(4, wants_own=False)]
    units = [unit(10), unit(11), unit(12, "desk@bank.example", "sv"), unit(13),
             unit(14, "desk@bank.example", "fi")]
    by_key = {r.key: r for r in digests.recipients(people, units)}
    assert set(by_key) == {"user:1", "user:2", "user:3", "address:desk@bank.example"}
    assert (by_key["user:1"].led, by_key["user:1"].escalated) == ([10], [])
    assert (by_key["user:2"].own, by_key["user:2"].escalated) == (False, [13])
    assert (by_key["user:3"].led, by_key["user:3"].escalated) == ([11], [13])
    desk = by_key["address:desk@bank.example"]
    assert (desk.language, desk.escalated, desk.user_id) == ("sv", [12, 14], None)


@pytest.mark.parametrize("today, previous", [
    (date(2026, 5, 13), date(2026, 5, 12)),
    (date(2026, 5, 18), date(2026, 5, 13)),  # over Ascension Day, the closing day, the weekend
    (date(2026, 4, 7), date(2026, 4, 2)),  # over Easter
])
def test_the_banking_day_before(today, previous):
    calendar = BankingCalendar([BRIDGE_DAY], HELSINKI)
    assert operations.previous_banking_day(today, calendar) == previous


# PostgreSQL: two runs at the same moment.

@pytest.mark.committed
def test_two_runs_started_at_once_send_each_summary_exactly_once(
        app, data, office, clock, database_url):
    if not database_url.startswith("postgresql"):
        pytest.skip("two runs at once need PostgreSQL's concurrent transactions")
    days = [MONDAY, TUESDAY, WEDNESDAY, NEXT_MONDAY, NEXT_MONDAY + timedelta(days=1)]

    def send(barrier, outcomes):
        with app.app_context():
            calendar = banking_calendar(app_clock.timezone())
            barrier.wait()
            outcomes.append(operations.send_morning(app_clock.now(), calendar))
            db.session.remove()

    for day in days:
        clock.set(morning(day))
        barrier, outcomes = threading.Barrier(2), []
        threads = [threading.Thread(target=send, args=(barrier, outcomes)) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert len(outcomes) == 2
        db.session.expire_all()
        sent = summaries(day)
        records = db.session.scalars(sa.select(MorningDigest).where(MorningDigest.day == day)).all()
        assert sum(o.sent for o in outcomes) == len(sent) == len(records) > 0
        assert sum(o.already_sent for o in outcomes) == len(sent)
        assert sorted(r.outbox_message_id for r in records) == sorted(m.id for m in sent.values())
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CaseEscalation)) == 5


# At bank scale: every statement of a morning reads through indexes.

READ_TABLES = ("feedback_case", "letter", "callback_task", "case_event", "inbox_count")


def test_a_mornings_statements_read_through_indexes_never_every_case(data, clock):
    from feedback_intranet.demo import seed_demo

    from .test_scale import _plan

    seed_demo(morning(NEXT_MONDAY) - timedelta(days=1), BankingCalendar(), cases=300)
    db.session.commit()
    seen = []

    def record(connection, cursor, statement, parameters, context, executemany):
        seen.append((statement, parameters))

    sa.event.listen(sa.engine.Engine, "before_cursor_execute", record)
    try:
        done = run(clock, NEXT_MONDAY)
    finally:
        sa.event.remove(sa.engine.Engine, "before_cursor_execute", record)
    assert done.sent and done.escalated
    # Reads of the whole morning, whatever the number of units, people and cases: the closing
    # days (for the calendar), the units, the people (2), the summaries already sent, the lists
    # (own cases; the units' overdue and unassigned; letters; callbacks; cases of leavers) and
    # when the holders took their overdue cases. Then per recipient the record, the email, the
    # record's link to it and one escalation per unit reported overdue.
    reads = [s for s, _p in seen if s.lstrip().upper().startswith("SELECT")]
    assert len(reads) == 11, "\n".join(reads)
    writes = Counter(s.split("(")[0].split(" SET ")[0].strip() for s, _p in seen if s not in reads)
    assert writes.pop("INSERT INTO case_escalation") >= done.with_escalations
    assert writes == {"INSERT INTO morning_digest": done.sent, "INSERT INTO outbox_message": done.sent,
                      "UPDATE morning_digest": done.sent}
    connection = db.session.connection()
    dialect = connection.dialect.name
    for statement, parameters in seen:
        if not any(table in statement for table in READ_TABLES) or statement.startswith("UPDATE"):
            continue
        plan = _plan(connection, statement, parameters)
        for table in READ_TABLES:
            full_scan = (f"Seq Scan on {table}" in plan if dialect == "postgresql" else
                         any(line.strip().startswith(f"SCAN {table}") and "INDEX" not in line
                             for line in plan.splitlines()))
            assert not full_scan, f"{statement}\n{plan}"
