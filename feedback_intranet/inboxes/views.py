from flask import Blueprint, abort, current_app, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from .. import access, clock
from ..badges import case_badge
from ..closing_days import banking_calendar
from ..extensions import db
from ..models import Unit
from . import queries

bp = Blueprint("inboxes", __name__)


@bp.route("/")
@login_required
def index():
    if request.args.get("unit"):
        return redirect(url_for("inboxes.inbox", unit_code=request.args["unit"]))
    units = queries.units_for_tabs(current_user)
    if not units and current_user.is_admin:
        units = queries.all_active_units()
    if not units:
        return render_template("inboxes/no_units.html")
    return redirect(url_for("inboxes.inbox", unit_code=units[0].code))


@bp.route("/inbox/<unit_code>")
@login_required
def inbox(unit_code):
    unit = db.session.scalar(db.select(Unit).where(Unit.code == unit_code))
    # The same answer whether the unit exists or not: its existence is not the user's business.
    if unit is None or not access.can_view_unit(current_user, unit.id):
        abort(404)
    filter_name = request.args.get("filter", queries.DEFAULT_FILTER)
    if filter_name not in queries.FILTERS:
        filter_name = queries.DEFAULT_FILTER
    today = clock.today()
    page = queries.inbox_page(
        unit.id,
        filter_name,
        current_user.id,
        today,
        current_app.config["INBOX_PAGE_SIZE"],
        after=queries.Cursor.decode(request.args.get("after")),
        before=queries.Cursor.decode(request.args.get("before")),
        last=request.args.get("page") == "last",
    )
    calendar = banking_calendar(clock.timezone())
    badges = {case.id: case_badge(case, today, calendar) for case in page.cases}
    tabs = queries.units_for_tabs(current_user)
    other_units = queries.all_active_units() if current_user.is_admin else []
    return render_template(
        "inboxes/inbox.html",
        unit=unit,
        tabs=tabs,
        other_units=other_units,
        tab_counts=queries.open_counts_by_unit([u.id for u in tabs] + [unit.id]),
        filters=queries.FILTERS,
        filter_name=filter_name,
        counts=queries.inbox_counts(unit.id, current_user.id, today),
        page=page,
        badges=badges,
    )
