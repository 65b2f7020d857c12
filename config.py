"""Configuration classes, read from the environment.

Pick one with ``FLASK_CONFIG`` (development, testing, production) or pass a
class, a name or a mapping to ``create_app``. Without either the app is production;
the flask command also reads instance/FLASK_CONFIG, which the quick start writes.
"""

import os
import re
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = BASE_DIR / "instance"
DEV_SECRET_KEY = "dev-only-not-secret"
MAKE_A_KEY = "python3 -c 'import secrets; print(secrets.token_hex(32))'"


class ConfigurationError(RuntimeError):
    """The configuration is unsafe or incomplete; the message says what to set, in one line."""


def checkout_config():
    """The configuration this checkout was set up with (instance/FLASK_CONFIG), if any."""
    try:
        return (INSTANCE_DIR / "FLASK_CONFIG").read_text().strip() or None
    except FileNotFoundError:
        return None


def _bool(name, default=False):
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _int(name, default):
    value = os.environ.get(name)
    return int(value) if value not in (None, "") else default


def _float(name, default):
    value = os.environ.get(name)
    return float(value) if value not in (None, "") else default


def _hours(name, default):
    """Service hours such as "8-20" or "8:30-16", written as the page shows them ("8.30–16")."""
    text = os.environ.get(name) or default
    match = re.fullmatch(r"\s*(\d{1,2})(?:[:.](\d{2}))?\s*[-–]\s*(\d{1,2})(?:[:.](\d{2}))?\s*",
                         text)
    if match is None:
        raise ConfigurationError(f"{name} must be opening and closing hours such as 8-20 or "
                                 f"8:30-16, not {text!r}.")
    opens_h, opens_m, closes_h, closes_m = match.groups()
    opens, closes = (int(opens_h), int(opens_m or 0)), (int(closes_h), int(closes_m or 0))
    if not (opens < closes <= (24, 0) and opens[1] < 60 and closes[1] < 60):
        raise ConfigurationError(f"{name}: {text!r} does not open before it closes within a day.")

    def written(hour, minute):
        return f"{hour}.{minute:02d}" if minute else str(hour)

    return f"{written(*opens)}–{written(*closes)}"


def _database_url(default):
    url = os.environ.get("DATABASE_URL", default)
    # Heroku-style URLs name the old scheme; SQLAlchemy wants the driver.
    if url.startswith("postgres://"):
        url = "postgresql+psycopg://" + url[len("postgres://"):]
    elif url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return url


class Config:
    CONFIG_NAME = "base"
    SECRET_KEY = os.environ.get("SECRET_KEY", DEV_SECRET_KEY)
    SQLALCHEMY_DATABASE_URI = _database_url(f"sqlite:///{INSTANCE_DIR / 'feedback.sqlite'}")
    # hide_parameters: a failing statement's error never carries customer data into the logs.
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True, "hide_parameters": True}
    TIMEZONE = os.environ.get("TIMEZONE", "Europe/Helsinki")
    BABEL_DEFAULT_LOCALE = "en"
    BABEL_TRANSLATION_DIRECTORIES = str(BASE_DIR / "feedback_intranet" / "translations")

    MAIL_SERVER = os.environ.get("MAIL_SERVER", "localhost")
    MAIL_PORT = _int("MAIL_PORT", 25)
    MAIL_USE_TLS = _bool("MAIL_USE_TLS")
    MAIL_USE_SSL = _bool("MAIL_USE_SSL")
    MAIL_USERNAME = os.environ.get("MAIL_USERNAME")
    MAIL_PASSWORD = os.environ.get("MAIL_PASSWORD")
    MAIL_DEFAULT_SENDER = os.environ.get("MAIL_DEFAULT_SENDER", "feedback@bank.example")
    MAIL_SUPPRESS_SEND = _bool("MAIL_SUPPRESS_SEND")
    # Flask-Mail would otherwise follow app.debug and print whole emails (personal data) to stderr.
    MAIL_DEBUG = False
    # Customer email comes from this address, with the unit's name as the sender name.
    FEEDBACK_FROM_ADDRESS = os.environ.get("FEEDBACK_FROM_ADDRESS", "feedback@bank.example")
    OUTBOX_MAX_ATTEMPTS = _int("OUTBOX_MAX_ATTEMPTS", 6)
    OUTBOX_BACKOFF_SECONDS = _float("OUTBOX_BACKOFF_SECONDS", 60)
    # How long a worker's claim on a message holds; only a worker that died leaves one to run out.
    OUTBOX_LEASE_SECONDS = _float("OUTBOX_LEASE_SECONDS", 300)
    # The development server delivers the outbox from a thread; production runs
    # `flask --app wsgi outbox send --loop` as its own process.
    OUTBOX_WORKER_THREAD = _bool("OUTBOX_WORKER_THREAD")
    # On SQLite, a web worker's thread copies the write-ahead log into the database this often
    # (0: never), so no request waits for it (feedback_intranet/checkpoints.py).
    SQLITE_CHECKPOINT_SECONDS = _float("SQLITE_CHECKPOINT_SECONDS", 0.5)
    # After this many requests a web worker sets what it has built aside from the garbage
    # collector (0: never), so its full collections stay short (feedback_intranet/long_lived.py).
    GC_FREEZE_AFTER_REQUESTS = _int("GC_FREEZE_AFTER_REQUESTS", 1000)

    # argon2id; OWASP's minimum is m=19 MiB, t=2, p=1.
    ARGON2_TIME_COST = _int("ARGON2_TIME_COST", 2)
    ARGON2_MEMORY_COST = _int("ARGON2_MEMORY_COST", 19 * 1024)
    ARGON2_PARALLELISM = _int("ARGON2_PARALLELISM", 1)

    INBOX_PAGE_SIZE = _int("INBOX_PAGE_SIZE", 50)
    # Where staff reach the intranet: links in notification emails.
    INTRANET_BASE_URL = os.environ.get("INTRANET_BASE_URL", "http://127.0.0.1:5000")

    # The public form: request bodies are capped, posts per client address limited.
    MAX_CONTENT_LENGTH = 1024 * 1024
    FEEDBACK_RATE_LIMIT = os.environ.get("FEEDBACK_RATE_LIMIT", "10 per minute")
    # memory:// serves one process; use redis://host:6379 for several workers or hosts.
    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI", "memory://")
    # A shared store that cannot be reached: each worker counts in its own memory meanwhile,
    # rather than every limited page failing.
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
    # A Redis that does not answer holds a request a moment, not until the socket gives up.
    RATELIMIT_STORAGE_OPTIONS = {"socket_timeout": 0.5, "socket_connect_timeout": 0.5}
    # Inbox counts and rendered rows, filed under each unit's stamp so every worker's copy is
    # right: memory:// keeps them per worker, redis://host:6379/1 shares them between workers
    # and hosts, none:// turns caching off.
    INBOX_CACHE_URI = os.environ.get("INBOX_CACHE_URI", "memory://")
    # The form's notice on urgent matters: each segment's service number and weekday hours.
    SERVICE_PHONE_PRIVATE = os.environ.get("SERVICE_PHONE_PRIVATE", "010 247 010")
    SERVICE_HOURS_PRIVATE = _hours("SERVICE_HOURS_PRIVATE", "8-20")
    SERVICE_PHONE_BUSINESS = os.environ.get("SERVICE_PHONE_BUSINESS", "010 247 6700")
    SERVICE_HOURS_BUSINESS = _hours("SERVICE_HOURS_BUSINESS", "8-18")
    # Reverse proxies in front of the app whose X-Forwarded-For is trusted.
    TRUSTED_PROXIES = _int("TRUSTED_PROXIES", 0)
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    # A session ends after this long without a request, and in any case this long after login.
    SESSION_IDLE_MINUTES = _int("SESSION_IDLE_MINUTES", 30)
    SESSION_MAX_HOURS = _int("SESSION_MAX_HOURS", 10)
    # Failed logins allowed per username and per client address (storage: RATELIMIT_STORAGE_URI),
    # and the lockout after that many failures in a row.
    LOGIN_LIMIT_PER_USERNAME = os.environ.get("LOGIN_LIMIT_PER_USERNAME", "5 per minute")
    LOGIN_LIMIT_PER_ADDRESS = os.environ.get("LOGIN_LIMIT_PER_ADDRESS", "30 per minute")
    LOCKOUT_FAILURES = _int("LOCKOUT_FAILURES", 10)
    LOCKOUT_MINUTES = _int("LOCKOUT_MINUTES", 15)
    # Closed cases older than this lose their personal data (`flask retention apply`).
    RETENTION_MONTHS = _int("RETENTION_MONTHS", 36)
    # A callable returning an aware datetime; tests inject a fixed clock.
    CLOCK = None
    # Strict-Transport-Security: on in production, where the app is only reached over TLS.
    SECURITY_HSTS = _bool("SECURITY_HSTS")
    # Counts SQL statements per request (tests and benchmarks only).
    COUNT_QUERIES = _bool("COUNT_QUERIES")
    # The bearer token Prometheus scrapes GET /metrics with; empty: no /metrics at all (404).
    METRICS_TOKEN = os.environ.get("METRICS_TOKEN", "")
    # The log on standard error: "text" to read, "json" (one object a line) for a log store.
    LOG_FORMAT = os.environ.get("LOG_FORMAT", "text")
    LOG_LEVEL = os.environ.get("LOG_LEVEL", "INFO")

    # Signing in with the bank's directory (README: "Signing in with the bank's directory"); off
    # while LDAP_URL is empty. The service account only searches; users bind with their own
    # password.
    LDAP_URL = os.environ.get("LDAP_URL", "")
    LDAP_BIND_DN = os.environ.get("LDAP_BIND_DN", "")
    LDAP_BIND_PASSWORD = os.environ.get("LDAP_BIND_PASSWORD", "")
    LDAP_USER_BASE = os.environ.get("LDAP_USER_BASE", "")
    # {username} is replaced by the typed username, escaped.
    LDAP_USER_FILTER = os.environ.get("LDAP_USER_FILTER", "(sAMAccountName={username})")
    LDAP_GROUP_BASE = os.environ.get("LDAP_GROUP_BASE", "")
    # CA bundle the directory's certificate is checked against (empty: the system's).
    LDAP_CA_FILE = os.environ.get("LDAP_CA_FILE", "")
    LDAP_START_TLS = _bool("LDAP_START_TLS")
    # The entry's stable id: objectGUID on Active Directory, entryUUID on OpenLDAP.
    LDAP_ID_ATTRIBUTE = os.environ.get("LDAP_ID_ATTRIBUTE", "objectGUID")
    # How nested groups are followed: "in_chain" (AD's rule 1.2.840.113556.1.4.1941) or
    # "recursive" (one search per level, for servers without it such as OpenLDAP).
    LDAP_NESTED_GROUPS = os.environ.get("LDAP_NESTED_GROUPS", "in_chain")
    # Only members of this group (nested membership counts) may sign in; empty: anyone found.
    LDAP_ALLOWED_GROUP = os.environ.get("LDAP_ALLOWED_GROUP", "")
    # With the directory on, only local administrators (break-glass) may use a local password.
    LDAP_ONLY_LOCAL_ADMINS = _bool("LDAP_ONLY_LOCAL_ADMINS")
    LDAP_TIMEOUT_SECONDS = _float("LDAP_TIMEOUT_SECONDS", 5)

    # Customers' replies and bounces (README: "When the customer writes back"); off while
    # IMAP_URL is empty. imaps://user@host[:port]/Folder, or imap:// with IMAP_START_TLS.
    IMAP_URL = os.environ.get("IMAP_URL", "")
    IMAP_PASSWORD = os.environ.get("IMAP_PASSWORD", "")
    IMAP_START_TLS = _bool("IMAP_START_TLS")
    # CA bundle the mail server's certificate is checked against (empty: the system's).
    IMAP_CA_FILE = os.environ.get("IMAP_CA_FILE", "")
    IMAP_TIMEOUT_SECONDS = _float("IMAP_TIMEOUT_SECONDS", 30)
    # Where mail that is not processed waits for review, in the same account.
    IMAP_QUARANTINE_FOLDER = os.environ.get("IMAP_QUARANTINE_FOLDER", "Quarantine")
    # The mailbox's address: Reply-To of mail to customers and its envelope sender (Return-Path),
    # so replies and bounces both come back to it. Empty: replies go to FEEDBACK_FROM_ADDRESS.
    INBOUND_ADDRESS = os.environ.get("INBOUND_ADDRESS", "")
    # The bank's own mail server's authserv-id in Authentication-Results: only its DMARC verdict
    # counts. Empty: no verdict is trusted, so no reply is matched by its subject alone.
    INBOUND_AUTHSERV_ID = os.environ.get("INBOUND_AUTHSERV_ID", "")
    # The spam filter's verdict header and the values that mean spam.
    INBOUND_SPAM_HEADER = os.environ.get("INBOUND_SPAM_HEADER", "X-Spam-Flag")
    INBOUND_SPAM_VALUES = os.environ.get("INBOUND_SPAM_VALUES", "yes")
    INBOUND_MAX_BYTES = _int("INBOUND_MAX_BYTES", 10 * 1024 * 1024)
    # New cases one sender address may open by email in a day; more are quarantined.
    INBOUND_NEW_CASES_PER_SENDER_PER_DAY = _int("INBOUND_NEW_CASES_PER_SENDER_PER_DAY", 3)
    # The topic of feedback that arrives by email (a topic code; empty: the first active topic).
    INBOUND_TOPIC = os.environ.get("INBOUND_TOPIC", "")
    # Days quarantined mail is kept for review, and the inbound log's senders and subjects.
    INBOUND_QUARANTINE_DAYS = _int("INBOUND_QUARANTINE_DAYS", 7)
    INBOUND_LOG_DAYS = _int("INBOUND_LOG_DAYS", 30)
    # `inbound fetch --loop`: seconds between rounds.
    INBOUND_INTERVAL_SECONDS = _float("INBOUND_INTERVAL_SECONDS", 60)


LOG_FORMATS = ("json", "text")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


def check_logging(config):
    """Refuse a log format or level that does not exist; write the ones given in one spelling."""
    log_format = str(config.get("LOG_FORMAT") or "").strip().lower()
    if log_format not in LOG_FORMATS:
        raise ConfigurationError(
            f"LOG_FORMAT is {config.get('LOG_FORMAT')!r}: use json (one JSON object a line, for a "
            "log store) or text.")
    level = str(config.get("LOG_LEVEL") or "").strip().upper()
    if level not in LOG_LEVELS:
        raise ConfigurationError(
            f"LOG_LEVEL is {config.get('LOG_LEVEL')!r}: use one of {', '.join(LOG_LEVELS)}.")
    config.update(LOG_FORMAT=log_format, LOG_LEVEL=level)


class DevelopmentConfig(Config):
    CONFIG_NAME = "development"
    DEBUG = True
    # A local SMTP server for the demo: python -m aiosmtpd -n -l 127.0.0.1:1025
    MAIL_PORT = _int("MAIL_PORT", 1025)
    OUTBOX_WORKER_THREAD = _bool("OUTBOX_WORKER_THREAD", True)


class TestingConfig(Config):
    CONFIG_NAME = "testing"
    TESTING = True
    SECRET_KEY = "testing"
    SQLALCHEMY_DATABASE_URI = _database_url("sqlite://")
    WTF_CSRF_ENABLED = False
    # The outbox tests' worker processes send to a test SMTP server.
    MAIL_SUPPRESS_SEND = _bool("MAIL_SUPPRESS_SEND", True)
    ARGON2_TIME_COST = 1
    ARGON2_MEMORY_COST = 8
    COUNT_QUERIES = True
    FEEDBACK_RATE_LIMIT = "1000 per minute"
    # Tests move the clock by days; the session tests set the real lifetimes themselves.
    SESSION_IDLE_MINUTES = 10**7
    SESSION_MAX_HOURS = 10**6
    LOGIN_LIMIT_PER_USERNAME = LOGIN_LIMIT_PER_ADDRESS = "1000 per minute"
    SQLITE_CHECKPOINT_SECONDS = 0  # the checkpoint tests start their own
    GC_FREEZE_AFTER_REQUESTS = 0  # the process runs every test: its tests set their own


class ProductionConfig(Config):
    CONFIG_NAME = "production"
    SESSION_COOKIE_SECURE = True
    SECURITY_HSTS = _bool("SECURITY_HSTS", True)
    LOG_FORMAT = os.environ.get("LOG_FORMAT", "json")

    @classmethod
    def check(cls, config, by_default=False):
        """Refuse a key anyone could know: too short to be random, or an example from this code."""
        key = config.get("SECRET_KEY") or ""
        length = len(key if isinstance(key, bytes) else key.encode())
        if length >= 32 and key not in (DEV_SECRET_KEY, TestingConfig.SECRET_KEY):
            return
        if by_default:
            raise ConfigurationError(
                "FLASK_CONFIG is not set, so this is production, which needs a SECRET_KEY of 32 "
                "bytes or more: for the demo set FLASK_CONFIG=development; for production set "
                f"SECRET_KEY=$({MAKE_A_KEY})."
            )
        raise ConfigurationError(
            "SECRET_KEY must be 32 bytes or more and not one of the examples in config.py: "
            f"make one with {MAKE_A_KEY} and set SECRET_KEY to it."
        )

    @classmethod
    def check_directory(cls, config):
        """Passwords never cross the network in the clear: LDAPS, or StartTLS on ldap://."""
        url = (config.get("LDAP_URL") or "").strip().lower()
        if url.startswith("ldap://") and not config.get("LDAP_START_TLS"):
            raise ConfigurationError(
                "LDAP_URL is plain ldap:// without LDAP_START_TLS, so passwords would cross the "
                "network in the clear: use ldaps://host or set LDAP_START_TLS=true.")
        if config.get("LDAP_NESTED_GROUPS") not in ("in_chain", "recursive"):
            raise ConfigurationError("LDAP_NESTED_GROUPS must be in_chain or recursive.")

    @classmethod
    def check_mailbox(cls, config):
        """The mailbox's password and customers' mail never cross the network in the clear."""
        url = (config.get("IMAP_URL") or "").strip().lower()
        if url.startswith("imap://") and not config.get("IMAP_START_TLS"):
            raise ConfigurationError(
                "IMAP_URL is plain imap:// without IMAP_START_TLS, so the mailbox's password and "
                "customers' mail would cross the network in the clear: use imaps://host or set "
                "IMAP_START_TLS=true.")

    @classmethod
    def warnings(cls, config):
        """What works but is weaker than a bank wants; logged at start."""
        if config["RATELIMIT_STORAGE_URI"].startswith("memory://"):
            yield ("RATELIMIT_STORAGE_URI is memory://, so each worker counts failed logins on "
                   "its own and the login limits are per worker (the account lockout, counted in "
                   "the database, still holds). Set it to a Redis URI that every worker and host "
                   "shares, e.g. redis://127.0.0.1:6379/0.")


CONFIGS = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}


def server_log_format():
    """The LOG_FORMAT of a server started in this environment (FLASK_CONFIG, else production),
    for what the server writes before and around the app (gunicorn's own lines)."""
    # A FLASK_CONFIG that names none is the app's to refuse, in its worker.
    config = CONFIGS.get(os.environ.get("FLASK_CONFIG") or "production", ProductionConfig)
    settings = {"LOG_FORMAT": config.LOG_FORMAT, "LOG_LEVEL": config.LOG_LEVEL}
    check_logging(settings)
    return settings["LOG_FORMAT"]
