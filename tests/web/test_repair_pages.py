"""« Gestion des fiches », ticket card, SMS for one ticket or a batch, « Retour atelier »
and the SAV tab, through the test client."""

import html
import re
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select

from shopsms.extensions import db
from shopsms.models import Message, RepairTicket, Store, Workshop
from shopsms.services import settings
from tests.conftest import csrf_token


@pytest.fixture
def other_store(app):
    with app.app_context():
        other = Store(code="002", name="Bayonne", city="Bayonne")
        db.session.add(other)
        db.session.commit()
        return other.id


@pytest.fixture
def ticket(app, store):
    def make(client_id, number, **fields):
        values = {"store_id": store.id, "status": "ready", "item_description": "Montre"}
        with app.app_context():
            row = RepairTicket(number=number, client_id=client_id, **(values | fields))
            db.session.add(row)
            db.session.commit()
            return row.id

    return make


def text(response):
    """The page as a person reads it (entities decoded)."""
    return html.unescape(response.text)


def messages(app):
    with app.app_context():
        rows = db.session.execute(select(Message.repair_ticket_id, Message.text, Message.state))
        return sorted(tuple(r) for r in rows)


def test_the_list_has_the_seed_columns_and_only_the_store_tickets(
    client_as, make_client, ticket, other_store
):
    ticket(make_client(last_name="RUSSELLO"), "519688", client_price=Decimal("12.5"))
    ticket(make_client(last_name="AILLEURS", store_id=other_store), "777", store_id=other_store)
    page = client_as("staff").get("/sav/").text
    for column in ("N° fiche", "Client", "Opér.", "Descriptif", "Réparation", "Montant", "Sortie"):
        assert f">{column}<" in page
    for criterion in ("Réparations", "Devis", "Montant de", "N° client", "Prévenu par", "Avec"):
        assert criterion in page
    assert "519688" in page and "12,50" in page and "777" not in page
    assert "777" in client_as("admin").get("/sav/").text


def test_mistyped_amount_is_said_and_kept(client_as):
    response = client_as("staff").get("/sav/?criteres=1&reparations=1&montant_de=douze")
    assert "Montant de : tapez un nombre, par exemple 30,00." in response.text
    assert 'value="douze"' in response.text


def test_one_ticket_sms_and_its_status_in_the_list(
    app, client_as, make_client, ticket, credits_available, redis_client
):
    credits_available(5)
    ticket_id = ticket(make_client(last_name="SALVI"), "518165", client_price=Decimal("30"))
    staff = client_as("staff")
    page = staff.get(f"/sav/sms?ticket_id={ticket_id}")
    assert page.status_code == 200 and "Envoi d'un SMS pour une fiche SAV" in text(page)
    assert "Pensez à vérifier votre crédit de SMS avant l'envoi." in text(page)
    response = staff.post(
        "/sav/sms",
        data={
            "csrf_token": csrf_token(page),
            "ticket_id": ticket_id,
            "kind": "repair",
            "body": "Fiche <NUM> prête, <MONTANT> à régler.",
        },
    )
    assert response.status_code == 302
    assert messages(app) == [(ticket_id, "Fiche 518165 prête, 30,00 € à régler.", "pending")]
    listing = staff.get(response.headers["Location"]).text
    assert "1 SMS envoyé" in listing and "En attente" in listing
    card = text(staff.get(f"/sav/fiches/{ticket_id}"))
    assert "Prévenu par" in card and "En attente" in card
    with app.app_context():
        campaign_id = db.session.scalar(select(Message.campaign_id))
    assert f'href="/rapports/{campaign_id}"' in card
    assert "Prévenir à nouveau par SMS" in card  # a ticket can be told again


def test_a_batch_sends_one_message_per_ticket_of_the_result(
    app, client_as, make_client, ticket, credits_available, redis_client
):
    credits_available(10)
    first = ticket(make_client(), "1001")
    second = ticket(make_client(), "1002")
    no_mobile = ticket(make_client(tel1=""), "1003")
    ticket(make_client(), "1004", status="collected")  # not « Disponible »: not in the batch
    staff = client_as("staff")
    listing = text(staff.get("/sav/?criteres=1&reparations=1&statut=ready"))
    assert "Envoi d'un lot de SMS (3 fiches)" in listing
    page = staff.get("/sav/sms?lot=1&criteres=1&reparations=1&statut=ready")
    assert "Envoi d'un lot de SMS SAV" in text(page)
    assert "Pas de numéro de portable sur la fiche client" in page.text
    data = {"csrf_token": csrf_token(page), "kind": "repair", "body": "Fiche <NUM> prête."}
    data["ticket_id"] = [first, second, no_mobile]
    assert staff.post("/sav/sms", data=data).status_code == 302
    assert messages(app) == [
        (first, "Fiche 1001 prête.", "pending"),
        (second, "Fiche 1002 prête.", "pending"),
    ]


def test_an_empty_message_is_refused_and_the_tickets_stay(
    app, client_as, make_client, ticket, credits_available, redis_client
):
    credits_available(5)
    ticket_id = ticket(make_client(), "55")
    staff = client_as("staff")
    page = staff.get(f"/sav/sms?ticket_id={ticket_id}")
    response = staff.post(
        "/sav/sms",
        data={"csrf_token": csrf_token(page), "ticket_id": ticket_id, "body": "  "},
    )
    assert response.status_code == 422
    assert "Le message est vide" in response.text and 'value="' + str(ticket_id) in response.text


def test_staff_cannot_notify_or_open_another_store_ticket(
    app, client_as, make_client, ticket, other_store, credits_available, redis_client
):
    credits_available(5)
    theirs = ticket(make_client(store_id=other_store), "888", store_id=other_store)
    staff = client_as("staff")
    assert staff.get(f"/sav/fiches/{theirs}").status_code == 404
    page = staff.get("/sav/")
    data = {"csrf_token": csrf_token(page), "ticket_id": theirs, "body": "Fiche <NUM>"}
    staff.post("/sav/sms", data=data)
    assert messages(app) == []


def test_a_post_without_csrf_token_is_refused(app, client_as, make_client, ticket, redis_client):
    ticket_id = ticket(make_client(), "56")
    staff = client_as("staff")
    response = staff.post(
        "/sav/sms", data={"ticket_id": ticket_id, "body": "x"}, follow_redirects=True
    )
    assert "La page avait expiré : recommencez, s'il vous plaît." in text(response)
    assert messages(app) == []


def test_the_imposed_message_is_the_setting_whatever_is_posted(
    app, client_as, make_client, ticket, credits_available, redis_client
):
    credits_available(5)
    with app.app_context():
        settings.put("workshop_return_mode", "imposed")
        settings.put("workshop_return_message", "Réparation <NUM> prête.")
    ticket_id = ticket(make_client(), "3156")
    staff = client_as("staff")
    page = staff.get(f"/sav/sms?ticket_id={ticket_id}&retour=1")
    assert (
        "Message imposé par les paramètres SAV" in page.text
        and "data-composer-body" not in page.text
    )
    data = {"csrf_token": csrf_token(page), "ticket_id": ticket_id, "kind": "workshop_return"}
    staff.post("/sav/sms", data=data | {"body": "Autre chose"})
    assert messages(app) == [(ticket_id, "Réparation 3156 prête.", "pending")]


def test_workshop_return_with_a_mistyped_price_keeps_everything_typed(
    app, client_as, make_client, ticket
):
    ticket_id = ticket(make_client(), "3131", status="at_workshop")
    staff = client_as("staff")
    page = staff.get("/sav/retour-atelier")
    token = csrf_token(page)
    line = staff.post("/sav/retour-atelier/ligne", data={"csrf_token": token, "number": "3131"})
    assert f'name="ticket_id" value="{ticket_id}"' in line.text
    unknown = staff.post("/sav/retour-atelier/ligne", data={"csrf_token": token, "number": "1"})
    assert unknown.headers["HX-Retarget"] == "#return-error"
    assert "Aucune fiche n° 1 dans votre magasin." in unknown.text
    p = f"l{ticket_id}_"
    data = {"csrf_token": token, "ticket_id": ticket_id, p + "workshop_price": "douze"}
    data[p + "comment"] = "Pile changée"
    response = staff.post("/sav/retour-atelier", data=data)
    assert response.status_code == 422
    assert "Prix atelier : tapez un nombre" in response.text
    assert 'value="douze"' in response.text and 'value="Pile changée"' in response.text
    with app.app_context():
        assert db.session.get(RepairTicket, ticket_id).status == "at_workshop"
    data[p + "workshop_price"] = "14,00"
    data[p + "coefficient"] = "2,5"
    response = staff.post("/sav/retour-atelier", data=data)
    assert response.status_code == 302
    assert f"ticket_id={ticket_id}" in response.headers["Location"]
    assert "retour=1" in response.headers["Location"]
    with app.app_context():
        row = db.session.get(RepairTicket, ticket_id)
        assert (row.status, row.client_price, row.workshop_comment) == (
            "ready",
            Decimal("35.00"),
            "Pile changée",
        )


def test_create_edit_send_to_workshop_and_collect_a_ticket(app, client_as, make_client):
    make_client(number="C-9", last_name="HAYAT")
    with app.app_context():
        workshop = Workshop(code="0317", name="Atelier Horlogerie")
        db.session.add(workshop)
        db.session.commit()
        workshop_id = workshop.id
    staff = client_as("staff")
    page = staff.get("/sav/fiches/nouvelle")
    token = csrf_token(page)
    form = {"csrf_token": token, "number": "4000", "client_number": "C-404", "kind": "repair"}
    form |= {"item_description": "Montre femme", "client_price": "trente"}
    response = staff.post("/sav/fiches/nouvelle", data=form)
    assert response.status_code == 422
    assert (
        "Aucun client n° C-404 dans votre magasin : vérifiez le numéro." in text(response)
        and "Montant : tapez un nombre" in response.text
    )
    assert 'value="Montre femme"' in response.text and 'value="trente"' in response.text
    form |= {"client_number": "C-9", "client_price": "45,00"}
    response = staff.post("/sav/fiches/nouvelle", data=form)
    assert response.status_code == 302
    card = staff.get(response.headers["Location"])
    assert "Fiche SAV n° 4000" in card.text and "HAYAT" in card.text
    with app.app_context():
        ticket_id = db.session.scalar(select(RepairTicket.id).where(RepairTicket.number == "4000"))
    url = f"/sav/fiches/{ticket_id}"
    staff.post(url + "/atelier", data={"csrf_token": token, "workshop_id": workshop_id})
    staff.post(url, data=form | {"work_description": "Changer la pile", "workshop_id": workshop_id})
    staff.post(url + "/sortie", data={"csrf_token": token})
    with app.app_context():
        row = db.session.get(RepairTicket, ticket_id)
        assert (row.status, row.workshop_id, row.work_description) == (
            "collected",
            workshop_id,
            "Changer la pile",
        )
        assert row.sent_to_workshop_on == row.collected_on == date.today()
        assert row.client_price == Decimal("45.00")


def test_the_sav_tab_is_for_managers_and_keeps_mistakes(app, client_as, store):
    assert client_as("staff").get("/sav/parametres").status_code == 403
    manager = client_as("manager")
    page = manager.get("/sav/parametres")
    assert "Prévenir les clients des retours atelier" in page.text
    assert "Message à envoyer (message non modifiable)" in page.text
    data = {"csrf_token": csrf_token(page), "mode": "imposed", "body": "Fiche <NUM> prête."}
    data["reminder_body"] = "Fiche <NUM> à récupérer."
    response = manager.post("/sav/parametres", data=data | {"days": "jamais"})
    assert response.status_code == 422
    assert "Relance : tapez un nombre de jours entre 1 et 365." in response.text
    assert "Fiche &lt;NUM&gt; prête." in response.text
    assert manager.post("/sav/parametres", data=data | {"days": "20"}).status_code == 302
    with app.app_context():
        # A manager sets their store's values; the chain's stay as they were.
        assert settings.get("workshop_return_mode", store.id) == "imposed"
        assert settings.get("workshop_return_mode") == "proposed"
        assert settings.get("repair_reminder_days", store.id) == 20


def test_the_list_proposes_the_reminder_in_one_click(app, client_as, make_client, ticket):
    from datetime import timedelta

    ticket(make_client(), "61", returned_on=date.today() - timedelta(days=40))
    page = client_as("staff").get("/sav/").text
    assert "1 réparation disponible attend son client depuis plus de 15 jours." in page
    assert "Relancer ces clients par SMS" in page
    compose = client_as("staff").get(
        "/sav/sms?lot=1&relance=1&criteres=1&reparations=1&devis=1&statut=ready"
    )
    lines = re.findall(r'<tr data-testid="recap-line">(.*?)</tr>', text(compose), re.S)
    assert len(lines) == 1
    assert ">61<" in lines[0] and "votre réparation 61 vous attend en magasin" in lines[0]
    assert "Relancer les clients par SMS" in text(compose)


def test_the_reminder_proposes_the_store_reminder_message(
    app, client_as, make_client, ticket, store
):
    from datetime import timedelta

    with app.app_context():
        settings.put("repair_reminder_message", "Fiche <NUM> : on vous attend !", store_id=store.id)
    ticket(make_client(), "62", returned_on=date.today() - timedelta(days=40))
    compose = client_as("admin").get(
        "/sav/sms?lot=1&relance=1&criteres=1&reparations=1&devis=1&statut=ready"
    )
    assert "Fiche 62 : on vous attend !" in text(compose)


def test_head_office_sets_the_chain_value_that_stores_inherit(app, client_as, store):
    admin = client_as("admin")
    page = admin.get("/sav/parametres")
    assert "Valeurs de l" in page.text
    data = {"csrf_token": csrf_token(page), "mode": "none", "body": "", "days": "30"}
    data["reminder_body"] = "Fiche <NUM> à récupérer."
    assert admin.post("/sav/parametres", data=data).status_code == 302
    with app.app_context():
        assert settings.get("workshop_return_mode", store.id) == "none"
        assert settings.get("repair_reminder_days", store.id) == 30


# --- what the review found ------------------------------------------------------------------


HUGE = "9" * 25


def test_ids_beyond_any_row_are_not_found_not_a_crash(client_as, make_client, ticket):
    staff = client_as("staff")
    assert staff.get(f"/sav/?criteres=1&reparations=1&atelier={HUGE}").status_code == 200
    assert staff.get(f"/sav/sms?ticket_id={HUGE}").status_code == 302
    assert staff.get(f"/sav/fiches/{HUGE}").status_code == 404
    page = staff.get("/sav/retour-atelier")
    response = staff.post(
        "/sav/retour-atelier", data={"csrf_token": csrf_token(page), "ticket_id": HUGE}
    )
    assert response.status_code == 422
    assert "Saisissez au moins un numéro de fiche" in text(response)


def test_forged_ids_of_another_store_change_nothing(
    app, client_as, make_client, ticket, other_store, credits_available, redis_client
):
    credits_available(5)
    theirs = ticket(
        make_client(store_id=other_store, last_name="AILLEURS"),
        "888",
        store_id=other_store,
        status="at_workshop",
    )
    staff = client_as("staff")
    token = csrf_token(staff.get("/sav/"))
    with app.app_context():
        workshop = Workshop(code="01", name="Atelier")
        db.session.add(workshop)
        db.session.commit()
        workshop_id = workshop.id
    url = f"/sav/fiches/{theirs}"
    form = {"csrf_token": token, "number": "888", "client_number": "T000001", "kind": "repair"}
    assert staff.post(url, data=form | {"item_description": "Volé"}).status_code == 404
    to_workshop = {"csrf_token": token, "workshop_id": workshop_id}
    assert staff.post(url + "/atelier", data=to_workshop).status_code == 404
    assert staff.post(url + "/sortie", data={"csrf_token": token}).status_code == 404
    assert staff.post(url + "/annulation", data={"csrf_token": token}).status_code == 404
    p = f"l{theirs}_"
    returned = {"csrf_token": token, "ticket_id": theirs, p + "comment": "x"}
    assert staff.post("/sav/retour-atelier", data=returned).status_code == 422
    recap = staff.post(
        "/sav/sms/apercu", data={"csrf_token": token, "ticket_id": theirs, "body": "Fiche <NUM>"}
    )
    assert "AILLEURS" not in recap.text and "888" not in recap.text
    with app.app_context():
        row = db.session.get(RepairTicket, theirs)
        assert (row.status, row.item_description, row.workshop_comment) == (
            "at_workshop",
            "Montre",
            "",
        )


def test_a_new_ticket_cannot_open_another_store_client(app, client_as, make_client, other_store):
    make_client(number="C-77", store_id=other_store, last_name="AILLEURS")
    staff = client_as("staff")
    page = staff.get("/sav/fiches/nouvelle")
    form = {"csrf_token": csrf_token(page), "number": "5000", "client_number": "C-77"}
    response = staff.post("/sav/fiches/nouvelle", data=form | {"item_description": "Bague"})
    assert response.status_code == 422
    assert "Aucun client n° C-77 dans votre magasin : vérifiez le numéro." in text(response)
    assert "AILLEURS" not in response.text
    with app.app_context():
        assert db.session.scalar(select(RepairTicket.id)) is None


def test_the_send_page_title_is_only_text(client_as, make_client, ticket):
    ticket_id = ticket(make_client(), "90")
    page = client_as("staff").get(f"/sav/sms?ticket_id={ticket_id}").text
    title = re.search(r"<title>(.*?)</title>", page, re.S).group(1)
    assert "Envoi d'un SMS pour une fiche SAV" in html.unescape(title) and "<" not in title
    assert page.count("js/repairs.js") == 1


def test_none_mode_opens_the_workshop_return_sms_empty(app, client_as, make_client, ticket):
    with app.app_context():
        settings.put("workshop_return_mode", "none")
    ticket_id = ticket(make_client(), "91")
    page = text(client_as("staff").get(f"/sav/sms?ticket_id={ticket_id}&retour=1"))
    assert "Prévenir les clients du retour atelier" in page
    assert "Message imposé" not in page and "est disponible en magasin" not in page
    assert "Écrivez le message." in page


def test_head_office_sending_for_a_store_follows_its_imposed_message(
    app, client_as, make_client, ticket, store, credits_available, redis_client
):
    credits_available(5)
    with app.app_context():
        settings.put("workshop_return_mode", "imposed", store_id=store.id)
        settings.put("workshop_return_message", "Fiche <NUM> prête à <MAGASIN>.", store_id=store.id)
    ticket_id = ticket(make_client(), "92")
    admin = client_as("admin")
    page = admin.get(f"/sav/sms?ticket_id={ticket_id}&retour=1")
    assert "Message imposé par les paramètres SAV" in text(page)
    data = {"csrf_token": csrf_token(page), "ticket_id": ticket_id, "kind": "workshop_return"}
    admin.post("/sav/sms", data=data | {"body": "Autre chose"})
    assert messages(app) == [(ticket_id, "Fiche 92 prête à Biarritz.", "pending")]


def test_workshop_return_refuses_an_invented_workshop_and_a_negative_coefficient(
    app, client_as, make_client, ticket
):
    ticket_id = ticket(make_client(), "93", status="at_workshop")
    staff = client_as("staff")
    page = staff.get("/sav/retour-atelier")
    p = f"l{ticket_id}_"
    data = {"csrf_token": csrf_token(page), "ticket_id": ticket_id, p + "workshop_id": "999"}
    data |= {p + "workshop_price": "10", p + "coefficient": "-2"}
    response = staff.post("/sav/retour-atelier", data=data)
    assert response.status_code == 422
    page = text(response)
    assert "Atelier : cet atelier n'existe pas, choisissez-le dans la liste." in page
    assert "Coefficient : un montant ne peut pas être négatif." in page
    assert 'value="-2"' in page
    with app.app_context():
        row = db.session.get(RepairTicket, ticket_id)
        assert (row.status, row.workshop_id, row.client_price) == ("at_workshop", None, None)


def test_the_ticket_form_says_a_wrong_workshop(app, client_as, make_client):
    make_client(number="C-5")
    staff = client_as("staff")
    page = staff.get("/sav/fiches/nouvelle")
    form = {"csrf_token": csrf_token(page), "number": "6000", "client_number": "C-5"}
    form |= {"item_description": "Bague", "workshop_id": "999"}
    response = staff.post("/sav/fiches/nouvelle", data=form)
    assert response.status_code == 422
    assert 'id="workshop_id-error"' in response.text
    assert "Cet atelier n'existe pas : choisissez-le dans la liste." in text(response)


def test_a_ticket_is_cancelled_from_its_card_after_confirming(app, client_as, make_client, ticket):
    ticket_id = ticket(make_client(), "94", status="open")
    staff = client_as("staff")
    card = staff.get(f"/sav/fiches/{ticket_id}")
    assert "Le client a repris son article ?" in text(card) and "Annuler la fiche n° 94 ?" in text(
        card
    )
    response = staff.post(
        f"/sav/fiches/{ticket_id}/annulation",
        data={"csrf_token": csrf_token(card)},
        follow_redirects=True,
    )
    assert "Fiche n° 94 annulée." in text(response)
    with app.app_context():
        assert db.session.get(RepairTicket, ticket_id).status == "cancelled"


def test_the_reminder_filter_is_a_chip_that_locks_the_status(client_as, make_client, ticket):
    from datetime import timedelta

    ticket(make_client(), "95", returned_on=date.today() - timedelta(days=40))
    ticket(make_client(), "96", status="open", returned_on=date.today() - timedelta(days=40))
    page = text(client_as("staff").get("/sav/?relance=1&criteres=1&reparations=1&statut=all"))
    assert 'data-testid="reminder-chip"' in page and "Retirer le filtre « À relancer »" in page
    assert 'name="statut" disabled' in page
    assert 'data-ticket="95"' in page and 'data-ticket="96"' not in page


def test_the_sav_tab_checks_the_messages_and_pins_nothing_unchanged(app, client_as, store):
    manager = client_as("manager")
    page = manager.get("/sav/parametres")
    data = {"csrf_token": csrf_token(page), "mode": "proposed", "days": "15"}
    data |= {"body": "Fiche <NUMERO> prête.", "reminder_body": "Passez ! " * 40}
    response = manager.post("/sav/parametres", data=data)
    assert response.status_code == 422
    page = text(response)
    assert (
        "Expression inconnue : <NUMERO>" in page
        and "Message de relance : Le message dépasse" in page
    )
    with app.app_context():
        data["body"] = settings.get("workshop_return_message")
        data["reminder_body"] = settings.get("repair_reminder_message")
    response = manager.post("/sav/parametres", data=data, follow_redirects=True)
    assert "Aucune modification." in text(response)
    with app.app_context():
        # Nothing pinned on the store: a later chain change still reaches it.
        assert not settings.is_set("workshop_return_mode", store.id)
        settings.put("workshop_return_mode", "imposed")
        assert settings.get("workshop_return_mode", store.id) == "imposed"


def test_head_office_chooses_the_store_of_a_new_ticket(app, client_as, make_client, other_store):
    make_client(number="C-8", last_name="DUPRE")
    admin = client_as("admin")
    page = admin.get("/sav/fiches/nouvelle")
    assert "Magasin de la fiche" in text(page)
    form = {"csrf_token": csrf_token(page), "number": "7000", "client_number": "C-8"}
    form |= {"item_description": "Collier", "store_id": other_store}
    assert admin.post("/sav/fiches/nouvelle", data=form).status_code == 302
    with app.app_context():
        assert db.session.scalar(select(RepairTicket.store_id)) == other_store
    assert "Magasin de la fiche" not in text(client_as("staff").get("/sav/fiches/nouvelle"))


def test_the_list_respects_the_current_client_selection_and_finds_numbers_without_zeros(
    app, client_as, users, make_client, ticket
):
    from shopsms import selection
    from shopsms.models import User
    from shopsms.services import recipients

    ticket(make_client(last_name="RUSSELLO", number="0000888"), "519688")
    ticket(make_client(last_name="ASLAN", number="0000889"), "518187")
    staff = client_as("staff")
    page = text(staff.get("/sav/"))
    assert "Respecter les critères de sélection" in page
    assert "Aucune sélection en cours : faites-en une dans Campagnes" in page
    assert re.search(r'<input type="checkbox" id="repair-selection"[^>]*disabled', page)
    with app.app_context():
        person = db.session.get(User, users["staff"].id)
        draft_id = recipients.draft_from_selection(person, selection.Criteria(name="RUSS")).id
    page = text(staff.get("/sav/"))
    assert "Sélection en cours : 1 destinataire, liste du" in page
    assert f'name="selection" value="{draft_id}"' in page
    base = "/sav/?criteres=1&reparations=1&statut=ready"
    both = text(staff.get(base))
    assert 'data-ticket="519688"' in both and 'data-ticket="518187"' in both
    kept = text(staff.get(f"{base}&selection={draft_id}"))
    assert 'data-ticket="519688"' in kept and 'data-ticket="518187"' not in kept
    assert re.search(r'id="repair-selection"[^>]*checked', kept)
    # The batch goes to the same tickets.
    batch = staff.get(f"/sav/sms?lot=1&criteres=1&reparations=1&statut=ready&selection={draft_id}")
    assert "519688" in batch.text and "518187" not in batch.text
    refused = text(staff.get(f"{base}&selection=999999"))
    assert "Cette sélection de clients n'existe pas ou n'est pas de votre magasin." in refused
    assert 'data-ticket="518187"' in refused  # not restricted, and said so
    for typed in ("888", "0000888", "00888"):
        found = text(staff.get(f"{base}&client={typed}"))
        assert 'data-ticket="519688"' in found and 'data-ticket="518187"' not in found


def test_the_composer_counts_on_the_tickets_clients_the_person_may_act_on(
    app, client_as, make_client, ticket, other_store
):
    mine = ticket(make_client(civility="Madame", last_name="FONTAINE"), "3131")
    theirs = ticket(make_client(store_id=other_store), "4141", store_id=other_store)
    staff = client_as("staff")
    token = csrf_token(staff.get(f"/sav/sms?ticket_id={mine}"))
    form = {
        "csrf_token": token,
        "kind": "repair",
        "body": "Bonjour <GEN> <NOMPROPRE>, fiche <NUM>.",
    }
    preview = text(staff.post("/composer/apercu", data=form | {"ticket_id": [mine]}))
    assert "Bonjour Madame Fontaine, fiche 3131." in preview
    assert "client exemple" not in preview
    # Another store's ticket gives nothing away: no recipient, no text.
    forged = text(staff.post("/composer/apercu", data=form | {"ticket_id": [theirs]}))
    assert "4141" not in forged and "Aucun destinataire trouvé." in forged
    replaced = staff.post("/composer/remplacer", data=form | {"ticket_id": [mine]})
    assert replaced.headers["HX-Trigger-After-Settle"] == "composer-replaced"


def test_the_sav_buttons_say_their_keys_as_the_seed_does(client_as, make_client, ticket):
    ticket_id = ticket(make_client(), "3156", status="at_workshop")
    staff = client_as("staff")
    pages = {
        "/sav/": ["F2 – Rechercher"],
        "/sav/retour-atelier": ["Échap – Fermer", "F2 – Valider le retour"],
        f"/sav/sms?ticket_id={ticket_id}": ["Échap – Fermer", "F2 – Envoyer"],
        f"/sav/fiches/{ticket_id}": ["Échap – Fermer", "F2 – Enregistrer"],
    }
    for path, labels in pages.items():
        page = text(staff.get(path))
        for label in labels:
            key = "Escape" if label.startswith("Échap") else "F2"
            assert re.search(rf'data-hotkey="{key}"[^>]*>{label}<', page), (path, label)


def test_the_ticket_form_says_a_workshop_that_is_not_one_of_the_list(client_as, make_client):
    make_client(number="C-5")
    staff = client_as("staff")
    page = staff.get("/sav/fiches/nouvelle")
    form = {"csrf_token": csrf_token(page), "number": "6001", "client_number": "C-5"}
    form |= {"item_description": "Bague", "workshop_id": "12a", "deposit": "10,50 €"}
    response = staff.post("/sav/fiches/nouvelle", data=form)
    assert response.status_code == 422
    assert 'aria-describedby="workshop_id-error"' in response.text
    assert "Cet atelier n'existe pas : choisissez-le dans la liste." in text(response)
    assert 'value="10,50"' in response.text  # « 10,50 € » read by the one amount reading
