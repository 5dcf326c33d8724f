"""Fixtures: an app on a fresh database (SQLite, or PostgreSQL when DATABASE_URL is set),
a real Redis (embedded, or REDIS_URL), logged-in clients per role, and a real browser."""

import os
import re
import tempfile
import threading
import urllib.parse
import uuid
from dataclasses import dataclass

import pytest
from sqlalchemy import create_engine, make_url, text

# Before the app is imported: keep tests away from the developer's instance/ folder.
_INSTANCE = tempfile.mkdtemp(prefix="shopsms-test-instance-")
os.environ["SHOPSMS_INSTANCE_PATH"] = _INSTANCE

from shopsms import config, create_app  # noqa: E402
from shopsms.extensions import db  # noqa: E402
from shopsms.models import Store  # noqa: E402
from shopsms.queue import EmbeddedRedis  # noqa: E402
from shopsms.services.users import create_user  # noqa: E402

PASSWORD = "secret-pass"


@pytest.fixture(scope="session")
def database_url(tmp_path_factory):
    server_url = os.environ.get("DATABASE_URL")
    if not server_url:
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'shopsms-test.db'}"
        return
    # A database of our own on that server, so the suite never touches anyone's data.
    server = make_url(config.normalize_database_url(server_url))
    name = f"shopsms_test_{os.getpid()}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    yield server.set(database=name).render_as_string(hide_password=False)
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def xdist_worker_number():
    """pytest-xdist's worker index (gw0 → 0, gw1 → 1); 0 in a run without it."""
    return int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw"))


def redis_database_of_this_worker(url, worker):
    """REDIS_URL's database moved on by the worker's index: tests empty their Redis
    (flushdb) and share RQ's queue names, so two workers must never share a database.
    With `-n 2` on redis://…/0, gw0 uses database 0 and gw1 database 1."""
    if not worker:
        return url
    if url.startswith("unix:"):  # the database is in the query: unix:///path?db=N
        path, _, query = url.partition("?")
        fields = dict(urllib.parse.parse_qsl(query))
        fields["db"] = str(int(fields.get("db", 0)) + worker)
        return f"{path}?{urllib.parse.urlencode(fields)}"
    parts = urllib.parse.urlsplit(url)
    database = int(parts.path.strip("/") or 0) + worker
    return parts._replace(path=f"/{database}").geturl()


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory):
    if os.environ.get("REDIS_URL"):
        yield redis_database_of_this_worker(os.environ["REDIS_URL"], xdist_worker_number())
        return
    server = EmbeddedRedis(tmp_path_factory.mktemp("redis")).start()
    yield server.url
    server.stop()


@pytest.fixture(scope="session")
def migrated(database_url, redis_url):
    """The schema, built by the real migrations once per run."""
    from flask_migrate import upgrade

    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "REDIS_URL": redis_url})
    with app.app_context():
        upgrade()
        db.engine.dispose()
    return database_url


@pytest.fixture
def app(migrated, redis_url):
    """No app context is held during the test: each request gets its own, as in production
    (a held one would share `g`, and so the logged-in user, between requests)."""
    app = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": migrated,
            "REDIS_URL": redis_url,
            "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",  # fast; the real one is scrypt
            # Each test counts its own failed logins (they live in Redis for 15 minutes).
            "LOGIN_THROTTLE_NAMESPACE": f"test-{uuid.uuid4().hex}:",
        }
    )
    yield app
    with app.app_context():
        db.session.remove()
        _empty_all_tables()
        db.engine.dispose()


@pytest.fixture
def ctx(app):
    """An app context for tests that call services and models directly."""
    with app.app_context():
        yield


def _empty_all_tables():
    """DELETE, children first, on both databases. On PostgreSQL a TRUNCATE of the ~30
    tables took 0.8 s a test (each table and index gets new files), DELETE of a test's
    few rows 0.01 s; the sequences then restart at 1, as TRUNCATE … RESTART IDENTITY
    made them (tests may name the first store's id)."""
    with db.engine.begin() as connection:
        for table in reversed(db.metadata.sorted_tables):
            connection.execute(table.delete())
        if connection.dialect.name == "postgresql":
            connection.execute(
                text("SELECT setval(oid, 1, false) FROM pg_class WHERE relkind = 'S'")
            )


@pytest.fixture
def redis_client(app):
    """The app's real Redis, emptied before the test."""
    from shopsms.queue import connect

    client = connect(app)
    client.flushdb()
    return client


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@dataclass(frozen=True)
class Row:
    """What a fixture hands over of a database row: plain values, usable in any context."""

    id: int
    code: str = ""
    username: str = ""


@pytest.fixture
def store(app):
    with app.app_context():
        store = Store(code="001", name="Biarritz", city="Biarritz")
        db.session.add(store)
        db.session.commit()
        return Row(id=store.id, code=store.code)


@pytest.fixture
def users(app, store):
    """One user of each role; head office has no store."""
    people = {
        "staff": ("vendeur", store.code, "Sabine Vendeuse"),
        "manager": ("gerant", store.code, "Marc Gérant"),
        "admin": ("siege", None, "Claire Siège"),
    }
    with app.app_context():
        return {
            role: Row(id=create_user(name, PASSWORD, role, code, full).id, username=name)
            for role, (name, code, full) in people.items()
        }


def csrf_token(response):
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', response.text)
    match = match or re.search(r'"X-CSRFToken": "([^"]+)"', response.text)
    assert match, "no CSRF token on the page"
    return match.group(1)


class AuthActions:
    def __init__(self, client):
        self._client = client

    def login(self, username="vendeur", password=PASSWORD, follow_redirects=False):
        page = self._client.get("/connexion")
        return self._client.post(
            "/connexion",
            data={"username": username, "password": password, "csrf_token": csrf_token(page)},
            follow_redirects=follow_redirects,
        )

    def logout(self):
        page = self._client.get("/")
        return self._client.post("/deconnexion", data={"csrf_token": csrf_token(page)})


@pytest.fixture
def auth(client):
    return AuthActions(client)


@pytest.fixture
def client_as(app, users):
    """client_as("manager"): a test client logged in with that role."""

    def make(role):
        test_client = app.test_client()
        response = AuthActions(test_client).login(users[role].username)
        assert response.status_code == 302, response.text
        return test_client

    return make


# --- a real browser -------------------------------------------------------------------

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-quic",
]


@pytest.fixture
def live_server(app):
    """The test's app served over HTTP on a free port, in a thread."""
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)


@pytest.fixture(scope="session")
def browser():
    if not os.path.exists(CHROMIUM):
        pytest.fail(
            "Chromium is needed for the browser tests: `make test` installs it as root "
            "(apt-get install chromium); it is not skipped on purpose."
        )
    from playwright.sync_api import expect, sync_playwright

    # What a user waits for may take as long as an action on a loaded CI machine.
    expect.set_options(timeout=10_000)

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    """A tablet-sized page (1024×768), the size staff use at the counter."""
    context = browser.new_context(viewport={"width": 1024, "height": 768}, locale="fr-FR")
    page = context.new_page()
    page.set_default_timeout(10_000)
    # The Content-Security-Policy must block nothing of ours: every browser test checks it.
    blocked = []
    page.on(
        "console",
        lambda message: "Content Security Policy" in message.text and blocked.append(message.text),
    )
    yield page
    context.close()
    assert not blocked, blocked


# --- clients and credits for sending tests ----------------------------------------------


@pytest.fixture
def make_client(app, store):
    """make_client(tel1="06 12 34 56 78", sms_consent="accepted", …) → client id."""
    from shopsms.models import Client
    from shopsms.sms.phones import sms_number

    counter = iter(range(1, 1_000_000))

    def make(**fields):
        n = next(counter)
        values = {
            "number": f"T{n:06d}",
            "civility": "Madame",
            "first_name": "Sabine",
            "last_name": f"RFI{n}",
            "tel1": f"06 12 {n // 10000 % 100:02d} {n // 100 % 100:02d} {n % 100:02d}",
            "sms_consent": "accepted",
            "store_id": store.id,
        } | fields
        values["sms_number"] = sms_number(values.get("tel1", ""), values.get("tel2", ""))
        with app.app_context():
            client = Client(**values)
            db.session.add(client)
            db.session.commit()
            return client.id

    return make


@pytest.fixture
def credits_available(app):
    """credits_available(500): top the ledger up to that many credits."""
    from shopsms.services import credits

    def top_up(amount):
        with app.app_context():
            credits.top_up(amount, reference="tests")

    return top_up


def run_preparation(app, campaign_id):
    """What a worker does after « Envoyer » / « Envoi différé »: the campaign's queued
    preparation job, run here (its sending jobs stay queued). Returns its status."""
    from shopsms.queue import get_queue

    with app.app_context():
        queue = get_queue()
        name = "shopsms.jobs.prepare_campaign"
        jobs = [
            job for job in queue.get_jobs() if job.func_name == name and job.args[0] == campaign_id
        ]
        assert jobs, "« Envoyer » queued no preparation"
        for job in jobs:
            queue.remove(job)
            status = job.func(*job.args, **job.kwargs)
        return status


def wait_until_another_waits_on_a_lock(outcome, what):
    """PostgreSQL: poll until a session of the test database waits on a lock (the other
    transaction reached what this one holds), failing if `outcome` (the other side's
    result list) filled first: it went through without waiting. `what` names the wait."""
    import time

    waiting = text(
        "SELECT count(*) FROM pg_stat_activity"
        " WHERE datname = current_database() AND wait_event_type = 'Lock'"
    )
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as watcher:
        deadline = time.monotonic() + 20
        while not watcher.execute(waiting).scalar():
            assert not outcome, f"{what}: it went through without waiting ({outcome})"
            assert time.monotonic() < deadline, f"{what}: it never waited"
            time.sleep(0.05)
