"""One rule for who gets which SMS (services.eligibility). Its SQL form and its Python
form give the same reason on generated clients, and so do the queries built on it: the
live count of a selection, the freeze of a recipient list (duplicates included) and the
send-time check of claimed rows (a number corrected by hand, a bare number, no client)."""

from itertools import count

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from shopsms import selection
from shopsms.extensions import db
from shopsms.models import Campaign, Client, DraftRecipient, Message, OptOut, Store, User, utcnow
from shopsms.services import eligibility, recipients, results, sending
from shopsms.services.eligibility import MARKETING

pytestmark = pytest.mark.usefixtures("ctx")

KINDS = ("marketing", "single", "repair", "workshop_return")
CONSENTS = ("accepted", "refused", "unknown")
# A client: refuses every SMS?, which of 4 numbers (None: no mobile), marketing consent.
CLIENTS = st.lists(
    st.tuples(st.booleans(), st.sampled_from([0, 1, 2, 3, None]), st.sampled_from(CONSENTS)),
    min_size=1,
    max_size=10,
)
OPTOUTS = st.sets(st.integers(0, 3))
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))


class Chain:
    """Each example gets its own store, clients, numbers and opt-outs: nothing is emptied
    between examples, and no example sees another's rows."""

    def __init__(self):
        self.examples = count(1)

    def load(self, clients, optouts):
        n = next(self.examples)
        store = Store(code=f"E{n:04d}", name=f"Magasin {n}")
        db.session.add(store)
        db.session.flush()
        numbers = [f"+3361{n:04d}{k:04d}" for k in range(4)]
        rows = [
            Client(
                number=f"E{n:04d}{i:03d}",
                last_name=f"ELIG{i}",
                first_name="Sabine",
                civility="Madame",
                store_id=store.id,
                sms_refuses_all=refuses,
                sms_number=None if k is None else numbers[k],
                sms_consent=consent,
                tel1="" if k is None else numbers[k],
            )
            for i, (refuses, k, consent) in enumerate(clients)
        ]
        db.session.add_all(rows)
        db.session.add_all(OptOut(phone=numbers[k]) for k in optouts)
        db.session.commit()
        opted = {numbers[k] for k in optouts}
        return store, sorted(rows, key=lambda c: c.id), numbers, opted


def python_freeze(clients, opted):
    """The Python form with the duplicate rule of campaigns.draft: in id order, a number
    already given to an earlier client is a duplicate."""
    seen, reasons = set(), {}
    for client in clients:
        reason = eligibility.skip_reason(MARKETING, client, client.sms_number, opted)
        if reason is None and client.sms_number in seen:
            reason = eligibility.DUPLICATE
        if reason is None:
            seen.add(client.sms_number)
        reasons[client.id] = reason
    return reasons


def test_the_sql_and_python_forms_give_the_same_reason_for_every_kind():
    chain = Chain()

    @SETTINGS
    @given(clients=CLIENTS, optouts=OPTOUTS)
    def check(clients, optouts):
        store, rows, _numbers, opted = chain.load(clients, optouts)
        for kind in KINDS:
            query = select(Client.id, eligibility.reason_case(kind), eligibility.reachable(kind))
            found = dict(
                (client_id, (reason, bool(ok)))
                for client_id, reason, ok in db.session.execute(
                    eligibility.join_optouts(query).where(Client.store_id == store.id)
                )
            )
            for client in rows:
                expected = eligibility.skip_reason(kind, client, client.sms_number, opted)
                assert found[client.id] == (expected, expected is None), (kind, client.id)

    check()


def test_the_live_count_and_the_frozen_list_say_what_the_python_form_says(users):
    chain = Chain()
    admin = db.session.get(User, users["admin"].id)

    @SETTINGS
    @given(clients=CLIENTS, optouts=OPTOUTS)
    def check(clients, optouts):
        store, rows, _numbers, opted = chain.load(clients, optouts)
        expected = python_freeze(rows, opted)
        criteria = selection.Criteria(created_store_id=store.id)

        live = selection.count(criteria, db.session)
        excluded = dict.fromkeys(eligibility.EXCLUSIONS, 0)
        for reason in filter(None, expected.values()):
            excluded[reason] += 1
        assert live.excluded == excluded
        assert live.reachable == sum(r is None for r in expected.values())
        assert live.found == len(rows)

        campaign = recipients.draft_from_selection(admin, criteria, store_id=store.id)
        frozen = dict(
            db.session.execute(
                select(DraftRecipient.client_id, DraftRecipient.skip_reason).where(
                    DraftRecipient.campaign_id == campaign.id
                )
            ).all()
        )
        # The « groupe témoin » is drawn among the rows that can receive the SMS.
        frozen = {k: None if v in ("", results.CONTROL) else v for k, v in frozen.items()}
        assert frozen == expected

    check()


# A message row: which client (None: a bare number), and its number: the client's card
# (None), none (""), or one of the 4 numbers (corrected by hand).
MESSAGES = st.lists(
    st.tuples(st.one_of(st.none(), st.integers(0, 9)), st.sampled_from([None, "", 0, 1, 2, 3])),
    min_size=1,
    max_size=10,
)


def test_the_send_time_check_skips_what_the_python_form_skips():
    chain = Chain()

    @SETTINGS
    @given(clients=CLIENTS, optouts=OPTOUTS, messages=MESSAGES, kind=st.sampled_from(KINDS))
    def check(clients, optouts, messages, kind):
        store, rows, numbers, opted = chain.load(clients, optouts)
        campaign = Campaign(kind=kind, store_id=store.id, body="Bonjour")
        db.session.add(campaign)
        db.session.flush()
        made = []
        for index, number in messages:
            client = rows[index % len(rows)] if index is not None else None
            if number is None:
                phone = (client.sms_number if client is not None else None) or ""
            else:
                phone = number if number == "" else numbers[number]
            made.append(
                (
                    Message(
                        campaign_id=campaign.id,
                        client_id=client and client.id,
                        phone=phone,
                        text="Bonjour",
                        parts=1,
                    ),
                    client,
                )
            )
        db.session.add_all(message for message, _client in made)
        db.session.flush()
        ids = [message.id for message, _client in made]
        sending._check_again(campaign, ids, utcnow())
        db.session.commit()
        for message, client in made:
            db.session.refresh(message)
            expected = eligibility.skip_reason(kind, client, message.phone, opted)
            assert (message.state, message.skip_reason) == (
                ("skipped", expected) if expected else ("pending", "")
            )

    check()


def test_the_claim_from_the_list_skips_what_the_python_form_skips():
    """Side by side on PostgreSQL, the rows of the list become claimed messages in one
    statement that checks the rule on the way (sending._claim_from_list): a row the list
    had skipped stays skipped with its reason, a row the rule now refuses is skipped with
    the reason the Python form gives, and only the others are claimed."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite moves the whole list when the campaign starts")
    chain = Chain()
    # A list row: which client, its number (as MESSAGES), skipped at the draft or not.
    listed = st.lists(
        st.tuples(st.integers(0, 9), st.sampled_from([None, "", 0, 1, 2, 3]), st.booleans()),
        min_size=1,
        max_size=10,
    )

    @SETTINGS
    @given(clients=CLIENTS, optouts=OPTOUTS, rows=listed, kind=st.sampled_from(KINDS))
    def check(clients, optouts, rows, kind):
        store, found, numbers, opted = chain.load(clients, optouts)
        campaign = Campaign(kind=kind, store_id=store.id, body="Bonjour", status="sending")
        db.session.add(campaign)
        db.session.flush()
        made = []
        for index, number, skipped_at_draft in rows:
            client = found[index % len(found)]
            if number is None:
                phone = client.sms_number or ""
            else:
                phone = number if number == "" else numbers[number]
            made.append((client, phone, skipped_at_draft))
            db.session.add(
                DraftRecipient(
                    campaign_id=campaign.id,
                    client_id=client.id,
                    phone=phone,
                    text="Bonjour",
                    parts=1,
                    state="skipped" if skipped_at_draft else "pending",
                    skip_reason="control" if skipped_at_draft else "",
                )
            )
        db.session.flush()
        now = utcnow()
        claimed = sending._claim_from_list(campaign, 100, "w:1", "outbox", now, state="submitted")
        db.session.commit()
        assert [row.id for row in claimed] == sorted(row.id for row in claimed)
        messages = db.session.execute(
            select(Message.state, Message.skip_reason, Message.claimed_by)
            .where(Message.campaign_id == campaign.id)
            .order_by(Message.id)
        ).all()
        assert len(messages) == len(made)  # everyone left the list, once
        for (client, phone, skipped_at_draft), message in zip(made, messages, strict=True):
            expected = eligibility.skip_reason(kind, client, phone, opted)
            if skipped_at_draft:
                assert (message.state, message.skip_reason) == ("skipped", "control")
            elif expected:
                assert (message.state, message.skip_reason) == ("skipped", expected)
            else:
                assert (message.state, message.claimed_by) == ("submitted", "w:1")
        assert (
            db.session.scalar(
                select(DraftRecipient.id).where(DraftRecipient.campaign_id == campaign.id)
            )
            is None
        )

    check()
