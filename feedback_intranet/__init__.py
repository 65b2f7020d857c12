"""The feedback intranet: a bank's staff handle customer feedback cases."""

import os
from pathlib import Path

import sqlalchemy as sa
from flask import Flask
from sqlalchemy.orm import joinedload

from config import CONFIGS, ConfigurationError, ProductionConfig, check_logging

from . import checkpoints, long_lived
from .extensions import babel, csrf, db, limiter, login_manager, mail, migrate, passwords
from .i18n import lazy_gettext
from .logs import RequestLogFilter, get_logger, install
from .monitoring.metrics import register_metrics
from .web.prepared import register_prepared_statements
from .web.request_log import register_request_log
from .web.security_headers import register_security_headers
from .web.sessions import register_session_checks
from .web.url_input import register_url_input

ROOT = Path(__file__).resolve().parent.parent


def create_app(config=None, check=True):
    """Build the app. `config` is a config class, its name, or a mapping of overrides.

    `check=False` skips refusing an unsafe production configuration: only for the flask
    command's list of commands (wsgi.py), which then runs none of them.
    """
    app = Flask(
        __name__,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
        instance_path=str(ROOT / "instance"),
    )
    warnings = configure(app, config, check)
    register_logging(app, warnings)
    # Right after the request log, so a request's time counts from its arrival.
    register_metrics(app)
    register_extensions(app)
    register_url_input(app)
    register_blueprints(app)
    register_template_helpers(app)
    register_query_counter(app)
    register_security_headers(app)
    register_session_checks(app)
    register_outbox_outcomes(app)
    register_outbox_worker(app)
    checkpoints.register(app, db)
    long_lived.register(app)
    from .cli import register_cli
    from .web.errors import register_error_handlers

    register_error_handlers(app)
    register_cli(app)
    return app


def configure(app, config, check=True):
    """Settings from `config`, the environment and the overrides; refuses unsafe or impossible
    ones. Returns the warnings on weaker ones, for the log once it is set up."""
    overrides = {}
    if config is None or isinstance(config, dict):
        overrides = config or {}
        config = overrides.get("CONFIG") or os.environ.get("FLASK_CONFIG")
    # Secure by default: a server started without FLASK_CONFIG is production.
    by_default, config = not config, config or "production"
    if isinstance(config, str):
        if config not in CONFIGS:
            raise ConfigurationError(
                f"FLASK_CONFIG (or instance/FLASK_CONFIG) is {config!r}: use development, testing "
                "or production.")
        config = CONFIGS[config]
    app.config.from_object(config)
    app.config.update(overrides)
    check_logging(app.config)
    warnings = []
    if issubclass(config, ProductionConfig) and check:
        ProductionConfig.check(app.config, by_default)
        ProductionConfig.check_directory(app.config)
        ProductionConfig.check_mailbox(app.config)
        warnings = list(ProductionConfig.warnings(app.config))
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        from .web import psycopg_work

        # Page queries are short: compiling them with JIT costs more than it saves.
        options = dict(app.config["SQLALCHEMY_ENGINE_OPTIONS"])
        options["connect_args"] = {"options": "-c jit=off", "cursor_factory": psycopg_work.Cursor,
                                   **options.get("connect_args", {})}
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options
        psycopg_work.keep_conversions()
    # The default SQLite file lives in instance/, which a fresh clone lacks.
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith(f"sqlite:///{app.instance_path}"):
        os.makedirs(app.instance_path, exist_ok=True)
    return warnings


def register_logging(app, warnings=()):
    """One handler on standard error for the app's loggers and the development server's, in
    LOG_FORMAT; then one line per request. First of the steps: the request log's hooks must run
    before (and its line after) every other."""
    # Before app.logger is first used, which would otherwise give it Flask's own handler too.
    install(app.config["LOG_FORMAT"], app.config["LOG_LEVEL"])
    # Unhandled errors are logged through app.logger: scrubbed like the app's own loggers.
    get_logger(app.logger.name)
    # The development server's log: paths, never query values (search terms, emails).
    get_logger("werkzeug", RequestLogFilter)
    for warning in warnings:
        app.logger.warning(warning)
    register_request_log(app)


def register_extensions(app):
    db.init_app(app)
    register_prepared_statements(app)
    migrate.init_app(app, db)
    csrf.init_app(app)
    mail.init_app(app)
    passwords.init_app(app)
    limiter.init_app(app)
    check_limits_only_where_set(app)
    # The inbox cache, the stamps that key it, the cases' sort keys and versions: listening to every
    # session from here on.
    from .cases import common as case_changes
    from .inboxes import cache as inbox_cache
    from .inboxes import counters, sorting, stamps
    from .reports import summaries

    sorting.register()
    counters.register()
    summaries.register()
    stamps.register()
    case_changes.register()
    inbox_cache.init_app(app)
    from .web.locale import install_template_gettext, select_locale, select_timezone

    babel.init_app(app, locale_selector=select_locale, timezone_selector=select_timezone)
    install_template_gettext(app)
    if app.config["TRUSTED_PROXIES"]:
        from werkzeug.middleware.proxy_fix import ProxyFix

        hops = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = lazy_gettext("Please log in to open that page.")
    login_manager.login_message_category = "info"

    from . import clock, models
    from .closing_days import (
        closing_days_sql,
        next_banking_day_parameters,
        next_banking_day_sql,
        remember_closing_days,
    )
    from .web.attention import NeedsAttention
    from .web.forms import parse_id

    # With the memberships and their units: nearly every page checks them, and one statement is
    # cheaper than two on every request. With them too the header's "needs attention" of a
    # team lead: it may cost no statement of its own. Built once, with the user and the day as
    # parameters: building it on each request took longer than running it. With them also the
    # closing days, which most pages' calendars need.
    attention, busiest = counters.led_units_attention(
        sa.bindparam("user_id"), sa.bindparam("today", type_=sa.Date), next_banking_day_sql())
    user_and_attention = (
        sa.select(models.User, attention, busiest, closing_days_sql())
        .where(models.User.id == sa.bindparam("user_id"))
        .options(joinedload(models.User.memberships).joinedload(models.Membership.unit)))

    @login_manager.user_loader
    def load_user(session_id):
        # "id:session version" (User.get_id); a session from before the version was raised,
        # or from before versions existed, has ended.
        if not isinstance(session_id, str) or len(session_id) > 40:
            return None
        user_id, _colon, version = session_id.partition(":")
        user_id = parse_id(user_id)
        if user_id is None or not (version.isascii() and version.isdecimal()):
            return None
        today = clock.today()
        row = db.session.execute(user_and_attention, {
            "user_id": user_id, "today": today,
            **next_banking_day_parameters(today, clock.timezone())}).unique().one_or_none()
        if row is None:
            return None
        user, count, busiest_id, closing_days = row
        if not user.active or user.session_version != int(version):
            return None
        remember_closing_days(closing_days)
        user.needs_attention = NeedsAttention.of(user, int(count or 0), busiest_id)
        return user


def check_limits_only_where_set(app):
    """Rate limits sit on the routes that need them (the public form, the login; @limiter.limit on
    a view), and their decorators check them. Flask-Limiter also looks before every request for
    limits on every page, which only an operator's RATELIMIT_DEFAULT, RATELIMIT_APPLICATION or
    RATELIMIT_META set (the first two it keeps in its limit manager): 5 % of a cached inbox view.
    Without them that look finds nothing, so it is not taken."""
    manager = limiter.limit_manager
    if not (manager.default_limits or manager.application_limits
            or app.config.get("RATELIMIT_META")):
        app.before_request_funcs[None].remove(limiter._check_request_limit)


def register_blueprints(app):
    from .admin.views import bp as admin_bp
    from .auth.views import bp as auth_bp
    from .cases.views import bp as cases_bp
    from .inboxes.views import bp as inboxes_bp
    from .intake.views import bp as intake_bp
    from .monitoring.views import bp as monitoring_bp
    from .replies.views import bp as replies_bp
    from .reports.views import bp as reports_bp

    app.register_blueprint(auth_bp)
    app.register_blueprint(inboxes_bp)
    app.register_blueprint(cases_bp)
    app.register_blueprint(admin_bp)
    app.register_blueprint(intake_bp)
    app.register_blueprint(replies_bp)
    app.register_blueprint(reports_bp)
    app.register_blueprint(monitoring_bp)


def register_template_helpers(app):
    from . import access, clock, countries
    from .cases import timeline
    from .rules.dates import format_date, format_moment, format_short_date
    from .web.chrome import date_picker_texts, staff_header
    from .web.locale import PUBLIC_LANGUAGES, get_locale_code

    app.add_template_global(get_locale_code)
    app.add_template_global(staff_header)
    app.add_template_global(date_picker_texts)
    app.add_template_global(PUBLIC_LANGUAGES, "public_languages")
    app.add_template_global(countries.country_name)
    app.add_template_global(countries.is_abroad)
    # Templates ask the rule, never spell it out.
    app.add_template_global(access.can_see_reports)
    app.add_template_global(access.can_administer)
    app.add_template_global(timeline.summary, "event_summary")
    app.add_template_global(timeline.receipt, "event_receipt")

    # Numeric patterns, the same in all three languages: no locale data needed per row.
    @app.template_filter("local_datetime")
    def local_datetime(moment):
        return format_moment(moment, clock.timezone()) if moment else ""

    @app.template_filter("local_time")
    def local_time(moment):
        return f"{moment.astimezone(clock.timezone()):%H:%M}" if moment else ""

    @app.template_filter("local_day")
    def local_day(moment):
        return format_date(moment.astimezone(clock.timezone())) if moment else ""

    @app.template_filter("local_date")
    def local_date(day):
        return format_date(day) if day else ""

    @app.template_filter("local_name")
    def local_name(named):
        """A unit's or a topic's name in the page's language."""
        return named.local_name if named else ""

    @app.template_filter("short_date")
    def short_date(day):
        return format_short_date(day) if day else ""


def register_query_counter(app):
    """Count SQL statements per request, for tests and benchmarks."""
    if not app.config.get("COUNT_QUERIES"):
        return
    from flask import g, has_request_context
    from sqlalchemy import event

    with app.app_context():
        engine = db.engine

    @event.listens_for(engine, "before_cursor_execute")
    def count(conn, cursor, statement, parameters, context, executemany):
        if has_request_context():
            g.query_count = g.get("query_count", 0) + 1

    @app.before_request
    def reset_count():
        g.query_count = 0

    @app.after_request
    def expose_count(response):
        response.headers["X-Query-Count"] = str(g.get("query_count", 0))
        return response


def register_outbox_outcomes(app):
    """The outbox is transport only: what a message's fate means for an answer or a case is the
    replies' to say."""
    from .replies.outcomes import register_outbox_outcomes as register

    register(app)


def register_outbox_worker(app):
    """In development, deliver the outbox from a thread started with the first request."""
    if not app.config.get("OUTBOX_WORKER_THREAD"):
        return
    started = []

    @app.before_request
    def start_worker():
        if not started:
            from .outbox import start_background_worker

            started.append(start_background_worker(app))
