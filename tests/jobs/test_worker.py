"""A real `flask worker` process: messages go out, delivery reports come back, and a
Redis flush loses nothing."""

import os
import subprocess
import sys
import time
from datetime import timedelta

import pytest
from sqlalchemy import select

from shopsms.config import PROJECT_ROOT
from shopsms.extensions import db
from shopsms.models import Campaign, Message, OutboxMessage, utcnow
from shopsms.services import campaigns
from shopsms.services.campaigns import Recipient


@pytest.fixture
def worker_env(migrated, redis_url, tmp_path):
    return dict(
        os.environ,
        DATABASE_URL=migrated,
        REDIS_URL=redis_url,
        SHOPSMS_INSTANCE_PATH=str(tmp_path),
        SMS_GATEWAY="outbox",
        SWEEP_SECONDS="1",
    )


@pytest.fixture
def worker(worker_env, redis_client):
    """Start a worker (after the test prepared Redis), stop it at the end."""
    started = []

    def start():
        process = subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "app", "worker"],
            cwd=PROJECT_ROOT,
            env=worker_env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        started.append(process)
        return process

    yield start
    for process in started:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def flask(env, *args, timeout=60):
    return subprocess.run(
        [sys.executable, "-m", "flask", "--app", "app", *args],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def wait_for(check, seconds=30):  # the promise: sending back within 30 s
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        db.session.expire_all()
        if check():
            return True
        time.sleep(0.2)
    return False


def test_an_sms_sent_from_the_shell_arrives_with_its_delivery_report(
    app, worker, worker_env, make_client, credits_available
):
    credits_available(10)
    make_client(number="C-42", tel1="06 12 34 56 78", first_name="Jean")
    worker()
    result = flask(
        worker_env,
        "sms",
        "send",
        "--client",
        "C-42",
        "--text",
        "Bonjour <PRENOM>, votre montre est prête.",
        "--wait",
        "20",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "mis en file d'envoi" in result.stdout
    assert "État : delivered" in result.stdout
    with app.app_context():
        assert db.session.scalars(select(OutboxMessage.text)).all() == [
            "Bonjour Jean, votre montre est prête."
        ]


def test_a_shell_send_to_a_landline_says_why_in_french(app, worker_env, make_client):
    make_client(number="C-43", tel1="05 59 12 34 56")
    result = flask(worker_env, "sms", "send", "--client", "C-43", "--text", "Bonjour")
    assert result.returncode != 0
    assert "SMS non envoyé : no_mobile" in result.stderr


def test_a_scheduled_campaign_survives_a_redis_flush(
    app, worker, make_client, credits_available, redis_client
):
    credits_available(10)
    client_ids = [make_client(), make_client()]
    with app.app_context():
        campaign = campaigns.draft(
            "repair",
            body="Votre réparation est prête.",
            recipients=[Recipient(client_id=c) for c in client_ids],
        )
        campaigns.schedule(campaign.id, utcnow() + timedelta(seconds=2))
        campaign_id = campaign.id
    assert redis_client.keys("rq:*")  # the deferred job is on RQ's scheduler…
    redis_client.flushdb()  # …and Redis forgets it
    worker()
    with app.app_context():
        assert wait_for(lambda: db.session.get(Campaign, campaign_id).status == "sent")
        assert wait_for(lambda: set(db.session.scalars(select(Message.state))) == {"delivered"})
        assert len(db.session.scalars(select(OutboxMessage.id)).all()) == 2
