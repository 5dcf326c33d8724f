"""Extensions, created unbound and bound to the app in create_app()."""

import sqlite3

from flask_babel import Babel
from flask_babel.speaklater import LazyString
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from markupsafe import escape
from sqlalchemy import MetaData, event
from sqlalchemy.engine import Engine

from .sms.cost import shape

# Named constraints, so that Alembic can alter them on SQLite and PostgreSQL alike.
naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

db = SQLAlchemy(metadata=MetaData(naming_convention=naming_convention))
migrate = Migrate(render_as_batch=True)
csrf = CSRFProtect()
login = LoginManager()
babel = Babel()

# A lazy string is text, often with what someone typed or a file held in it (« Magasin
# inconnu « %(code)s » »): Flask-Babel's says it is HTML already (__html__ returns it as
# it is), so Jinja would not escape it. No message of the catalogue holds markup.
LazyString.__html__ = lambda self: escape(str(self))  # type: ignore[method-assign]


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, _record):
    """SQLite (the embedded default) in WAL mode, waiting for a writer rather than failing:
    readers no longer block the writer nor the writer the readers, and a second writer
    (a delivery report while a worker sends) waits its turn instead of « database is
    locked ». Set on every connection: busy_timeout is per connection, not per file."""
    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    # A draft's rows are grouped by the shape of their card (sms.cost.shape), in SQL.
    dbapi_connection.create_function("cost_shape", 1, shape, deterministic=True)
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA busy_timeout = 30000")
        if cursor.execute("PRAGMA journal_mode").fetchone()[0] not in ("wal", "memory"):
            cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")  # the safe setting with WAL
    finally:
        cursor.close()
