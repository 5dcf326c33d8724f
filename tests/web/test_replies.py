from shopsms.extensions import db
from shopsms.models import InboundMessage, Store
from shopsms.services import inbound
from tests.conftest import csrf_token


def test_staff_read_their_clients_replies_and_mark_them_read(app, client_as, make_client):
    make_client(tel1="06 12 34 56 78", last_name="DUPONT")
    with app.app_context():
        other = Store(code="002", name="Bayonne")
        db.session.add(other)
        db.session.commit()
        other_id = other.id
    make_client(tel1="06 99 88 77 66", last_name="AILLEURS", store_id=other_id)
    with app.app_context():
        inbound.receive("outbox", "+33612345678", "Merci, je passe samedi")
        inbound.receive("outbox", "+33699887766", "Bonjour de Bayonne")
        inbound.receive("outbox", "+33700000000", "Qui est-ce ?")
    staff = client_as("staff")
    home = staff.get("/").text
    assert 'data-testid="unread-replies">1<' in home
    page = staff.get("/reponses/")
    assert "Merci, je passe samedi" in page.text and "DUPONT" in page.text
    assert "Bonjour de Bayonne" not in page.text and "Qui est-ce ?" not in page.text
    with app.app_context():
        mine = db.session.query(InboundMessage).filter_by(phone="+33612345678").one().id
        theirs = db.session.query(InboundMessage).filter_by(phone="+33699887766").one().id
    token = csrf_token(page)
    assert staff.post(f"/reponses/{theirs}/lu", data={"csrf_token": token}).status_code == 404
    assert staff.post(f"/reponses/{mine}/lu", data={"csrf_token": token}).status_code == 302
    assert 'data-testid="unread-replies">0<' in staff.get("/").text
    head_office = client_as("admin").get("/reponses/").text
    assert "Bonjour de Bayonne" in head_office and "Numéro inconnu" in head_office
