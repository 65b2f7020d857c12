"""The case page and its actions. Views parse the form, call an operation, commit once."""

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy.orm import joinedload, selectinload
from wtforms.fields.choices import SelectChoice

from .. import access, audit, clock
from ..badges import case_badge
from ..closing_days import banking_calendar, deviating_hours
from ..extensions import db
from ..form_tokens import consume_token
from ..forms import parse_id, show_refusal
from ..intake.forms import normalised_email, normalised_phone
from ..lookups import unit_members
from ..masking import KIND_TITLES
from ..matching import match_customer, search_register
from ..models import (
    AuditKind,
    Case,
    CaseEvent,
    Customer,
    MatchMethod,
    ReplyChannel,
    ReplyTemplate,
    Topic,
    Unit,
)
from ..refusals import Refusal
from ..replies import operations as reply_operations
from ..replies.channels import channel_problems
from ..replies.channels import preview as preview_for
from ..replies.operations import refuse_sensitive
from ..replies.texts import compose
from ..search import RESULTS as search_limit
from ..search import search_cases
from . import operations
from .common import CaseChanged, commit_change
from .forms import (
    AnswerForm,
    AssignForm,
    BankingMatterForm,
    CancelReplyForm,
    CloseForm,
    CorrectForm,
    CustomerForm,
    DuplicateForm,
    ForwardForm,
    InterimNoticeForm,
    NoteForm,
    ReopenForm,
    TakeForm,
    UnassignForm,
)
from .texts import default_interim_notice

bp = Blueprint("cases", __name__, url_prefix="/cases")

FORMS = {
    "customer": CustomerForm,
    "answer": AnswerForm,
    "banking_matter": BankingMatterForm,
    "cancel_reply": CancelReplyForm,
    "take": TakeForm,
    "assign": AssignForm,
    "unassign": UnassignForm,
    "forward": ForwardForm,
    "note": NoteForm,
    "interim_notice": InterimNoticeForm,
    "close": CloseForm,
    "reopen": ReopenForm,
    "duplicate": DuplicateForm,
}
DONE = {
    "answer": _l("The answer to %(ref)s is on its way."),
    "banking_matter": _l("Saved: %(ref)s is answered by phone or letter only while marked."),
    "cancel_reply": _l("Cancelled: nothing more goes out for %(ref)s by that channel."),
    "take": _l("You hold %(ref)s now."),
    "assign": _l("Assigned %(ref)s."),
    "unassign": _l("%(ref)s is back in the inbox."),
    "forward": _l("Forwarded %(ref)s."),
    "note": _l("Note added to %(ref)s."),
    "interim_notice": _l("Interim notice for %(ref)s queued; the estimate is in effect."),
    "close": _l("Closed %(ref)s."),
    "reopen": _l("Reopened %(ref)s."),
    "duplicate": _l("Closed %(ref)s as a duplicate."),
    "correct": _l("Corrected %(ref)s."),
    "customer": _l("Linked %(ref)s to the customer."),
}


def get_case_or_404(reference):
    """The case, if it exists and the current user may see it; 404 either way otherwise."""
    # Its answers come in the same statement (a case has a few): the page shows them all.
    case = db.session.execute(
        sa.select(Case)
        .where(Case.reference == reference)
        .options(
            joinedload(Case.current_unit),
            joinedload(Case.assignee),
            joinedload(Case.topic),
            joinedload(Case.customer).joinedload(Customer.home_office),
            joinedload(Case.suggested_unit),
            joinedload(Case.duplicate_of),
            joinedload(Case.answers),
        )
    ).unique().scalar_one_or_none()
    if case is None or not access.can_view_case(current_user, case):
        abort(404)
    return case


def _timeline(case):
    return db.session.scalars(
        sa.select(CaseEvent).where(CaseEvent.case_id == case.id)
        .options(joinedload(CaseEvent.actor), joinedload(CaseEvent.from_unit),
                 joinedload(CaseEvent.to_unit))
        .order_by(CaseEvent.at, CaseEvent.id)
    ).all()


def _candidates(case):
    """The register's possible customers when matching found several."""
    if case.match_method != MatchMethod.AMBIGUOUS or case.customer_id:
        return []
    match = match_customer(db.session, email=case.contact_email, phone=case.contact_phone,
                           name=case.contact_name, postal_code=case.contact_postal_code)
    if not match.candidate_ids:
        return []
    return list(db.session.scalars(
        sa.select(Customer).where(Customer.id.in_(match.candidate_ids))
        .options(joinedload(Customer.home_office)).order_by(Customer.name)
    ))


def _forward_targets(case):
    units = db.session.scalars(
        sa.select(Unit).where(Unit.active, Unit.id != case.current_unit_id).order_by(Unit.name)
    ).all()
    # The suggested target first: customer service forwards with one click.
    return sorted(units, key=lambda unit: unit.id != case.suggested_unit_id)


def _prepare(action, form, case):
    """Fill a form's choices and defaults from the case."""
    if action == "assign":
        form.member.choices = [SelectChoice(u.id, u.full_name)
                               for u in unit_members(case.current_unit_id) if u.id != case.assignee_id]
    elif action == "forward":
        form.unit.choices = [
            SelectChoice(u.id, _("%(unit)s (suggested)", unit=u.name)
                         if u.id == case.suggested_unit_id else u.name)
            for u in _forward_targets(case)
        ]
    elif action == "answer" and not form.is_submitted():
        allowed = [c for c in ReplyChannel if c not in channel_problems(case)]
        preset = case.reply_channel if case.reply_channel in allowed else None
        form.channel.data = (preset or (allowed[0] if allowed else ReplyChannel.EMAIL)).value
        template_id = parse_id(request.args.get("template"))
        # Only the templates offered for this case (active, its language and topic) apply.
        template = next((t for t in _templates(case) if t.id == template_id), None) \
            if template_id else None
        if template is not None:
            form.body.data = template.body
    elif action == "banking_matter" and not form.is_submitted():
        form.value.data = not case.own_banking_matter
    elif action == "interim_notice" and not form.is_submitted():
        calendar = banking_calendar(clock.timezone())
        form.estimate.data = calendar.add_banking_days(clock.today(), 5)
        form.text.data = default_interim_notice(case, form.estimate.data)
    return form


def _forms(case, actions, posted_action=None, posted_form=None):
    forms = {}
    for action in actions:
        if action == posted_action:
            forms[action] = posted_form
        elif action in FORMS:
            forms[action] = _prepare(action, FORMS[action](prefix=action, case=case,
                                                           formdata=None), case)
    return forms


def _templates(case):
    return db.session.scalars(
        sa.select(ReplyTemplate)
        .where(ReplyTemplate.active, ReplyTemplate.language == case.language,
               sa.or_(ReplyTemplate.topic_id == case.topic_id, ReplyTemplate.topic_id.is_(None)))
        .order_by(ReplyTemplate.title)
    ).all()


def _render(case, posted_action=None, posted_form=None, status=200, preview=None):
    query = request.args.get("q", "").strip()
    actions = access.available_actions(current_user, case)
    can_set = access.can_set_customer(current_user, case)
    forms = _forms(case, actions | {"customer"} if can_set else actions, posted_action,
                   posted_form)
    return render_template(
        "cases/show.html",
        case=case,
        badge=case_badge(case, clock.today(), banking_calendar(clock.timezone())),
        events=_timeline(case),
        forms=forms,
        read_only=not access.can_handle_case(current_user, case),
        masked_titles=[KIND_TITLES[k] for k in case.masked_kinds.split(",") if k],
        candidates=_candidates(case) if can_set else [],
        query=query,
        search_results=search_register(db.session, query) if can_set and query else [],
        can_set_customer=can_set,
        can_correct="correct" in actions,
        answers=case.answers,
        channel_problems=channel_problems(case),
        templates=_templates(case) if "answer" in forms else [],
        preview=preview,
    ), status


@bp.route("/search")
@login_required
def search():
    """One box for every way staff look a case up; only cases the user may see."""
    query = request.args.get("q", "")
    cases = search_cases(db.session, current_user, query) if query.strip() else []
    today, calendar = clock.today(), banking_calendar(clock.timezone())
    return render_template("cases/search.html", query=query, cases=cases,
                           badges={c.id: case_badge(c, today, calendar) for c in cases},
                           results=search_limit)


@bp.route("/<reference>")
@login_required
def show(reference):
    case = get_case_or_404(reference)
    page = _render(case)
    # Who looked at which customer's case: written once the page is ready to go.
    audit.record(AuditKind.CASE_VIEWED, case=case)
    db.session.commit()
    return page


def _run(case, form, action, operation):
    """Apply an operation once: the form's one-time token, the case version, one commit.

    Returns None when done, else the reason it was not (already shown to the user).
    """
    if not consume_token(form.token.data):
        return "repeated"
    try:
        commit_change(operation)
    except PermissionError:
        abort(403)
    except CaseChanged as error:
        flash(str(error), "error")
        return "changed"
    except Refusal as error:
        show_refusal(error, form)
        return "refused"
    flash(DONE[action] % {"ref": case.reference}, "success")
    return None


def _operation(action, case, form):
    now, version = clock.now(), form.version.data
    user = current_user._get_current_object()
    if action == "answer":
        return lambda: reply_operations.send_answer(
            user, case, channel=form.channel.data, body=form.body.data or "",
            reason=form.reason.data or "", final=form.final.data, now=now, today=clock.today(),
            calendar=banking_calendar(clock.timezone()), deviations=deviating_hours(),
            expected_version=version)
    if action == "banking_matter":
        return lambda: reply_operations.mark_own_banking_matter(
            user, case, form.value.data, now=now, expected_version=version)
    if action == "cancel_reply":
        return lambda: reply_operations.cancel_waiting(
            user, case, parse_id(form.answer_id.data), now=now, expected_version=version)
    if action == "customer":
        customer_id = parse_id(form.customer_id.data)
        customer = db.session.get(Customer, customer_id) if customer_id else None
        return lambda: operations.set_customer(user, case, customer, now=now,
                                               expected_version=version)
    if action == "take":
        return lambda: operations.take(user, case, now=now, expected_version=version)
    if action == "assign":
        return lambda: operations.assign(user, case, form.member.data, now=now,
                                         expected_version=version)
    if action == "unassign":
        return lambda: operations.unassign(user, case, now=now, expected_version=version)
    if action == "forward":
        return lambda: operations.forward(user, case, form.unit.data, form.note.data or "",
                                          now=now, expected_version=version)
    if action == "note":
        return lambda: operations.add_note(user, case, form.text.data or "", now=now)
    if action == "interim_notice":
        return lambda: reply_operations.send_interim_notice(
            user, case, form.estimate.data, form.text.data or "", now=now, today=clock.today(),
            calendar=banking_calendar(clock.timezone()), deviations=deviating_hours(),
            expected_version=version)
    if action == "close":
        return lambda: operations.close(user, case, form.resolution.data, form.note.data or "",
                                        now=now, expected_version=version)
    if action == "reopen":
        return lambda: operations.reopen(user, case, form.reason.data or "", now=now,
                                         expected_version=version)
    original_reference = (form.original.data or "").strip().upper()
    original = db.session.scalar(
        sa.select(Case).where(Case.reference == original_reference)
        .options(selectinload(Case.past_units))
    )
    return lambda: operations.mark_duplicate(user, case, original, now=now,
                                             expected_version=version)


def _preview(case, form):
    """Exactly what the customer would receive; a refusal shows at the field instead."""
    text = compose(case, case.current_unit, form.body.data or "", form.final.data)
    try:
        refuse_sensitive(text, "body")
    except Refusal as error:
        form.body.errors = [*form.body.errors, str(error)]
        return None
    subject, whole = preview_for(case, form.channel.data, text)
    return {"subject": subject, "text": whole}


@bp.route("/<reference>/<action>", methods=["POST"])
@login_required
def act(reference, action):
    if action not in FORMS:
        abort(404)
    case = get_case_or_404(reference)
    allowed = (access.can_set_customer(current_user, case) if action == "customer"
               else access.can_handle_case(current_user, case))
    if not allowed:
        abort(403)
    form = _prepare(action, FORMS[action](prefix=action, case=case), case)
    if form.is_submitted() and form.version.data is None:
        abort(400)  # every action form carries the version it was loaded at
    if not form.validate_on_submit():
        return _render(case, action, form)
    if action == "answer" and form.preview.data:
        return _render(case, action, form, preview=_preview(case, form))
    outcome = _run(case, form, action, _operation(action, case, form))
    if outcome in (None, "repeated"):
        return redirect(url_for("cases.show", reference=case.reference))
    case = get_case_or_404(reference)
    if outcome == "changed":
        # Show the current state; a resubmit after looking is meant, so it carries the new version.
        form.version.data = case.version
    return _render(case, action, form)


@bp.route("/<reference>/correct", methods=["GET", "POST"])
@login_required
def correct(reference):
    case = get_case_or_404(reference)
    if "correct" not in access.available_actions(current_user, case):
        abort(403 if access.can_view_case(current_user, case) else 404)
    form = CorrectForm(obj=case, case=case)
    topics = db.session.scalars(sa.select(Topic).order_by(Topic.name)).all()
    form.topic_id.choices = [SelectChoice(t.id, t.name) for t in topics]
    if not form.is_submitted():
        form.case_type.data, form.segment.data = case.case_type.value, case.segment.value
    if form.is_submitted() and form.version.data is None:
        abort(400)
    if form.validate_on_submit():
        changes = {name: getattr(form, name).data for name in operations.CORRECTABLE}
        changes["contact_email"] = normalised_email(changes["contact_email"])
        changes["contact_phone"] = normalised_phone(changes["contact_phone"])
        outcome = _run(case, form, "correct", lambda: operations.correct(
            current_user._get_current_object(), case, changes, now=clock.now(),
            expected_version=form.version.data))
        if outcome in (None, "repeated"):
            return redirect(url_for("cases.show", reference=case.reference))
        case = get_case_or_404(reference)
        if outcome == "changed":
            form.version.data = case.version
    return render_template("cases/correct.html", case=case, form=form)
