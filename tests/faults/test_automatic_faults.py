"""« Envois automatiques » (#22) under faults: two real workers, the day's birthday run
due as they start, and Redis flushed while its campaign is going out. Each client is
texted once, the run happens once, its campaign is one. Prints its figure as JSON."""

from sqlalchemy import func, select

from shopsms.extensions import db
from shopsms.models import Campaign, Client, Message
from shopsms.models.automatic import AutomaticRun
from shopsms.models.base import bulk_insert
from shopsms.services import automatic, settings

from . import test_sending_faults as faults

# The sending faults' rig: the test's own redis-server, a throttled outbox, workers.
rig = faults.rig
_count, _figure, _outcome, _wait = faults._count, faults._figure, faults._outcome, faults._wait


def test_two_workers_and_a_redis_flush_mid_run_text_each_client_once(app, store, rig):
    server, processes = rig
    count = 3000
    with app.app_context():
        today = automatic.today()
        rows = [
            {
                "number": f"B{n:06d}",
                "civility": "Madame",
                "first_name": "Anne",
                "last_name": f"NOM{n}",
                "tel1": "",
                "sms_consent": "accepted",
                "store_id": store.id,
                "sms_number": f"+3370{n:07d}",
                "birthday_md": today.month * 100 + today.day,
            }
            for n in range(count)
        ]
        bulk_insert(Client, rows)
        # Marketing may go out whenever the test runs.
        settings.put("sending_days", [0, 1, 2, 3, 4, 5, 6])
        settings.put("sending_start", "00:00")
        settings.put("sending_end", "23:59")
        values, errors = automatic.clean(
            "birthday",
            {
                "enabled": "1",
                "body": "Joyeux anniversaire <PRENOM> !",
                "send_time": "00:00",
                "days": "0",
            },
            store.id,
        )
        assert not errors
        automatic.save(None, store.id, "birthday", values)  # due since midnight
    for name in ("worker1", "worker2"):
        processes.flask("worker", name=name)

    def campaign_id():
        with app.app_context():
            return db.session.scalar(
                select(AutomaticRun.campaign_id).where(AutomaticRun.kind == "birthday")
            )

    _wait(lambda: campaign_id() is not None, 60, "the run made its campaign")
    run_campaign = campaign_id()
    _wait(
        lambda: _count(app, Message.campaign_id == run_campaign, Message.state != "pending") >= 300,
        60,
        "sending started",
    )
    server.client().flushall()  # Redis forgets every job, the run's included
    flushed_with = _count(app, Message.campaign_id == run_campaign, Message.state == "pending")
    outcome = _outcome(app, run_campaign, count)
    with app.app_context():
        runs = db.session.scalar(select(func.count(AutomaticRun.id)))
        campaigns = db.session.scalar(
            select(func.count(Campaign.id)).where(Campaign.name.like("Anniversaire%"))
        )
        texted_twice = db.session.scalar(
            select(func.count()).select_from(
                select(Message.client_id)
                .where(Message.state != "skipped")
                .group_by(Message.client_id)
                .having(func.count() > 1)
                .subquery()
            )
        )
    _figure(
        "automatic run, 2 workers, FLUSHALL mid-run",
        recipients=count,
        pending_at_flush=flushed_with,
        runs=runs,
        campaigns=campaigns,
        **outcome,
    )
    assert flushed_with > 0, "the run ended before the flush: nothing was tested"
    assert outcome["lost"] == 0 and outcome["duplicates"] == 0
    assert runs == 1 and campaigns == 1 and texted_twice == 0
