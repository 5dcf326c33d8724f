"""The numbers two clients or more share, kept in shared_numbers by triggers on clients
(migration 0028): the live count counts each of them once and trusts every other
reachable number to be a client's own. A number shared but not listed would be counted
twice; so whatever writes the cards (a new card, a number changed, a card deleted, in
one statement or many), the list is exactly the numbers held twice or more."""

import threading
from collections import Counter

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, insert, select, update

from shopsms import selection
from shopsms.extensions import db
from shopsms.models import Client, SharedNumber
from tests.conftest import wait_until_another_waits_on_a_lock

pytestmark = pytest.mark.usefixtures("ctx")

NUMBERS = [f"+3369900{k:04d}" for k in range(5)]
# One step: ("add", number index or None), ("set", card index, number index or None),
# ("drop", card index), or ("set all", number index): one UPDATE over every card.
STEPS = st.lists(
    st.one_of(
        st.tuples(st.just("add"), st.one_of(st.none(), st.integers(0, 4))),
        st.tuples(st.just("set"), st.integers(0, 20), st.one_of(st.none(), st.integers(0, 4))),
        st.tuples(st.just("drop"), st.integers(0, 20)),
        st.tuples(st.just("add many"), st.lists(st.integers(0, 4), min_size=2, max_size=6)),
    ),
    min_size=1,
    max_size=15,
)


def _shared_in_truth():
    held = Counter(db.session.scalars(select(Client.sms_number).where(Client.sms_number != "")))
    return {number for number, n in held.items() if number and n > 1}


def _listed():
    return set(db.session.scalars(select(SharedNumber.phone)))


def test_the_list_is_the_numbers_held_twice_whatever_writes_the_cards(store):
    made = iter(range(1_000_000))

    def card(k):
        n = next(made)
        # The typed phone for the ORM's cards (the number is derived from it), the number
        # itself for the statements that write many cards at once.
        return {
            "number": f"S{n:06d}",
            "last_name": f"PART{n}",
            "store_id": store.id,
            "tel1": "" if k is None else f"06990000{k:02d}",
            "sms_number": None if k is None else NUMBERS[k],
        }

    @settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
    @given(steps=STEPS)
    def check(steps):
        db.session.execute(delete(Client))
        for step in steps:
            ids = list(db.session.scalars(select(Client.id).order_by(Client.id)))
            if step[0] == "add":
                new = Client(**card(step[1]))
                db.session.add(new)
                db.session.flush()
                assert new.sms_number == (None if step[1] is None else NUMBERS[step[1]])
            elif step[0] == "add many":  # one statement, as an import writes
                db.session.execute(insert(Client), [card(k) for k in step[1]])
            elif ids and step[0] == "set":
                number = None if step[2] is None else NUMBERS[step[2]]
                db.session.execute(
                    update(Client)
                    .where(Client.id == ids[step[1] % len(ids)])
                    .values(sms_number=number)
                )
            elif ids and step[0] == "drop":
                db.session.execute(delete(Client).where(Client.id == ids[step[1] % len(ids)]))
            db.session.flush()
            assert _listed() == _shared_in_truth(), steps
        db.session.commit()

    check()


def test_the_live_count_counts_a_number_given_to_a_second_client_once(make_client, store):
    first = make_client(tel1="06 99 00 00 01")
    make_client(tel1="06 99 00 00 02")
    criteria = selection.Criteria(created_store_id=store.id)
    assert selection.count(criteria, db.session).reachable == 2
    # The second client's card now gives the first one's number: one SMS, one duplicate.
    db.session.execute(
        update(Client)
        .where(Client.id != first)
        .values(tel1="06 99 00 00 01", sms_number="+33699000001")
    )
    db.session.commit()
    count = selection.count(criteria, db.session)
    assert (count.reachable, count.excluded["duplicate"]) == (1, 1)
    db.session.execute(delete(Client).where(Client.id == first))
    db.session.commit()
    count = selection.count(criteria, db.session)
    assert (count.reachable, count.excluded["duplicate"]) == (1, 0)
    assert _listed() == set()


def test_two_transactions_giving_one_number_to_two_clients_list_it(app, store):
    """Each transaction counts the number's holders: without the lock, each would count
    one (the other's card not yet committed) and neither would list it."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite has one writer at a time")
    number, typed = "+33699001234", "06 99 00 12 34"  # the card derives one from the other
    db.session.add(Client(number="C1", last_name="UN", store_id=store.id, tel1=typed))
    db.session.flush()  # the first card written, its transaction still open
    outcome = []

    def second():
        with app.app_context():
            db.session.add(Client(number="C2", last_name="DEUX", store_id=store.id, tel1=typed))
            db.session.commit()
            outcome.append("committed")

    thread = threading.Thread(target=second)
    thread.start()
    wait_until_another_waits_on_a_lock(outcome, "the second card")
    db.session.commit()
    thread.join(30)
    assert outcome == ["committed"]
    db.session.expire_all()
    assert _listed() == {number}
