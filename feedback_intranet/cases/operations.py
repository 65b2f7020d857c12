"""Changes to a case. Each takes the acting user, checks the rule and the case's version,
changes the rows, writes the timeline event and flushes; the view commits once."""

import sqlalchemy as sa

from .. import access
from ..extensions import db
from ..i18n import gettext as _
from ..models import (
    Answer,
    AnswerStatus,
    CallbackStatus,
    CallbackTask,
    Case,
    CasePastUnit,
    CaseStatus,
    EventKind,
    Letter,
    MatchMethod,
    Membership,
    Purpose,
    ReplyChannel,
    Resolution,
    Topic,
    Unit,
    User,
)
from ..notifications import ASSIGNED, FORWARDED, notify
from ..refusals import Refusal
from ..routing import suggested_unit_id
from ..rules.masking import mask
from .common import CaseChanged, add_event, check_action, hold

CORRECTABLE = ("contact_name", "contact_street", "contact_postal_code", "contact_city",
               "contact_country", "contact_phone", "contact_email", "topic_id", "case_type",
               "segment")


def active_member(unit_id, user_id):
    return db.session.scalar(
        sa.select(User).join(Membership)
        .where(User.id == user_id, User.active, Membership.unit_id == unit_id)
    )


def take(actor, case, *, now, expected_version=None):
    """A member of the holding unit takes the case: it becomes theirs."""
    check_action(actor, case, "take", expected_version)
    hold(actor, case, now, previous=case.assignee)
    db.session.flush()


def assign(actor, case, member_id, *, now, expected_version=None):
    """The team lead gives the case to an active member of the holding unit."""
    check_action(actor, case, "assign", expected_version)
    member = active_member(case.current_unit_id, member_id)
    if member is None:
        raise Refusal(_("Choose an active member of the unit holding the case."), "member")
    if case.assignee_id == member.id:
        raise Refusal(_("%(name)s already holds %(ref)s.", name=member.full_name,
                          ref=case.reference), "member")
    previous = case.assignee
    case.assignee = member
    case.status = CaseStatus.ASSIGNED
    add_event(case, EventKind.ASSIGNED, actor, now, from_unit_id=case.current_unit_id,
              **_holders(member, previous))
    if member.id != actor.id:
        notify([member], case, ASSIGNED, now, actor=actor.full_name)
    db.session.flush()


def assign_many(actor, unit_id, case_ids, member_id, *, now, versions=None):
    """Give several cases of one unit to one member at once (all or none).

    `versions` maps case ids to the versions the lead saw; a case changed since is refused.
    """
    if not access.can_lead_unit(actor, unit_id):
        raise PermissionError("Only the unit's team lead assigns its cases.")
    if not case_ids:
        raise Refusal(_("Select the cases to assign."), "case_ids")
    cases = db.session.scalars(
        sa.select(Case).where(Case.id.in_(case_ids)).order_by(Case.effective_due_date, Case.id)
    ).all()
    elsewhere = [c.reference for c in cases if c.current_unit_id != unit_id or not c.is_open]
    if len(cases) != len(set(case_ids)) or elsewhere:
        raise Refusal(_("Some of the selected cases have left this inbox or were closed "
                          "meanwhile: %(cases)s. Nothing was assigned; select again.",
                          cases=", ".join(elsewhere) or _("unknown cases")), "case_ids")
    changed = [c.reference for c in cases
               if versions and versions.get(c.id) not in (None, c.version)]
    if changed:
        raise Refusal(_("%(cases)s changed since you opened the list. Nothing was assigned; "
                          "look again and select.", cases=", ".join(changed)), "case_ids")
    member = active_member(unit_id, member_id)
    if member is None:
        raise Refusal(_("Choose an active member of the unit."), "member")
    moved = [c for c in cases if c.assignee_id != member.id]
    for case in moved:
        previous = case.assignee
        case.assignee = member
        case.status = CaseStatus.ASSIGNED
        add_event(case, EventKind.ASSIGNED, actor, now, from_unit_id=unit_id,
                  **_holders(member, previous))
    if member.id != actor.id and moved:
        for case in moved:
            notify([member], case, ASSIGNED, now, actor=actor.full_name)
    db.session.flush()
    return moved


def _holders(holder, previous):
    """The facts of an assignment: to whom, and from whom if someone held the case."""
    return {"holder": holder.full_name, **({"previous": previous.full_name} if previous else {})}


def unassign(actor, case, *, now, expected_version=None):
    """Hand the case back to the unit's inbox."""
    check_action(actor, case, "unassign", expected_version)
    previous = case.assignee
    case.assignee = None
    case.status = CaseStatus.NEW
    add_event(case, EventKind.UNASSIGNED, actor, now, from_unit_id=case.current_unit_id,
              previous=previous.full_name)
    db.session.flush()


def forward(actor, case, unit_id, note, *, now, expected_version=None):
    """Move the case to another unit's inbox, unassigned, with a note; the due date stays."""
    check_action(actor, case, "forward", expected_version)
    note = mask(note.strip()).text
    if not note:
        raise Refusal(_("Write a note for the unit you forward to."), "note")
    target = db.session.get(Unit, unit_id)
    if target is None:
        raise Refusal(_("Choose the unit to forward to."), "unit")
    if target.id == case.current_unit_id:
        raise Refusal(_("The case is already in %(unit)s's inbox.", unit=target.local_name), "unit")
    if not target.active:
        raise Refusal(_("%(unit)s is no longer active; choose another unit.", unit=target.local_name),
                        "unit")
    source = case.current_unit_id
    move_to_unit(case, target.id)
    case.assignee = None
    case.status = CaseStatus.NEW
    add_event(case, EventKind.FORWARDED, actor, now, note, from_unit_id=source, to_unit_id=target.id)
    recipients = db.session.scalars(
        sa.select(User).join(Membership)
        .where(Membership.unit_id == target.id, User.active, User.id != actor.id)
    ).all()
    notify(recipients, case, FORWARDED, now, actor=actor.full_name, unit=target)
    db.session.flush()


def move_to_unit(case, unit_id):
    """The case goes to the inbox of `unit_id`; the unit it leaves keeps reading it."""
    # Calls still to make and letters still to post go with the case to its new holder. Their
    # versions move too, so someone of the old unit acting on one meanwhile is refused. Written
    # before the case changes, so the case's row is written once, with the rest of the change.
    # A call or letter waits only while its answer does, so a case with no answer on its way
    # (nearly every forward; its answers are read with it) has none to move.
    waiting = {answer.channel for answer in case.answers if answer.status == AnswerStatus.PENDING}
    if ReplyChannel.PHONE in waiting:
        db.session.execute(sa.update(CallbackTask).where(
            CallbackTask.case_id == case.id, CallbackTask.status == CallbackStatus.OPEN
        ).values(unit_id=unit_id, version=CallbackTask.version + 1))
    if ReplyChannel.LETTER in waiting:
        db.session.execute(sa.update(Letter).where(
            Letter.case_id == case.id, Letter.posted_at.is_(None)
        ).values(unit_id=unit_id, version=Letter.version + 1))
    source = case.current_unit_id
    if not any(past.unit_id == source for past in case.past_units):
        case.past_units.append(CasePastUnit(unit_id=source))
    case.past_units[:] = [p for p in case.past_units if p.unit_id != unit_id]
    case.current_unit_id = unit_id


def _topic_names(topic):
    """A topic as the timeline keeps it: its name in each language, as it was then."""
    return {language: topic.name_in(language) for language in ("fi", "sv", "en")}


def correct(actor, case, changes, *, now, expected_version=None):
    """Fix contact details, topic, type or segment; the timeline keeps old and new values."""
    check_action(actor, case, "correct", expected_version)
    unknown = set(changes) - set(CORRECTABLE)
    if unknown:
        raise ValueError(f"not correctable: {sorted(unknown)}")
    changed = []
    for field, value in changes.items():
        if isinstance(value, str):
            value = mask(value.strip()).text
        old = getattr(case, field)
        if str(old or "") == str(value or ""):
            continue
        if field == "topic_id":
            topic = db.session.get(Topic, value)
            if topic is None:
                raise Refusal(_("Choose a topic."), "topic")
            changed.append([field, _topic_names(case.topic), _topic_names(topic)])
            case.topic = topic
            case.suggested_unit_id = suggested_unit_id(topic, case.customer)
            continue
        setattr(case, field, value)
        changed.append([field, str(old) if old is not None else None,
                        str(value) if value is not None else None])
    if not changed:
        raise Refusal(_("Nothing was changed."))
    add_event(case, EventKind.CORRECTED, actor, now, changes=changed)
    db.session.flush()


def add_note(actor, case, text, *, now, expected_version=None):
    """An internal note: never sent to the customer."""
    check_action(actor, case, "note", None, lock=False)
    text = mask(text.strip()).text
    if not text:
        raise Refusal(_("Write the note."), "text")
    add_event(case, EventKind.NOTE, actor, now, text, from_unit_id=case.current_unit_id)
    db.session.flush()


def waiting_replies(case):
    """What is addressed to the customer and has not yet gone out: an email still in the
    outbox, a letter not yet posted, a call not yet made (answers and interim notices)."""
    return db.session.scalars(sa.select(Answer).where(
        Answer.case_id == case.id, Answer.status == AnswerStatus.PENDING).order_by(Answer.id)
    ).all()


def describe_waiting(answer):
    """One waiting answer or notice, as the refusal to close names it."""
    what = {
        ReplyChannel.EMAIL: _("%(what)s by email, still in the outbox"),
        ReplyChannel.LETTER: _("%(what)s by letter, not yet marked posted"),
        ReplyChannel.PHONE: _("%(what)s by phone, the call not yet made"),
    }[ReplyChannel(answer.channel)]
    return what % {"what": answer.purpose.title}


def _what_waits(waiting):
    """"confirmation" when only the written confirmation of a phone answer waits, "waiting" when
    anything else addressed to the customer does, else None."""
    if not waiting:
        return None
    return ("confirmation" if all(a.purpose == Purpose.WRITTEN_CONFIRMATION for a in waiting)
            else "waiting")


def _unanswered(case, resolution):
    """Closing as answered needs an answer that reached the customer."""
    return resolution == Resolution.ANSWERED and case.first_answered_at is None


def refuse_while_waiting(case, field):
    """A case is not closed by hand while anything addressed to the customer waits."""
    waiting = waiting_replies(case)
    what = _what_waits(waiting)
    if what == "confirmation":
        # A complaint's final answer by phone: the case waits for its written confirmation.
        raise Refusal({
            ReplyChannel.EMAIL: _("Not closed yet: the customer was answered by phone, and the "
                                  "case closes once the written confirmation has been handed "
                                  "to the mail server (it is still in the outbox)."),
            ReplyChannel.LETTER: _("Not closed yet: the customer was answered by phone, and the "
                                   "case closes once the written confirmation has been posted "
                                   "(the letter waits in the print queue)."),
        }[ReplyChannel(waiting[0].channel)], field)
    if what:
        raise Refusal(_("Not closed: %(what)s. Cancel it first, or close the case once it has "
                          "gone out.",
                          what="; ".join(describe_waiting(a) for a in waiting)), field)


def why_not_closed(case, resolution):
    """What closing asks of a case, by hand or on delivery: "answered" needs an answer that
    reached the customer ("not_answered"), and nothing addressed to the customer may still wait
    ("waiting"; "confirmation" when only the written confirmation of a phone answer does).
    None when it may close."""
    if _unanswered(case, resolution):
        return "not_answered"
    return _what_waits(waiting_replies(case))


def refuse_to_close(case, resolution, field):
    if _unanswered(case, resolution):
        raise Refusal(_("No answer has been sent yet: the case cannot be closed as answered."),
                        field)
    refuse_while_waiting(case, field)


def close(actor, case, resolution, note="", *, now, expected_version=None):
    """Close the case with a resolution; "answered" needs a reply that was sent."""
    check_action(actor, case, "close", expected_version)
    resolution = Resolution(resolution)
    if resolution == Resolution.DUPLICATE:
        raise Refusal(_("Use “Mark as duplicate” to link the case it duplicates."),
                        "resolution")
    refuse_to_close(case, resolution, "resolution")
    _close(actor, case, resolution, note, now)
    db.session.flush()


def close_on_delivery(actor, case, asked_by, now):
    """The answer sent with "Send, close when delivered" reached the customer: the case closes
    as answered, on the rules of closing by hand, in the delivery's own transaction (whose
    caller already holds the case's row, as every case action does, so a colleague's close
    waits and is then refused). `actor` recorded the delivery (none for an email); `asked_by`
    sent the answer.

    Returns None when closed, else why not ("already_closed" or why_not_closed's word), for
    the timeline to say in the reader's language."""
    why = "already_closed" if case.status == CaseStatus.CLOSED else why_not_closed(
        case, Resolution.ANSWERED)
    if why:
        return why
    _close(actor, case, Resolution.ANSWERED, "", now, on_delivery_for=asked_by.full_name)
    return None


def _close(actor, case, resolution, note, now, **facts):
    case.status = CaseStatus.CLOSED
    case.resolution = resolution
    case.closed_at = now
    case.clear_customer_reply()
    add_event(case, EventKind.CLOSED, actor, now, mask(note.strip()).text,
              from_unit_id=case.current_unit_id, resolution=str(resolution), **facts)


def reopen(actor, case, reason, *, now, expected_version=None):
    """Reopen a closed case with a reason; it keeps its history and its holder if still here."""
    check_action(actor, case, "reopen", expected_version)
    reason = mask(reason.strip()).text
    if not reason:
        raise Refusal(_("Give the reason for reopening."), "reason")
    _reopen(actor, case, reason, now)
    db.session.flush()


def reopen_on_failed_delivery(answer, case, now):
    """The answer the case closed on did not reach the customer after all (a bounce learned
    later): the case opens again, to its holder if still a member of the unit, else to the
    inbox, in the transaction that records the failure. Returns whether it was reopened."""
    closed_by_it = (answer.close_when_delivered and case.status == CaseStatus.CLOSED
                    and case.resolution == Resolution.ANSWERED
                    and answer.delivered_at is not None and case.closed_at == answer.delivered_at)
    if closed_by_it:
        _reopen(None, case, "", now, delivery_failed=True)
    return closed_by_it


def reopen_on_reply(case, unit, reply_due_date, now):
    """The customer wrote back about a closed or answered case (see inbound.cases): it opens
    again in `unit`'s inbox, to its holder if they are an active member there, else to the
    inbox, awaiting an answer by `reply_due_date`. Returns the holder, if one stays."""
    source = case.current_unit_id
    if unit.id != source:
        move_to_unit(case, unit.id)
    case.set_reply_due_date(reply_due_date)
    return _reopen(None, case, "", now, from_unit_id=source,
                   to_unit_id=unit.id if unit.id != source else None, customer_replied=True,
                   reply_due=reply_due_date.isoformat())


def _reopen(actor, case, text, now, from_unit_id=None, to_unit_id=None, **facts):
    holder_stays = case.assignee_id and active_member(case.current_unit_id, case.assignee_id)
    if not holder_stays:
        case.assignee = None
    case.status = CaseStatus.ASSIGNED if holder_stays else CaseStatus.NEW
    case.resolution = None
    case.closed_at = None
    case.duplicate_of_id = None
    add_event(case, EventKind.REOPENED, actor, now, text,
              from_unit_id=from_unit_id or case.current_unit_id, to_unit_id=to_unit_id, **facts)
    return holder_stays or None


def mark_duplicate(actor, case, original, *, now, expected_version=None):
    """Close the case as a duplicate of `original`; both timelines say so."""
    check_action(actor, case, "duplicate", expected_version)
    refuse_while_waiting(case, "original")
    if original is None or not access.can_view_case(actor, original):
        raise Refusal(_("There is no such case that you can see. Check the reference."),
                        "original")
    if original.id == case.id:
        raise Refusal(_("A case cannot duplicate itself."), "original")
    if original.duplicate_of_id == case.id:
        raise Refusal(_("%(ref)s is already a duplicate of this case.", ref=original.reference),
                        "original")
    case.duplicate_of = original
    _close(actor, case, Resolution.DUPLICATE, "", now, duplicate_of=original.reference)
    add_event(original, EventKind.DUPLICATE, actor, now, duplicate=case.reference)
    db.session.flush()


def set_customer(actor, case, customer, *, now, expected_version=None):
    """Link the case to a customer of the register by hand."""
    if expected_version is not None and case.version != expected_version:
        raise CaseChanged()
    if not access.can_set_customer(actor, case):
        raise PermissionError("You may not change this case.")
    if customer is None:
        raise Refusal(_("Choose a customer from the register."))
    if case.customer_id == customer.id:
        raise Refusal(_("The case is already linked to %(name)s.", name=customer.name))
    previous = case.customer
    case.customer = customer
    case.match_method = MatchMethod.MANUAL
    case.suggested_unit_id = suggested_unit_id(case.topic, customer)
    was = ({"previous": previous.name, "previous_number": previous.customer_number}
           if previous is not None else {})
    add_event(case, EventKind.CUSTOMER_MATCHED, actor, now, customer=customer.name,
              number=customer.customer_number, **was)
    db.session.flush()
