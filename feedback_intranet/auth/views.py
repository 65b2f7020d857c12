from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required, login_user, logout_user

from .. import audit, clock
from ..directory.operations import directory_from_config
from ..extensions import db
from ..i18n import gettext as _
from ..models import AuditKind
from ..monitoring import metrics
from ..refusals import Refusal
from ..web import sessions
from ..web.forms import show_refusal
from . import throttle
from .forms import LoginForm, PasswordForm, ProfileForm
from .operations import (
    DIRECTORY_PASSWORD,
    authenticate,
    change_password,
    end_sessions,
    safe_next_path,
)

bp = Blueprint("auth", __name__)


@bp.route("/login", methods=["GET", "POST"])
def login():
    form = LoginForm()
    if request.method == "GET":
        form.next.data = request.args.get("next", "")
    if current_user.is_authenticated:
        return redirect(safe_next_path(form.next.data) or url_for("inboxes.index"))
    if form.validate_on_submit():
        # Taken before the password is checked, so parallel attempts cannot overrun the limits.
        slots = throttle.reserve(current_app.config, form.username.data, request.remote_addr or "")
        if slots is None:
            metrics.login_failed("throttled")
            abort(429)
        now = clock.now()
        refused = None
        try:
            user = authenticate(form.username.data, form.password.data, now=now,
                                lockout_failures=current_app.config["LOCKOUT_FAILURES"],
                                lockout_minutes=current_app.config["LOCKOUT_MINUTES"],
                                directory=directory_from_config(current_app.config),
                                only_local_admins=current_app.config["LDAP_ONLY_LOCAL_ADMINS"])
        except Refusal as refusal:
            user, refused = None, refusal
        # The failure count, and what the directory said, are kept whether or not the login
        # succeeds.
        db.session.commit()
        if refused is not None:
            show_refusal(refused, form)
        elif user is None:
            form.password.errors.append(_(
                "Wrong username or password, or the account is locked for a while after too "
                "many failed attempts."))
        else:
            # Only failed attempts count against the limits.
            slots.give_back()
            sessions.start(now)
            login_user(user)
            if user.must_change_password:
                return redirect(url_for("auth.password"))
            return redirect(safe_next_path(form.next.data) or url_for("inboxes.index"))
    return render_template("auth/login.html", form=form)


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    audit.record(AuditKind.LOGOUT)
    # Every session of the user ends, not just this cookie: a copy of it is worthless now.
    end_sessions(current_user._get_current_object())
    db.session.commit()
    logout_user()
    session.clear()
    flash(_("You have logged out."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/profile", methods=["GET", "POST"])
@login_required
def profile():
    led_units = [m.unit.local_name for m in current_user.memberships if m.is_team_lead]
    form = ProfileForm(obj=current_user, led_units=led_units)
    if request.method == "GET":
        form.language.data = str(current_user.language)
    if form.validate_on_submit():
        current_user.notify_by_email = form.notify_by_email.data
        current_user.notify_customer_replied = form.notify_customer_replied.data
        current_user.open_next_case = form.open_next_case.data
        current_user.morning_digest = form.morning_digest.data
        current_user.language = form.language.data
        db.session.commit()
        flash(_("Your settings are saved."), "success")
        return redirect(url_for("auth.profile"))
    return render_template("auth/profile.html", form=form,
                           password_in_directory=current_user.directory_id is not None)


@bp.route("/profile/password", methods=["GET", "POST"])
@login_required
def password():
    if current_user.directory_id is not None:
        # The directory holds this user's password: nothing to show, nothing to accept.
        return render_template("auth/password_in_directory.html",
                               message=DIRECTORY_PASSWORD), 403
    form = PasswordForm()
    if form.validate_on_submit():
        try:
            change_password(current_user, form.current.data, form.new.data)
        except Refusal as error:
            db.session.rollback()
            show_refusal(error, form)
        else:
            # This session carries on under the new session version, all others have ended;
            # renewed before the commit, so a later raise (an admin's reset) ends it too.
            login_user(current_user._get_current_object())
            db.session.commit()
            flash(_("Your password is changed."), "success")
            return redirect(url_for("auth.profile"))
    return render_template("auth/password.html", form=form)
