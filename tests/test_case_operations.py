"""Case operations as plain functions: each rule, each refusal, each timeline event."""

import threading
from datetime import date, datetime

import pytest
import sqlalchemy as sa

from feedback_intranet import access
from feedback_intranet.cases import operations as ops
from feedback_intranet.cases.common import CaseChanged, claim_version
from feedback_intranet.extensions import db
from feedback_intranet.models import (
    Answer,
    Case,
    CaseEvent,
    CaseStatus,
    EventKind,
    OutboxMessage,
    Topic,
    UnitKind,
)
from feedback_intranet.replies import operations as reply_ops
from feedback_intranet.rules.badges import case_badge
from feedback_intranet.rules.banking_days import BankingCalendar

from .conftest import HELSINKI, said

NOW = datetime(2026, 11, 25, 10, 0, tzinfo=HELSINKI)  # Wednesday
TODAY = NOW.date()
CAL = BankingCalendar([], HELSINKI)


@pytest.fixture
def org(make_unit, make_user):
    units = {
        "cs": make_unit(code="cs", name="Customer service", kind=UnitKind.CUSTOMER_SERVICE),
        "helsinki": make_unit(code="helsinki-centre", name="Helsinki Centre"),
        "turku": make_unit(code="turku", name="Turku"),
        "closed-branch": make_unit(code="old", name="Old branch", active=False),
    }
    people = {
        "cs.agent": make_user("cs.agent", units=[units["cs"]]),
        "cs.other": make_user("cs.other", units=[units["cs"]]),
        "cs.lead": make_user("cs.lead", lead_of=[units["cs"]]),
        "branch.staff": make_user("branch.staff", units=[units["helsinki"]]),
        "gone": make_user("gone", units=[units["cs"]], active=False),
        "admin": make_user("admin", is_admin=True),
    }
    return units, people


@pytest.fixture
def case(org, make_case):
    units, _ = org
    return make_case(units["cs"], received_at=NOW)


def kinds(case):
    db.session.refresh(case)
    return [event.kind.value for event in case.events]


def test_a_member_takes_a_case(org, case):
    _, people = org
    ops.take(people["cs.agent"], case, now=NOW)
    assert case.status == CaseStatus.ASSIGNED and case.assignee == people["cs.agent"]
    assert kinds(case)[-1] == "assigned"
    assert said(case.events[-1]) == "Cs Agent took the case."


def _case_updates(engine):
    """The UPDATEs of cases sent while the block runs."""
    updates = []

    def record(_connection, _cursor, statement, _parameters, _context, _many):
        if statement.lstrip().upper().startswith("UPDATE FEEDBACK_CASE"):
            updates.append(" ".join(statement.split()))

    sa.event.listen(engine, "before_cursor_execute", record)
    return updates, lambda: sa.event.remove(engine, "before_cursor_execute", record)


def test_a_forward_writes_the_case_once_after_claiming_its_version(org, case):
    """Unit, status, holder and version go out in one UPDATE: each write of the case's row
    rewrites its entries in every inbox index, and on PostgreSQL a second write in one
    transaction checks every foreign key again. The claim before it only locks the row
    (PostgreSQL) or writes the version as it was, to take the database's write lock (SQLite)."""
    units, people = org
    ops.take(people["cs.agent"], case, now=NOW)
    db.session.commit()
    version = case.version
    engine = db.session.get_bind()
    updates, stop = _case_updates(engine)
    try:
        ops.forward(people["cs.agent"], case, units["helsinki"].id, "Yours.", now=NOW)
        db.session.commit()
    finally:
        stop()
    *claims, change = updates
    assert claims == ([] if engine.dialect.name == "postgresql" else [claims[0]])
    assert all(claim.startswith("UPDATE feedback_case SET version=") for claim in claims)
    assert all(f"{column}=" in change
               for column in ("current_unit_id", "status", "assignee_id", "version"))
    assert case.version == version + 1


def test_a_claimed_case_moves_its_version_once_whatever_changes_with_it(org, case):
    """A change that writes nothing of the case's own row (here only the claim) still moves
    its version, once for two claims; a claim rolled back moves nothing later."""
    version = case.version
    claim_version(case)
    claim_version(case)
    db.session.commit()
    assert case.version == version + 1
    claim_version(case)
    db.session.rollback()
    db.session.commit()
    assert case.version == version + 1
    ops.take(org[1]["cs.agent"], case, now=NOW)
    db.session.commit()
    assert case.version == version + 2


def test_a_claim_refuses_a_case_changed_since_it_was_read(org, case, app):
    """Another session's change committed after this one read the case: the claim refuses."""
    agent = org[1]["cs.agent"]
    with app.app_context():
        other = db.session.get(type(case), case.id)
        ops.take(db.session.get(type(agent), agent.id), other, now=NOW)
        db.session.commit()
    with pytest.raises(CaseChanged):
        claim_version(case)
    db.session.rollback()


@pytest.mark.committed
def test_two_claims_after_writing_to_the_cases_timeline_refuse_one_and_never_deadlock(
        org, make_case, data, database_url):
    """Each of two sessions writes a row that refers to the case (its foreign key check takes a
    key-share lock on the case's row), then claims the case: one goes through and the other is
    told the case changed. A claim that locked the row FOR UPDATE deadlocked here every round."""
    if not database_url.startswith("postgresql"):
        pytest.skip("two sessions holding one case's row need PostgreSQL's row locks")
    for round_number in range(10):
        case_id = make_case(org[0]["cs"], received_at=NOW).id
        barrier, outcomes = threading.Barrier(2), []

        def claim(case_id=case_id, barrier=barrier, outcomes=outcomes):
            with data.app_context():
                try:
                    case = db.session.get(Case, case_id)
                    db.session.add(CaseEvent(case_id=case_id, kind=EventKind.RECEIVED, at=NOW,
                                             facts={}))
                    db.session.flush()
                    barrier.wait()
                    claim_version(case)
                    db.session.commit()
                    outcomes.append("done")
                except CaseChanged:
                    db.session.rollback()
                    outcomes.append("refused")
                except Exception as error:  # a deadlock, say: reported, not raised in a thread
                    db.session.rollback()
                    outcomes.append(type(error).__name__)
                finally:
                    db.session.remove()

        threads = [threading.Thread(target=claim) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        assert sorted(outcomes) == ["done", "refused"], (round_number, outcomes)


def test_other_units_cannot_take(org, case):
    _, people = org
    with pytest.raises(PermissionError):
        ops.take(people["branch.staff"], case, now=NOW)


def test_the_team_lead_assigns_to_an_active_member_only(org, case):
    _, people = org
    with pytest.raises(PermissionError):
        ops.assign(people["cs.agent"], case, people["cs.other"].id, now=NOW)
    with pytest.raises(ops.Refusal, match="active member"):
        ops.assign(people["cs.lead"], case, people["branch.staff"].id, now=NOW)
    with pytest.raises(ops.Refusal, match="active member"):
        ops.assign(people["cs.lead"], case, people["gone"].id, now=NOW)
    ops.assign(people["cs.lead"], case, people["cs.other"].id, now=NOW)
    assert case.assignee == people["cs.other"]
    ops.assign(people["admin"], case, people["cs.agent"].id, now=NOW)
    assert said(case.events[-1]) == "Admin assigned the case to Cs Agent (it was with Cs Other)."


def test_bulk_assignment_is_all_or_nothing(org, make_case):
    units, people = org
    cases = [make_case(units["cs"], received_at=NOW) for _ in range(3)]
    elsewhere = make_case(units["turku"], received_at=NOW)
    with pytest.raises(ops.Refusal, match="left this inbox"):
        ops.assign_many(people["cs.lead"], units["cs"].id, [c.id for c in cases] + [elsewhere.id],
                        people["cs.agent"].id, now=NOW)
    db.session.rollback()
    assert all(c.assignee_id is None for c in cases)
    with pytest.raises(PermissionError):
        ops.assign_many(people["cs.agent"], units["cs"].id, [cases[0].id], people["cs.agent"].id,
                        now=NOW)
    moved = ops.assign_many(people["cs.lead"], units["cs"].id, [c.id for c in cases],
                            people["cs.agent"].id, now=NOW)
    assert len(moved) == 3
    assert all(c.assignee == people["cs.agent"] and c.events[-1].kind == "assigned" for c in cases)


def test_a_holder_hands_the_case_back_and_others_may_not(org, case):
    _, people = org
    ops.take(people["cs.agent"], case, now=NOW)
    with pytest.raises(PermissionError):
        ops.unassign(people["cs.other"], case, now=NOW)
    ops.unassign(people["cs.agent"], case, now=NOW)
    assert case.status == CaseStatus.NEW and case.assignee is None
    assert kinds(case)[-1] == "unassigned"


def test_forwarding_moves_the_case_keeps_the_due_date_and_the_note(org, case):
    units, people = org
    ops.take(people["cs.agent"], case, now=NOW)
    due = case.due_date
    with pytest.raises(ops.Refusal, match="Write a note"):
        ops.forward(people["cs.agent"], case, units["helsinki"].id, "  ", now=NOW)
    with pytest.raises(ops.Refusal, match="already in Customer service"):
        ops.forward(people["cs.agent"], case, units["cs"].id, "note", now=NOW)
    with pytest.raises(ops.Refusal, match="no longer active"):
        ops.forward(people["cs.agent"], case, units["closed-branch"].id, "note", now=NOW)
    ops.forward(people["cs.agent"], case, units["helsinki"].id,
                "Please call the customer. Tili FI2112345600000785.", now=NOW)
    assert case.current_unit_id == units["helsinki"].id
    assert case.assignee is None and case.status == CaseStatus.NEW and case.due_date == due
    event = case.events[-1]
    assert (event.kind, event.from_unit_id, event.to_unit_id) == (
        "forwarded", units["cs"].id, units["helsinki"].id)
    assert event.text == "Please call the customer. Tili [account number …0785 removed]."
    # Customer service keeps reading the case but no longer acts on it.
    assert access.can_view_case(people["cs.agent"], case)
    assert access.available_actions(people["cs.agent"], case) == set()
    assert "take" in access.available_actions(people["branch.staff"], case)


def test_correcting_the_case_records_old_and_new_values(org, case, data):
    _, people = org
    other_topic = Topic(code="loans", name="Loans")
    db.session.add(other_topic)
    db.session.flush()
    ops.correct(people["cs.agent"], case, {
        "contact_email": "aino.virtanen@example.fi", "topic_id": other_topic.id,
        "contact_street": "Box 131052-308T", "case_type": "complaint",
    }, now=NOW)
    text = said(case.events[-1])
    assert case.events[-1].kind == "corrected"
    assert "Email: aino@example.fi → aino.virtanen@example.fi" in text
    assert "Topic: Cards → Loans" in text
    assert "Type: Other feedback → Complaint" in text
    assert case.contact_street == "Box [identity code removed]"
    assert "131052-308T" not in text
    with pytest.raises(ops.Refusal, match="Nothing was changed"):
        ops.correct(people["cs.agent"], case, {"case_type": "complaint"}, now=NOW)


def test_internal_notes_are_masked_and_marked(org, case):
    _, people = org
    with pytest.raises(ops.Refusal):
        ops.add_note(people["cs.agent"], case, " ", now=NOW)
    ops.add_note(people["cs.agent"], case, "Asiakkaan kortti 4111 1111 1111 1111", now=NOW)
    assert case.events[-1].kind == "note"
    assert case.events[-1].text == "Asiakkaan kortti [card number …1111 removed]"
    with pytest.raises(PermissionError):
        ops.add_note(people["branch.staff"], case, "hello", now=NOW)


@pytest.mark.parametrize(
    ("estimate", "message"),
    [
        (None, "Give the estimated decision date"),
        (TODAY, "banking day after today"),
        (date(2026, 11, 28), "banking day after today"),  # a Saturday
        (date(2026, 12, 24), "banking day after today"),  # Christmas Eve
        (date(2027, 2, 24), "at most 60 banking days"),
    ],
)
def test_interim_notice_estimate_rules(org, case, estimate, message):
    _, people = org
    with pytest.raises(ops.Refusal, match=message):
        reply_ops.send_interim_notice(people["cs.agent"], case, estimate, "Text", now=NOW, today=TODAY,
                                calendar=CAL)
    assert case.estimated_decision_date is None


def test_an_interim_notice_sets_the_estimate_and_a_second_moves_it(org, case):
    _, people = org
    reply_ops.send_interim_notice(people["cs.agent"], case, date(2026, 12, 4), "Vastaamme 4.12.2026.",
                            now=NOW, today=TODAY, calendar=CAL)
    assert case.effective_due_date == date(2026, 12, 4)
    badge = case_badge(case, TODAY, CAL)
    assert (badge.state, badge.day) == ("estimate", date(2026, 12, 4))
    assert case_badge(case, date(2026, 12, 7), CAL).state == "overdue"
    reply_ops.send_interim_notice(people["cs.agent"], case, date(2026, 12, 11), "Vielä 11.12.2026.",
                            now=NOW, today=TODAY, calendar=CAL)
    assert case.effective_due_date == date(2026, 12, 11)
    notices = db.session.scalars(sa.select(Answer).order_by(Answer.id)).all()
    assert [(n.purpose, n.status, n.channel) for n in notices] == [
        ("interim_notice", "pending", "email"), ("interim_notice", "pending", "email")]
    assert "Vastaamme 4.12.2026." in notices[0].text and notices[0].text.startswith("Hei Aino Asiakas,")
    queued = db.session.scalars(sa.select(OutboxMessage).order_by(OutboxMessage.id)).all()
    assert [m.recipient for m in queued] == ["aino@example.fi", "aino@example.fi"]
    assert queued[0].answer_id == notices[0].id
    assert said(case.events[-1]).startswith(
        "Cs Agent moved the estimated decision date from 4.12.2026 to 11.12.2026.")


def test_an_interim_notice_may_not_carry_sensitive_data(org, case):
    _, people = org
    with pytest.raises(ops.Refusal, match=r"sensitive data: account number \(IBAN\)"):
        reply_ops.send_interim_notice(people["cs.agent"], case, date(2026, 12, 4),
                                "Tilisi FI21 1234 5600 0007 85, päätös 4.12.2026", now=NOW,
                                today=TODAY, calendar=CAL)


def test_no_interim_notice_for_answered_cases_or_by_someone_else_than_the_holder(org, case):
    _, people = org
    ops.take(people["cs.other"], case, now=NOW)
    with pytest.raises(PermissionError):
        reply_ops.send_interim_notice(people["cs.agent"], case, date(2026, 12, 4), "x", now=NOW,
                                today=TODAY, calendar=CAL)
    case.status = CaseStatus.ANSWERED
    assert "interim_notice" not in access.available_actions(people["cs.other"], case)


def test_closing_as_answered_needs_a_sent_reply(org, case):
    _, people = org
    with pytest.raises(ops.Refusal, match="No answer has been sent"):
        ops.close(people["cs.agent"], case, "answered", now=NOW)
    case.first_answered_at = NOW
    ops.close(people["cs.agent"], case, "answered", "Soitettu.", now=NOW)
    assert case.status == CaseStatus.CLOSED and case.resolution == "answered"
    assert case.closed_at == NOW


def test_reopening_needs_a_reason_and_keeps_the_history(org, case):
    _, people = org
    ops.take(people["cs.agent"], case, now=NOW)
    ops.close(people["cs.agent"], case, "withdrawn", now=NOW)
    before = kinds(case)
    with pytest.raises(ops.Refusal, match="reason"):
        ops.reopen(people["cs.agent"], case, "", now=NOW)
    ops.reopen(people["cs.agent"], case, "The customer called again.", now=NOW)
    assert case.status == CaseStatus.ASSIGNED and case.assignee == people["cs.agent"]
    assert case.resolution is None and case.closed_at is None
    assert kinds(case) == [*before, "reopened"]


def test_marking_a_duplicate_links_and_closes(org, make_case):
    units, people = org
    original = make_case(units["cs"], received_at=NOW)
    copy = make_case(units["cs"], received_at=NOW)
    hidden = make_case(units["turku"], received_at=NOW)
    with pytest.raises(ops.Refusal, match="no such case"):
        ops.mark_duplicate(people["cs.agent"], copy, hidden, now=NOW)
    with pytest.raises(ops.Refusal, match="cannot duplicate itself"):
        ops.mark_duplicate(people["cs.agent"], copy, copy, now=NOW)
    ops.mark_duplicate(people["cs.agent"], copy, original, now=NOW)
    assert copy.status == CaseStatus.CLOSED and copy.resolution == "duplicate"
    assert copy.duplicate_of == original
    assert said(copy.events[-1]) == (
        f"Cs Agent closed the case as a duplicate of {original.reference}.")
    assert original.events[-1].kind == "duplicate"
    assert copy.reference in said(original.events[-1])
    with pytest.raises(ops.Refusal, match="already a duplicate"):
        ops.mark_duplicate(people["cs.agent"], original, copy, now=NOW)


def test_a_stale_version_is_refused(org, case):
    _, people = org
    loaded = case.version
    ops.take(people["cs.agent"], case, now=NOW)
    db.session.commit()
    with pytest.raises(ops.CaseChanged):
        ops.assign(people["cs.lead"], case, people["cs.other"].id, now=NOW,
                   expected_version=loaded)


# Committed: the test's session rolls back its refused write after the other session committed,
# which one savepoint around both on one connection would undo too.
@pytest.mark.committed
def test_two_sessions_reassigning_at_once_the_second_is_refused(app, org, case):
    """Two real database sessions load the case at the same version; the first write wins."""
    from sqlalchemy.orm.exc import StaleDataError

    from feedback_intranet.models import Case, User

    _, people = org
    mine = db.session.get(Case, case.id)  # this test's session: version 1
    with app.app_context():  # a second, independent session of the app under test
        theirs = db.session.get(Case, case.id)
        lead = db.session.get(User, people["cs.lead"].id)
        ops.assign(lead, theirs, people["cs.other"].id, now=NOW, expected_version=1)
        db.session.commit()
    lead = people["cs.lead"]
    with pytest.raises((ops.CaseChanged, StaleDataError)):
        ops.assign(lead, mine, people["cs.agent"].id, now=NOW, expected_version=1)
        db.session.commit()
    db.session.rollback()
    db.session.expire_all()
    refreshed = db.session.get(Case, case.id)
    assert refreshed.assignee_id == people["cs.other"].id
    assert [e.kind for e in refreshed.events].count("assigned") == 1


def test_an_interim_notice_about_own_banking_goes_by_phone_instead_of_email(org, case):
    _, people = org
    case.own_banking_matter = True
    case.contact_phone = "+358401234567"
    reply_ops.send_interim_notice(people["cs.agent"], case, date(2026, 12, 4), "Päätös 4.12.2026.",
                            now=NOW, today=TODAY, calendar=CAL)
    [notice] = db.session.scalars(sa.select(Answer)).all()
    assert notice.channel == "phone"
    assert db.session.scalars(sa.select(OutboxMessage)).all() == []
