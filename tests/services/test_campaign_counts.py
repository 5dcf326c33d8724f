"""A report's counts are kept by the database as messages change state (campaign_counts):
after drafting, correcting the list, composing, sending, delivery reports, skips at send
time, cancelling and deleting, they equal a recount of the rows, parts included."""

from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select, union_all

from shopsms import selection
from shopsms.extensions import db
from shopsms.models import CampaignCount, Client, DraftRecipient, Message, OptOut, User
from shopsms.services import campaigns, delivery, listings, recipients, sending

pytestmark = pytest.mark.usefixtures("ctx", "redis_client")
NOW = datetime(2030, 11, 26, 9, 0)  # a Tuesday, 10:00 in Paris: within sending hours


def kept():
    rows = db.session.execute(
        select(
            CampaignCount.campaign_id,
            CampaignCount.state,
            func.sum(CampaignCount.messages),
            func.sum(CampaignCount.parts),
        ).group_by(CampaignCount.campaign_id, CampaignCount.state)
    )
    return {(c, s): (int(n), int(p)) for c, s, n, p in rows if n or p}


def recount():
    both = union_all(
        *(select(t.campaign_id, t.state, t.parts) for t in (Message, DraftRecipient))
    ).subquery()
    rows = db.session.execute(
        select(both.c.campaign_id, both.c.state, func.count(), func.sum(both.c.parts)).group_by(
            both.c.campaign_id, both.c.state
        )
    )
    return {(c, s): (int(n), int(p or 0)) for c, s, n, p in rows}


def check():
    db.session.expire_all()
    assert kept() == recount()


def test_counts_stay_equal_to_a_recount_through_a_campaigns_life(
    users, make_client, credits_available
):
    credits_available(500)
    staff = db.session.get(User, users["staff"].id)
    for n in range(6):
        make_client(last_name=f"CLIENT{n}", tel1=f"06 11 00 00 0{n}", postal_code="64200")
    make_client(last_name="FIXE", tel1="05 59 00 00 03", postal_code="64200")
    make_client(last_name="ECHEC", tel1="06 00 00 00 07", postal_code="64200")  # fails
    make_client(last_name="EXPIRE", tel1="06 00 00 00 77", postal_code="64200")
    make_client(last_name="STOP", tel1="06 98 76 54 32", postal_code="64200")
    db.session.add(OptOut(phone="+33698765432"))
    db.session.commit()
    check()

    campaign = recipients.draft_from_selection(staff, selection.Criteria(postal_code="64"))
    check()
    first = db.session.scalar(
        select(DraftRecipient.id)
        .where(DraftRecipient.campaign_id == campaign.id, DraftRecipient.state == "pending")
        .order_by(DraftRecipient.id)
        .limit(1)
    )
    recipients.remove(staff, campaign.id, first)
    recipients.restore(staff, campaign.id, first)
    recipients.remove(staff, campaign.id, first)
    check()
    recipients.compose(staff, campaign.id, "Soldes d'hiver : -20 % sur tout !", "BIJOUX64")
    check()
    campaigns.queue_now(campaign.id, user_id=staff.id, now=NOW)
    # A client who changed their mind after the list was made: skipped at send time.
    card = db.session.scalar(select(Client).where(Client.last_name == "CLIENT5"))
    card.sms_consent = "refused"
    db.session.commit()
    while not sending.send_next_batch(campaign.id, now=NOW).done:
        check()
    check()
    sent = list(db.session.scalars(select(Message.id).where(Message.campaign_id == campaign.id)))
    delivery.record("outbox", delivery.outbox_reports(sent))
    check()
    progress = campaigns.progress(campaign.id)
    assert progress["delivered"] == 4 and progress["failed"] == 1 and progress["expired"] == 1
    assert progress["skipped"] == 4  # landline, STOP, removed by hand, consent withdrawn

    # What the lists read: the same figures, and the credits (parts that went out).
    row = listings.open_reports(staff).rows[0]
    assert (row.delivered, row.failed, row.expired, row.skipped) == (4, 1, 1, 4)
    assert row.credits == 6  # one part each, for the six handed to the gateway

    # Another campaign, scheduled then cancelled: its list becomes skipped messages.
    other = recipients.draft_from_selection(staff, selection.Criteria(postal_code="64"))
    recipients.compose(staff, other.id, "Soldes !", "BIJOUX64")
    campaigns.schedule(other.id, NOW + timedelta(days=1), user_id=staff.id, now=NOW)
    check()
    campaigns.cancel(other.id)
    check()
    assert campaigns.progress(other.id)["pending"] == 0

    # A draft dropped: its counts go with it.
    dropped = recipients.draft_from_selection(
        staff, selection.Criteria(postal_code="64200"), replaces=None
    )
    recipients.quit_draft(staff, dropped.id)
    check()
    assert not [key for key in kept() if key[0] == dropped.id]

    folded = campaigns.compact_counts()
    check()
    if db.engine.dialect.name == "postgresql":
        assert folded > 0
        rows = db.session.scalar(
            select(func.count())
            .select_from(CampaignCount)
            .where(CampaignCount.campaign_id == campaign.id)
        )
        assert rows == len([key for key in kept() if key[0] == campaign.id])
