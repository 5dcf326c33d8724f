"""The clients over the « pression marketing » cap, as the live count reads them on
PostgreSQL: from what triggers on messages keep (models.MarketingPressure, migration
0029), not from the period's SMS. Whatever happens to the SMS (sent, failed, delivered,
deleted, from one campaign or two side by side) and to the cap's setting, the kept
answer is the one counted from the messages."""

import threading
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, select, update

from shopsms.extensions import db
from shopsms.models import Campaign, Client, Message, PressureBasis, utcnow
from shopsms.services import pressure
from shopsms.services import settings as chain_settings
from tests.conftest import wait_until_another_waits_on_a_lock

pytestmark = pytest.mark.usefixtures("ctx")

STATES = ("pending", "submitting", "submitted", "delivered", "failed", "skipped")
# One SMS: which client, which campaign (two marketing ones and a repair one), how many
# days ago it was frozen, its state.
SMS = st.tuples(st.integers(0, 5), st.integers(0, 2), st.integers(0, 20), st.sampled_from(STATES))
# Then, in turn: a state changed, an SMS deleted, or the cap's number changed.
STEPS = st.lists(
    st.one_of(
        st.tuples(st.just("state"), st.integers(0, 30), st.sampled_from(STATES)),
        st.tuples(st.just("delete"), st.integers(0, 30)),
        st.tuples(st.just("cap"), st.integers(0, 4)),
    ),
    max_size=8,
)


@pytest.fixture
def postgresql(ctx):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("kept on PostgreSQL only; SQLite counts from the messages")


def _counted_from_the_messages(clients, cap):
    over = pressure._over_pressure(cap).subquery()
    return db.session.scalar(
        select(db.func.count()).select_from(over).where(over.c.client_id.in_(clients))
    )


def _kept_is_read(cap):
    return db.session.scalar(select(PressureBasis.most).where(PressureBasis.id == 1)) == cap[0]


@pytest.mark.usefixtures("postgresql")
def test_the_kept_count_is_the_count_from_the_messages(store):
    now = utcnow()
    clients = []
    for i in range(6):
        client = Client(number=f"K{i}", last_name=f"PRESSION{i}", store_id=store.id)
        db.session.add(client)
        clients.append(client)
    kinds = ("marketing", "marketing", "repair")
    sent_by = [
        Campaign(kind=kind, status="sent", store_id=store.id, body="Bonjour") for kind in kinds
    ]
    db.session.add_all(sent_by)
    db.session.commit()
    everyone = select(Client.id).where(Client.store_id == store.id)
    chain_settings.put("pressure_max", 2)

    @settings(max_examples=50, deadline=None, suppress_health_check=list(HealthCheck))
    @given(sms=st.lists(SMS, max_size=25), steps=STEPS, days=st.integers(1, 15))
    def check(sms, steps, days):
        db.session.execute(delete(Message))
        db.session.add_all(
            Message(
                campaign_id=sent_by[c].id,
                client_id=clients[k].id,
                phone="+33600000000",
                text="Bonjour",
                parts=1,
                state=state,
                created_at=now - timedelta(days=ago),
            )
            for k, c, ago, state in sms
        )
        db.session.flush()
        for step in steps:
            ids = list(db.session.scalars(select(Message.id).order_by(Message.id)))
            if step[0] == "cap":
                chain_settings.put("pressure_max", step[1], commit=False)
            elif ids and step[0] == "state":
                chosen = ids[step[1] % len(ids)]
                db.session.execute(
                    update(Message).where(Message.id == chosen).values(state=step[2])
                )
            elif ids and step[0] == "delete":
                db.session.execute(delete(Message).where(Message.id == ids[step[1] % len(ids)]))
            db.session.flush()
        cap = pressure.pressure_cap()
        if cap is None:
            return
        cap = (cap[0], days)
        assert _kept_is_read(cap)
        assert pressure.count_over_pressure(everyone, cap=cap) == _counted_from_the_messages(
            everyone, cap
        ), (sms, steps, days)
        # A worker's check of its batch (those SMS of a campaign left out), answered from
        # what is kept: as counted from the messages, with how many and since when.
        theirs = list(
            db.session.scalars(select(Message.id).where(Message.campaign_id == sent_by[0].id))
        )
        kept = pressure.over_pressure(
            everyone, except_campaign=sent_by[0].id, except_sms=theirs, cap=cap
        )
        counted = pressure._over_pressure(cap).where(
            Message.client_id.in_(everyone), Message.campaign_id != sent_by[0].id
        )
        assert kept == {c: (n, first) for c, n, first in db.session.execute(counted)}, (
            sms,
            steps,
            days,
        )
        db.session.commit()

    check()


@pytest.mark.usefixtures("postgresql")
def test_two_campaigns_sending_to_one_client_side_by_side_both_count(app, store):
    """Each sending merges its SMS into the client's row: without the row lock, the
    second would merge into what it read before the first committed, and lose it."""
    client = Client(number="K1", last_name="PRESSION", store_id=store.id)
    first, second = (
        Campaign(kind="marketing", status="sending", store_id=store.id, body="Bonjour")
        for _ in range(2)
    )
    db.session.add_all([client, first, second])
    db.session.commit()
    # The client already had one SMS last week (their row is kept), and the cap is 3.
    chain_settings.put("pressure_max", 3)
    rows = [
        Message(
            campaign_id=campaign.id,
            client_id=client.id,
            phone="+33600000000",
            text="Bonjour",
            parts=1,
            state=state,
            created_at=utcnow() - timedelta(days=ago),
        )
        for campaign, state, ago in (
            (first, "delivered", 5),
            (first, "pending", 0),
            (second, "pending", 0),
        )
    ]
    db.session.add_all(rows)
    db.session.commit()
    ids = [row.id for row in rows[1:]]
    db.session.execute(update(Message).where(Message.id == ids[0]).values(state="submitted"))
    outcome = []

    def other_worker():
        with app.app_context():
            db.session.execute(
                update(Message).where(Message.id == ids[1]).values(state="submitted")
            )
            db.session.commit()
            outcome.append("committed")

    thread = threading.Thread(target=other_worker)
    thread.start()
    wait_until_another_waits_on_a_lock(outcome, "the second sending")
    db.session.commit()
    thread.join(30)
    assert outcome == ["committed"]
    cap = pressure.pressure_cap()
    everyone = select(Client.id).where(Client.id == client.id)
    assert _kept_is_read(cap)
    assert pressure.count_over_pressure(everyone, cap=cap) == 1
    assert _counted_from_the_messages(everyone, cap) == 1
