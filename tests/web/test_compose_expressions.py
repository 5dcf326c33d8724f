"""Each compose screen offers the generic expressions its sending fills: <NUM> and
<MONTANT> (a repair ticket's) only where a ticket is concerned, and a text that carries
them anyway is told they stay empty."""

import re
from html import unescape

from shopsms.extensions import db
from shopsms.models import RepairTicket
from tests.conftest import csrf_token

HX = {"HX-Request": "true"}


def offered(html):
    return re.findall(r'data-insert="&lt;([A-Z]+)&gt;"', html)


def build(web, **criteria):
    page = web.get("/campagnes/nouvelle")
    response = web.post("/campagnes/nouvelle", data={"csrf_token": csrf_token(page), **criteria})
    assert response.status_code == 302, response.text
    return int(response.headers["Location"].rsplit("/", 1)[1])


def test_num_and_montant_only_where_a_ticket_is_concerned(app, client_as, make_client, store):
    client_id = make_client(tel1="06 11 00 00 01", postal_code="64200")
    with app.app_context():
        ticket = RepairTicket(
            number="500347",
            client_id=client_id,
            store_id=store.id,
            item_description="Montre",
            status="ready",
        )
        db.session.add(ticket)
        db.session.commit()
        ticket_id = ticket.id
    web = client_as("staff")
    everyday = ["GEN", "CIV", "NOM", "NOMPROPRE", "PRENOM", "MAGASIN"]
    card_sms = web.get(f"/clients/{client_id}/sms").text
    assert set(offered(card_sms)) == set(everyday)
    campaign = web.get(f"/campagnes/{build(web, postal_code='64', action='build')}").text
    assert set(offered(campaign)) == set(everyday)
    sav = web.get(f"/sav/sms?ticket_id={ticket_id}").text
    assert set(offered(sav)) == {*everyday, "NUM", "MONTANT"}
    saved = web.get("/messages").text  # a saved message may serve a ticket
    assert set(offered(saved)) == {*everyday, "NUM", "MONTANT"}


def test_a_text_with_num_for_a_client_sms_is_told_it_stays_empty(client_as, make_client):
    web = client_as("staff")
    token = csrf_token(web.get("/messages"))
    answer = web.post(
        "/composer/apercu",
        data={"body": "Votre fiche <NUM> : <MONTANT>.", "kind": "single"},
        headers={**HX, "X-CSRFToken": token},
    ).text
    assert (
        "Ces expressions restent toujours vides ici, l'envoi ne concerne pas une fiche SAV : "
        "<NUM>, <MONTANT>." in unescape(answer)
    )
    sav = web.post(
        "/composer/apercu",
        data={"body": "Votre fiche <NUM>.", "kind": "repair"},
        headers={**HX, "X-CSRFToken": token},
    ).text
    assert 'data-testid="always-empty"' not in sav


def test_names_in_gsm_is_a_choice_of_ones_own_draft_only(app, client_as, make_client, store):
    from shopsms.models import Campaign, Store

    make_client(first_name="FRANÇOISE", tel1="06 11 00 00 01", postal_code="64200")
    web = client_as("staff")
    mine = build(web, postal_code="64", action="build")
    with app.app_context():
        other = Store(code="002", name="Bayonne")
        db.session.add(other)
        db.session.flush()
        theirs = Campaign(kind="marketing", store_id=other.id, body="", status="draft")
        db.session.add(theirs)
        db.session.commit()
        theirs_id = theirs.id
    token = csrf_token(web.get(f"/campagnes/{mine}"))
    headers = {**HX, "X-CSRFToken": token}
    data = {"body": "Bonjour <PRENOM>", "kind": "marketing", "gsm_names": "1"}
    refused = web.post(
        "/composer/noms-gsm", data=data | {"campaign_id": theirs_id}, headers=headers
    )
    assert refused.status_code == 404
    kept = web.post("/composer/noms-gsm", data=data | {"campaign_id": mine}, headers=headers)
    assert kept.status_code == 200 and 'data-testid="gsm-names-on"' in kept.text
    with app.app_context():
        assert db.session.get(Campaign, mine).gsm_names is True
        assert db.session.get(Campaign, theirs_id).gsm_names is False
    # kept with the draft: the page shows it again
    assert 'data-testid="gsm-names-on"' in web.get(f"/campagnes/{mine}").text


def test_the_sav_list_marks_each_text_over_the_limit(app, client_as, make_client, store):
    ids = []
    with app.app_context():
        for number, last in (("500347", "DUPONT"), ("500348", "ETCHEVERRY-DUHALDE")):
            client_id = make_client(last_name=last, tel1=f"06 11 00 00 {number[-2:]}")
            ticket = RepairTicket(
                number=number,
                client_id=client_id,
                store_id=store.id,
                item_description="Montre",
                status="ready",
            )
            db.session.add(ticket)
            db.session.commit()
            ids.append(ticket.id)
    web = client_as("staff")
    page = web.get(f"/sav/sms?ticket_id={ids[0]}&ticket_id={ids[1]}")
    # "Fiche 500347 prete, " (20) + 132 + " <NOMPROPRE>": 159 for Dupont, 171 for the other.
    body = "Fiche <NUM> prete, " + "x" * 132 + " <NOMPROPRE>"
    answer = unescape(
        web.post(
            "/sav/sms/apercu",
            data={"body": body, "ticket_id": ids, "sav_kind": "repair"},
            headers={**HX, "X-CSRFToken": csrf_token(page)},
        ).text
    )
    marks = re.findall(r'data-testid="recap-over">([^<]*)<', answer)
    assert marks == ["11 caractères de trop"]
