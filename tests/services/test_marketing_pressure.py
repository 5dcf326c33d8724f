"""« Pression marketing »: at most N marketing SMS per client in D days, whatever the
store that sent them; service messages neither capped nor counted."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from shopsms import selection
from shopsms.extensions import db
from shopsms.models import Campaign, Client, DraftRecipient, Message, Store, User, utcnow
from shopsms.services import campaigns, pressure, recipients, settings
from shopsms.services.sending import send_next_batch
from shopsms.sms import hours, phones

FRENCH_MONTHS = [
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
]


@pytest.fixture
def chain(ctx):
    """Two stores; X (Pau) had a marketing SMS from Biarritz 3 days ago and one from Pau
    yesterday; Y one marketing SMS and three service SMS; Z two marketing SMS 10 days ago."""
    biarritz, pau = (
        Store(code="001", name="Biarritz", city="Biarritz"),
        Store(code="003", name="Pau", city="Pau"),
    )
    db.session.add_all([biarritz, pau])
    db.session.flush()
    people = {}
    for i, (name, store) in enumerate((("X", pau), ("Y", biarritz), ("Z", pau))):
        tel = f"06 30 00 00 0{i}"
        client = Client(
            number=f"P{i}",
            last_name=name,
            first_name="Ana",
            store_id=store.id,
            tel1=tel,
            sms_number=phones.sms_number(tel, ""),
            sms_consent="accepted",
        )
        db.session.add(client)
        people[name] = client
    admin = User(username="siege", full_name="Siège", role="admin")
    admin.set_password("x" * 12)
    db.session.add(admin)
    db.session.flush()
    now = utcnow()

    def sent(kind, store, client, days_ago):
        campaign = Campaign(kind=kind, status="sent", store_id=store.id, body="Bonjour")
        db.session.add(campaign)
        db.session.flush()
        db.session.add(_delivered(campaign, client, now - timedelta(days=days_ago)))

    sent("marketing", biarritz, people["X"], 3)
    sent("marketing", pau, people["X"], 1)
    sent("marketing", biarritz, people["Y"], 2)
    for _ in range(3):
        sent("repair", biarritz, people["Y"], 1)
    sent("single", pau, people["Y"], 0)
    sent("marketing", pau, people["Z"], 10)
    sent("marketing", pau, people["Z"], 9)
    db.session.commit()
    return admin, people, now - timedelta(days=3)


def _delivered(campaign, client, created_at):
    """A marketing or service SMS the client received."""
    return Message(
        campaign_id=campaign.id,
        client_id=client.id,
        phone=client.sms_number,
        state="delivered",
        text="Bonjour",
        parts=1,
        created_at=created_at,
    )


def _rows(campaign_id, model=DraftRecipient):
    rows = db.session.execute(
        select(Client.last_name, model.state, model.skip_reason)
        .join(Client, Client.id == model.client_id)
        .where(model.campaign_id == campaign_id)
    )
    return {name: (state, reason) for name, state, reason in rows}


def test_a_client_texted_twice_this_week_by_two_stores_is_skipped_with_the_reason(chain):
    admin, people, first = chain
    count = recipients.live_count(admin, selection.Criteria())
    assert count.excluded["pressure"] == 1 and count.reachable == 2
    campaign = recipients.draft_from_selection(admin, selection.Criteria())
    rows = _rows(campaign.id)
    assert rows["Y"] == ("pending", "") and rows["Z"] == ("pending", "")
    state, reason = rows["X"]
    assert state == "skipped"
    day = hours._paris(first).date()
    assert pressure.pressure_text(reason) == (
        f"pression marketing : déjà 2 SMS depuis le {day.day}{'er' if day.day == 1 else ''} "
        f"{FRENCH_MONTHS[day.month - 1]}"
    )
    summary = recipients.summary(campaign.id)
    assert summary.recipients == 2 and summary.skipped == {"pressure": 1}
    with pytest.raises(campaigns.CampaignError, match="Pression marketing : déjà 2 SMS"):
        row = db.session.scalar(
            select(DraftRecipient.id).where(
                DraftRecipient.campaign_id == campaign.id, DraftRecipient.state == "skipped"
            )
        )
        recipients.restore(admin, campaign.id, row)


def test_the_cap_is_checked_again_when_the_campaign_goes_out(chain, credits_available):
    admin, people, _ = chain
    campaign = recipients.draft_from_selection(admin, selection.Criteria())
    recipients.compose(admin, campaign.id, "Soldes ce week-end", "BIJOUX")
    # Meanwhile Biarritz texts Y again: Y reaches the cap before this one leaves.
    other = Campaign(kind="marketing", status="sent", body="Nouveautés")
    db.session.add(other)
    db.session.flush()
    db.session.add(
        Message(
            campaign_id=other.id,
            client_id=people["Y"].id,
            state="submitted",
            phone=people["Y"].sms_number,
            text="Nouveautés",
            parts=1,
        )
    )
    db.session.commit()
    credits_available(100)
    settings.put("sending_days", [0, 1, 2, 3, 4, 5, 6])
    settings.put("sending_start", "00:00")
    settings.put("sending_end", "23:59")
    campaigns.queue_now(campaign.id, user_id=admin.id)
    while not send_next_batch(campaign.id).done:
        pass
    rows = _rows(campaign.id, Message)
    assert rows["Z"][0] == "delivered" or rows["Z"][0] == "submitted"
    assert rows["Y"][0] == "skipped" and rows["Y"][1].startswith("pressure:2:")
    assert rows["X"][0] == "skipped"


def test_service_messages_are_not_capped_and_the_cap_can_be_off(chain):
    admin, people, _ = chain
    settings.put("pressure_max", 0)
    campaign = recipients.draft_from_selection(admin, selection.Criteria())
    assert recipients.summary(campaign.id).recipients == 3
    settings.put("pressure_max", 1)
    single = campaigns.draft(
        "single",
        body="Votre commande est arrivée",
        recipients=[campaigns.Recipient(client_id=people["X"].id)],
    )
    assert _rows(single.id, Message)["X"] == ("pending", "")


def test_the_index_the_cap_reads_covers_exactly_the_states_it_counts():
    # A state counted but left out of the partial index would be missed by the live
    # count's index-only reading (ix_messages_counted_created).
    index = next(i for i in Message.__table__.indexes if i.name == "ix_messages_counted_created")
    states = ", ".join(f"'{state}'" for state in pressure.RECEIVED_STATES)
    for dialect in ("sqlite", "postgresql"):
        assert str(index.dialect_options[dialect]["where"]) == f"state IN ({states})"


def test_a_third_chain_campaign_skips_the_12000_clients_already_at_the_cap(ctx, store):
    """After two chain campaigns most clients are at the cap: the next draft skips them
    all, with the count the live count gave, and keeps the others. Each client is a
    group of the list's own (a name shape of its own): skipping them probes each group,
    which read the whole list for each one before migration 0031 (150 s for 33,000)."""
    from shopsms.models.base import bulk_insert

    over, under = 12_000, 50
    admin = User(username="siege", full_name="Siège", role="admin")
    admin.set_password("x" * 12)
    db.session.add(admin)
    bulk_insert(
        Client,
        [
            {
                "number": f"C{n}",
                "last_name": f"NOM{n}",
                "store_id": store.id,
                "sms_number": f"+3361{n:07d}",
                "sms_consent": "accepted",
            }
            for n in range(over + under)
        ],
    )
    sent = [Campaign(kind="marketing", status="sent", store_id=store.id, body="B") for _ in "ab"]
    db.session.add_all(sent)
    db.session.flush()
    ids = db.session.scalars(select(Client.id).order_by(Client.id)).all()
    now = utcnow()
    bulk_insert(
        Message,
        [
            {
                "campaign_id": campaign.id,
                "client_id": client_id,
                "phone": "+33600000000",
                "state": "delivered",
                "text": "B",
                "parts": 1,
                "created_at": now - timedelta(days=1),
            }
            for campaign in sent
            for client_id in ids[:over]
        ],
    )
    db.session.commit()
    settings.put("pressure_max", 2)

    count = recipients.live_count(admin, selection.Criteria())
    assert count.excluded["pressure"] == over and count.reachable == under
    campaign = recipients.draft_from_selection(admin, selection.Criteria())
    summary = recipients.summary(campaign.id)
    assert summary.recipients == under and summary.skipped == {"pressure": over}


def test_the_cap_reads_70000_clients_at_once(ctx, store):
    """More clients than psycopg's 65,535 bound values in one statement: asked as a list
    (an automatic send's, or those kept at the cap after chain campaigns), still one
    answer."""
    client = Client(number="C1", last_name="VU", store_id=store.id, sms_number="+33611111111")
    campaign = Campaign(kind="marketing", status="sent", store_id=store.id, body="B")
    db.session.add_all([client, campaign])
    db.session.flush()
    db.session.add_all([_delivered(campaign, client, utcnow()) for _ in range(2)])
    db.session.commit()
    settings.put("pressure_max", 2)
    asked = [client.id, *range(client.id + 1, client.id + 70_000)]
    assert list(pressure.over_pressure(asked)) == [client.id]
