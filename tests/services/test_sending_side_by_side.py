"""Workers sending one marketing campaign side by side take its recipient list batch by
batch, each batch leaving the list as it becomes claimed messages (PostgreSQL, SKIP
LOCKED): rows another worker is taking are left to it, a worker that dies mid-batch took
nothing of it, and in the end everyone on the list is texted once and nobody is lost."""

import time
from datetime import datetime

import pytest
from flask import current_app
from sqlalchemy import func, select, text

from shopsms import formats, selection
from shopsms.extensions import db
from shopsms.models import (
    Campaign,
    Client,
    DraftGroup,
    DraftRecipient,
    Message,
    OptOut,
    OutboxMessage,
    User,
)
from shopsms.services import credits, draft_list, recipients, sending
from shopsms.services.campaign_status import claim_status
from tests.conftest import run_preparation

pytestmark = pytest.mark.usefixtures("ctx", "redis_client")

NOW = datetime(2030, 11, 26, 9, 0)  # a Tuesday, 10:00 in Paris: within sending hours


def _send_until_done(campaign_id):
    while not sending.send_next_batch(campaign_id, now=NOW).done:
        pass


def _texted(campaign_id):
    """The phones the (simulated) operator received for the campaign, with repeats."""
    return db.session.scalars(
        select(OutboxMessage.phone)
        .join(Message, Message.id == OutboxMessage.message_id)
        .where(Message.campaign_id == campaign_id)
    ).all()


def test_a_worker_dying_mid_chunk_of_the_list_loses_nobody_and_texts_nobody_twice(
    app, users, make_client, credits_available, monkeypatch
):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite runs one writer at a time: the list moves in one go")
    credits_available(100)
    reachable = [make_client(postal_code="64200") for _ in range(23)]
    make_client(postal_code="64200", sms_consent="refused")
    stop = make_client(postal_code="64200", tel1="06 98 76 54 32")
    db.session.add(OptOut(phone="+33698765432"))
    db.session.commit()
    staff = db.session.get(User, users["staff"].id)
    campaign = recipients.draft_from_selection(staff, selection.Criteria(postal_code="64"))
    recipients.send(staff, campaign.id, "Soldes !", "BIJOUX64", now=NOW)
    assert run_preparation(current_app, campaign.id) == "queued"
    # A worker started it (« sending », committed) and died before moving its list.
    assert claim_status(campaign.id, ("queued",), "sending", started_at=NOW)
    draft_list.drop_groups(campaign.id)
    db.session.commit()

    # Another worker is mid-chunk: the list's first rows deleted, not yet committed.
    other = db.engine.connect()
    other_pid = other.execute(text("SELECT pg_backend_pid()")).scalar()
    try:
        taken = (
            other.execute(
                text(
                    "DELETE FROM draft_recipients WHERE id = ANY(ARRAY("
                    "SELECT id FROM draft_recipients WHERE campaign_id = :c"
                    " ORDER BY id LIMIT 4 FOR UPDATE SKIP LOCKED)) RETURNING id"
                ),
                {"c": campaign.id},
            )
            .scalars()
            .all()
        )
        assert len(taken) == 4

        # This worker moves and sends the rest, leaves that chunk alone, and does not call
        # the campaign sent while it is in flight.
        _send_until_done(campaign.id)
        assert len(_texted(campaign.id)) == len(reachable) - 4
        assert db.session.get(Campaign, campaign.id).status == "sending"

        # The other worker is killed: its chunk is back on the list, and the next batch
        # (the sweep queues the campaign again) sends it.
        db.session.execute(text("SELECT pg_terminate_backend(:p)"), {"p": other_pid})
        db.session.commit()
        other.invalidate()
        # pg_terminate_backend only signals it: its rows are back once it has gone.
        gone = text("SELECT count(*) FROM pg_stat_activity WHERE pid = :p")
        deadline = time.monotonic() + 30
        while db.session.scalar(gone, {"p": other_pid}) and time.monotonic() < deadline:
            db.session.rollback()
            time.sleep(0.05)
        db.session.rollback()
        _send_until_done(campaign.id)
    finally:
        other.close()  # a failed assertion must not leave its locks to the teardown

    texted = _texted(campaign.id)
    assert len(texted) == len(set(texted)) == len(reachable)
    assert db.session.get(Campaign, campaign.id).status == "sent"
    left_on_list = select(func.count(DraftRecipient.id)).where(
        DraftRecipient.campaign_id == campaign.id
    )
    assert db.session.scalar(left_on_list) == 0
    skipped = dict(
        db.session.execute(
            select(Message.client_id, Message.skip_reason).where(
                Message.campaign_id == campaign.id, Message.state == "skipped"
            )
        ).all()
    )
    assert skipped[stop] == "optout" and len(skipped) == 2


LONG = "Bonjour <NOM>, -20 % sur toute la boutique ce week-end, venez nombreux au magasin !"


def _prepared_in_parts(users, make_client, monkeypatch, names, body=LONG):
    """A marketing draft of clients named `names`, « Envoyer » clicked; its list will be
    prepared 3 rows a part by two connections side by side."""
    from shopsms.services import settings

    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite prepares a list with one writer")
    monkeypatch.setattr(recipients, "PREPARE_PART", 3)
    monkeypatch.setattr(recipients, "RENDERED_KEPT", 2)  # the texts kept, cleared often
    settings.put("max_parts", 1)
    clients = [make_client(postal_code="64200", last_name=name) for name in names]
    staff = db.session.get(User, users["staff"].id)
    campaign = recipients.draft_from_selection(staff, selection.Criteria(postal_code="64"))
    recipients.send(staff, campaign.id, body, "BIJOUX64", now=NOW)
    return campaign.id, clients


def _groups(campaign_id):
    return sorted(
        db.session.execute(
            select(
                DraftGroup.variant,
                DraftGroup.grp,
                DraftGroup.recipients,
                DraftGroup.first_client_id,
            ).where(DraftGroup.campaign_id == campaign_id)
        ).all()
    )


def test_a_list_prepared_in_parts_side_by_side_gets_every_text_and_keeps_its_groups(
    app, users, make_client, credits_available, monkeypatch
):
    credits_available(100)
    names = [f"NOM{'X' * (n % 5)}{n}" for n in range(17)]
    campaign_id, _clients = _prepared_in_parts(users, make_client, monkeypatch, names)
    groups = _groups(campaign_id)
    assert groups  # the composer's groups of the list (what « Coût » reads)
    assert run_preparation(current_app, campaign_id) == "queued"
    db.session.expire_all()
    campaign = db.session.get(Campaign, campaign_id)
    assert campaign.prepared == campaign.to_prepare == 17  # the progress bar's figures
    rows = db.session.execute(
        select(Client.last_name, DraftRecipient.text, DraftRecipient.parts)
        .join(Client, Client.id == DraftRecipient.client_id)
        .where(DraftRecipient.campaign_id == campaign_id, DraftRecipient.state == "pending")
    ).all()
    assert len(rows) == 17
    for name, sms, parts in rows:
        assert sms.startswith(f"Bonjour Mme Sabine {name}, -20 % sur toute") and "STOP" in sms
        assert parts == 1
    assert _groups(campaign_id) == groups  # written back as they were: nothing recounted
    assert credits.balance() == 100 - 17  # the exact cost, reserved


def test_a_text_too_long_in_a_later_part_refuses_the_campaign_and_takes_no_credit(
    app, users, make_client, credits_available, monkeypatch
):
    credits_available(100)
    campaign_id, clients = _prepared_in_parts(
        users, make_client, monkeypatch, [f"NOM{n}" for n in range(10)]
    )
    # Renamed after the click, on the list's last part: 2 parts where the store allows 1.
    db.session.get(Client, clients[-1]).last_name = "L" * 80
    db.session.commit()
    assert run_preparation(current_app, campaign_id) == "draft"
    db.session.expire_all()
    campaign = db.session.get(Campaign, campaign_id)
    with current_app.test_request_context():
        note = str(formats.said(campaign.status_note))
    assert "trop long" in note, note
    assert credits.balance() == 100
    assert _groups(campaign_id)  # back to a draft the composer can cost
