"""Error pages; a 500 rolls the transaction back so nothing half-written stays."""

from flask import current_app, flash, g, redirect, render_template, request, url_for
from flask_login import current_user
from limits import parse
from sqlalchemy.exc import SQLAlchemyError

from .. import audit, clock
from ..extensions import db, limiter, login_manager
from ..i18n import lazy_gettext as _l
from ..models import AuditKind
from ..rules.masking import mask

LIMITED_LOGIN_RECORDS = parse("1 per minute")
ANONYMOUS_REFUSAL_WINDOW_SECONDS = 60
# Refusals counted but not yet written are told with the address's next row, if it comes
# within a day.
UNRECORDED_REFUSALS_KEPT_SECONDS = 24 * 3600
LOGIN_LIMITED = _l("Too many failed logins in a short time. Wait a minute and try again.")


# The public form, the login page and the stylesheet refuse nobody's data (staff registration,
# in the same blueprint, does).
PUBLIC_ENDPOINTS = ("intake.feedback", "intake.received", "auth.login", "static")


def _record_alone(kind, **fields):
    """One audit event in a small transaction of its own: the request's work is not committed."""
    try:
        db.session.rollback()
        audit.record(kind, **fields)
        db.session.commit()
    except SQLAlchemyError:
        db.session.rollback()


def record_refusal(code):
    """A refused look at an intranet page goes to the audit log: a user's every time, a
    visitor's who is not logged in once a minute per address (see `_unrecorded_refusals`)."""
    # An address that names no page (a scanner's guess) is not a refused look at anything.
    if request.endpoint is None or request.endpoint.startswith(PUBLIC_ENDPOINTS):
        return
    # The path and reference are the visitor's own text: masked, and cut to leave room.
    reference = mask(str((request.view_args or {}).get("reference", ""))).text
    facts = {"status": code, "method": request.method, "path": mask(request.path).text[:200]}
    if not current_user.is_authenticated:
        unrecorded = _unrecorded_refusals()
        if unrecorded is None:
            return
        if unrecorded:
            facts["unrecorded"] = unrecorded
    _record_alone(AuditKind.REFUSED, reference=reference, **facts)


def _unrecorded_refusals():
    """For a visitor who is not logged in: None when this refusal is only counted, else how
    many were counted since the address's last row (this one then writes a new row).

    The first refusal in a minute of the app's clock writes a row; the rest are counted in
    the rate-limit storage, with atomic increments, so that anyone can fill the append-only
    log at most a row a minute per address, and no row is ever updated.
    """
    storage = limiter.storage
    counted = f"{current_app.config.get('RATELIMIT_KEY_PREFIX', '')}/refused/{request.remote_addr}"
    window = int(clock.now().timestamp()) // ANONYMOUS_REFUSAL_WINDOW_SECONDS
    try:
        if storage.incr(f"{counted}/{window}", ANONYMOUS_REFUSAL_WINDOW_SECONDS * 2) > 1:
            storage.incr(counted, UNRECORDED_REFUSALS_KEPT_SECONDS)
            return None
        unrecorded = storage.get(counted)
        if unrecorded:
            # Taken, not reset: refusals counted meanwhile stay for the next row.
            storage.incr(counted, UNRECORDED_REFUSALS_KEPT_SECONDS, amount=-unrecorded)
        return unrecorded
    except Exception:  # the store failing must not turn a refusal into a 500, nor hide it
        current_app.logger.warning("Could not count refused requests", exc_info=True)
        return 0


def record_limited_login():
    """A login refused by the throttle is a failed login too: the log shows the guessing.

    One row a minute per address: the refusals themselves must stay free, or the throttle
    would let anyone fill the append-only log at full speed.
    """
    # Keyed by address alone: a new username on every try must not earn a new row.
    key = (current_app.config.get("RATELIMIT_KEY_PREFIX", ""), "audited-429",
           request.remote_addr or "")
    try:
        first = limiter.limiter.hit(LIMITED_LOGIN_RECORDS, *key)
    except Exception:  # the store failing must not turn a 429 into a 500
        current_app.logger.warning("Could not count audited 429 logins", exc_info=True)
        return
    if first:
        _record_alone(AuditKind.LOGIN_FAILED, username=request.form.get("username", "").strip(),
                      reason="throttled")


def register_error_handlers(app):
    @login_manager.unauthorized_handler
    def not_logged_in():
        # Anonymous visitors (and inactive users, whom the loader refuses) go to the login page.
        record_refusal(401)
        flash(login_manager.login_message, login_manager.login_message_category)
        return redirect(url_for(login_manager.login_view, next=request.full_path.rstrip("?")))

    def page(code, title, text):
        def handler(error):
            if code == 500:
                db.session.rollback()
            elif code in (403, 404):
                record_refusal(code)
            elif code == 429 and request.endpoint == "auth.login":
                record_limited_login()
            # The public form's visitors get the bank's public layout, not the intranet's.
            layout = "public_base.html" if request.path.startswith("/feedback") else "base.html"
            shown = LOGIN_LIMITED if code == 429 and request.path == "/login" else text
            # What staff quote to support on a failure: it finds the request's lines in the log.
            request_id = g.get("request_id") if code == 500 else None
            return render_template("errors/error.html", code=code, title=title, text=shown,
                                   layout=layout, request_id=request_id), code

        app.register_error_handler(code, handler)

    page(400, _l("Bad request"),
         _l("The request could not be understood. Go back and try again."))
    page(403, _l("Not allowed"), _l("You do not have access to this page."))
    page(404, _l("Not found"), _l("There is nothing here, or you do not have access to it."))
    page(405, _l("Not allowed"), _l("That action is not possible on this page."))
    page(413, _l("Too much at once"),
         _l("What you sent is larger than we accept (1 MB). Shorten the message and send it "
            "again."))
    page(429, _l("Try again later"),
         _l("We have received many messages from your address in a short time. Wait a minute "
            "and send your feedback again."))
    page(503, _l("Not available right now"),
         _l("Feedback cannot be received at the moment. Try again later, or call customer "
            "service."))
    page(500, _l("Something went wrong"),
         _l("Nothing was saved. Try again; if it keeps happening, tell the intranet's support."))
