"""The public feedback form and staff registration of feedback."""

import re
import secrets

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import get_locale
from flask_login import current_user, login_required
from sqlalchemy.exc import IntegrityError

from .. import access, clock
from .. import customer_texts as ct
from ..closing_days import banking_calendar
from ..extensions import db, limiter
from ..i18n import gettext as _
from ..logs import get_logger
from ..matching import search_register
from ..models import Customer, Language, Segment, Unit
from ..routing import NoServiceUnit
from ..rules.phones import e164
from ..rules.postal_codes import HOME_COUNTRY
from ..web.errors import record_refusal
from ..web.forms import parse_id
from ..web.locale import LANGUAGES, PUBLIC_LANGUAGES, get_locale_code
from ..web.lookups import active_units
from .emails import queue_confirmation
from .forms import PublicFeedbackForm, StaffFeedbackForm
from .operations import Feedback, case_for_token, receive_feedback
from .queries import active_topics

bp = Blueprint("intake", __name__)
TOKEN = re.compile(r"[A-Za-z0-9_-]{16,64}")
log = get_logger(__name__)
# The name of the form's language buttons: a post carrying it only switches the language.
SWITCH_LANGUAGE = "switch_language"
# The registration form's register buttons, and how many of the register's matches it shows.
FIND_CUSTOMER, USE_CUSTOMER, UNLINK_CUSTOMER = "find_customer", "use_customer", "unlink_customer"
REGISTER_MATCHES = 10


def _feedback_from(form, intake_channel):
    return Feedback(
        name=(form.name.data or "").strip(),
        street=(form.street.data or "").strip(),
        postal_code=form.normalised_postal_code(),
        city=(form.city.data or "").strip(),
        country=form.country.data,
        phone=form.normalised_phone(),
        email=form.normalised_email(),
        segment=form.segment.data,
        topic_id=form.topic.data,
        case_type=form.case_type.data,
        message=form.message.data.strip(),
        reply_wanted=form.wants_answer,
        reply_channel=form.reply_channel.data if form.wants_answer else None,
        language=form.language.data,
        intake_channel=intake_channel,
    )


def _page_language():
    """The language the page is shown in: the customer's answers come in it too, by default."""
    return str(get_locale())


def _switching_language():
    """A language button of the form: the same form again in another language, nothing saved,
    nothing checked and nothing counted against the limit of posts."""
    return request.method == "POST" and request.form.get(SWITCH_LANGUAGE) in LANGUAGES


def _service_lines():
    """(segment, phone number, tel: number, weekday hours) for the notice on urgent matters."""
    config = current_app.config
    return [(segment, phone, e164(phone) or "", hours) for segment, phone, hours in (
        (Segment.PRIVATE, config["SERVICE_PHONE_PRIVATE"], config["SERVICE_HOURS_PRIVATE"]),
        (Segment.BUSINESS, config["SERVICE_PHONE_BUSINESS"], config["SERVICE_HOURS_BUSINESS"]),
    )]


@bp.route("/feedback", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["FEEDBACK_RATE_LIMIT"], methods=["POST"],
               exempt_when=_switching_language)
def feedback():
    # Held for the whole request: the case then finds its topic in the session, not by a query.
    topics = active_topics()
    language = _page_language()
    form = PublicFeedbackForm(topics=topics, language=language)
    if request.method == "GET":
        form.language.data = form.shown_language.data = language
        form.submission_token.data = secrets.token_urlsafe(24)
    elif _switching_language():
        # What was typed comes back from the post itself: never kept in the session or a cookie.
        form.switch_language(language)
    elif form.website.data:
        # A bot filled in the hidden field: thank it and keep nothing.
        return render_template("intake/received.html", case=None)
    elif form.validate_on_submit():
        token = form.submission_token.data or ""
        if not TOKEN.fullmatch(token):
            # A hand-made or stripped post: still one case, with a token of our own.
            token = secrets.token_urlsafe(24)
        existing = case_for_token(token)
        if existing is None:
            try:
                now = clock.now()
                case = receive_feedback(
                    _feedback_from(form, "web_form"), now=now,
                    calendar=banking_calendar(clock.timezone()), submission_token=token,
                )
                queue_confirmation(case, now)
                db.session.commit()
            except IntegrityError:
                # The same form posted twice at once: the other request made the case.
                db.session.rollback()
                existing = case_for_token(token)
                if existing is None:
                    raise
            except NoServiceUnit:
                db.session.rollback()
                log.error("No active customer service unit to receive form feedback")
                abort(503)
            else:
                return redirect(url_for("intake.received", token=token))
        return redirect(url_for("intake.received", token=existing.submission_token))
    return render_template("intake/feedback.html", form=form, problems=form.problems(),
                           service_lines=_service_lines(), languages=PUBLIC_LANGUAGES,
                           switch_name=SWITCH_LANGUAGE)


@bp.route("/feedback/received/<token>")
def received(token):
    case = case_for_token(token)
    if case is None:
        abort(404)
    return render_template("intake/received.html", case=case, promise=ct.CONFIRMATION["promise"])


def _units_for_registration(user):
    own = access.member_unit_ids(user)
    # The user's own units first: that is where registered feedback usually goes.
    return sorted(active_units(get_locale_code()), key=lambda unit: unit.id not in own)


def _may_register():
    if not access.can_register_feedback(current_user):
        abort(403)


def _register_step(form):
    """The register's buttons post the form as it stands: the page comes back with the matches,
    the chosen customer's details filled in, or the link removed; nothing checked or saved.
    Returns whether the post was the register's, and the customers a search found (or None)."""
    if FIND_CUSTOMER in request.form:
        query = form.register_query.data or ""
        return True, search_register(db.session, query[:120], limit=REGISTER_MATCHES)
    if USE_CUSTOMER in request.form:
        customer_id = parse_id(request.form[USE_CUSTOMER])
        customer = db.session.get(Customer, customer_id) if customer_id else None
        if customer is not None:
            form.fill_from(customer)
        return True, None
    if UNLINK_CUSTOMER in request.form:
        form.customer_id.data = ""
        return True, None
    return False, None


@bp.route("/register-feedback", methods=["GET", "POST"])
@login_required
def register():
    _may_register()
    units = _units_for_registration(current_user)
    now = clock.now()
    form = StaffFeedbackForm(topics=active_topics(), units=units, language=_page_language(),
                             now=now, tz=clock.timezone())
    register_step, found = False, None
    if request.method == "GET":
        form.language.data = Language.FI.value
        form.submission_token.data = secrets.token_urlsafe(24)
        form.start_now()
    else:
        register_step, found = _register_step(form)
    chosen_id = form.chosen_customer_id()
    chosen = db.session.get(Customer, chosen_id) if chosen_id else None
    if not register_step and form.validate_on_submit():
        token = form.submission_token.data or ""
        existing = case_for_token(token) if TOKEN.fullmatch(token) else None
        if existing is not None:
            flash(_("%(ref)s was already registered.", ref=existing.reference), "info")
            return redirect(url_for("cases.show", reference=existing.reference))
        unit = db.session.get(Unit, form.unit.data)
        case = receive_feedback(
            _feedback_from(form, form.intake_channel.data), now=now,
            calendar=banking_calendar(clock.timezone()), actor=current_user, unit=unit,
            submission_token=token if TOKEN.fullmatch(token) else None,
            received_at=form.received_at(), customer=chosen,
        )
        try:
            db.session.commit()
        except IntegrityError:
            db.session.rollback()
            existing = case_for_token(token)
            flash(_("%(ref)s was already registered.", ref=existing.reference), "info")
            return redirect(url_for("cases.show", reference=existing.reference))
        flash(_("Registered %(ref)s in %(unit)s.", ref=case.reference, unit=unit.local_name), "success")
        if access.can_view_case(current_user, case):
            return redirect(url_for("cases.show", reference=case.reference))
        return redirect(url_for("inboxes.index"))
    return render_template("intake/register.html", form=form, found=found, chosen=chosen,
                           find_name=FIND_CUSTOMER, use_name=USE_CUSTOMER,
                           unlink_name=UNLINK_CUSTOMER)


def customer_entry(customer):
    """What the registration form needs of a register entry: its contact details."""
    return {
        "id": customer.id, "customer_number": customer.customer_number, "name": customer.name,
        "street": customer.street_address, "postal_code": customer.postal_code,
        "city": customer.city, "country": HOME_COUNTRY, "phone": customer.phone or "",
        "email": customer.email or "", "segment": customer.segment.value,
        "language": customer.language.value, "home_office": customer.home_office.local_name,
    }


@bp.route("/register-feedback/customers")
def register_customers():
    """The register's matches for the registration form's script (JSON, at most 10). Refusals
    are JSON too, and carry no customer data."""
    if not current_user.is_authenticated:
        record_refusal(401)
        return jsonify(error=_("Log in to search the customer register.")), 401
    if not access.can_register_feedback(current_user):
        record_refusal(403)
        return jsonify(error=_("You may not search the customer register.")), 403
    query = request.args.get("q", "")[:120]
    customers = search_register(db.session, query, limit=REGISTER_MATCHES)
    return jsonify(customers=[customer_entry(customer) for customer in customers])
