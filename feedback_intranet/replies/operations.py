"""Answering: compose and send by a channel, record calls, post letters.

Each takes the acting user, checks the rule, writes the timeline, flushes;
the view commits once. Mail goes to the outbox in the same transaction.
"""

import sqlalchemy as sa

from ..access import can_handle_case, can_view_unit
from ..cases.common import (
    CaseChanged,
    add_event,
    check_action,
    claim_version,
    hold_if_nobody_does,
)
from ..extensions import db
from ..i18n import gettext as _
from ..models import (
    Answer,
    AnswerStatus,
    CallbackStatus,
    CallbackTask,
    CaseType,
    EventKind,
    Letter,
    OutboxMessage,
    OutboxStatus,
    Purpose,
    ReplyChannel,
)
from ..notifications import NOT_REACHED, WRONG_NUMBER, notify
from ..refusals import Refusal
from ..rules.dates import format_date, mentions_date
from ..rules.masking import KIND_TITLES, mask, sensitive_kinds
from ..rules.service_hours import call_timing, next_windows
from .answers import mark_delivered, mark_failed
from .channels import channel_problems, dispatch
from .channels.letter import letter_pdf
from .confirmations import needs_confirmation, queue_confirmation, refuse_without_written_channel
from .delivery import new_answer
from .texts import compose, read_out

MAX_CALL_ATTEMPTS = 3
CALLBACK_CHOICES = 12  # windows offered when a waiting callback is moved
MAX_ESTIMATE_BANKING_DAYS = 60
# What happened on a call (the timeline words each in the reader's language).
CALL_OUTCOMES = ("reached", "no_answer", "busy", "wrong_number")


def refuse_sensitive(text, field):
    """Refuse outgoing text that carries an identity code, an IBAN or a card number."""
    found = sensitive_kinds(text)
    if found:
        names = ", ".join(sorted(_(KIND_TITLES[kind]) for kind in found))
        raise Refusal(_("The text contains sensitive data: %(names)s. Such data is never sent "
                          "to the customer. Remove it and send again; nothing was sent.",
                          names=names), field)


def check_channel(case, channel, field="channel"):
    problem = channel_problems(case).get(channel)
    if problem:
        raise Refusal(_("This case cannot be answered by %(channel)s: %(problem)s.",
                          channel=channel.title.lower(), problem=problem), field)


def send_answer(actor, case, *, channel, body, reason="", final=True, close_when_delivered=False,
                now, today, calendar, deviations, expected_version=None):
    """Send the holder's answer by a channel; it counts once it reaches the customer.

    With `close_when_delivered` the case closes as answered once it has (see `answers`): such
    an answer to a complaint is always the final one, with the paragraph on where to turn. By
    phone that paragraph is read out, and confirmed in writing after the call (`confirmations`)."""
    check_action(actor, case, "answer", expected_version)
    if close_when_delivered and case.case_type == CaseType.COMPLAINT:
        final = True
    pending = db.session.scalar(sa.select(Answer).where(
        Answer.case_id == case.id, Answer.purpose == Purpose.ANSWER,
        Answer.status == AnswerStatus.PENDING))
    if pending is not None:
        raise Refusal(_("An answer by %(channel)s is already on its way; wait until it has "
                          "reached the customer or failed.", channel=pending.channel.title.lower()),
                        "body")
    channel = ReplyChannel(channel)
    check_channel(case, channel)
    reason = reason.strip()
    if case.reply_channel and channel != case.reply_channel and not reason:
        raise Refusal(_("The customer asked for %(channel)s: say why you answer another way.",
                          channel=case.reply_channel.title.lower()), "reason")
    if not body.strip():
        raise Refusal(_("Write the answer."), "body")
    text = compose(case, case.current_unit, body, final, channel)
    refuse_sensitive(text, "body")
    paragraph = read_out(case, final, channel)
    if paragraph:
        refuse_without_written_channel(case, "channel")
    hold_if_nobody_does(actor, case, now)
    answer = new_answer(case, actor, channel, text, Purpose.ANSWER, now)
    answer.close_when_delivered, answer.read_out = close_when_delivered, paragraph
    sent = dispatch(answer, case, case.current_unit, now=now, today=today, calendar=calendar,
                    deviations=deviations)
    facts = {"channel": str(channel), "sent": sent}
    if reason and channel != case.reply_channel:
        facts.update(asked_for=str(case.reply_channel), reason=mask(reason).text)
    if paragraph:
        facts["read_out"] = True
    if close_when_delivered:
        facts["close_when_delivered"] = True
    add_event(case, EventKind.REPLIED, actor, now, text, **facts)
    return answer


def cancel_waiting(actor, case, answer_id, *, now, expected_version=None):
    """Take back an answer or notice that has not gone out: an email the mail server has not
    been handed, a letter not posted, a call not made. The timeline says so."""
    check_action(actor, case, "cancel_reply", expected_version)
    answer = db.session.get(Answer, answer_id) if answer_id is not None else None
    if answer is None or answer.case_id != case.id:
        raise Refusal(_("Choose what to cancel."))
    _take_back(actor, case, answer, now)
    return answer


def drop_notice(actor, letter, *, now, expected_version=None):
    """Take an interim notice out of the print queue while the case's answer waits to go out
    too: the customer would read the notice with the answer or after it. Whoever works the
    unit's print queue may, as they post its letters."""
    case = letter.case
    seen = case.version
    _check_unit(actor, letter.unit_id, case)
    if expected_version is not None and seen != expected_version:
        raise CaseChanged()
    notice = letter.answer
    if notice.purpose != Purpose.INTERIM_NOTICE:
        raise Refusal(_("Only an interim notice can be dropped from the print queue; cancel "
                        "an answer on its case's page."))
    answer_waits = db.session.scalar(sa.select(sa.exists().where(
        Answer.case_id == case.id, Answer.purpose == Purpose.ANSWER,
        Answer.status == AnswerStatus.PENDING)))
    if not answer_waits:
        raise Refusal(_("The answer to %(ref)s no longer waits to go out, so the interim "
                        "notice stays in the queue.", ref=case.reference))
    _take_back(actor, case, notice, now, answer_waits=True)


def _take_back(actor, case, answer, now, **because):
    if answer.status != AnswerStatus.PENDING:
        raise Refusal(_("This has already gone out or was cancelled; nothing was changed."))
    channel = ReplyChannel(answer.channel)
    # Each is one conditional UPDATE, so the worker claiming the email, a colleague posting
    # the letter or recording the call, and this cancellation cannot both succeed.
    if channel == ReplyChannel.EMAIL:
        taken = db.session.execute(sa.update(OutboxMessage).where(
            OutboxMessage.answer_id == answer.id, OutboxMessage.status == OutboxStatus.QUEUED,
        ).values(status=OutboxStatus.CANCELLED, last_error="")).rowcount
        refusal = _("The email has already been handed to the mail server and cannot be "
                    "cancelled.")
    elif channel == ReplyChannel.LETTER:
        taken = db.session.execute(sa.update(Letter).where(
            Letter.answer_id == answer.id, Letter.posted_at.is_(None),
        ).values(version=Letter.version + 1)).rowcount
        refusal = _("The letter has already been marked posted.")
    else:
        taken = db.session.execute(sa.update(CallbackTask).where(
            CallbackTask.answer_id == answer.id, CallbackTask.status == CallbackStatus.OPEN,
        ).values(status=CallbackStatus.CANCELLED, closed_at=now,
                 version=CallbackTask.version + 1)).rowcount
        refusal = _("The call has already been recorded.")
    if taken != 1:
        raise Refusal(refusal)
    answer.status = AnswerStatus.CANCELLED
    facts = {"purpose": str(answer.purpose), "channel": str(channel), **because}
    if (answer.estimate is not None and answer.previous_estimate is not None
            and case.reply_due_date == answer.estimate):
        # A notice about a customer's reply: the reply deadline before it holds again.
        case.set_reply_due_date(answer.previous_estimate)
        facts["reply_due_holds"] = answer.previous_estimate.isoformat()
    elif answer.estimate is not None and case.estimated_decision_date == answer.estimate:
        # The customer was never told of this estimate: the one before it holds again.
        case.set_estimate(answer.previous_estimate)
        previous = answer.previous_estimate
        facts.update({"estimate_holds": previous.isoformat()} if previous
                     else {"due_date_holds": case.due_date.isoformat()})
    add_event(case, EventKind.REPLY_CANCELLED, actor, now, from_unit_id=case.current_unit_id,
              **facts)
    db.session.flush()


def callback_times(case, now, calendar, deviations):
    """The windows a waiting callback may move to: the next ones inside the segment's service
    hours, from now on."""
    return next_windows(now, str(case.segment), calendar, deviations, count=CALLBACK_CHOICES)


def move_callback(actor, case, start, *, now, calendar, deviations, expected_version=None):
    """Plan the waiting callback for another window, e.g. when the customer asked to be called in
    the afternoon; the callback list and the case say the new time."""
    check_action(actor, case, "move_callback", expected_version)
    answer = case.waiting_answer
    task = answer.open_callback if answer is not None else None
    if task is None:
        raise Refusal(_("No callback waits to be made; nothing was moved."))
    window = next((w for w in callback_times(case, now, calendar, deviations)
                   if w.start.isoformat() == start), None)
    if window is None:
        raise Refusal(_("Choose one of the times offered."), "window")
    if window.start == task.window_start:
        raise Refusal(_("The callback is already planned for that time."), "window")
    before = _window(task.window_start, task.window_end)
    # The task's own version moves too: a colleague recording the call meanwhile is refused.
    task.window_start, task.window_end = window.start, window.end
    task.due_at = max(task.due_at, window.end)
    add_event(case, EventKind.CALLBACK, actor, now, moved_from=before,
              moved_to=_window(window.start, window.end))
    db.session.flush()


def _window(start, end):
    """A call window as the timeline keeps it."""
    return [start.isoformat(), end.isoformat()]


def send_notice(actor, case, text, estimate, *, now, today, calendar, deviations):
    """An interim notice goes the way the customer chose, like an answer; when that way is closed
    (e.g. no email about the customer's own banking), by phone or letter instead."""
    channel = ReplyChannel(case.reply_channel)
    problems = channel_problems(case)
    if channel in problems:
        channel = next((c for c in (ReplyChannel.PHONE, ReplyChannel.LETTER)
                        if c not in problems), channel)
    check_channel(case, channel, "text")
    full = compose(case, case.current_unit, text, False, channel)
    refuse_sensitive(full, "text")
    answer = new_answer(case, actor, channel, full, Purpose.INTERIM_NOTICE, now)
    # What the estimate replaces, and what holds again should the notice be cancelled.
    answer.estimate = estimate
    answer.previous_estimate = case.reply_due_date or case.estimated_decision_date
    return dispatch(answer, case, case.current_unit, now=now, today=today, calendar=calendar,
                    deviations=deviations)


def send_interim_notice(actor, case, estimate, text, *, now, today, calendar, deviations=None,
                        expected_version=None):
    """Tell the customer the answer takes longer; the estimate becomes the effective due date.

    The notice goes out the way answers do (outbox, callback task or letter); the estimate
    takes effect as it is sent. On a case a customer's reply opened again it moves the reply
    deadline: the due date and the estimate stay the promise the first answer was measured on.
    """
    check_action(actor, case, "interim_notice", expected_version)
    if estimate is None:
        raise Refusal(_("Give the estimated decision date."), "estimate")
    if estimate <= today or not calendar.is_banking_day(estimate):
        raise Refusal(_("The estimate must be a banking day after today."), "estimate")
    if calendar.banking_days_between(today, estimate) > MAX_ESTIMATE_BANKING_DAYS:
        raise Refusal(_("The estimate may be at most %(days)s banking days ahead.",
                          days=MAX_ESTIMATE_BANKING_DAYS), "estimate")
    if not text.strip():
        raise Refusal(_("Write the text to the customer."), "text")
    if not mentions_date(text, estimate):
        # The customer must read the date the badge will follow, not a stale pre-filled one.
        raise Refusal(_("The text must tell the customer the estimated date %(date)s.",
                          date=format_date(estimate)), "text")
    hold_if_nobody_does(actor, case, now)
    sent = send_notice(actor, case, text, estimate, now=now, today=today, calendar=calendar,
                       deviations=deviations)
    facts = {"estimate": estimate.isoformat(), "sent": sent}
    if case.reply_due_date is not None:
        facts.update(reply=True, previous=case.reply_due_date.isoformat())
        case.set_reply_due_date(estimate)
    else:
        if case.estimated_decision_date:
            facts["previous"] = case.estimated_decision_date.isoformat()
        case.set_estimate(estimate)
    add_event(case, EventKind.INTERIM_NOTICE, actor, now, text.strip(), **facts)
    db.session.flush()


def mark_own_banking_matter(actor, case, value, *, now, expected_version=None):
    """The holder marks that the case concerns the customer's own banking: no email answers."""
    check_action(actor, case, "answer", expected_version)
    case.own_banking_matter = value
    add_event(case, EventKind.BANKING_MATTER, actor, now, own_banking=bool(value))


def _check_unit(actor, unit_id, case):
    """Members of the unit that holds the task or letter, and of the unit holding the case; the
    case's row is then locked first, as every case action locks it, so a call or letter and a
    case action on the same case wait for each other in one order and never deadlock."""
    if not can_view_unit(actor, unit_id) or not can_handle_case(actor, case):
        raise PermissionError("Not a member of this unit.")
    claim_version(case)


def call_timing_of(task, now, calendar, deviations):
    """How a call recorded now stands against its planned window and the service hours."""
    return call_timing(now, task.window_start, task.window_end, str(task.segment), calendar,
                       deviations)


def _timing_facts(task, now, calendar, deviations):
    """A call recorded outside its window or the service hours: the callback event keeps it."""
    timing = call_timing_of(task, now, calendar, deviations)
    facts = {}
    if timing.outside_window:
        facts["outside_window"] = _window(task.window_start, task.window_end)
    if timing.outside_hours:
        facts["outside_hours"] = ([f"{t:%H:%M}" for t in timing.hours] if timing.hours
                                  else "closed")
    return facts


def record_call(actor, task, outcome, summary, *, now, calendar, deviations):
    """Record one call attempt; a reached customer makes the summary the answer. A complaint's
    final answer reached by phone is then confirmed in writing (`confirmations`): returned when
    queued."""
    _check_unit(actor, task.unit_id, task.case)
    if task.status == CallbackStatus.CANCELLED:
        raise Refusal(_("This call was cancelled."), "outcome")
    if task.status != CallbackStatus.OPEN:
        raise Refusal(_("This call has already been recorded as done."), "outcome")
    if outcome not in CALL_OUTCOMES:
        raise Refusal(_("Choose what happened on the call."), "outcome")
    case, answer = task.case, task.answer
    summary = mask(summary.strip()).text
    if outcome == "reached" and not summary:
        raise Refusal(_("Write a summary of the call: it is the answer on record."), "summary")
    hold_if_nobody_does(actor, case, now)
    task.attempts += 1
    call = {"attempt": task.attempts, "phone": task.phone, "outcome": outcome,
            **_timing_facts(task, now, calendar, deviations)}
    if outcome == "reached":
        if answer.purpose == Purpose.ANSWER:
            answer.text = summary
        task.status, task.closed_at = CallbackStatus.DONE, now
        add_event(case, EventKind.CALLBACK, actor, now, summary, **call)
        confirmation = None
        if needs_confirmation(answer):
            # Queued before the answer counts as delivered, so "close when delivered" waits for it.
            confirmation = queue_confirmation(actor, case, answer, summary, now=now,
                                              calendar=calendar, deviations=deviations)
        mark_delivered(answer, case, now, calendar, actor=actor)
        return confirmation
    elif outcome == "wrong_number":
        task.status, task.closed_at = CallbackStatus.WRONG_NUMBER, now
        add_event(case, EventKind.CALLBACK, actor, now, **call)
        mark_failed(answer, case, "wrong phone number; correct it or answer by letter or email",
                    now, problem={"problem": "wrong_number"})
        _tell_holder(case, WRONG_NUMBER, now)
    elif task.attempts >= MAX_CALL_ATTEMPTS:
        task.status, task.closed_at = CallbackStatus.GAVE_UP, now
        add_event(case, EventKind.CALLBACK, actor, now, **call)
        mark_failed(answer, case, f"{task.attempts} calls did not reach the customer; answer by "
                    "letter or email instead", now,
                    problem={"problem": "not_reached", "attempts": task.attempts})
        _tell_holder(case, NOT_REACHED, now)
    else:
        # The next window after the one just tried, never one already past.
        after = max(now, task.window_end)
        window = next_windows(after, str(task.segment), calendar, deviations, count=1)[0]
        task.window_start, task.window_end = window.start, window.end
        add_event(case, EventKind.CALLBACK, actor, now, next=_window(window.start, window.end),
                  **call)


def _tell_holder(case, message, now):
    if case.assignee is not None:
        notify([case.assignee], case, message, now)


def post_letter(actor, letter, *, now, calendar):
    """Staff mark the letter posted: the answer has reached the customer."""
    _check_unit(actor, letter.unit_id, letter.case)
    if letter.posted_at is not None:
        raise Refusal(_("This letter was already marked posted."))
    _refuse_cancelled(letter)
    letter.posted_at, letter.posted_by_id = now, actor.id
    posted = now.astimezone(calendar.tz).date()
    mark_delivered(letter.answer, letter.case, now, calendar,
                   {"posted_on": posted.isoformat()}, actor)


def _refuse_cancelled(letter):
    if letter.answer.status == AnswerStatus.CANCELLED:
        raise Refusal(_("This letter was cancelled; it is no longer in the print queue."))


def regenerate_letter(actor, letter, *, today):
    """Render the letter again, e.g. after the address was corrected; never once posted."""
    _check_unit(actor, letter.unit_id, letter.case)
    if letter.posted_at is not None:
        raise Refusal(_("A posted letter cannot be changed."))
    _refuse_cancelled(letter)
    letter.pdf = letter_pdf(letter.case, letter.unit, letter.answer.purpose,
                            letter.answer.text, today)
