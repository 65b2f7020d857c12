"""One entry per case action: its name, form, what it prepares for the page, the operation it
runs and the message when done.

`access.available_actions` says which names a user may take on a case (the rule); `available`
gives their entries in the page's order. A new case action is one entry here and its operation.
"""

from dataclasses import dataclass
from typing import Any, NamedTuple

import sqlalchemy as sa
from flask import request
from sqlalchemy.orm import selectinload
from wtforms.fields.choices import SelectChoice

from .. import access, clock
from ..closing_days import banking_calendar, deviating_hours
from ..countries import countries
from ..extensions import db
from ..i18n import gettext as _
from ..i18n import lazy_gettext as _l
from ..intake.forms import normalised_email, normalised_phone
from ..models import Case, CaseType, Customer, ReplyChannel, in_name_order
from ..replies import operations as reply_operations
from ..replies.channels import channel_problems
from ..replies.queries import reply_templates
from ..rules import postal_codes
from ..rules.dates import format_date
from ..web.forms import parse_id
from ..web.locale import get_locale_code
from . import forms, operations
from .queries import assignees, forward_targets, topics
from .texts import default_interim_notice

# Where the case page draws an action: a button in the row, a folded panel with its fields,
# a link to a page of its own, or a place of its own (the answer composer, the register, an
# answer's row).
ROW, PANEL, PAGE, OWN = "row", "panel", "page", "own"


class Choices(tuple):
    """A select's options as (value, label) pairs: set on every form of the action, since a
    posted one is checked against them."""


class Default(NamedTuple):
    """A field's value on a fresh form."""
    value: Any


@dataclass(frozen=True)
class CaseAction:
    name: str
    form: type
    done: Any  # the success message, with %(ref)s for the case's reference, or (form) -> it
    operation: Any  # (user, case, form, now) -> None: the change, run inside one commit
    # (case) -> {field name: Choices or Default}: what the form shows beyond its fields' own
    # defaults. Hashable, since the case page keeps a form's fields drawn under it (page_forms).
    shows: Any = None
    place: str = OWN
    label: Any = None  # the button, or (case) -> the button
    summary: Any = None  # a panel's heading
    fields: tuple = ()  # the form's fields the page shows
    style: str = ""  # the form's look in its place: "primary", "inline"
    hint: Any = None  # (case) -> a panel's explanation
    closes: bool = False  # closes the case: the panel first shows what still waits to go out
    allowed: Any = access.can_handle_case  # (user, case): may post it at all
    moves_on: bool = False  # done with the case for now: "Next case" may follow at once

    def button(self, case):
        return self.label(case) if callable(self.label) else self.label

    def shown(self, case):
        """What the action's form shows for `case` beyond its fields' own defaults."""
        return self.shows(case) if self.shows is not None else {}

    def new_form(self, case, blank=False, shown=None, **options):
        """The action's form for `case` with what it shows (`shown`, else worked out): the
        posted one, or with `blank` a fresh one for the page (which must not read another
        action's post)."""
        if blank:
            options["formdata"] = None
        # On the case page the forms share one page, so each field carries the action's name.
        prefix = "" if self.place == PAGE else self.name
        form = self.form(prefix=prefix, case=case, **options)
        for name, value in (self.shown(case) if shown is None else shown).items():
            if isinstance(value, Choices):
                form[name].choices = [SelectChoice(*pair) for pair in value]
            elif form.fresh:
                form[name].data = value.value
        return form

    def done_message(self, form):
        return self.done(form) if callable(self.done) else self.done

    def run(self, user, case, form):
        return lambda: self.operation(user, case, form, clock.now())


def _answer_shows(case):
    problems = channel_problems(case)
    allowed = [c for c in ReplyChannel if c not in problems]
    preset = case.reply_channel if case.reply_channel in allowed else None
    shown = {"channel": Default((preset or (allowed[0] if allowed else ReplyChannel.EMAIL)).value)}
    template_id = parse_id(request.args.get("template"))
    # Only the templates offered for this case (active, its language and topic) apply.
    template = next((t for t in reply_templates(case) if t.id == template_id), None) \
        if template_id else None
    if template is not None:
        shown["body"] = Default(template.body)
    return shown


def _answer_done(form):
    """What happened, said only as far as it is known: an email is on its way, a letter waits in
    the print queue, a call is planned; and when the case will close, if it was asked to."""
    if form.send_and_close.data and form.channel.data == ReplyChannel.PHONE.value \
            and form.case.case_type == CaseType.COMPLAINT:
        return _l("A callback to answer %(ref)s is planned: see Callbacks. The case closes when "
                  "the customer has been reached and the written confirmation has been "
                  "delivered.")
    if form.send_and_close.data:
        return {
            ReplyChannel.EMAIL.value: _l("The answer to %(ref)s is on its way by email; the case "
                                         "closes when the mail server has taken it."),
            ReplyChannel.LETTER.value: _l("The answer to %(ref)s waits in the print queue; the "
                                          "case closes when the letter is marked posted."),
            ReplyChannel.PHONE.value: _l("A callback to answer %(ref)s is planned: see "
                                         "Callbacks. The case closes when the customer is "
                                         "reached."),
        }[form.channel.data]
    return {
        ReplyChannel.EMAIL.value: _l("The answer to %(ref)s is on its way by email."),
        ReplyChannel.LETTER.value: _l("The answer to %(ref)s waits in the print queue to be posted."),
        ReplyChannel.PHONE.value: _l("A callback to answer %(ref)s is planned: see Callbacks."),
    }[form.channel.data]


def _answer(user, case, form, now):
    reply_operations.send_answer(
        user, case, channel=form.channel.data, body=form.body.data or "",
        reason=form.reason.data or "", final=form.final.data,
        close_when_delivered=form.send_and_close.data, now=now, today=clock.today(),
        calendar=banking_calendar(clock.timezone()), deviations=deviating_hours(),
        expected_version=form.version.data)


def _callback_times(case):
    """The windows a waiting callback may move to, as "Tue 1.12. 08–09" in the reader's time."""
    tz = clock.timezone()
    windows = reply_operations.callback_times(case, clock.now(), banking_calendar(tz),
                                              deviating_hours())
    return {"window": Choices(
        (w.start.isoformat(), f"{format_date(w.start.astimezone(tz).date())} "
                              f"{w.start.astimezone(tz):%H:%M}–{w.end.astimezone(tz):%H:%M}")
        for w in windows)}


def _interim_notice_defaults(case):
    estimate = banking_calendar(clock.timezone()).add_banking_days(clock.today(), 5)
    return {"estimate": Default(estimate), "text": Default(default_interim_notice(case, estimate))}


def _interim_hint(case):
    if case.reply_due_date is not None:
        return _("When the answer to the customer's reply takes longer: the customer gets this "
                 "text by %(channel)s, and the estimate becomes the deadline of that answer. "
                 "The due date of the first answer stays as it was.",
                 channel=str(case.reply_channel.title).lower())
    return _("When the answer takes longer than the promised date: the customer gets this text "
             "by %(channel)s, and the estimate becomes the due date.",
             channel=str(case.reply_channel.title).lower())


def _interim_notice(user, case, form, now):
    reply_operations.send_interim_notice(
        user, case, form.estimate.data, form.text.data or "", now=now, today=clock.today(),
        calendar=banking_calendar(clock.timezone()), deviations=deviating_hours(),
        expected_version=form.version.data)


def _assign_choices(case):
    return {"member": Choices((u.id, u.full_name) for u in assignees(case))}


def _forward_choices(case):
    language = get_locale_code()
    return {"unit": Choices(
        (u.id, _("%(unit)s (suggested)", unit=u.name_in(language))
         if u.id == case.suggested_unit_id else u.name_in(language))
        for u in forward_targets(case, language))}


def _set_customer(user, case, form, now):
    customer_id = parse_id(form.customer_id.data)
    customer = db.session.get(Customer, customer_id) if customer_id else None
    operations.set_customer(user, case, customer, now=now, expected_version=form.version.data)


def _mark_duplicate(user, case, form, now):
    original = db.session.scalar(
        sa.select(Case).where(Case.reference == (form.original.data or "").strip().upper())
        .options(selectinload(Case.past_units))
    )
    operations.mark_duplicate(user, case, original, now=now, expected_version=form.version.data)


def _correct_choices(case):
    language = get_locale_code()
    return {
        "topic_id": Choices((t.id, t.name_in(language)) for t in in_name_order(topics(), language)),
        "contact_country": Choices(countries(language)),
        "case_type": Default(case.case_type.value),
        "segment": Default(case.segment.value),
    }


def _correct(user, case, form, now):
    changes = {name: getattr(form, name).data for name in operations.CORRECTABLE}
    changes["contact_email"] = normalised_email(changes["contact_email"])
    changes["contact_phone"] = normalised_phone(changes["contact_phone"])
    changes["contact_postal_code"] = postal_codes.normalise(
        changes["contact_country"], changes["contact_postal_code"]) or ""
    operations.correct(user, case, changes, now=now, expected_version=form.version.data)


_ACTIONS = (
    CaseAction(
        "answer", forms.AnswerForm, _answer_done, _answer,
        shows=_answer_shows, moves_on=True),
    CaseAction(
        "banking_matter", forms.BankingMatterForm,
        _l("Saved: %(ref)s is answered by phone or letter only while marked."),
        lambda user, case, form, now: reply_operations.mark_own_banking_matter(
            user, case, form.value.data, now=now, expected_version=form.version.data),
        shows=lambda case: {"value": Default(not case.own_banking_matter)}),
    CaseAction(
        "cancel_reply", forms.CancelReplyForm,
        _l("Cancelled: nothing more goes out for %(ref)s by that channel."),
        lambda user, case, form, now: reply_operations.cancel_waiting(
            user, case, parse_id(form.answer_id.data), now=now,
            expected_version=form.version.data)),
    CaseAction(
        "move_callback", forms.MoveCallbackForm,
        _l("The callback for %(ref)s is planned for the new time."),
        lambda user, case, form, now: reply_operations.move_callback(
            user, case, form.window.data or "", now=now,
            calendar=banking_calendar(clock.timezone()), deviations=deviating_hours(),
            expected_version=form.version.data),
        shows=_callback_times),
    CaseAction(
        "customer", forms.CustomerForm, _l("Linked %(ref)s to the customer."), _set_customer,
        allowed=access.can_set_customer),
    CaseAction(
        "take", forms.TakeForm, _l("You hold %(ref)s now."),
        lambda user, case, form, now: operations.take(
            user, case, now=now, expected_version=form.version.data),
        place=ROW, label=lambda case: _("Take over") if case.assignee else _("Take"),
        style="primary"),
    CaseAction(
        "unassign", forms.UnassignForm, _l("%(ref)s is back in the inbox."),
        lambda user, case, form, now: operations.unassign(
            user, case, now=now, expected_version=form.version.data),
        place=ROW, label=_l("Return to inbox")),
    CaseAction(
        "assign", forms.AssignForm, _l("Assigned %(ref)s."),
        lambda user, case, form, now: operations.assign(
            user, case, form.member.data, now=now, expected_version=form.version.data),
        shows=_assign_choices, place=ROW, label=_l("Assign"), fields=("member",),
        style="inline"),
    CaseAction(
        "reopen", forms.ReopenForm, _l("Reopened %(ref)s."),
        lambda user, case, form, now: operations.reopen(
            user, case, form.reason.data or "", now=now, expected_version=form.version.data),
        place=ROW, label=_l("Reopen"), fields=("reason",)),
    CaseAction(
        "correct", forms.CorrectForm, _l("Corrected %(ref)s."), _correct,
        shows=_correct_choices, place=PAGE, label=_l("Correct details")),
    CaseAction(
        "forward", forms.ForwardForm, _l("Forwarded %(ref)s."),
        lambda user, case, form, now: operations.forward(
            user, case, form.unit.data, form.note.data or "", now=now,
            expected_version=form.version.data),
        shows=_forward_choices, place=PANEL, label=_l("Forward"),
        summary=_l("Forward to another unit"), fields=("unit", "note"), moves_on=True),
    CaseAction(
        "interim_notice", forms.InterimNoticeForm,
        _l("Interim notice for %(ref)s queued; the estimate is in effect."), _interim_notice,
        shows=_interim_notice_defaults, place=PANEL, label=_l("Send interim notice"),
        summary=_l("Send an interim notice"), fields=("estimate", "text"), hint=_interim_hint),
    CaseAction(
        "note", forms.NoteForm, _l("Note added to %(ref)s."),
        lambda user, case, form, now: operations.add_note(user, case, form.text.data or "",
                                                          now=now),
        place=PANEL, label=_l("Add note"), summary=_l("Add an internal note"), fields=("text",)),
    CaseAction(
        "close", forms.CloseForm, _l("Closed %(ref)s."),
        lambda user, case, form, now: operations.close(
            user, case, form.resolution.data, form.note.data or "", now=now,
            expected_version=form.version.data),
        place=PANEL, label=_l("Close the case"), summary=_l("Close"),
        fields=("resolution", "note"), closes=True, moves_on=True),
    CaseAction(
        "duplicate", forms.DuplicateForm, _l("Closed %(ref)s as a duplicate."), _mark_duplicate,
        place=PANEL, label=_l("Close as duplicate"), summary=_l("Mark as duplicate"),
        fields=("original",), closes=True, moves_on=True),
)
ACTIONS = {action.name: action for action in _ACTIONS}


def available(user, case):
    """The entries of the actions `user` may take on `case` now, in the page's order."""
    names = access.available_actions(user, case)
    if access.can_set_customer(user, case):
        names = names | {"customer"}
    waiting = case.waiting_answer
    if waiting is not None:
        # One answer at a time (the operation refuses a second): the page offers what can be
        # done with the one on its way instead.
        names = names - {"answer"}
    if waiting is None or waiting.open_callback is None:
        names = names - {"move_callback"}  # only a call still to make has a time to move
    return [action for action in _ACTIONS if action.name in names]
