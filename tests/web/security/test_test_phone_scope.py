"""Issue 19: the « Téléphone de test » is scoped like every other page: a store sees its
own clients' phones and threads, and cannot answer STOP for another store's client."""

from sqlalchemy import select

from shopsms.extensions import db
from shopsms.models import OptOut, Store
from tests.conftest import csrf_token
from tests.web.test_test_phone import send_one


def _other_store(app):
    with app.app_context():
        store = Store(code="002", name="Bayonne", city="Bayonne")
        db.session.add(store)
        db.session.commit()
        return store.id


def test_a_store_sees_only_its_own_clients_phones(
    app, client_as, make_client, credits_available, redis_client
):
    credits_available(10)
    bayonne = _other_store(app)
    ours = make_client(tel1="06 11 11 11 11", first_name="Nous")
    theirs = make_client(tel1="06 22 22 22 22", first_name="Eux", store_id=bayonne)
    send_one(app, ours, "Bonjour <PRENOM>, de Biarritz.")
    send_one(app, theirs, "Bonjour <PRENOM>, de Bayonne.")

    staff = client_as("staff")
    listing = staff.get("/telephone-de-test/").text
    assert "06 11 11 11 11" in listing and "de Biarritz" in listing
    assert "06 22 22 22 22" not in listing and "de Bayonne" not in listing
    assert staff.get("/telephone-de-test/+33611111111").status_code == 200
    assert staff.get("/telephone-de-test/+33622222222").status_code == 404

    page = staff.get("/telephone-de-test/")
    answer = staff.post(
        "/telephone-de-test/+33622222222/repondre",
        data={"text": "STOP", "csrf_token": csrf_token(page)},
    )
    assert answer.status_code == 404
    with app.app_context():
        assert db.session.scalar(select(OptOut.phone)) is None

    head_office = client_as("admin").get("/telephone-de-test/").text
    assert "06 11 11 11 11" in head_office and "06 22 22 22 22" in head_office


def test_an_unknown_or_huge_phone_is_not_found(client_as):
    staff = client_as("staff")
    assert staff.get("/telephone-de-test/+33699999999").status_code == 404
    assert staff.get("/telephone-de-test/" + "9" * 5000).status_code == 404
