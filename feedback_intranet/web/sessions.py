"""Session lifetime: an idle timeout and an absolute limit, and a forced password change.

Times are kept in the signed session cookie as Unix seconds from the app's clock, so tests
move the clock instead of sleeping.
"""

from flask import flash, redirect, request, session, url_for
from flask_login import current_user, logout_user

from .. import audit, clock
from ..extensions import db
from ..i18n import gettext as _
from ..models import AuditKind
from ..monitoring import PROBE_ENDPOINTS

# Requests that must work however the session stands.
OPEN_ENDPOINTS = {"auth.login", "auth.logout", "auth.password"}
# Writing the cookie on every request is needless churn: refresh "last seen" once a minute.
SEEN_RESOLUTION = 60


def start(now):
    """A fresh session at login: nothing from before it carries over (no fixation)."""
    session.clear()
    session["login_at"] = session["seen_at"] = int(now.timestamp())
    session.permanent = False


def expiry_reason(now, config):
    """Why the session has ended, or None while it is alive."""
    moment = int(now.timestamp())
    login_at, seen_at = session.get("login_at"), session.get("seen_at")
    if login_at is None or seen_at is None:
        return _("Please log in again.")
    if moment - login_at > config["SESSION_MAX_HOURS"] * 3600:
        return _("You were logged out %(hours)s hours after logging in. Please log in again.",
                 hours=config["SESSION_MAX_HOURS"])
    if moment - seen_at > config["SESSION_IDLE_MINUTES"] * 60:
        return _("You were logged out after %(minutes)s minutes without activity. Please log in "
                 "again.", minutes=config["SESSION_IDLE_MINUTES"])
    return None


def register_session_checks(app):
    @app.before_request
    def check_session():
        # A probe reads no session, so it touches no database.
        if request.endpoint == "static" or request.endpoint in PROBE_ENDPOINTS or (
                not current_user.is_authenticated):
            return None
        now = clock.now()
        reason = expiry_reason(now, app.config)
        if reason:
            audit.record(AuditKind.SESSION_ENDED, path=request.path)
            db.session.commit()
            logout_user()
            session.clear()
            flash(reason, "info")
            # Back to the page they were on after logging in; a form post cannot be replayed.
            target = request.full_path.rstrip("?") if request.method == "GET" else None
            return redirect(url_for("auth.login", next=target))
        moment = int(now.timestamp())
        if moment - session["seen_at"] >= SEEN_RESOLUTION:
            session["seen_at"] = moment
        if current_user.must_change_password and request.endpoint not in OPEN_ENDPOINTS:
            flash(_("Choose a new password before you go on."), "info")
            return redirect(url_for("auth.password"))
        return None
