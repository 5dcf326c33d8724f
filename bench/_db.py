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


def backend_cpu_seconds(connection):
    """CPU seconds used so far by the PostgreSQL backends connected to `connection`'s
    database (the server runs on this machine: read from /proc), or None when that
    cannot be read (SQLite, another host). With the client's own CPU, what a run cost
    whatever else the machine was doing."""
    if connection.dialect.name != "postgresql":
        return None
    pids = connection.execute(
        text("SELECT pid FROM pg_stat_activity WHERE datname = current_database()")
    ).scalars()
    ticks, total = os.sysconf("SC_CLK_TCK"), 0.0
    for pid in list(pids):
        try:
            with open(f"/proc/{pid}/stat") as file:
                fields = file.read().rsplit(")", 1)[1].split()
        except OSError:
            return None
        total += (int(fields[11]) + int(fields[12])) / ticks  # utime, stime
    return total


def own_cpu_seconds():
    import resource

    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime
