"""Reports for team leads (their units) and admins (all units)."""

import sqlalchemy as sa
from flask import Blueprint, Response, abort, render_template, request
from flask_babel import gettext as _
from flask_login import current_user, login_required

from .. import access, clock
from ..closing_days import banking_calendar
from ..csv_export import to_csv
from ..extensions import db
from ..forms import parse_id
from ..models import Unit
from . import queries

bp = Blueprint("reports", __name__, url_prefix="/reports")


def _scope():
    """The units whose figures the user may see, narrowed to ?unit= when given."""
    allowed = access.report_unit_ids(current_user)
    query = sa.select(Unit).order_by(Unit.name)
    query = query.where(Unit.active) if allowed is None else query.where(Unit.id.in_(allowed))
    units = db.session.scalars(query).all()
    if not units:
        abort(403)
    chosen = parse_id(request.args.get("unit"))
    if request.args.get("unit"):
        units_by_id = {unit.id: unit for unit in units}
        if chosen not in units_by_id:
            abort(404)
        return units, [units_by_id[chosen]]
    return units, units


def _backlog():
    choices, scope = _scope()
    rows = queries.backlog([u.id for u in scope], clock.today(),
                           banking_calendar(clock.timezone()))
    return choices, scope, rows


@bp.route("/")
@login_required
def index():
    choices, scope, rows = _backlog()
    return render_template("reports/index.html", choices=choices, scope=scope, rows=rows,
                           buckets=queries.AGE_BUCKETS, chosen=request.args.get("unit", ""))


@bp.route("/backlog.csv")
@login_required
def backlog_csv():
    _choices, _scope_units, rows = _backlog()
    header = [_("Unit"), _("Overdue"), _("Open")] + [
        _("Age %(bucket)s banking days", bucket=bucket) for bucket in queries.AGE_BUCKETS]
    data = to_csv(header, [[row["unit"], row["overdue"], row["total"], *row["buckets"]]
                           for row in rows])
    return Response(data, mimetype="text/csv; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="backlog-{clock.today().isoformat()}.csv"',
        "Cache-Control": "no-store"})
