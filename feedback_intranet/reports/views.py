"""Reports for team leads (their units) and admins (all units): pages of tables, each as CSV too."""

from flask import Blueprint, abort, render_template, request
from flask_login import current_user, login_required
from wtforms.fields.choices import SelectChoice

from .. import access, clock
from ..refusals import Refusal
from ..rules.periods import DEFAULT_PERIOD, resolve
from ..web.downloads import csv_download
from ..web.forms import show_refusal
from ..web.locale import get_locale_code
from . import queries
from .forms import ReportForm
from .tables import REPORTS, Context, period_label

bp = Blueprint("reports", __name__, url_prefix="/reports")


def _report(name):
    """The form, and the report for the chosen units and period; None when the form is wrong."""
    if name not in REPORTS:
        abort(404)
    units = queries.report_units(access.report_unit_ids(current_user), get_locale_code())
    if not units:
        abort(403)
    form = ReportForm(request.args)
    form.unit.choices = [SelectChoice(unit.id, unit.local_name) for unit in units]
    if form.unit.process_errors:
        abort(404)
    chosen = form.unit.data or []
    by_id = {unit.id: unit for unit in units}
    if any(unit_id not in by_id for unit_id in chosen):
        abort(404)
    kind, today = REPORTS[name], clock.today()
    period = None
    if kind.uses_period:
        try:
            if form.validate():
                period = resolve(form.period.data or DEFAULT_PERIOD, form.start.data,
                                 form.end.data, today)
        except Refusal as error:
            show_refusal(error, form)
        if period is None:
            return form, None, None
    context = Context([by_id[unit_id] for unit_id in chosen] or units, period, today,
                      clock.timezone(), get_locale_code())
    return form, context, kind.build(context)


@bp.route("/", defaults={"name": "backlog"})
@bp.route("/<name>")
@login_required
def show(name):
    form, context, report = _report(name)
    return render_template("reports/report.html", name=name, reports=REPORTS, form=form,
                           context=context, report=report,
                           period=period_label(context.period) if context and context.period else "",
                           args=form.query_args())


@bp.route("/<name>/<table>.csv")
@login_required
def table_csv(name, table):
    _form, context, report = _report(name)
    found = report.table(table) if report else None
    if found is None:
        abort(404)
    if context.period is None:
        filename = f"{table}-{context.today.isoformat()}.csv"
    else:
        filename = f"{table}-{context.period.start.isoformat()}-{context.period.end.isoformat()}.csv"
    period = context.period
    return csv_download(found.header, found.csv_rows(), filename, export="report", report=name,
                        table=table, start=period.start.isoformat() if period else None,
                        end=period.end.isoformat() if period else None)
