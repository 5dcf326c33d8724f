"""Sending through the outbox gateway on the real database: states, skips, credits."""

from datetime import datetime

import pytest
from sqlalchemy import func, select

from shopsms import formats
from shopsms.extensions import db
from shopsms.models import Campaign, Client, CreditEntry, Message, OptOut, OutboxMessage
from shopsms.services import campaigns, credits, delivery, sending, sending_hours
from shopsms.services.campaigns import Recipient

pytestmark = pytest.mark.usefixtures("ctx", "redis_client")

OPEN = datetime(2026, 11, 24, 10, 0)  # a Tuesday, 11:00 in Paris: inside sending hours


def draft(kind, client_ids, body="Bonjour <PRENOM>, -20 % ce week-end !", **kwargs):
    return campaigns.draft(
        kind, body=body, recipients=[Recipient(client_id=c) for c in client_ids], **kwargs
    )


def send_all(campaign_id, now=OPEN):
    while not sending.send_next_batch(campaign_id, now=now).done:
        pass


def test_a_campaign_goes_out_once_per_recipient_and_is_charged_its_parts(
    make_client, credits_available
):
    credits_available(100)
    ids = [make_client() for _ in range(3)]
    campaign = draft("marketing", ids)
    assert campaigns.cost(campaign.id) == 3
    campaigns.queue_now(campaign.id, now=OPEN)
    assert credits.balance() == 97  # reserved
    send_all(campaign.id)
    received = db.session.scalars(select(OutboxMessage.text)).all()
    assert sorted(received) == sorted(
        "Bonjour Sabine, -20 % ce week-end !\nSTOP 36608" for _ in ids
    )
    assert db.session.get(Campaign, campaign.id).status == "sent"
    assert campaigns.progress(campaign.id)["submitted"] == 3
    assert credits.balance() == 97  # charged exactly what went out, nothing to refund
    # Running the batch again (a job run twice) sends nothing more.
    assert sending.send_next_batch(campaign.id, now=OPEN).done
    assert db.session.scalar(select(func.count(OutboxMessage.id))) == 3


def test_every_skipped_recipient_has_its_reason_and_costs_nothing(make_client, credits_available):
    credits_available(100)
    reachable = make_client()
    no_consent = make_client(sms_consent="unknown")
    landline = make_client(tel1="05 59 12 34 56")
    refuses_all = make_client(sms_refuses_all=True)
    duplicate = make_client(tel1="06 44 00 00 01")
    same_number = make_client(tel1="0644000001")
    opted_out = make_client(tel1="06 98 76 54 32")
    db.session.add(OptOut(phone="+33698765432"))
    db.session.commit()
    campaign = draft(
        "marketing",
        [reachable, no_consent, landline, refuses_all, duplicate, same_number, opted_out],
    )
    reasons = dict(db.session.execute(select(Message.client_id, Message.skip_reason)).all())
    assert reasons == {
        reachable: "",
        no_consent: "no_consent",
        landline: "no_mobile",
        refuses_all: "refuses_all",
        duplicate: "",
        same_number: "duplicate",
        opted_out: "optout",
    }
    assert campaigns.cost(campaign.id) == 2
    campaigns.queue_now(campaign.id, now=OPEN)
    send_all(campaign.id)
    assert credits.balance() == 98
    assert db.session.scalar(select(func.count(OutboxMessage.id))) == 2


def test_a_service_message_reaches_a_client_who_refuses_marketing_but_not_one_who_refuses_all(
    make_client, credits_available
):
    credits_available(10)
    refuses_marketing = make_client(sms_consent="refused")
    refuses_all = make_client(sms_consent="refused", sms_refuses_all=True)
    campaign = draft("repair", [refuses_marketing, refuses_all], body="Votre montre est prête.")
    campaigns.queue_now(campaign.id, now=datetime(2026, 11, 22, 21, 0))  # a Sunday night
    send_all(campaign.id, now=datetime(2026, 11, 22, 21, 0))
    assert db.session.scalars(select(OutboxMessage.text)).all() == ["Votre montre est prête."]


def test_consent_withdrawn_after_the_draft_is_respected_at_send_time(
    make_client, credits_available
):
    credits_available(10)
    stays, leaves, stops = make_client(), make_client(), make_client(tel1="06 11 22 33 44")
    campaign = draft("marketing", [stays, leaves, stops])
    campaigns.queue_now(campaign.id, now=OPEN)
    db.session.get(Client, leaves).sms_consent = "refused"
    db.session.add(OptOut(phone="+33611223344"))
    db.session.commit()
    send_all(campaign.id)
    states = dict(db.session.execute(select(Message.client_id, Message.skip_reason)).all())
    assert states == {stays: "", leaves: "no_consent", stops: "optout"}
    assert db.session.scalar(select(func.count(OutboxMessage.id))) == 1
    assert credits.balance() == 9  # the two skipped at send time were refunded


def test_not_enough_credits_is_a_clear_french_error_before_anything_is_sent(
    make_client, credits_available
):
    credits_available(1)
    campaign = draft("marketing", [make_client(), make_client()])
    with pytest.raises(credits.NotEnoughCredits, match="coûte 2 crédits et il en reste 1"):
        campaigns.queue_now(campaign.id, now=OPEN)
    db.session.rollback()
    assert db.session.get(Campaign, campaign.id).status == "draft"
    assert credits.balance() == 1
    assert db.session.scalar(select(func.count(OutboxMessage.id))) == 0


def test_marketing_outside_sending_hours_offers_the_next_minute_and_never_sends_silently(
    make_client, credits_available
):
    credits_available(10)
    campaign = draft("marketing", [make_client()])
    saturday_night = datetime(2026, 11, 28, 20, 30)  # 21:30 in Paris
    with pytest.raises(sending_hours.OutsideSendingHours) as refused:
        campaigns.queue_now(campaign.id, now=saturday_night)
    assert "30/11/2026 à 08:00" in str(refused.value)  # Monday morning
    campaigns.queue_now(campaign.id, now=saturday_night, accept_next_window=True)
    held = sending.send_next_batch(campaign.id, now=saturday_night)
    assert held.held_until == datetime(2026, 11, 30, 7, 0)  # 08:00 Paris in UTC
    note = formats.said(db.session.get(Campaign, campaign.id).status_note)
    assert note == "En attente des heures d'envoi : départ le 30/11/2026 08:00."
    assert db.session.scalar(select(func.count(OutboxMessage.id))) == 0
    send_all(campaign.id, now=datetime(2026, 11, 30, 7, 0))
    assert db.session.scalar(select(func.count(OutboxMessage.id))) == 1


def test_a_campaign_stopped_by_the_evening_resumes_the_next_allowed_minute(
    make_client, credits_available
):
    credits_available(10)
    campaign = draft("marketing", [make_client(), make_client()])
    campaigns.queue_now(campaign.id, now=OPEN)
    friday_evening = datetime(2026, 11, 27, 19, 0)  # 20:00 in Paris: the window closed
    result = sending.send_next_batch(campaign.id, now=friday_evening)
    assert result.held_until == datetime(2026, 11, 28, 7, 0)
    note = formats.said(db.session.get(Campaign, campaign.id).status_note)
    assert note == "En attente des heures d'envoi : reprise le 28/11/2026 08:00."


def test_schedule_cancel_and_the_credits_come_back(make_client, credits_available):
    credits_available(10)
    campaign = draft("marketing", [make_client(), make_client()])
    with pytest.raises(campaigns.CampaignError, match="passée"):
        campaigns.schedule(campaign.id, datetime(2026, 11, 24, 9, 0), now=OPEN)
    campaigns.schedule(campaign.id, datetime(2026, 11, 25, 9, 0), now=OPEN)
    assert credits.balance() == 8
    early = sending.send_next_batch(campaign.id, now=OPEN)
    assert early.held_until == datetime(2026, 11, 25, 9, 0)
    campaigns.reschedule(campaign.id, datetime(2026, 11, 26, 9, 0), now=OPEN)
    campaigns.cancel(campaign.id)
    assert credits.balance() == 10
    assert campaigns.progress(campaign.id)["skipped"] == 2
    assert sending.send_next_batch(campaign.id, now=datetime(2026, 11, 26, 9, 0)).done
    assert db.session.scalar(select(func.count(OutboxMessage.id))) == 0
    with pytest.raises(campaigns.CampaignError):
        campaigns.reschedule(campaign.id, datetime(2026, 11, 27, 9, 0), now=OPEN)


def test_delivery_reports_move_messages_forward_only_for_their_gateway(
    make_client, credits_available
):
    credits_available(10)
    ids = [
        make_client(tel1="06 12 34 56 78"),
        make_client(tel1="06 00 00 00 07"),
        make_client(tel1="06 00 00 00 77"),
    ]
    campaign = draft("repair", ids, body="Votre réparation est prête.")
    campaigns.queue_now(campaign.id, now=OPEN)
    send_all(campaign.id)
    message_ids = list(db.session.scalars(select(Message.id).order_by(Message.id)))
    assert delivery.record("kannel", [delivery.Report("delivered", m) for m in message_ids]) == 0
    delivery.record("outbox", delivery.outbox_reports(message_ids))
    states = db.session.execute(select(Message.phone, Message.state, Message.error)).all()
    assert sorted(states) == [
        ("+33600000007", "failed", "Numéro inexistant (plage de test)"),
        ("+33600000077", "expired",
         "Téléphone injoignable pendant la durée de validité (plage de test)"),
        ("+33612345678", "delivered", ""),
    ]  # fmt: skip
    # A late "submitted" report never takes a delivered message back.
    delivery.record("outbox", [delivery.Report("submitted", message_ids[0])])
    assert db.session.get(Message, message_ids[0]).state == "delivered"
    assert credits.balance() == 7  # failed and expired were submitted: the operator billed them


def test_a_batch_left_half_done_by_a_dead_worker_is_finished_without_sending_twice(
    make_client, credits_available
):
    credits_available(10)
    campaign = draft("repair", [make_client() for _ in range(6)], body="Votre montre est prête.")
    campaigns.queue_now(campaign.id, now=OPEN)
    # A worker claimed six rows, handed four to the gateway, which took two; then it died.
    died_at = datetime(2026, 11, 24, 9, 0)
    claimed = [row.id for row in sending._claim(campaign.id, 10, "dead-worker", "outbox", died_at)]
    handed = sorted(sending._hand_over(claimed[:4]))
    from shopsms.gateways import OutgoingSms
    from shopsms.gateways.outbox import OutboxGateway

    rows = db.session.execute(
        select(Message.id, Message.phone, Message.text).where(Message.id.in_(handed[:2]))
    ).all()
    OutboxGateway().submit([OutgoingSms(r.id, r.phone, r.text, "X", 1) for r in rows])
    db.session.commit()
    assert sending.send_next_batch(campaign.id, now=OPEN).claimed == 0  # all are held
    confirmed, released = sending.recover_stale(now=OPEN)
    assert (confirmed, released) == (2, 4)  # 2 never left, 2 left but never arrived
    send_all(campaign.id)
    received = db.session.scalars(select(OutboxMessage.message_id)).all()
    assert sorted(received) == sorted(claimed)  # each exactly once
    assert db.session.get(Campaign, campaign.id).status == "sent"
    assert credits.balance() == 4
    assert db.session.query(CreditEntry).filter_by(kind="charge").one().parts == 6
