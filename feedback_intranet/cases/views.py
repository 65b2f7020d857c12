import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy.orm import joinedload, selectinload

from .. import access, clock
from ..badges import case_badge
from ..closing_days import banking_calendar
from ..extensions import db
from ..masking import KIND_TITLES
from ..matching import match_customer, search_register
from ..models import Case, CaseEvent, Customer, MatchMethod
from .operations import CaseError, set_customer

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
            joinedload(Case.customer).joinedload(Customer.home_office),
            joinedload(Case.suggested_unit),
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


@bp.route("/<reference>")
@login_required
def show(reference):
    case = get_case_or_404(reference)
    badge = case_badge(case, clock.today(), banking_calendar(clock.timezone()))
    query = request.args.get("q", "").strip()
    can_set = access.can_set_customer(current_user, case)
    return render_template(
        "cases/show.html",
        case=case,
        badge=badge,
        masked_titles=[KIND_TITLES[k] for k in case.masked_kinds.split(",") if k],
        candidates=_candidates(case) if can_set else [],
        query=query,
        search_results=search_register(db.session, query) if can_set and query else [],
        can_set_customer=can_set,
    )


@bp.route("/<reference>/customer", methods=["POST"])
@login_required
def change_customer(reference):
    case = get_case_or_404(reference)
    customer_id = request.form.get("customer_id", type=int)
    customer = db.session.get(Customer, customer_id) if customer_id else None
    try:
        set_customer(current_user, case, customer, clock.now())
    except PermissionError:
        abort(403)
    except CaseError as error:
        db.session.rollback()
        flash(str(error), "error")
    else:
        db.session.commit()
        flash(f"Linked {case.reference} to {customer.name}.", "success")
    return redirect(url_for("cases.show", reference=reference))
