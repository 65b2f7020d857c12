"""The case page and its actions. Views parse the form, call an operation, commit once."""

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from wtforms.widgets import TextArea, TextInput

from .. import access, audit, clock
from ..closing_days import banking_calendar
from ..extensions import db
from ..i18n import gettext as _
from ..matching import search_register
from ..models import AuditKind, ReplyChannel
from ..refusals import Refusal
from ..replies.channels import phone
from ..replies.channels import preview as preview_for
from ..replies.confirmations import confirmation_channel
from ..replies.operations import refuse_sensitive
from ..replies.queries import reply_templates
from ..replies.texts import compose, read_out
from ..rules.badges import badges_by_id, case_badge
from ..rules.masking import KIND_TITLES
from ..search import RESULTS as search_limit
from ..search import search_cases, too_short
from ..web.form_tokens import consume_token
from ..web.forms import refused_fields, show_refusal
from ..web.inbox_lists import next_case_path
from . import actions, list_rows, queries, timeline_entries
from .common import CaseChanged, commit_change
from .page_forms import PageForms

bp = Blueprint("cases", __name__, url_prefix="/cases")


def get_case_or_404(reference):
    """The case, if it exists and the current user may see it; 404 either way otherwise."""
    case = queries.case_by_reference(reference)
    if case is None or not access.can_view_case(current_user, case):
        abort(404)
    return case


def _typed(form):
    """What the user wrote in `form`'s text fields, each with its label, as typed."""
    return [(field.label.text, field._value()) for field in form
            if isinstance(field.widget, (TextInput, TextArea)) and field._value().strip()]


def _render(case, posted=None, posted_form=None, status=200, preview=None):
    """The case page, with a refused action's form (`posted`) as it was sent; when the page no
    longer offers it (a colleague forwarded the case), what the user wrote in it."""
    query = request.args.get("q", "").strip()
    entries = actions.available(current_user, case)
    shown = posted in entries
    forms = PageForms(case, entries, posted, posted_form)
    can_set = "customer" in forms
    timeline = queries.timeline(
        case, None if request.args.get("timeline") == "all" else queries.TIMELINE_SHOWN)
    return render_template(
        "cases/show.html",
        case=case,
        badge=case_badge(case, clock.today(), banking_calendar(clock.timezone())),
        timeline=timeline,
        timeline_entries=timeline_entries.entries(timeline.events, case.language),
        other_cases=queries.other_cases(case, current_user),
        actions=entries,
        forms=forms,
        posted=posted.name if posted else None,
        # A refused form the page no longer offers (an answer while another waits) still says why.
        problems=refused_fields(posted_form, shown=shown) if posted_form else [],
        read_only=not access.can_handle_case(current_user, case),
        masked_titles=[_(KIND_TITLES[k]) for k in case.masked_kinds.split(",") if k],
        candidates=queries.candidates(case) if can_set else [],
        query=query,
        search_results=search_register(db.session, query) if can_set and query else [],
        can_set_customer=can_set,
        answers=case.answers,
        templates=reply_templates(case) if "answer" in forms else [],
        preview=preview,
        unsaved=_typed(posted_form) if posted_form and not shown else [],
        next_case=next_case_path(case.reference),
    ), status


@bp.route("/search")
@login_required
def search():
    """One box for every way staff look a case up; only cases the user may see."""
    query = request.args.get("q", "")
    cases = search_cases(db.session, current_user, query) if query.strip() else []
    today, calendar = clock.today(), banking_calendar(clock.timezone())
    return render_template("cases/search.html", query=query, cases=cases,
                           too_short=too_short(query),
                           rows=list_rows.rows(cases, badges_by_id(cases, today, calendar)),
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


def _run(case, form, entry):
    """Apply an action once: the form's one-time token, the case version, one commit.

    Returns None when done, else the reason it was not (already shown to the user).
    """
    if not consume_token(form.token.data):
        return "repeated"
    operation = entry.run(current_user._get_current_object(), case, form)

    def change():
        operation()
        # Worded before the commit, which would have the case read again to word it.
        return entry.done_message(form) % {"ref": case.reference}

    try:
        done = commit_change(change)
    except PermissionError:
        abort(403)
    except CaseChanged:
        return "changed"
    except Refusal as error:
        show_refusal(error, form)
        return "refused"
    flash(done, "success")
    return None


def _submit(reference, entry, form, case):
    """Run a validated form's action; then where the user goes: the case page when done, or
    back to the form with the refusal, or with the case's current state when it changed
    (read again)."""
    outcome = _run(case, form, entry)
    if outcome in (None, "repeated"):
        return None
    case = get_case_or_404(reference)
    return _changed(case, form) if outcome == "changed" else case


def _changed(case, form):
    """The case as it is now, after the user acted on an older picture of it: said so, and a
    resubmit after looking is meant, so the form carries the new version."""
    flash(str(CaseChanged()), "error")
    form.version.data = case.version
    form.version.raw_data = None  # else the field writes the version as it was posted
    return case


def _preview(case, form):
    """Exactly what the customer would receive; a refusal shows at the field instead. By phone,
    the call script: whom to call, what to tell, what to read out, and how it is confirmed."""
    channel = ReplyChannel(form.channel.data)
    text = compose(case, case.current_unit, form.body.data or "", form.final.data, channel)
    try:
        refuse_sensitive(text, "body")
    except Refusal as error:
        form.body.errors = [*form.body.errors, str(error)]
        return None
    subject, whole = preview_for(case, channel, text)
    shown = {"subject": subject, "text": whole}
    if channel == ReplyChannel.PHONE:
        paragraph = read_out(case, form.final.data, channel)
        shown.update(number=phone.number(case.contact_phone), read_out=paragraph,
                     confirmed_by=confirmation_channel(case) if paragraph else None)
    return shown


@bp.route("/<reference>/<action>", methods=["POST"])
@login_required
def act(reference, action):
    entry = actions.ACTIONS.get(action)
    if entry is None or entry.place == actions.PAGE:
        abort(404)
    # An action is posted without the customer's other cases: read only if the page is shown.
    case = get_case_or_404(reference)
    form = entry.new_form(case)
    if form.version.data is None:
        abort(400)  # every action form carries the version it was loaded at
    if not entry.allowed(current_user, case):
        if form.version.data == case.version:
            abort(403)
        # An older picture of the case is refused as changed before anything else, as
        # common.check_action does: a colleague's forward took the case out of the user's hands.
        return _render(_changed(case, form), entry, form)
    if not form.validate_on_submit():
        return _render(case, entry, form)
    if action == "answer" and form.preview.data:
        return _render(case, entry, form, preview=_preview(case, form))
    # Read before the commit expires the user.
    moves_on = entry.moves_on and current_user.open_next_case
    again = _submit(reference, entry, form, case)
    if again is None:
        onward = next_case_path(reference) if moves_on else None
        return redirect(onward or url_for("cases.show", reference=reference))
    return _render(again, entry, form)


@bp.route("/<reference>/correct", methods=["GET", "POST"])
@login_required
def correct(reference):
    case = get_case_or_404(reference)
    entry = actions.ACTIONS["correct"]
    if entry not in actions.available(current_user, case):
        abort(403)
    form = entry.new_form(case, obj=case)
    if form.is_submitted() and form.version.data is None:
        abort(400)
    if form.validate_on_submit():
        again = _submit(reference, entry, form, case)
        if again is None:
            return redirect(url_for("cases.show", reference=reference))
        case = again
    return render_template("cases/correct.html", case=case, form=form)
