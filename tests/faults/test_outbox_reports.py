"""Simulated delivery reports are kept in the database with their due time: a report
whose job Redis lost (a flush, a restart, a killed worker) is made by the sweep, and a
report made by its job is not made twice."""

from datetime import timedelta

from sqlalchemy import select

from shopsms import jobs
from shopsms.extensions import db
from shopsms.models import Message, OutboxMessage, utcnow
from shopsms.services import campaigns, delivery, sending
from shopsms.services.campaigns import Recipient


def _send(make_client, count):
    ids = [make_client() for _ in range(count)]
    campaign = campaigns.draft("single", body="Bonjour", recipients=[Recipient(c) for c in ids])
    campaigns.queue_now(campaign.id)
    while not sending.send_next_batch(campaign.id).done:
        pass
    return campaign.id


def _states(campaign_id):
    return set(db.session.scalars(select(Message.state).where(Message.campaign_id == campaign_id)))


def test_a_report_whose_job_was_lost_is_made_by_the_sweep_once(
    app, ctx, redis_client, make_client, credits_available
):
    credits_available(10)
    campaign_id = _send(make_client, 3)
    states = set(
        db.session.scalars(select(Message.state).where(Message.campaign_id == campaign_id))
    )
    assert states == {"submitted"}
    assert len(db.session.scalars(select(OutboxMessage.report_due_at)).all()) == 3
    redis_client.flushdb()  # the report job is gone with Redis

    assert delivery.overdue_outbox_reports() == 0  # not late yet: its job may still come
    later = utcnow() + timedelta(seconds=10)
    assert delivery.overdue_outbox_reports(now=later) == 3
    db.session.expire_all()
    states = set(
        db.session.scalars(select(Message.state).where(Message.campaign_id == campaign_id))
    )
    assert states == {"delivered"}
    assert delivery.outbox_reports_waiting() == 0
    assert delivery.overdue_outbox_reports(now=later) == 0


def test_a_report_made_by_its_job_is_not_made_again(
    app, ctx, redis_client, make_client, credits_available
):
    credits_available(10)
    campaign_id = _send(make_client, 2)
    ids = db.session.scalars(select(Message.id).where(Message.campaign_id == campaign_id)).all()
    assert jobs.outbox_delivery_reports(ids) == 2
    assert delivery.outbox_reports_waiting() == 0
    assert delivery.overdue_outbox_reports(now=utcnow() + timedelta(minutes=1)) == 0
    assert jobs.outbox_delivery_reports(ids) == 0  # a job run twice changes nothing
