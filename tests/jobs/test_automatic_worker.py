"""« Réparation prête » (#22) with a real `flask worker`: a repair made « Disponible »
through the API (the point of sale's upsert, or its « ready » call) is texted to its
client by the worker within the minute, once."""

from datetime import timedelta

from sqlalchemy import func, select

from shopsms.extensions import db
from shopsms.models import Message, OutboxMessage, RepairTicket, WorkerHeartbeat, utcnow
from shopsms.services import api_tokens, automatic
from tests.jobs import test_worker

# The real worker of the jobs tests (a process started by the test, stopped after it).
worker, worker_env, wait_for = test_worker.worker, test_worker.worker_env, test_worker.wait_for


def test_a_repair_made_ready_through_the_api_is_texted_once_by_the_worker(
    app,
    client,
    worker,
    make_client,
    credits_available,
    store,
):
    credits_available(100)
    make_client(external_id="K1", first_name="Anne", tel1="06 12 34 56 78")
    make_client(external_id="K2", first_name="Paul", tel1="06 98 76 54 32")
    with app.app_context():
        token = api_tokens.create("Caisse", store_id=None)[1]
        values, errors = automatic.clean("repair_ready", {"enabled": "1"}, store.id)
        assert not errors
        automatic.save(None, store.id, "repair_ready", values)
    headers = {"Authorization": f"Bearer {token}"}
    tickets = [
        {
            "external_id": f"S{n}",
            "number": f"F-00{n}",
            "client": f"K{n}",
            "store": "001",
            "kind": "Rép.",
            "status": "Atelier",
            "item_description": "Montre",
        }
        for n in (1, 2)
    ]
    sent = client.post("/api/v1/repair-tickets", json={"items": tickets}, headers=headers)
    assert sent.json["created"] == 2
    worker()
    # F-001 becomes « Disponible » through the upsert (as an import would), F-002
    # through the « ready » call.
    tickets[0]["status"] = "Disponible"
    assert (
        client.post("/api/v1/repair-tickets", json={"items": tickets[:1]}, headers=headers).json[
            "updated"
        ]
        == 1
    )
    ready = client.post("/api/v1/repair-tickets/S2/ready", headers=headers)
    assert ready.status_code == 200 and ready.json["campaign_id"]

    with app.app_context():
        assert wait_for(
            lambda: db.session.scalar(select(func.count(OutboxMessage.id))) == 2, seconds=60
        )
        # Sweeps go on (the worker beats every second): nobody is texted a second time.
        later = utcnow() + timedelta(seconds=3)
        assert wait_for(
            lambda: (db.session.scalar(select(func.max(WorkerHeartbeat.beat_at))) or later) > later,
            seconds=30,
        )
        texts = sorted(db.session.scalars(select(OutboxMessage.text)))
        assert len(texts) == 2
        assert "F-001" in texts[0] and "F-002" in texts[1]
        per_ticket = db.session.execute(
            select(Message.repair_ticket_id, func.count()).group_by(Message.repair_ticket_id)
        ).all()
        assert sorted(n for _, n in per_ticket) == [1, 1]
        assert {t.notified_by for t in db.session.scalars(select(RepairTicket))} == {"sms"}
