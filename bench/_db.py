"""A throw-away database for one benchmark run: a fresh SQLite file, or a database of
its own on the PostgreSQL server DATABASE_URL names, dropped afterwards."""

import contextlib
import os
import tempfile

from sqlalchemy import create_engine, make_url, text

from shopsms.config import normalize_database_url


@contextlib.contextmanager
def throwaway_database(prefix):
    server = os.environ.get("DATABASE_URL")
    if not server:
        yield f"sqlite:///{tempfile.mkdtemp(prefix=f'{prefix}-')}/bench.db"
        return
    url = make_url(normalize_database_url(server))
    name = f"{prefix.replace('-', '_')}_{os.getpid()}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
