"""When the customer writes back by email: the reply threads into its case (a duplicate's into its
original), a case closed or answered within 30 days opens again where it was answered with a reply
deadline, staff see it on the timeline, in the inbox and by email; an automatic reply is only
noted; a delivery report fails the answer it returns, even one counted as delivered. The promise
of record and the reports it makes stay as they were."""

import time
from datetime import date, datetime, timedelta
from functools import partial

import pytest
import sqlalchemy as sa
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy.orm.exc import StaleDataError

from feedback_intranet.cases import operations
from feedback_intranet.cases.common import CaseChanged
from feedback_intranet.closing_days import badges_changed
from feedback_intranet.extensions import db
from feedback_intranet.inbound.cases import (
    case_for_reply,
    record_automatic_reply,
    record_bounce,
    record_customer_reply,
    within_reply_window,
)
from feedback_intranet.inboxes import counters
from feedback_intranet.intake.emails import queue_confirmation
from feedback_intranet.models import (
    Answer,
    AnswerStatus,
    Case,
    CaseEvent,
    CaseStatus,
    EventKind,
    IntakeChannel,
    Letter,
    OutboxKind,
    OutboxMessage,
    OutboxStatus,
    ReplyChannel,
    Resolution,
    UnitKind,
)
from feedback_intranet.reminders import queries as reminders
from feedback_intranet.replies import operations as replies
from feedback_intranet.replies.channels import channel_problems
from feedback_intranet.replies.outcomes import OutboxOutcomes
from feedback_intranet.reports import summaries
from feedback_intranet.rules.badges import Badge, case_badge
from feedback_intranet.rules.banking_days import BankingCalendar, local_date

from .conftest import HELSINKI, PASSWORD, colleague_writes_first, said, together
from .test_case_pages import hidden_fields

NOW = datetime(2026, 11, 25, 10, 0, tzinfo=HELSINKI)  # a Wednesday
CAL = BankingCalendar([], HELSINKI)
REPLY = "Kiitos, mutta maksu näkyy yhä tiliotteellani."


@pytest.fixture
def org(make_unit, make_user):
    units = {
        "cs": make_unit(code="cs", name="Customer service", kind=UnitKind.CUSTOMER_SERVICE),
        "cards": make_unit(code="cards", name="Cards", kind=UnitKind.CENTRAL_UNIT),
        "turku": make_unit(code="turku", name="Turku"),
    }
    people = {
        "cs.agent": make_user("cs.agent", units=[units["cs"]]),
        "cards.agent": make_user("cards.agent", units=[units["cards"]]),
        "turku.agent": make_user("turku.agent", units=[units["turku"]]),
    }
    return units, people


@pytest.fixture
def case(org, make_case, clock):
    clock.set(NOW)
    return make_case(org[0]["cs"], received_at=NOW)


def at(days=0, hours=0):
    return NOW + timedelta(days=days, hours=hours)


def send(case, actor, now, close=False, channel="email"):
    answer = replies.send_answer(
        actor, case, channel=channel, body="Maksu on palautettu tilillenne.", final=True,
        close_when_delivered=close, now=now, today=local_date(now), calendar=CAL,
        deviations={}, reason="" if channel == "email" else "Asiakas pyysi.")
    db.session.commit()
    return answer


def deliver(answer, now):
    """The outbox worker hands the email to the mail server and tells the case."""
    message = db.session.scalar(sa.select(OutboxMessage).where(
        OutboxMessage.answer_id == answer.id))
    message.status, message.sent_at = OutboxStatus.SENT, now
    db.session.commit()
    OutboxOutcomes.sent(message.id, now)
    db.session.expire_all()
    return message


def answered_by(case, actor, now, close=True):
    """`actor` answers (by email, delivered at once) and closes the case."""
    if case.assignee_id != actor.id:
        operations.take(actor, case, now=now)
        db.session.commit()
    message = deliver(send(case, actor, now), now)
    if close:
        operations.close(actor, case, Resolution.ANSWERED, now=now)
        db.session.commit()
    return message


def forwarded(case, actor, unit, now):
    operations.forward(actor, case, unit.id, "Teille.", now=now)
    db.session.commit()


def reply(case, now, text=REPLY, subject="Re: Vastaus palautteeseenne", attachments=0,
          masked=()):
    target, threads = case_for_reply(case, now, CAL)
    assert threads
    record_customer_reply(target, text=text, subject=subject, attachments=attachments,
                          masked_kinds=set(masked), now=now, calendar=CAL)
    db.session.commit()
    db.session.expire_all()
    return target


def kinds(case):
    db.session.expire_all()
    return [e.kind.value for e in case.events]


def last(case, kind):
    return [e for e in case.events if e.kind == kind][-1]


def notifications(user):
    return db.session.scalars(sa.select(OutboxMessage).where(
        OutboxMessage.kind == OutboxKind.NOTIFICATION, OutboxMessage.recipient == user.email)
    ).all()


def consistent():
    """The inbox counters and the report summaries agree with the cases."""
    assert counters.differences() == {}
    assert summaries.differences(db.session.connection(), HELSINKI) == {}


# A reply to an open case


def test_a_reply_to_an_open_case_is_on_its_timeline_and_the_case_keeps_its_due_date(
        org, case):
    due, version = case.due_date, case.version
    reply(case, at(hours=2), attachments=2, masked={"card_number"})
    assert kinds(case) == ["received", "customer_replied"]
    event = last(case, EventKind.CUSTOMER_REPLIED)
    assert event.text == REPLY and event.actor is None and event.from_unit_id == case.current_unit_id
    assert said(event) == (
        "The customer replied by email: “Re: Vastaus palautteeseenne”. 2 attachments were not "
        "kept. Removed on arrival: payment card number. The original was never stored.")
    assert case.customer_replied_at == at(hours=2)
    assert (case.status, case.due_date, case.reply_due_date, case.effective_due_date) == (
        CaseStatus.NEW, due, None, due)
    assert case.version > version
    consistent()


def test_the_holder_is_emailed_about_a_reply_unless_they_opted_out(org, case):
    units, people = org
    holder = people["cs.agent"]
    operations.take(holder, case, now=NOW)
    db.session.commit()
    reply(case, at(hours=1))
    [email] = notifications(holder)
    assert email.subject == f"Feedback intranet: {case.reference}"
    assert f"The customer replied to case {case.reference}." in email.body_text
    assert REPLY not in email.body_text and "maksu" not in email.body_html

    holder.notify_customer_replied = False
    db.session.commit()
    reply(case, at(hours=2))
    assert len(notifications(holder)) == 1


def test_a_holder_who_is_no_longer_a_member_is_not_emailed_nor_anyone_for_an_unheld_case(
        org, case, make_case):
    units, people = org
    reply(case, at(hours=1))  # nobody holds it
    holder = people["cs.agent"]
    operations.take(holder, case, now=at(hours=2))
    db.session.commit()
    holder.memberships.clear()
    db.session.commit()
    reply(case, at(hours=3))
    assert db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage).where(
        OutboxMessage.kind == OutboxKind.NOTIFICATION)) == 0


def test_a_reply_while_the_answer_waits_to_close_the_case_cancels_that_close(org, case):
    units, people = org
    operations.take(people["cs.agent"], case, now=NOW)
    db.session.commit()
    answer = send(case, people["cs.agent"], at(hours=1), close=True)
    reply(case, at(hours=2))
    event = last(case, EventKind.CUSTOMER_REPLIED)
    assert said(event).endswith("The answer on its way no longer closes the case when "
                                "delivered: the reply is to be read first.")
    db.session.refresh(answer)
    assert answer.close_when_delivered is False

    deliver(answer, at(hours=3))
    # Delivered, and counted as the first answer; but the reply came after it was written.
    assert case.first_answered_at == at(hours=3)
    assert case.status == CaseStatus.ASSIGNED and case.closed_at is None
    assert case.customer_replied_at is not None
    assert case.reply_due_date == CAL.due_date(at(hours=2))
    assert case.effective_due_date == case.reply_due_date
    assert kinds(case)[-2:] == ["customer_replied", "delivered"]
    consistent()


def test_a_reply_between_an_answer_being_written_and_its_delivery_still_awaits_an_answer(
        org, case, clock):
    """Even when the inbound host's clock is behind the one that sent the answer."""
    units, people = org
    operations.take(people["cs.agent"], case, now=NOW)
    db.session.commit()
    answer = send(case, people["cs.agent"], at(hours=2))
    reply(case, at(hours=1))  # recorded after the answer, by a clock an hour slow
    assert case.customer_replied_at > answer.created_at
    deliver(answer, at(hours=3))
    assert case.status == CaseStatus.ASSIGNED and case.customer_replied_at is not None


# A reply to a closed or answered case


def test_a_reply_within_30_days_of_the_close_opens_the_case_again_where_it_was_answered(
        org, case):
    units, people = org
    forwarded(case, people["cs.agent"], units["cards"], at(hours=1))
    answered_by(case, people["cards.agent"], at(hours=3))
    first = (case.first_answered_at, case.first_answer_unit_id, case.due_date)
    # The 30th calendar day after the close, late in the evening in Helsinki: Christmas Day.
    late = datetime(2026, 12, 25, 23, 30, tzinfo=HELSINKI)
    assert case_for_reply(case, late, CAL) == (case, True)
    reply(case, late)
    assert kinds(case)[-3:] == ["closed", "customer_replied", "reopened"]
    assert (case.status, case.current_unit_id, case.assignee.username) == (
        CaseStatus.ASSIGNED, units["cards"].id, "cards.agent")
    assert (case.resolution, case.closed_at) == (None, None)
    # The third banking day after Christmas Day (Boxing Day is a Saturday this year).
    assert case.reply_due_date == case.effective_due_date == date(2026, 12, 30)
    assert (case.first_answered_at, case.first_answer_unit_id, case.due_date) == first
    assert said(last(case, EventKind.REOPENED)) == (
        "Open again: the customer replied. The answer to the reply is due by 30.12.2026.")
    [email] = notifications(people["cards.agent"])
    assert "the case is open again" in email.body_text
    consistent()


def test_a_reply_more_than_30_days_after_the_close_is_new_feedback_for_the_caller(org, case):
    units, people = org
    answered_by(case, people["cs.agent"], at(hours=3))
    version = case.version
    assert case_for_reply(case, datetime(2026, 12, 26, 0, 10, tzinfo=HELSINKI), CAL) == (
        case, False)
    db.session.expire_all()
    assert (case.status, case.version) == (CaseStatus.CLOSED, version)


def test_an_answered_case_opens_again_within_30_days_of_its_last_answer(org, case):
    units, people = org
    answered_by(case, people["cs.agent"], at(hours=1), close=False)
    assert case.status == CaseStatus.ANSWERED
    assert case_for_reply(case, at(days=31), CAL) == (case, False)
    reply(case, at(days=20))
    assert case.status == CaseStatus.ASSIGNED and case.assignee.username == "cs.agent"
    assert case.reply_due_date == CAL.due_date(at(days=20))
    consistent()


@given(since=st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2027, 12, 31),
                          timezones=st.just(HELSINKI)),
       later=st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=40)))
def test_the_30_days_are_calendar_days_in_helsinki(since, later):
    now = since + later
    days = (local_date(now) - local_date(since)).days
    assert within_reply_window(since, now, HELSINKI) == (days <= 30)


def test_the_unit_that_answered_gets_the_reply_though_another_closed_the_case(org, case):
    units, people = org
    forwarded(case, people["cs.agent"], units["cards"], at(hours=1))
    answered_by(case, people["cards.agent"], at(hours=2), close=False)
    # Cards answered; the case was opened by hand, handed to Turku and closed there.
    case.status = CaseStatus.CLOSED
    case.resolution, case.closed_at = Resolution.ANSWERED, at(hours=3)
    db.session.commit()
    operations.reopen(people["cards.agent"], case, "Asiakas soitti.", now=at(hours=4))
    forwarded(case, people["cards.agent"], units["turku"], at(hours=5))
    operations.close(people["turku.agent"], case, Resolution.OTHER, now=at(hours=6))
    db.session.commit()
    reply(case, at(days=2))
    assert case.current_unit_id == units["cards"].id
    assert case.status == CaseStatus.NEW and case.assignee is None
    assert {p.unit_id for p in case.past_units} >= {units["turku"].id}
    assert said(last(case, EventKind.REOPENED)).endswith(
        "The case went from Turku back to Cards, the unit that answered.")
    consistent()


def test_when_the_unit_that_answered_is_inactive_the_reply_goes_to_customer_service(
        org, case):
    units, people = org
    forwarded(case, people["cs.agent"], units["cards"], at(hours=1))
    answered_by(case, people["cards.agent"], at(hours=2))
    units["cards"].active = False
    db.session.commit()
    reply(case, at(days=3))
    assert (case.current_unit_id, case.status, case.assignee_id) == (
        units["cs"].id, CaseStatus.NEW, None)
    consistent()


def test_when_the_unit_that_answered_is_inactive_the_unit_holding_the_case_gets_it(org, case):
    units, people = org
    forwarded(case, people["cs.agent"], units["cards"], at(hours=1))
    answered_by(case, people["cards.agent"], at(hours=2), close=False)
    case.status = CaseStatus.ASSIGNED  # opened again (a failure learned later, say)
    db.session.commit()
    forwarded(case, people["cards.agent"], units["turku"], at(hours=3))
    operations.close(people["turku.agent"], case, Resolution.OTHER, now=at(hours=4))
    units["cards"].active = False
    db.session.commit()
    reply(case, at(days=3))
    assert case.current_unit_id == units["turku"].id


def test_a_holder_who_left_the_unit_is_not_kept_on_the_reopened_case(org, case):
    units, people = org
    answered_by(case, people["cs.agent"], at(hours=1))
    people["cs.agent"].active = False
    db.session.commit()
    reply(case, at(days=1))
    assert (case.status, case.assignee_id) == (CaseStatus.NEW, None)
    assert not notifications(people["cs.agent"])
    consistent()


def test_a_reply_about_a_case_that_wanted_no_answer_opens_it_among_those(org, make_case):
    """The customer's wish stays as they gave it: changing it would change the figures of the
    day the case was received. Staff see the reply, the marker and the case in "No answer
    wanted", and may answer it."""
    units, people = org
    case = make_case(units["cs"], received_at=NOW, reply_wanted=False)
    operations.close(people["cs.agent"], case, Resolution.NO_ANSWER_WANTED, now=at(hours=1))
    db.session.commit()
    reply(case, at(days=2))
    assert case.status == CaseStatus.NEW and not case.reply_wanted
    assert case_badge(case, local_date(at(days=2)), CAL).state == "no_answer"
    assert counters.unit_counts(units["cs"].id, local_date(at(days=2)),
                                local_date(at(days=3)))[0]["no_answer"] == 1
    consistent()


def test_a_reply_to_a_duplicate_goes_to_its_original(org, case, make_case):
    units, people = org
    agent = people["cs.agent"]
    duplicate = make_case(units["cs"], received_at=at(hours=1))
    again = make_case(units["cs"], received_at=at(hours=2))
    operations.mark_duplicate(agent, duplicate, case, now=at(hours=3))
    operations.mark_duplicate(agent, again, duplicate, now=at(hours=4))
    db.session.commit()
    assert case_for_reply(again, at(days=1), CAL) == (case, True)
    reply(again, at(days=1))
    assert kinds(case)[-1] == "customer_replied"
    assert kinds(again)[-1] == "closed" and again.customer_replied_at is None


def test_duplicates_that_point_at_each_other_do_not_loop(org, case, make_case):
    units, _people = org
    other = make_case(units["cs"], received_at=at(hours=1))
    case.duplicate_of_id, other.duplicate_of_id = other.id, case.id
    db.session.commit()
    assert case_for_reply(case, at(days=1), CAL)[0] in (case, other)


def test_a_case_whose_personal_data_was_removed_takes_no_reply(org, case):
    case.anonymised_at = at(days=1)
    db.session.commit()
    assert case_for_reply(case, at(days=2), CAL) == (case, False)


# Staff answer the reply


def test_answering_the_reply_clears_the_marker_and_the_deadline(org, case):
    units, people = org
    agent = people["cs.agent"]
    answered_by(case, agent, at(hours=1))
    reply(case, at(days=1))
    answer = send(case, agent, at(days=1, hours=2))
    # On its way: the reply still awaits an answer that reached the customer.
    assert case.customer_replied_at is not None and case.reply_due_date is not None
    deliver(answer, at(days=1, hours=3))
    assert case.status == CaseStatus.ANSWERED
    assert (case.customer_replied_at, case.reply_due_date) == (None, None)
    assert case.effective_due_date == case.due_date
    # The promise was measured on the first answer, and stays so.
    assert case.first_answered_at == at(hours=1)
    consistent()


def test_closing_clears_the_marker_and_the_deadline(org, case):
    units, people = org
    answered_by(case, people["cs.agent"], at(hours=1))
    reply(case, at(days=1))
    operations.close(people["cs.agent"], case, Resolution.OTHER, now=at(days=1, hours=1))
    db.session.commit()
    assert (case.customer_replied_at, case.reply_due_date, case.effective_due_date) == (
        None, None, case.due_date)
    consistent()


def test_forwarding_keeps_the_reply_deadline(org, case):
    units, people = org
    answered_by(case, people["cs.agent"], at(hours=1))
    reply(case, at(days=1))
    due = case.reply_due_date
    forwarded(case, people["cs.agent"], units["turku"], at(days=1, hours=1))
    assert case.reply_due_date == case.effective_due_date == due
    assert case.customer_replied_at is not None


def test_an_interim_notice_after_a_reply_moves_the_reply_deadline_not_the_promise(org, case):
    units, people = org
    agent = people["cs.agent"]
    answered_by(case, agent, at(hours=1))
    reply(case, at(days=1))
    before = case.reply_due_date
    estimate = date(2026, 12, 10)
    replies.send_interim_notice(agent, case, estimate, "Vastaamme viimeistään 10.12.2026.",
                                now=at(days=1, hours=1), today=local_date(at(days=1)),
                                calendar=CAL)
    db.session.commit()
    assert (case.reply_due_date, case.effective_due_date) == (estimate, estimate)
    assert case.estimated_decision_date is None
    assert said(last(case, EventKind.INTERIM_NOTICE)).startswith(
        "Cs Agent moved the deadline of the answer to the customer's reply from "
        f"{before.day}.{before.month}.2026 to 10.12.2026.")

    notice = db.session.scalar(sa.select(Answer).where(Answer.case_id == case.id,
                                                       Answer.status == AnswerStatus.PENDING))
    replies.cancel_waiting(agent, case, notice.id, now=at(days=1, hours=2))
    db.session.commit()
    assert case.reply_due_date == case.effective_due_date == before
    assert said(last(case, EventKind.REPLY_CANCELLED)).endswith(
        f"The answer to the customer's reply is due by {before.day}.{before.month}.2026 again.")

    replies.send_interim_notice(agent, case, estimate, "Vastaamme viimeistään 10.12.2026.",
                                now=at(days=1, hours=3), today=local_date(at(days=1)),
                                calendar=CAL)
    db.session.commit()
    [notice] = db.session.scalars(sa.select(Answer).where(
        Answer.case_id == case.id, Answer.status == AnswerStatus.PENDING)).all()
    deliver(notice, at(days=1, hours=4))
    # The customer was told: no longer marked; the notice's day is not the promise's.
    assert case.customer_replied_at is None and case.reply_due_date == estimate
    assert case.interim_notice_on is None
    consistent()


def test_reopening_and_answering_again_leave_the_report_figures_as_they_were(org, case):
    units, people = org
    forwarded(case, people["cs.agent"], units["cards"], at(hours=1))
    answered_by(case, people["cards.agent"], at(hours=2))
    connection = db.session.connection()
    figures = summaries.kept(connection)
    reply(case, at(days=5))
    assert summaries.kept(db.session.connection()) == figures
    agent = people["cards.agent"]
    replies.send_interim_notice(agent, case, date(2027, 1, 8), "Vastaamme 8.1.2027.",
                                now=at(days=5, hours=1), today=local_date(at(days=5)),
                                calendar=CAL)
    db.session.commit()
    [notice] = db.session.scalars(sa.select(Answer).where(
        Answer.case_id == case.id, Answer.status == AnswerStatus.PENDING)).all()
    deliver(notice, at(days=5, hours=1))
    answered_by(case, agent, at(days=6))
    assert summaries.kept(db.session.connection()) == figures
    consistent()


# The reply deadline in the badge, the inbox and the reminders


def test_the_badge_counts_banking_days_to_the_reply_deadline(org, case):
    units, people = org
    answered_by(case, people["cs.agent"], at(hours=1))
    reply(case, at(days=1))  # Thursday 26.11.: due Tuesday 1.12.
    assert case_badge(case, date(2026, 11, 27), CAL) == Badge("due", 2, date(2026, 12, 1),
                                                             reply=True)
    assert case_badge(case, date(2026, 12, 1), CAL).state == "due_today"
    assert case_badge(case, date(2026, 12, 3), CAL) == Badge("overdue", 2, date(2026, 12, 1),
                                                             reply=True)


def test_the_inbox_lists_the_reopened_case_by_its_reply_deadline_and_counts_it_overdue(
        app, client, login, org, case, clock):
    units, people = org
    answered_by(case, people["cs.agent"], at(hours=1))
    reply(case, at(days=1))
    clock.set(datetime(2026, 12, 2, 9, 0, tzinfo=HELSINKI))
    login("cs.agent")
    page = client.get("/inbox/cs?filter=overdue").get_data(as_text=True)
    assert case.reference in page
    assert "overdue 1 banking day (reply)" in page
    assert counters.unit_counts(units["cs"].id, date(2026, 12, 2), date(2026, 12, 3))[0][
        "overdue"] == 1
    # The holder's morning summary lists it as overdue, by the same deadline.
    people["cs.agent"].morning_digest = True
    db.session.commit()
    lists = reminders.own_cases([units["cs"].id], date(2026, 12, 2), date(2026, 12, 3), [])
    [item] = lists[people["cs.agent"].id, reminders.OWN_OVERDUE].items
    assert item.reply_due == date(2026, 12, 1)


def test_the_inbox_row_says_customer_replied_at_no_extra_statement(
        client, login, org, case, make_case):
    units, people = org
    others = [make_case(units["cs"], received_at=at(hours=n)) for n in range(1, 4)]
    login("cs.agent")
    before = client.get("/inbox/cs")
    assert "customer replied" not in before.get_data(as_text=True)
    reply(case, at(hours=5))
    reply(others[0], at(hours=5))
    after = client.get("/inbox/cs")
    page = after.get_data(as_text=True)
    assert page.count('class="flag flag-replied"') == 2
    assert "The customer replied on 25.11.2026 15:00" in page
    assert int(after.headers["X-Query-Count"]) == int(before.headers["X-Query-Count"])


def test_the_case_page_shows_the_reply_and_its_deadline(client, login, org, case, clock):
    units, people = org
    answered_by(case, people["cs.agent"], at(hours=1))
    reply(case, at(days=1))
    clock.set(at(days=1, hours=1))
    login("cs.agent")
    page = client.get(f"/cases/{case.reference}").get_data(as_text=True)
    assert "due in 3 banking days (reply)" in page
    assert "<dt>Answer to reply due</dt><dd>1.12.2026</dd>" in page
    assert '<span class="incoming">from the customer, by email</span>' in page
    assert f'<p class="event-text" lang="fi">{REPLY}</p>' in page
    # An interim notice now is about the reply.
    assert "the estimate becomes the deadline of that answer" in page


# Follow-ups, profile, own banking matters


def test_the_case_page_links_the_case_a_follow_up_follows(client, login, org, case, make_case):
    units, _people = org
    follow_up = make_case(units["cs"], received_at=at(days=40))
    follow_up.follows_case_id = case.id
    follow_up.intake_channel = IntakeChannel.EMAIL
    db.session.commit()
    login("cs.agent")
    response = client.get(f"/cases/{follow_up.reference}")
    page = response.get_data(as_text=True)
    link = f'<a href="/cases/{case.reference}">{case.reference}</a>'
    assert f"Follows up case {link}: the customer wrote back about it by email." in page
    assert f"<dt>Follows up</dt><dd>{link}</dd>" in page
    assert "(Email)" in page
    plain = client.get(f"/cases/{case.reference}")
    assert int(response.headers["X-Query-Count"]) == int(plain.headers["X-Query-Count"])


def test_staff_choose_on_their_profile_whether_a_reply_is_emailed_to_them(
        client, login, org):
    units, people = org
    login("cs.agent")
    page = client.get("/profile").get_data(as_text=True)
    assert "Email me when a customer replies to a case I hold" in page
    # On unless they turn it off.
    assert 'checked id="notify_customer_replied"' in page
    assert client.post("/profile", data={"language": "en"}).status_code == 302
    db.session.expire_all()
    assert people["cs.agent"].notify_customer_replied is False
    client.post("/profile", data={"language": "en", "notify_customer_replied": "y"})
    db.session.expire_all()
    assert people["cs.agent"].notify_customer_replied is True


def test_a_reply_about_own_banking_matters_still_cannot_be_answered_by_email(org, case):
    units, people = org
    agent = people["cs.agent"]
    case.contact_street, case.contact_postal_code, case.contact_city = (
        "Slottsgatan 3", "20100", "Åbo")
    operations.take(agent, case, now=NOW)
    replies.mark_own_banking_matter(agent, case, True, now=NOW)
    db.session.commit()
    send(case, agent, at(hours=1), channel="letter")
    letter = db.session.scalar(sa.select(Letter).where(Letter.case_id == case.id))
    replies.post_letter(agent, letter, now=at(hours=2), calendar=CAL)
    operations.close(agent, case, Resolution.ANSWERED, now=at(hours=3))
    db.session.commit()
    reply(case, at(days=1))
    assert case.status == CaseStatus.ASSIGNED and case.own_banking_matter
    assert ReplyChannel.EMAIL in channel_problems(case)


# Automatic replies


def test_an_automatic_reply_is_noted_and_nothing_else_changes(org, case):
    version, status = case.version, case.status
    record_automatic_reply(case, reason="out-of-office-subject", now=at(hours=1))
    record_automatic_reply(case, reason="auto-submitted", now=at(hours=2))
    db.session.commit()
    db.session.expire_all()
    assert (case.version, case.status, case.customer_replied_at) == (version, status, None)
    assert [said(e) for e in case.events[-2:]] == [
        "An out-of-office reply came from the customer's address. Nothing was sent in return.",
        "An automatic reply came from the customer's address. Nothing was sent in return."]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)) == 0


# Delivery reports


def test_a_bounce_fails_a_delivered_answer_and_the_case_awaits_an_answer_again(org, case):
    units, people = org
    message = answered_by(case, people["cs.agent"], at(hours=1), close=False)
    assert case.status == CaseStatus.ANSWERED
    assert record_bounce(message, status="5.2.2", diagnostic="552 Mailbox full",
                         now=at(hours=2)) == case
    db.session.commit()
    db.session.expire_all()
    assert message.status == OutboxStatus.FAILED and "5.2.2" in message.last_error
    [answer] = case.answers
    assert answer.status == AnswerStatus.FAILED
    assert case.status == CaseStatus.ASSIGNED and case.first_answered_at is None
    assert case.delivery_problem and case.email_refused == ""
    assert said(last(case, EventKind.DELIVERY_FAILED)) == (
        "The answer did not reach the customer. The customer's mail server returned it "
        "(5.2.2): 552 Mailbox full")
    consistent()


def test_a_bounce_of_the_answer_the_case_closed_on_opens_it_for_its_holder(org, case):
    units, people = org
    agent = people["cs.agent"]
    agent.notify_by_email = True
    operations.take(agent, case, now=NOW)
    db.session.commit()
    message = deliver(send(case, agent, at(hours=1), close=True), at(hours=1))
    assert case.status == CaseStatus.CLOSED
    record_bounce(message, status="5.1.1", diagnostic="550 5.1.1 User unknown",
                  now=at(hours=2))
    db.session.commit()
    db.session.expire_all()
    assert (case.status, case.assignee_id, case.closed_at) == (CaseStatus.ASSIGNED, agent.id,
                                                              None)
    assert case.email_refused == case.contact_email
    assert ReplyChannel.EMAIL in channel_problems(case)
    assert kinds(case)[-2:] == ["delivery_failed", "reopened"]
    assert len(notifications(agent)) == 1
    consistent()


def test_a_bounced_confirmation_flags_the_case(org, case):
    queue_confirmation(case, NOW)
    db.session.commit()
    message = db.session.scalar(sa.select(OutboxMessage))
    message.status, message.sent_at = OutboxStatus.SENT, NOW
    db.session.commit()
    assert record_bounce(message, status="5.1.1", diagnostic="User unknown", now=at(hours=1)) == case
    db.session.commit()
    db.session.expire_all()
    assert case.delivery_problem.startswith("Confirmation email could not be delivered")
    assert said(case.events[-1]) == ("The confirmation email did not reach the customer. The "
                                     "customer's mail server returned it (5.1.1): User unknown")
    assert case.status == CaseStatus.NEW


def test_a_second_report_about_the_same_message_changes_nothing(org, case):
    units, people = org
    message = answered_by(case, people["cs.agent"], at(hours=1), close=False)
    record_bounce(message, status="5.2.2", diagnostic="Full", now=at(hours=2))
    db.session.commit()
    events = len(kinds(case))
    assert record_bounce(message, status="5.2.2", diagnostic="Full", now=at(hours=3)) == case
    db.session.commit()
    assert len(kinds(case)) == events


def test_a_bounce_of_staff_mail_concerns_no_case(org, case):
    units, people = org
    message = OutboxMessage(kind=OutboxKind.NOTIFICATION, recipient="cs.agent@bank.example",
                            sender="feedback@bank.example", subject="s", body_text="b",
                            message_id="<n1@bank.example>", case_id=case.id,
                            next_attempt_at=NOW, created_at=NOW, status=OutboxStatus.SENT)
    db.session.add(message)
    db.session.commit()
    assert record_bounce(message, status="5.1.1", diagnostic="", now=at(hours=1)) is None


# Changes racing the mail


def test_a_reply_racing_a_colleagues_change_is_refused_and_can_be_read_again(org, case):
    units, people = org
    with colleague_writes_first(case), pytest.raises((CaseChanged, StaleDataError)):
        reply(case, at(hours=1))
    db.session.rollback()
    assert kinds(case) == ["received"]
    reply(case, at(hours=1))
    assert kinds(case) == ["received", "customer_replied"]


# On PostgreSQL: a reply arrives while staff act on the case, or while its answer is delivered


ROUNDS = 30
STAGGER = (0, 0.02, 0.05, 0.08, 0.12)


@pytest.fixture
def desk(app, data, org, make_user, database_url, clock):
    if not database_url.startswith("postgresql"):
        pytest.skip("a reply and a colleague acting at once need PostgreSQL's row locks")
    clock.set(NOW)
    client = app.test_client()
    assert client.post("/login", data={"username": "cs.agent", "password": PASSWORD}
                       ).status_code == 302
    return org[0]["cs"], org[1]["cs.agent"], client


def _in_own_context(data_app, work):
    """Run `work` as another process would: its own app context, session and connection."""
    with data_app.app_context():
        try:
            return work()
        finally:
            db.session.remove()


def _record_reply(data_app, case_id, delay=0.0):
    """As the inbound run does: the case read, the reply recorded, one commit; read again and
    retried when staff changed the case in between. `delay` lets staff start first."""
    def work():
        time.sleep(delay)
        for attempt in range(20):
            try:
                case = db.session.get(Case, case_id)
                target, threads = case_for_reply(case, NOW, CAL)
                assert threads
                record_customer_reply(target, text=REPLY, subject="Re", attachments=0,
                                      masked_kinds=set(), now=NOW, calendar=CAL)
                db.session.commit()
                return attempt
            except (CaseChanged, StaleDataError):
                db.session.rollback()
        raise AssertionError("the reply was never recorded")

    return _in_own_context(data_app, work)


def _post(client, case, action, page, **fields):
    data = hidden_fields(page, action)
    data.update({f"{action}-{name}": value for name, value in fields.items()})
    response = client.post(f"/cases/{case.reference}/{action}", data=data)
    return response.status_code, response.get_data(as_text=True)


def _pending_email(case):
    return db.session.scalar(sa.select(OutboxMessage).join(Answer).where(
        Answer.case_id == case.id, Answer.status == AnswerStatus.PENDING))


def _deliver_email(message):
    message.status, message.sent_at = OutboxStatus.SENT, NOW
    db.session.commit()
    OutboxOutcomes.sent(message.id, NOW)
    db.session.expire_all()


def _events(case):
    return db.session.scalars(sa.select(CaseEvent.kind).where(CaseEvent.case_id == case.id)
                              .order_by(CaseEvent.at, CaseEvent.id)).all()


# What each race may leave on the timeline after "received", by who went first.
RACES = {
    "answer": (["replied", "customer_replied"], ["customer_replied"]),
    "close": (["closed", "customer_replied", "reopened"], ["customer_replied"]),
    "delivery": (["replied", "delivered", "closed", "customer_replied", "reopened"],
                 ["replied", "customer_replied", "delivered"]),
}


@pytest.mark.committed
@pytest.mark.parametrize("race", list(RACES))
def test_a_reply_arriving_while_staff_answer_or_close_is_never_lost_nor_half_written(
        desk, data, make_case, race):
    cs, agent, client = desk
    answer_fields = {"channel": "email", "final": "y", "body": "Maksu on palautettu."}
    for round_number in range(ROUNDS):
        case = make_case(cs, received_at=NOW, status=CaseStatus.ASSIGNED, assignee=agent)
        page = client.get(f"/cases/{case.reference}").get_data(as_text=True)
        if race == "answer":
            staff = partial(_post, client, case, "answer", page, send="Send", **answer_fields)
        elif race == "close":
            staff = partial(_post, client, case, "close", page, resolution="other")
        else:
            assert _post(client, case, "answer", page, send_and_close="Send, close when "
                         "delivered", **answer_fields)[0] == 302
            message = _pending_email(case)
            message.status, message.sent_at = OutboxStatus.SENT, NOW
            db.session.commit()
            staff = partial(_in_own_context, data, partial(OutboxOutcomes.sent, message.id, NOW))
        # The reply comes at once, or a little later: staff's request takes longer to reach
        # the case than the run does, and each should sometimes be first.
        delay = STAGGER[round_number % len(STAGGER)]
        staff_result, _attempts = together(staff, partial(_record_reply, data, case.id, delay))
        if race != "delivery":
            assert staff_result[0] in (200, 302), (round_number, staff_result[0])
            if staff_result[0] == 200:
                assert "This case changed since you opened it" in staff_result[1]
        db.session.expire_all()
        events = [kind.value for kind in _events(case)]
        assert events[0] == "received" and events[1:] in RACES[race], (round_number, events)
        # Never half: the reply is there once, and the case awaits the answer to it.
        assert events.count("customer_replied") == 1
        assert case.is_open and case.customer_replied_at is not None, round_number
        waiting = _pending_email(case)
        if waiting is not None:
            _deliver_email(waiting)  # written before the reply: it does not answer it
            assert case.is_open and case.customer_replied_at is not None, round_number
        # Only a reply to a case nobody had answered or closed keeps the due date.
        assert (case.reply_due_date is None) == (events[1:] == ["customer_replied"]), (
            round_number, events)
        # Staff read the reply and answer it: the case is then answered, after it.
        page = client.get(f"/cases/{case.reference}").get_data(as_text=True)
        assert _post(client, case, "answer", page, send="Send", **answer_fields)[0] == 302
        _deliver_email(_pending_email(case))
        assert case.status == CaseStatus.ANSWERED and case.customer_replied_at is None
        assert case.reply_due_date is None, round_number
    consistent()


def test_feedback_that_came_by_email_is_counted_under_its_own_intake_channel(
        client, login, org, make_case, make_user):
    units, _people = org
    make_user("admin", is_admin=True)
    by_email = make_case(units["cs"], received_at=NOW)
    by_email.intake_channel = IntakeChannel.EMAIL
    make_case(units["cs"], received_at=NOW)
    db.session.commit()
    login("admin")
    response = client.get("/reports/volumes/volume-by-intake-channel.csv"
                          "?period=custom&start=2026-11-23&end=2026-11-29")
    rows = [line.split(";") for line in response.data.decode("utf-8-sig").splitlines()]
    assert rows[1:] == [["Email", "1", "1"], ["Feedback form", "1", "1"], ["All", "2", "2"]]


@given(steps=st.lists(st.tuples(st.sampled_from(["estimate", "reply"]),
                                st.none() | st.dates(min_value=date(2026, 12, 1),
                                                     max_value=date(2027, 3, 1))), max_size=8))
def test_the_day_in_effect_is_the_reply_deadline_else_the_estimate_else_the_due_date(steps):
    case = Case(due_date=date(2026, 11, 30))
    case.set_estimate(None)
    for what, day in steps:
        case.set_estimate(day) if what == "estimate" else case.set_reply_due_date(day)
    assert case.effective_due_date == (case.reply_due_date or case.estimated_decision_date
                                       or case.due_date)


def test_a_closing_day_before_the_reply_deadline_changes_the_badge_of_a_case_with_an_estimate(
        org, case):
    units, people = org
    answered_by(case, people["cs.agent"], at(hours=1))
    case.set_estimate(date(2026, 11, 30))  # an estimate the first answer was measured on
    db.session.commit()
    reply(case, at(days=1))  # due 1.12.
    today = date(2026, 11, 26)
    closing = date(2026, 11, 30)
    assert case_badge(case, today, CAL) != case_badge(case, today, BankingCalendar([closing],
                                                                                   HELSINKI))
    assert badges_changed(closing, today, CAL) == 1
