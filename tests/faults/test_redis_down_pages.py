"""Redis down (nothing listening on its port): « Envoyer », the client card's SMS (F9)
and the API answer without an error page; what was asked is recorded in the database and
leaves once Redis is back (the sweep queues it)."""

import re

import pytest
from sqlalchemy import select

from shopsms import worker
from shopsms.extensions import db
from shopsms.models import Campaign, Message
from shopsms.services import api_tokens, campaigns, settings
from shopsms.services.campaigns import Recipient
from tests.conftest import csrf_token

from .processes import RedisServer, free_port

QUEUE_DOWN = "la file d&#39;envoi est momentanément indisponible"


@pytest.fixture
def redis_away(app, tmp_path):
    """The app's Redis is a port where nothing answers; start() brings a server there."""
    server = RedisServer(tmp_path, port=free_port())
    app.config["REDIS_URL"] = server.url
    app.extensions.pop("redis", None)
    yield server
    server.stop()


def test_sending_while_redis_is_down_says_so_and_leaves_when_it_is_back(
    app, store, client_as, make_client, credits_available, redis_away
):
    credits_available(50)
    client_id = make_client(first_name="Jean")
    with app.app_context():
        for key, value in (
            ("sending_days", [0, 1, 2, 3, 4, 5, 6]),
            ("sending_start", "00:00"),
            ("sending_end", "23:59"),
        ):
            settings.put(key, value)  # any time of the test is within sending hours
        draft_id = campaigns.draft(
            "marketing",
            body="Soldes !",
            store_id=store.id,
            recipients=[Recipient(client_id=make_client())],
        ).id
        key = api_tokens.create("Caisse")[1]
    staff = client_as("staff")

    form = staff.get(f"/clients/{client_id}/sms")
    once = re.search(r'name="once" value="([^"]+)"', form.text).group(1)
    answer = staff.post(
        f"/clients/{client_id}/sms",
        follow_redirects=True,
        data={"csrf_token": csrf_token(form), "once": once, "body": "Votre montre est prête."},
    )
    assert answer.status_code == 200
    assert QUEUE_DOWN in answer.text and "il partira dès son retour" in answer.text

    page = staff.get(f"/campagnes/{draft_id}")
    answer = staff.post(
        f"/campagnes/{draft_id}/envoyer",
        follow_redirects=True,
        data={"csrf_token": csrf_token(page), "body": "Soldes !", "sender_id": "BIJOUX"},
    )
    assert answer.status_code == 200
    assert QUEUE_DOWN in answer.text and "les SMS partiront dès son retour" in answer.text

    api = app.test_client()
    headers = {"Authorization": f"Bearer {key}"}
    card = {
        "external_id": "K1",
        "last_name": "DUPONT",
        "store": store.code,
        "tel1": "06 12 34 56 78",
        "sms_consent": "accepted",
    }
    upsert = api.post("/api/v1/clients", headers=headers, json={"items": [card]})
    assert upsert.status_code == 200, upsert.text
    status = api.get(f"/api/v1/campaigns/{draft_id}", headers=headers)
    # « Envoyer » is prepared by a job (texts, cost, credits): queued once Redis is back.
    assert status.status_code == 200 and status.json["status"] == "preparing"

    with app.app_context():
        queued = set(db.session.scalars(select(Campaign.id).where(Campaign.status == "queued")))
        assert draft_id not in queued and len(queued) == 1
    # Redis comes back: the sweep queues what the database holds, a worker sends it.
    redis_away.start()
    with app.app_context():
        swept = worker.sweep()
        assert set(swept["resumed"]) == queued and swept["preparations"] == [draft_id]
        queued.add(draft_id)
        worker.Worker([jobs_queue()], connection=jobs_queue().connection).work(burst=True)
        db.session.expire_all()
        states = db.session.scalars(
            select(Message.state).where(Message.campaign_id.in_(queued))
        ).all()
    assert sorted(states) == ["submitted", "submitted"]


def jobs_queue():
    from shopsms.queue import get_queue

    return get_queue()
