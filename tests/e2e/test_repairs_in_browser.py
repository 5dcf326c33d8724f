"""« Retour atelier » at the tablet: three tickets come back, the clients with a mobile
get the proposed message with their own ticket number, the tickets show « Prévenu par
SMS »; with the imposed message, nobody can change the text."""

import re
from decimal import Decimal

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from shopsms.extensions import db
from shopsms.models import RepairTicket, Workshop
from shopsms.queue import get_queue
from shopsms.services import settings
from shopsms.worker import Worker
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser


@pytest.fixture
def returned_tickets(app, store, make_client):
    """Three tickets at the workshop; the third client has only a landline."""
    vidal = make_client(
        civility="Monsieur", first_name="Augustin", last_name="VIDAL", tel1="07 55 55 66 66"
    )
    fontaine = make_client(
        civility="Madame", first_name="Florine", last_name="FONTAINE", tel1="06 14 01 02 02"
    )
    portefoix = make_client(
        civility="Monsieur", first_name="Bernard", last_name="PORTEFOIX", tel1="05 59 01 01 01"
    )
    with app.app_context():
        workshop = Workshop(code="0307", name="Atelier Jérôme", default_coefficient=Decimal("2.5"))
        db.session.add(workshop)
        db.session.flush()
        for number, client_id in (("3156", vidal), ("3131", fontaine), ("2639", portefoix)):
            db.session.add(
                RepairTicket(
                    number=number,
                    client_id=client_id,
                    store_id=store.id,
                    status="at_workshop",
                    item_description="Montre",
                    workshop_id=workshop.id,
                )
            )
        db.session.commit()


def log_in(page, live_server, target):
    page.goto(live_server + "/connexion?next=" + target)
    page.fill("#username", "vendeur")
    page.fill("#password", PASSWORD)
    page.keyboard.press("F2")
    page.wait_for_url(live_server + target)


def scan(page, number):
    page.get_by_label("N° fiche SAV").fill(number)
    page.keyboard.press("Enter")
    expect(page.locator(f'[data-testid="return-line"][data-ticket="{number}"]')).to_be_visible()
    expect(page.get_by_label("N° fiche SAV")).to_have_value("")  # ready for the next scan


def run_worker(app):
    with app.app_context():
        queue = get_queue()
        Worker([queue], connection=queue.connection).work(burst=True)


def test_workshop_return_of_three_tickets_notifies_the_two_clients_with_a_mobile(
    app, live_server, page, users, returned_tickets, credits_available, redis_client
):
    credits_available(20)
    log_in(page, live_server, "/sav/retour-atelier")
    for number in ("3156", "3131", "2639"):
        scan(page, number)
    lines = page.get_by_test_id("return-line")
    expect(lines).to_have_count(3)
    expect(lines.filter(has_text="PORTEFOIX")).to_contain_text("Pas de numéro de portable")

    # A number typed wrong is said in place and stays typed, to be corrected.
    page.get_by_label("N° fiche SAV").fill("99999")
    page.keyboard.press("Enter")
    expect(page.get_by_role("alert").filter(has_text="Aucune fiche n° 99999")).to_be_visible()
    expect(page.get_by_label("N° fiche SAV")).to_have_value("99999")
    expect(lines).to_have_count(3)

    vidal = lines.filter(has_text="VIDAL")
    vidal.get_by_label("Prix atelier").fill("12,00")  # the workshop's price
    expect(vidal.get_by_label("Prix client")).to_have_attribute("placeholder", "30,00")
    # Enter in a line (a scanner's) does not validate the return: only F2 or the button.
    vidal.get_by_label("Prix atelier").press("Enter")
    page.wait_for_timeout(300)
    expect(page).to_have_url(live_server + "/sav/retour-atelier")
    expect(lines).to_have_count(3)

    page.keyboard.press("F2")  # « Valider le retour »
    expect(
        page.get_by_role("heading", name="Prévenir les clients du retour atelier")
    ).to_be_visible()
    message = page.get_by_label("Message", exact=True)
    expect(message).to_have_value(re.compile(r"votre réparation <NUM> est disponible"))
    expect(message).to_be_editable()  # the proposed message can be changed
    recap = page.get_by_test_id("recap-line")
    expect(recap).to_have_count(2)
    expect(recap.filter(has_text="3156")).to_contain_text(
        "Bonjour Monsieur Vidal, votre réparation 3156 est disponible en magasin."
    )
    expect(recap.filter(has_text="3131")).to_contain_text("Madame Fontaine, votre réparation 3131")
    apart = page.get_by_test_id("unreachable")
    expect(apart).to_contain_text("2639")
    expect(apart).to_contain_text("Pas de numéro de portable sur la fiche client")
    expect(page.get_by_text("Pensez à vérifier votre crédit de SMS avant l'envoi.")).to_be_visible()

    # Proposed, so editable: each client's text follows what is typed.
    message.fill("Bonjour <GEN> <NOMPROPRE>, votre réparation <NUM> est arrivée. Bijouterie Lumen")
    expect(recap.filter(has_text="3156")).to_contain_text(
        "Bonjour Monsieur Vidal, votre réparation 3156 est arrivée. Bijouterie Lumen"
    )
    page.get_by_role("button", name="Envoyer").click()
    expect(page.get_by_text("2 SMS envoyés")).to_be_visible()
    run_worker(app)

    page.goto(live_server + "/telephone-de-test/")
    phones = page.locator(".phone-list li")
    expect(phones).to_have_count(2)
    expect(phones.filter(has_text="07 55 55 66 66")).to_contain_text(
        "Bonjour Monsieur Vidal, votre réparation 3156 est arrivée."
    )
    expect(phones.filter(has_text="06 14 01 02 02")).to_contain_text(
        "Bonjour Madame Fontaine, votre réparation 3131 est arrivée."
    )

    page.goto(live_server + "/sav/")
    for number in ("3156", "3131"):
        notified = page.locator(f'tr[data-ticket="{number}"] [data-testid="notified"]')
        expect(notified).to_contain_text("SMS")
        expect(notified).to_contain_text(re.compile("Envoyé|Délivré"))
    expect(page.locator('tr[data-ticket="2639"] [data-testid="notified"]')).to_have_text("")


def test_the_imposed_message_cannot_be_edited(
    app, live_server, page, users, returned_tickets, credits_available, redis_client
):
    credits_available(20)
    with app.app_context():
        settings.put("workshop_return_mode", "imposed")
        settings.put("workshop_return_message", "Votre réparation <NUM> est prête. Bijouterie")
    log_in(page, live_server, "/sav/retour-atelier")
    scan(page, "3156")
    page.get_by_role("button", name="Valider le retour").click()
    imposed = page.get_by_test_id("imposed-message")
    expect(imposed).to_have_value("Votre réparation <NUM> est prête. Bijouterie")
    expect(imposed).not_to_be_editable()
    expect(page.locator("[data-composer-body]")).to_have_count(0)
    expect(page.get_by_test_id("recap-line")).to_contain_text("Votre réparation 3156 est prête.")
    page.get_by_role("button", name="Envoyer").click()
    expect(page.get_by_text("1 SMS envoyé")).to_be_visible()
    with app.app_context():
        from shopsms.models import Message

        assert [m.text for m in db.session.query(Message)] == [
            "Votre réparation 3156 est prête. Bijouterie"
        ]


def test_handing_back_a_repair_asks_to_confirm(app, live_server, page, users, returned_tickets):
    with app.app_context():
        ticket_id = db.session.query(RepairTicket.id).filter_by(number="3156").scalar()
    log_in(page, live_server, f"/sav/fiches/{ticket_id}")
    page.get_by_role("button", name="Marquer comme rendue au client").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("Le client a repris son article ?")
    page.keyboard.press("Escape")  # changed their mind: nothing happens
    expect(dialog).to_be_hidden()
    page.get_by_role("button", name="Marquer comme rendue au client").click()
    page.get_by_role("button", name="Confirmer : rendue au client").click()
    expect(page.get_by_text("Fiche n° 3156 rendue au client.")).to_be_visible()
    with app.app_context():
        assert db.session.get(RepairTicket, ticket_id).status == "collected"


def test_workshop_return_refuses_a_ticket_already_available_unless_asked_to_tell_again(
    app,
    live_server,
    page,
    users,
    store,
    make_client,
    returned_tickets,
    credits_available,
    redis_client,
):
    from datetime import date, datetime

    credits_available(20)
    told = make_client(
        civility="Madame", first_name="Sabine", last_name="RFI", tel1="06 24 06 13 93"
    )
    with app.app_context():
        db.session.add(
            RepairTicket(
                number="500347",
                client_id=told,
                store_id=store.id,
                status="ready",
                item_description="Bague",
                returned_on=date(2026, 3, 11),
                notified_by="sms",
                notified_at=datetime(2026, 3, 12, 9, 15),  # 10:15 in Paris
            )
        )
        db.session.commit()
    log_in(page, live_server, "/sav/retour-atelier")
    page.get_by_label("N° fiche SAV").fill("500347")
    page.keyboard.press("Enter")
    refusal = page.get_by_test_id("return-refusal")
    expect(refusal).to_contain_text(
        "Fiche 500347 : déjà disponible, prévenue le 12/03/2026 à 10:15."
    )
    lines = page.get_by_test_id("return-line")
    expect(lines).to_have_count(0)
    scan(page, "3156")
    expect(refusal).to_have_count(0)  # the next scan clears the refusal
    page.keyboard.press("F2")
    recap = page.get_by_test_id("recap-line")
    expect(recap).to_have_count(1)
    expect(recap).to_contain_text("3156")
    page.get_by_role("button", name="Envoyer").click()
    expect(page.get_by_text("1 SMS envoyé")).to_be_visible()

    # Asked for explicitly, the available ticket comes, its return left as recorded.
    page.goto(live_server + "/sav/retour-atelier")
    page.get_by_label("N° fiche SAV").fill("500347")
    page.keyboard.press("Enter")
    page.get_by_role("button", name="Prévenir le client de nouveau").click()
    line = page.locator('[data-testid="return-line"][data-ticket="500347"]')
    expect(line).to_contain_text("Déjà disponible")
    expect(line).to_contain_text("Son client sera prévenu de nouveau.")
    expect(page.get_by_test_id("return-refusal")).to_have_count(0)
    expect(page.get_by_label("N° fiche SAV")).to_be_focused()
    page.keyboard.press("F2")
    expect(
        page.get_by_text("1 fiche déjà disponible : son retour reste tel qu'enregistré")
    ).to_be_visible()
    expect(recap).to_have_count(1)
    expect(recap).to_contain_text("Bonjour Madame Rfi, votre réparation 500347 est disponible")
    page.get_by_role("button", name="Envoyer").click()
    expect(page.get_by_text("1 SMS envoyé")).to_be_visible()
    run_worker(app)
    page.goto(live_server + "/telephone-de-test/")
    phones = page.locator(".phone-list li")
    expect(phones).to_have_count(2)
    expect(phones.filter(has_text="06 24 06 13 93")).to_contain_text("1 SMS")
    with app.app_context():
        row = db.session.scalar(select(RepairTicket).where(RepairTicket.number == "500347"))
        assert row.returned_on == date(2026, 3, 11)


def test_after_replacing_special_characters_both_panels_count_the_same(
    app, live_server, page, users, store, make_client, credits_available, redis_client
):
    credits_available(20)
    client_id = make_client(
        civility="Mademoiselle", first_name="Adélaïde", last_name="ETCHEVERRY-DUHALDE"
    )
    with app.app_context():
        ticket = RepairTicket(
            number="5003471234",
            client_id=client_id,
            store_id=store.id,
            status="ready",
            item_description="Montre",
        )
        db.session.add(ticket)
        db.session.commit()
        ticket_id = ticket.id
    log_in(page, live_server, f"/sav/sms?ticket_id={ticket_id}")
    # 145 characters for the example client, 166 for this one once <NUM> and her name
    # are in: the counter must be hers, as the ticket list's.
    page.get_by_label("Message", exact=True).fill(
        "Bonjour <GEN> <NOMPROPRE>, votre réparation <NUM> est prête : passez la chercher "
        "avec votre ticket quand vous voulez, nous vous attendons. L’équipe"
    )
    line = page.get_by_test_id("recap-line")
    expect(line).to_contain_text("(3 crédits)")
    expect(page.get_by_test_id("parts")).to_have_text("3 SMS")
    page.get_by_test_id("replace").click()
    expect(page.get_by_text("Caractères spéciaux remplacés : 3 SMS → 2 SMS.")).to_be_visible()
    expect(page.get_by_test_id("parts")).to_have_text("2 SMS")
    expect(page.get_by_test_id("final-text")).to_contain_text(
        "Bonjour Mademoiselle Etcheverry-Duhalde, votre réparation 5003471234"
    )
    expect(page.get_by_test_id("over-limit")).to_be_visible()
    expect(line).to_contain_text("L'équipe (2 crédits)")
    expect(page.get_by_test_id("recap-credits")).to_have_text("2")
    expect(page.locator("#repair-recap [role=alert]")).to_contain_text("1 texte dépasse")
