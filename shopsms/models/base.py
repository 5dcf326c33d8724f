"""What every model module shares."""

from datetime import UTC, datetime

from sqlalchemy import Integer, any_, bindparam, insert
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.sql import Select

from ..extensions import db


def any_of(column, ids):
    """`column` is one of `ids`, as one array parameter on PostgreSQL (`= ANY(:ids)`):
    psycopg then sends one value, not a list of 1,000 placeholders to expand and parse."""
    if db.session.connection().dialect.name == "postgresql":
        return column == any_(bindparam(None, list(ids), type_=ARRAY(Integer)))
    return column.in_(ids)


# SQLite's default build takes at most 32,766 bound values in a statement (psycopg
# 65,535, whatever the server).
SQLITE_IDS_AT_ONCE = 5_000


def among(column, ids):
    """Conditions "`column` is one of `ids`", to run one statement each and gather their
    rows: one for a SELECT of ids or on PostgreSQL (one array parameter, any length),
    else one per part of SQLITE_IDS_AT_ONCE ids. A list of 74,000 clients (those at the
    pressure cap after two chain campaigns) as a plain IN list broke both databases'
    limit on bound values."""
    if isinstance(ids, Select):
        return [column.in_(ids)]
    ids = list(ids)
    if db.session.connection().dialect.name == "postgresql":
        return [any_of(column, ids)]
    return [
        column.in_(ids[start : start + SQLITE_IDS_AT_ONCE])
        for start in range(0, len(ids), SQLITE_IDS_AT_ONCE)
    ]


def utcnow():
    """Naive UTC: stored the same way on SQLite and PostgreSQL, shown in Europe/Paris."""
    return datetime.now(UTC).replace(tzinfo=None)


def bulk_insert(model, rows):
    """Insert many rows in the session's transaction: COPY on PostgreSQL (executemany
    costs a server round trip per row there), executemany on SQLite, already fast."""
    if not rows:
        return
    connection = db.session.connection()
    if connection.dialect.name != "postgresql":
        connection.execute(insert(model), rows)
        return
    table = model.__table__
    columns = list(rows[0])
    # Columns the rows leave out get their Python-side defaults, as an INSERT would.
    defaults = {
        column.name: column.default.arg(None) if column.default.is_callable else column.default.arg
        for column in table.columns
        if column.name not in columns and column.default is not None and not column.primary_key
    }
    names = ", ".join(f'"{name}"' for name in columns + list(defaults))
    cursor = connection.connection.dbapi_connection.cursor()
    with cursor.copy(f'COPY "{table.name}" ({names}) FROM STDIN') as copy:
        for row in rows:
            copy.write_row([row[name] for name in columns] + list(defaults.values()))
