import sqlalchemy as sa
from flask import Blueprint, abort, render_template
from flask_login import current_user, login_required
from sqlalchemy.orm import joinedload, selectinload

from .. import access, clock
from ..badges import case_badge
from ..closing_days import banking_calendar
from ..extensions import db
from ..models import Case, CaseEvent

bp = Blueprint("cases", __name__, url_prefix="/cases")


def get_case_or_404(reference):
    """The case, if it exists and the current user may see it; 404 either way otherwise."""
    case = db.session.scalar(
        sa.select(Case)
        .where(Case.reference == reference)
        .options(
            joinedload(Case.current_unit),
            joinedload(Case.assignee),
            joinedload(Case.topic),
            joinedload(Case.customer),
            selectinload(Case.events).options(
                joinedload(CaseEvent.actor),
                joinedload(CaseEvent.from_unit),
                joinedload(CaseEvent.to_unit),
            ),
        )
    )
    if case is None or not access.can_view_case(current_user, case):
        abort(404)
    return case


@bp.route("/<reference>")
@login_required
def show(reference):
    case = get_case_or_404(reference)
    badge = case_badge(case, clock.today(), banking_calendar(clock.timezone()))
    return render_template("cases/show.html", case=case, badge=badge)
