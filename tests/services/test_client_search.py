"""The client list's search: phones in any format, name prefixes, cities, numbers, scoping."""

from contextlib import contextmanager
from types import SimpleNamespace

import pytest
from sqlalchemy import event

from shopsms.extensions import db
from shopsms.models import Store
from shopsms.services import client_search


@contextmanager
def count_queries():
    statements = []

    def record(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", record)


@pytest.fixture
def other_store(app):
    with app.app_context():
        store = Store(code="002", name="Bayonne", city="Bayonne")
        db.session.add(store)
        db.session.commit()
        return store.id


@pytest.fixture
def file(make_client, store, other_store):
    """A few clients of store 001 and one of store 002, phones typed every way."""
    return {
        "dupont": make_client(
            last_name="DUPONT",
            first_name="Jeanne",
            tel1="06 12 34 56 78",
            city="Biarritz",
            postal_code="64200",
            number="0001234",
        ),
        "durand": make_client(
            last_name="Durand",
            first_name="Paul",
            tel1="+33 7 88 11 22 33",
            city="Anglet",
            postal_code="64600",
            number="0004567",
        ),
        "martin": make_client(
            last_name="MARTIN",
            first_name="Luc",
            tel1="05 59 00 00 00",
            tel2="0033698765432",
            city="Bidart",
            postal_code="64210",
            number="0009999",
            sms_consent="refused",
        ),
        "legall": make_client(
            last_name="LE GALL",
            first_name="Anne",
            tel1="",
            city="Biarritz",
            postal_code="64200",
            number="0005555",
        ),
        "bayonne": make_client(
            last_name="DUPONTEL",
            first_name="Marc",
            tel1="06.12.34.99.99",
            city="Bayonne",
            postal_code="64100",
            number="0008888",
            store_id=other_store,
        ),
    }


def staff(store_id):
    return SimpleNamespace(store_id=store_id, has_role=lambda role: role == "staff")


HEAD_OFFICE = SimpleNamespace(store_id=None, has_role=lambda role: True)


def numbers(page):
    return sorted(line.number for line in page.rows)


@pytest.mark.parametrize(
    "typed",
    ["06 12 34", "0612", "+33 6 12 34", "0033 6 12 34", "06.12.34.56", "612345678", "34 56 78"],
)
def test_part_of_a_phone_number_in_any_format(app, file, store, typed):
    with app.app_context():
        assert "0001234" in numbers(client_search.search(staff(store.id), typed))


def test_phone_digits_match_numbers_stored_the_international_way(app, file, store):
    with app.app_context():
        # tel1 "+33 7 88 11 22 33" typed the French way; tel2 "0033698765432" too.
        assert numbers(client_search.search(staff(store.id), "07 88 11")) == ["0004567"]
        assert numbers(client_search.search(staff(store.id), "06 98 76")) == ["0009999"]


def test_name_prefix_whatever_the_case(app, file, store):
    with app.app_context():
        assert numbers(client_search.search(staff(store.id), "dup")) == ["0001234"]
        assert numbers(client_search.search(staff(store.id), "DUR")) == ["0004567"]
        assert numbers(client_search.search(staff(store.id), "jean")) == ["0001234"]
        # A prefix, not a substring: "pont" finds nobody.
        assert numbers(client_search.search(staff(store.id), "pont")) == []
        # A last name with a space, and two words that must both match.
        assert numbers(client_search.search(staff(store.id), "le gall")) == ["0005555"]
        assert numbers(client_search.search(staff(store.id), "dupont jea")) == ["0001234"]


def test_city_postal_code_and_client_number(app, file, store):
    with app.app_context():
        assert numbers(client_search.search(staff(store.id), "biarr")) == ["0001234", "0005555"]
        assert numbers(client_search.search(staff(store.id), "64600")) == ["0004567"]
        assert numbers(client_search.search(staff(store.id), "0009999")) == ["0009999"]


def test_staff_never_see_another_store_and_head_office_sees_all(app, file, store):
    with app.app_context():
        assert "0008888" not in numbers(client_search.search(staff(store.id), "0612"))
        assert "0008888" not in numbers(client_search.search(staff(store.id), ""))
        found = numbers(client_search.search(HEAD_OFFICE, "0612"))
        assert found == ["0001234", "0008888"]


def test_lines_say_why_there_is_no_sms_number_and_the_consent(app, file, store):
    with app.app_context():
        lines = {line.number: line for line in client_search.search(staff(store.id)).rows}
    assert lines["0001234"].sms_number == "06 12 34 56 78"
    assert lines["0001234"].consent == "accepted"
    assert lines["0009999"].sms_number == "06 98 76 54 32"  # tel2 is the mobile
    assert lines["0009999"].phone == "05 59 00 00 00"
    assert lines["0009999"].consent == "refused"
    assert lines["0005555"].sms_number is None
    assert lines["0005555"].no_sms_reason == "Aucun numéro de téléphone"


def test_pages_of_fifty_in_one_query(app, make_client, store):
    for n in range(120):
        make_client(last_name=f"NOM{n:03d}", number=f"P{n:05d}")
    with app.app_context():
        with count_queries() as statements:
            first = client_search.search(staff(store.id), "nom")
        assert len(statements) == 1
        assert first.total == 120 and len(first.rows) == 50 and first.has_next
        assert not first.has_previous
        third = client_search.search(staff(store.id), "nom", page=3)
        assert len(third.rows) == 20 and not third.has_next and third.has_previous
        assert third.rows[0].last_name == "NOM100"
        beyond = client_search.search(staff(store.id), "nom", page=9)
        assert beyond.rows == [] and beyond.total == 120


def test_a_phone_typed_with_too_few_digits_is_told_apart_from_a_miss():
    from shopsms.services.client_search import too_short_for_a_phone

    assert too_short_for_a_phone("06 8") and too_short_for_a_phone("+33")
    assert not too_short_for_a_phone("06 86") and not too_short_for_a_phone("Dupont")
    assert not too_short_for_a_phone("") and not too_short_for_a_phone("Rue 12")


def test_one_or_two_letters_find_the_last_names_starting_with_them_in_name_order(
    app, file, make_client, store
):
    make_client(last_name="dubois", first_name="Eva", number="0007001")
    make_client(last_name="Étchegaray", first_name="Jon", number="0007002")
    make_client(last_name="ETCHEVERRY", first_name="Ane", number="0007003")
    make_client(last_name="ARTOLA", first_name="Didier", number="0007004")  # a first name
    with app.app_context():
        names = [line.last_name for line in client_search.search(HEAD_OFFICE, "d").rows]
        assert names == sorted(names)
        assert set(names) == {"DUPONT", "DUPONTEL", "Durand", "dubois"}
        assert numbers(client_search.search(HEAD_OFFICE, "Du")) == numbers(
            client_search.search(HEAD_OFFICE, "dU")
        )
        assert len(client_search.search(HEAD_OFFICE, "du").rows) == 4
        # Without the accent typed, or with it: « Étchegaray » and « ETCHEVERRY » both.
        assert numbers(client_search.search(HEAD_OFFICE, "é")) == ["0007002", "0007003"]
        assert numbers(client_search.search(HEAD_OFFICE, "et")) == ["0007002", "0007003"]
        # A store's staff: their store's clients only (« DUPONTEL » is Bayonne's).
        found = numbers(client_search.search(staff(store.id), "d"))
        assert found == ["0001234", "0004567", "0007001"]
