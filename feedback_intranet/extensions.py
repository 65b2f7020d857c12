"""Extension objects, created unbound and initialised in the factory."""

from pathlib import Path

from flask_babel import Babel
from flask_caching import Cache
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_mail import Mail
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import MetaData, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Session

from .passwords import Passwords

# Stable constraint names, so migrations can drop and alter them by name.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)
migrate = Migrate(
    directory=str(Path(__file__).resolve().parent.parent / "migrations"),
    render_as_batch=True,
    compare_type=True,
)
login_manager = LoginManager()
csrf = CSRFProtect()
mail = Mail()
babel = Babel()
passwords = Passwords()
# Client addresses come through ProxyFix when TRUSTED_PROXIES is set.
limiter = Limiter(key_func=get_remote_address)
# Inbox counts and rows, filed under each unit's stamp (inboxes.stamps).
cache = Cache()


def listen_to_sessions(*listeners, first=False):
    """Listen to every ORM session from now on, each (event name, listener) once however often
    the app factory runs; `first` puts them before the listeners already there."""
    for name, listener in listeners:
        if not event.contains(Session, name, listener):
            event.listen(Session, name, listener, insert=first)


def insert_of(dialect_name):
    """The INSERT of the database's dialect, which knows ON CONFLICT."""
    return postgresql.insert if dialect_name == "postgresql" else sqlite.insert


@event.listens_for(Engine, "connect")
def _tune_sqlite(dbapi_connection, _record):
    """SQLite in write-ahead mode: readers never wait for a writer, and a writer waits for
    another instead of failing at once."""
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=5000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()
