"""The embedded default (SQLite + the embedded Redis) under the load of one store:
two web workers logging people in, a worker sending a campaign and recording its
delivery reports, Kannel calling back with its own reports, and a long read (an
export, a report) held open the whole time. Nobody may meet « database is locked »."""

import re
import sqlite3
import threading

import requests
from sqlalchemy import func, select, update

from shopsms import create_app
from shopsms.extensions import db
from shopsms.gateways.kannel import sign
from shopsms.models import Campaign, Client, Message
from shopsms.services import campaigns, credits
from shopsms.services.campaigns import Recipient

from .processes import EmbeddedRedis, Processes, base_env, free_port, run_flask

HOOKS_SECRET = "sqlite-concurrency-secret"
DEMO_PASSWORD = "shopsms-demo"


def _recording_failures(work):
    """A thread's exception (a reset connection, a timeout) is a failure the test reports."""

    def run(*args):
        try:
            work(*args)
        except Exception as error:  # noqa: BLE001
            args[-2].append(repr(error))

    return run


@_recording_failures
def _login_and_browse(base, username, rounds, failures, statuses):
    for _ in range(rounds):
        with requests.Session() as browser:
            page = browser.get(f"{base}/connexion", timeout=60)
            token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page.text)
            answer = browser.post(
                f"{base}/connexion",
                data={
                    "username": username,
                    "password": DEMO_PASSWORD,
                    "csrf_token": token.group(1),
                },
                allow_redirects=True,
                timeout=60,
            )
            statuses.append(answer.status_code)
            if answer.status_code >= 500 or "/connexion" in answer.url:
                failures.append((username, answer.status_code, answer.url))
            for path in ("/clients/", "/rapports/"):
                statuses.append(browser.get(f"{base}{path}", timeout=60).status_code)


@_recording_failures
def _kannel_reports(base, ids, failures, statuses):
    for message_id in ids:
        answer = requests.get(
            f"{base}/hooks/kannel/dlr",
            params={"id": message_id, "sig": sign(HOOKS_SECRET, message_id), "status": 1},
            timeout=60,
        )
        statuses.append(answer.status_code)
        if answer.status_code != 200:
            failures.append((message_id, answer.status_code, answer.text[:200]))


def test_two_web_workers_a_worker_and_delivery_reports_never_meet_a_locked_database(tmp_path):
    instance = tmp_path / "instance"
    instance.mkdir()
    embedded = EmbeddedRedis(tmp_path / "redis").start()
    port = free_port()
    env = base_env(
        SHOPSMS_INSTANCE_PATH=instance,
        REDIS_URL=embedded.url,
        SMS_GATEWAY="outbox",
        HOOKS_SECRET=HOOKS_SECRET,
        SWEEP_SECONDS=1,
    )
    processes = Processes(env, tmp_path)
    database = instance / "shopsms.db"
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{database}",
            "REDIS_URL": embedded.url,
            "HOOKS_SECRET": HOOKS_SECRET,
        }
    )
    long_read = None
    try:
        run_flask(env, "db", "upgrade")
        run_flask(env, "demo", "seed", "--clients", "600")
        with app.app_context():
            credits.top_up(100_000, reference="tests")
            ids = list(db.session.scalars(select(Client.id).where(Client.sms_number.is_not(None))))
            half = len(ids) // 2
            sending = campaigns.draft(
                "single",
                body="Bonjour <PRENOM>, à bientôt.",
                recipients=[Recipient(client_id=i) for i in ids[:half]],
            )
            # Messages Kannel has, whose reports arrive while the campaign goes out.
            at_kannel = campaigns.draft(
                "single",
                body="Votre montre est prête.",
                recipients=[Recipient(client_id=i) for i in ids[half:]],
            )
            db.session.execute(
                update(Campaign).where(Campaign.id == at_kannel.id).values(status="sent")
            )
            db.session.execute(
                update(Message)
                .where(Message.campaign_id == at_kannel.id, Message.state == "pending")
                .values(state="submitted", gateway="kannel")
            )
            db.session.commit()
            kannel_ids = list(
                db.session.scalars(
                    select(Message.id).where(
                        Message.campaign_id == at_kannel.id, Message.state == "submitted"
                    )
                )
            )
            sending_id = sending.id
        assert kannel_ids

        processes.gunicorn(port, workers=2)
        processes.flask("worker")
        # A long read (an export, a big report) holds its snapshot for the whole test.
        long_read = sqlite3.connect(database, isolation_level=None)
        long_read.execute("BEGIN")
        long_read.execute("SELECT count(*) FROM messages").fetchone()

        base = f"http://127.0.0.1:{port}"
        failures, statuses = [], []
        threads = [
            threading.Thread(target=_login_and_browse, args=(base, user, 15, failures, statuses))
            for user in ("siege", "gerant.biarritz", "vendeur.pau")
        ] + [
            threading.Thread(
                target=_kannel_reports, args=(base, kannel_ids[i::2], failures, statuses)
            )
            for i in range(2)
        ]
        for thread in threads:
            thread.start()
        with app.app_context():
            campaigns.queue_now(sending_id)
        for thread in threads:
            thread.join(timeout=300)

        def unfinished():
            with app.app_context():
                return db.session.scalar(
                    select(func.count(Message.id)).where(
                        Message.campaign_id == sending_id,
                        Message.state.in_(("pending", "submitting", "submitted")),
                    )
                )

        deadline_polls = 0
        while unfinished() and deadline_polls < 600:  # up to 2 minutes, polled
            threading.Event().wait(0.2)
            deadline_polls += 1
        with app.app_context():
            states = dict(
                db.session.execute(
                    select(Message.state, func.count())
                    .where(Message.campaign_id.in_((sending_id, at_kannel.id)))
                    .group_by(Message.state)
                ).all()
            )
            at_kannel_delivered = db.session.scalar(
                select(func.count()).where(
                    Message.campaign_id == at_kannel.id, Message.state == "delivered"
                )
            )
        logs = processes.logs()
        assert failures == []
        assert all(status < 500 for status in statuses)
        assert "database is locked" not in logs
        assert unfinished() == 0, states
        assert at_kannel_delivered == len(kannel_ids)
        print(f"\nSQLite concurrency: {len(statuses)} requests, states {states}, 0 locked")
    finally:
        if long_read is not None:
            long_read.close()
        processes.stop()
        embedded.stop()
        with app.app_context():
            db.engine.dispose()
