"""A unit's callback list and print queue."""

import secrets

from flask import Blueprint, Response, abort, flash, redirect, render_template, url_for
from flask_login import current_user, login_required

from .. import access, audit, clock
from ..cases.common import CaseChanged, commit_change
from ..closing_days import banking_calendar, deviating_hours
from ..extensions import db
from ..i18n import gettext as _
from ..i18n import lazy_gettext as _l
from ..models import AuditKind, CallbackStatus, CallbackTask, Letter
from ..refusals import Refusal
from ..rules.badges import case_badge
from ..rules.banking_days import local_date
from ..rules.letter_layout import merge
from ..web.form_tokens import consume_token
from ..web.forms import show_refusal
from ..web.lookups import visible_unit_or_404
from . import operations, queries
from .channels import letter as letter_channel
from .channels import phone
from .confirmations import confirmation_channel, needs_confirmation
from .forms import CallOutcomeForm, DropNoticeForm, LetterForm

bp = Blueprint("replies", __name__)
LETTER_DONE = {"posted": _l("Letter for %(ref)s marked posted."),
               "regenerate": _l("Letter for %(ref)s made again."),
               "drop": _l("Interim notice for %(ref)s dropped; the answer goes out without it.")}

CALL_RECORDED = {
    None: _l("Recorded the call for %(ref)s."),
    "email": _l("Recorded the call for %(ref)s. Its written confirmation is on its way by "
                "email."),
    "letter": _l("Recorded the call for %(ref)s. Its written confirmation waits in the print "
                 "queue to be posted."),
}


def _with_token(form):
    form.token.data = secrets.token_urlsafe(16)
    return form


@bp.route("/callbacks/<unit_code>")
@login_required
def callbacks(unit_code, forms=None):
    unit = visible_unit_or_404(unit_code)
    tasks = queries.open_callbacks(unit)
    now, today, calendar = clock.now(), clock.today(), banking_calendar(clock.timezone())
    deviations = deviating_hours()
    forms = forms or {}
    return render_template(
        "replies/callbacks.html", unit=unit, tasks=tasks,
        forms={t.id: forms.get(t.id) or _with_token(CallOutcomeForm(prefix=f"task{t.id}",
                                                                     formdata=None))
               for t in tasks},
        badges={t.id: case_badge(t.case, today, calendar) for t in tasks},
        numbers={t.id: phone.number(t.phone) for t in tasks},
        # Said on the card before the call is recorded; the timeline keeps it when it is.
        timings={t.id: operations.call_timing_of(t, now, calendar, deviations) for t in tasks},
        confirmed_by={t.id: confirmation_channel(t.case) for t in tasks
                      if needs_confirmation(t.answer)},
    )


def _task_or_404(task_id):
    task = db.session.get(CallbackTask, task_id)
    if task is None or not access.can_view_unit(current_user, task.unit_id):
        abort(404)
    return task


@bp.route("/callbacks/task/<int:task_id>", methods=["POST"])
@login_required
def record_call(task_id):
    task = _task_or_404(task_id)
    unit = task.unit
    form = CallOutcomeForm(prefix=f"task{task.id}")
    if not form.validate_on_submit():
        return callbacks(unit.code, forms={task.id: form})
    if not consume_token(form.token.data):
        return redirect(url_for("replies.callbacks", unit_code=unit.code))
    try:
        confirmation = commit_change(lambda: operations.record_call(
            current_user._get_current_object(), task, form.outcome.data, form.summary.data or "",
            now=clock.now(), calendar=banking_calendar(clock.timezone()),
            deviations=deviating_hours()))
    except PermissionError:
        abort(404)
    except CaseChanged:
        # A colleague recorded it or changed the case meanwhile: the list shows where it stands.
        flash(_("%(ref)s changed while you recorded the call. Nothing was recorded; check the "
                "list and the case.", ref=task.case.reference), "error")
        return redirect(url_for("replies.callbacks", unit_code=unit.code))
    except Refusal as error:
        if task.status != CallbackStatus.OPEN:  # off the list now: say it above the list
            flash(str(error), "error")
            return redirect(url_for("replies.callbacks", unit_code=unit.code))
        show_refusal(error, form)
        return callbacks(unit.code, forms={task.id: form})
    flash(CALL_RECORDED[confirmation.channel.value if confirmation else None]
          % {"ref": task.case.reference}, "success")
    return redirect(url_for("replies.callbacks", unit_code=unit.code))


@bp.route("/letters/<unit_code>")
@login_required
def print_queue(unit_code):
    unit = visible_unit_or_404(unit_code)
    rows = queries.print_queue(unit)
    forms = {}
    for letter, _channel in rows:
        form = DropNoticeForm(prefix=f"letter{letter.id}", formdata=None)
        form.version.data = letter.case.version
        forms[letter.id] = _with_token(form)
    return render_template("replies/print_queue.html", unit=unit, rows=rows, forms=forms,
                           pointless=sum(1 for _letter, channel in rows if channel))


def _letter_or_404(letter_id):
    letter = db.session.get(Letter, letter_id)
    if letter is None or not access.can_view_unit(current_user, letter.unit_id):
        abort(404)
    return letter


def _pdf_of(letter):
    # Letters loaded in bulk (the demo) carry no PDF: render it from the answer on record.
    return letter.pdf or letter_channel.letter_pdf(
        letter.case, letter.unit, letter.answer.purpose, letter.answer.text,
        local_date(letter.created_at, clock.timezone()))


def _pdf(data, filename):
    return Response(data, mimetype="application/pdf", headers={
        "Content-Disposition": f'inline; filename="{filename}"', "Cache-Control": "no-store"})


@bp.route("/letters/<int:letter_id>.pdf")
@login_required
def letter_pdf(letter_id):
    letter = _letter_or_404(letter_id)
    pdf = _pdf_of(letter)
    audit.record(AuditKind.LETTER_DOWNLOAD, case=letter.case, letter=letter.id)
    db.session.commit()
    return _pdf(pdf, f"{letter.case.reference}.pdf")


@bp.route("/letters/<unit_code>/waiting.pdf")
@login_required
def waiting_pdf(unit_code):
    unit = visible_unit_or_404(unit_code)
    letters = queries.waiting_letters(unit, with_pdfs=True)
    pdfs = [_pdf_of(letter) for letter in letters]
    if not pdfs:
        flash(_("No letters are waiting."), "info")
        return redirect(url_for("replies.print_queue", unit_code=unit.code))
    audit.record(AuditKind.LETTER_DOWNLOAD, waiting_letters=len(pdfs), unit=unit.code)
    db.session.commit()
    return _pdf(merge(pdfs), f"letters-{unit.code}.pdf")


@bp.route("/letters/<int:letter_id>/<action>", methods=["POST"])
@login_required
def letter_action(letter_id, action):
    if action not in LETTER_DONE:
        abort(404)
    letter = _letter_or_404(letter_id)
    form = (DropNoticeForm if action == "drop" else LetterForm)(prefix=f"letter{letter.id}")
    back = redirect(url_for("replies.print_queue", unit_code=letter.unit.code))
    if not form.validate_on_submit() or not consume_token(form.token.data):
        return back
    actor = current_user._get_current_object()
    operation = {
        "posted": lambda: operations.post_letter(actor, letter, now=clock.now(),
                                                 calendar=banking_calendar(clock.timezone())),
        "regenerate": lambda: operations.regenerate_letter(actor, letter, today=clock.today()),
        "drop": lambda: operations.drop_notice(actor, letter, now=clock.now(),
                                               expected_version=form.version.data),
    }[action]
    try:
        commit_change(operation)
    except PermissionError:
        abort(404)
    except CaseChanged:
        flash(_("%(ref)s changed meanwhile. Nothing was done; check the letter and try again.",
                ref=letter.case.reference), "error")
        return back
    except Refusal as error:
        show_refusal(error)
        return back
    flash(LETTER_DONE[action] % {"ref": letter.case.reference}, "success")
    return back


