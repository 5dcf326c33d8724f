"""A store that cannot send says so before anyone types: on the home page, the client
card and every compose screen; the platform switch's hint says what it does."""

import html
import re

import pytest

from shopsms import selection
from shopsms.extensions import db
from shopsms.models import RepairTicket, Store, User
from shopsms.services import recipients, settings
from tests.conftest import csrf_token


def text(response):
    """The page as read: tags out, spaces collapsed (the banner's testid stays)."""
    assert response.status_code == 200, response.status_code
    page = re.sub(r"<(?!div class=\"sending-off)[^>]*>", " ", response.text)
    return re.sub(r"\s+", " ", html.unescape(page)).replace(" .", ".").replace(" ,", ",")


@pytest.fixture
def screens(app, store, users, make_client):
    """The screens a store sends from, for one client and one ticket of the store."""
    client_id = make_client(last_name="RUSSELLO")
    with app.app_context():
        ticket = RepairTicket(
            number="3156",
            client_id=client_id,
            store_id=store.id,
            status="ready",
            item_description="Montre",
        )
        db.session.add(ticket)
        db.session.commit()
        staff = db.session.get(User, users["staff"].id)
        draft = recipients.draft_from_selection(staff, selection.Criteria(name="RUSS"))
        ticket_id, draft_id = ticket.id, draft.id
    return [
        "/",
        f"/clients/{client_id}",
        f"/clients/{client_id}/sms",
        "/campagnes/nouvelle",
        f"/campagnes/{draft_id}",
        f"/sav/sms?ticket_id={ticket_id}",
    ]


def test_no_banner_while_the_store_can_send(client_as, screens):
    staff = client_as("staff")
    for path in screens:
        assert 'data-testid="sending-off"' not in text(staff.get(path)), path


def test_a_store_whose_module_is_off_says_so_on_every_screen(app, client_as, store, screens):
    with app.app_context():
        settings.set_sms_enabled(store.id, False)
    staff = client_as("staff")
    for path in screens:
        page = text(staff.get(path))
        assert "Aucun SMS ne peut partir de Biarritz." in page, path
        assert "Le module SMS de ce magasin est désactivé." in page, path
        assert "Demandez au siège de rétablir les envois" in page, path
    # Head office sees which stores are off on its home page, with the way to fix it.
    office = text(client_as("admin").get("/"))
    assert "Aucun SMS ne peut partir de Biarritz." in office
    assert "Rétablir les envois dans Paramètres › Magasins" in office


def test_the_platform_link_off_is_said_everywhere(app, client_as, store, screens):
    with app.app_context():
        settings.set_sms_enabled(store.id, False)
        settings.put("platform_link", False)
    staff = client_as("staff")
    for path in screens:
        page = text(staff.get(path))
        assert "La liaison plate-forme de services est coupée, pour tous les magasins." in page
        assert "Aucun SMS ne peut partir de Biarritz." not in page  # one reason: the link
    assert "La liaison plate-forme de services est coupée" in text(client_as("admin").get("/"))


def test_head_office_sees_every_store_whose_module_is_off(app, client_as, store):
    with app.app_context():
        for code, name in (("002", "Bayonne"), ("003", "Pau")):
            db.session.add(Store(code=code, name=name, city=name, sms_enabled=False))
        db.session.commit()
    page = text(client_as("admin").get("/"))
    assert "Module SMS désactivé pour 2 magasins : Bayonne, Pau." in page
    assert 'data-testid="sending-off"' not in text(client_as("staff").get("/"))  # Biarritz's on


def test_the_platform_switch_says_what_each_position_does(client_as):
    office = client_as("admin")
    page = text(office.get("/parametres/magasins"))
    assert "Liaison active : les SMS partent pour chaque magasin dont le module SMS" in page
    assert "Liaison coupée : aucun SMS ne part, quel que soit le magasin" in page
    office.post("/parametres/magasins", data={"csrf_token": csrf_token(office.get("/"))})
    assert (
        'name="platform_link" value="1"  aria-describedby'
        in office.get("/parametres/magasins").text
    )  # unchecked: the hint that shows is the « coupée » one (CSS, tested in a browser)
