"""The compose screens at the counter: a single SMS over « Parties par message au plus »
is refused as the campaign and SAV screens refuse it; Esc with typed text asks before
leaving."""

import re
from urllib.parse import quote

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from shopsms.extensions import db
from shopsms.models import Campaign
from tests.conftest import PASSWORD, run_preparation

pytestmark = pytest.mark.browser


def log_in(page, live_server, next_url, username="vendeur"):
    page.goto(f"{live_server}/connexion?next={quote(next_url)}")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.keyboard.press("F2")
    page.wait_for_url(live_server + next_url)


def campaigns_count(app):
    with app.app_context():
        return db.session.scalar(select(func.count(Campaign.id)))


def test_a_single_sms_of_161_characters_is_refused(
    app, live_server, page, users, make_client, credits_available
):
    credits_available(10)
    client_id = make_client(last_name="RFI", first_name="Sabine", tel1="06 24 06 13 93")
    log_in(page, live_server, f"/clients/{client_id}")
    page.wait_for_load_state()
    page.keyboard.press("F9")
    page.wait_for_url(f"{live_server}/clients/{client_id}/sms")
    text = page.get_by_label("Message", exact=True)
    send = page.get_by_role("button", name="F2 – Envoyer le SMS")

    text.fill("a" * 160)
    expect(page.get_by_test_id("chars")).to_have_text("160 / 160")
    expect(send).to_be_enabled()
    text.press("End")
    page.keyboard.type("b")
    expect(page.get_by_test_id("chars")).to_have_text("161 / 160")
    expect(page.get_by_test_id("parts")).to_have_text("2 SMS")
    expect(page.get_by_test_id("over-limit")).to_have_text(
        "Message trop long de 1 caractère : 160 caractères au plus (1 SMS). "
        "Raccourcissez le texte ou retirez des expressions génériques."
    )
    expect(send).to_be_disabled()
    page.keyboard.press("F2")  # the shortcut finds the button disabled: nothing goes
    expect(page).to_have_url(f"{live_server}/clients/{client_id}/sms")
    assert campaigns_count(app) == 0

    # With STOP, 149 characters of text: the same rule as a marketing campaign's.
    page.get_by_label("Insérer le STOP SMS").check()
    text.fill("a" * 150)
    expect(page.get_by_test_id("over-limit")).to_contain_text(
        "Message trop long de 1 caractère : 149 caractères au plus avec la mention STOP (1 SMS)."
    )
    expect(send).to_be_disabled()
    page.keyboard.press("Backspace")
    expect(page.get_by_test_id("over-limit")).to_have_count(0)
    expect(send).to_be_enabled()
    page.keyboard.press("F2")
    page.wait_for_url(f"{live_server}/clients/{client_id}")
    assert campaigns_count(app) == 1


def test_esc_with_typed_text_asks_before_leaving(live_server, page, users, make_client):
    client_id = make_client(last_name="RFI", first_name="Sabine", tel1="06 24 06 13 93")
    card, sms = f"{live_server}/clients/{client_id}", f"{live_server}/clients/{client_id}/sms"
    log_in(page, live_server, f"/clients/{client_id}/sms")
    page.wait_for_load_state()
    question = page.get_by_role("dialog", name="Abandonner le message ?")

    # Nothing typed: Esc leaves at once, as today.
    page.keyboard.press("Escape")
    page.wait_for_url(card)
    expect(question).to_have_count(0)

    page.goto(sms)
    page.wait_for_load_state()
    text = page.get_by_label("Message", exact=True)
    text.fill("Bonjour Sabine, votre bague est prête.")
    page.keyboard.press("Escape")
    expect(question).to_be_visible()
    expect(question).to_contain_text("Le texte tapé sera perdu.")
    page.keyboard.press("Escape")  # Esc again: back to the text, nothing lost
    expect(question).to_be_hidden()
    expect(page).to_have_url(sms)
    expect(text).to_have_value("Bonjour Sabine, votre bague est prête.")

    # A dialog of the composer open: Esc closes it, and asks nothing.
    page.get_by_role("button", name="Liste des expressions génériques").click()
    expressions = page.get_by_role("dialog", name="Expressions génériques")
    expect(expressions).to_be_visible()
    page.keyboard.press("Escape")
    expect(expressions).to_be_hidden()
    expect(question).to_be_hidden()

    page.keyboard.press("Escape")
    question.get_by_role("button", name="Abandonner le message").click()
    page.wait_for_url(card)

    # Elsewhere Esc closes as today: the card goes back to the list.
    page.wait_for_load_state()
    page.keyboard.press("Escape")
    page.wait_for_url(f"{live_server}/clients/")


def test_esc_on_the_sav_screen_asks_only_once_the_proposed_text_changed(
    app, live_server, page, users, make_client, store
):
    from shopsms.models import RepairTicket

    with app.app_context():
        ticket = RepairTicket(
            number="500347",
            client_id=make_client(tel1="06 24 06 13 93"),
            store_id=store.id,
            item_description="Montre",
            status="ready",
        )
        db.session.add(ticket)
        db.session.commit()
        ticket_id = ticket.id
    url = f"/sav/sms?ticket_id={ticket_id}&relance=1"
    log_in(page, live_server, url)
    page.wait_for_load_state()
    text = page.get_by_label("Message", exact=True)
    expect(text).not_to_have_value("")  # the SAV tab's proposed message
    page.keyboard.press("Escape")  # untouched: nothing typed is lost
    page.wait_for_url(re.compile(r"/sav/?$"))

    page.goto(live_server + url)
    page.wait_for_load_state()
    text.press("Control+End")
    page.keyboard.type(" Merci !")
    page.keyboard.press("Escape")
    question = page.get_by_role("dialog", name="Abandonner le message ?")
    expect(question).to_be_visible()
    question.get_by_role("button", name="Échap – Continuer la saisie").click()
    expect(question).to_be_hidden()
    expect(text).to_have_value(re.compile(r" Merci !$"))


def test_a_campaign_names_who_is_too_long_and_writes_names_in_gsm_in_one_click(
    app, live_server, page, users, make_client, credits_available, redis_client
):
    from shopsms import selection
    from shopsms.models import DraftRecipient, Message, User
    from shopsms.services import recipients, settings

    credits_available(100)
    francoise = make_client(
        civility="Madame",
        first_name="FRANÇOISE",
        last_name="ARTOLA",
        tel1="06 11 00 00 01",
        postal_code="64200",
    )
    make_client(
        civility="Madame",
        first_name="ADÉLAÏDE",
        last_name="BERGARA",
        tel1="06 11 00 00 02",
        postal_code="64200",
    )
    make_client(
        civility="Monsieur",
        first_name="MARC",
        last_name="DUPONT",
        tel1="06 11 00 00 03",
        postal_code="64200",
    )
    with app.app_context():
        for key, value in (
            ("sending_days", [0, 1, 2, 3, 4, 5, 6]),
            ("sending_start", "00:00"),
            ("sending_end", "23:59"),
        ):
            settings.put(key, value)
        staff = db.session.get(User, users["staff"].id)
        campaign_id = recipients.draft_from_selection(
            staff, selection.Criteria(postal_code="64")
        ).id
    log_in(page, live_server, f"/campagnes/{campaign_id}")
    text = page.get_by_label("Message", exact=True)
    text.fill("Bonjour <PRENOM>, nos soldes d'hiver commencent samedi dans votre bijouterie.")

    over = page.get_by_test_id("over-list")
    expect(page.get_by_test_id("over-limit")).to_contain_text(
        "2 destinataires ont un texte trop long : jusqu'à 19 caractères de trop pour 1 SMS."
    )
    expect(over.locator("li")).to_have_count(2)
    expect(over.locator("li").first).to_have_text(
        "ARTOLA FRANÇOISE : 89 caractères, 19 caractères de trop"
    )
    card = page.get_by_test_id("card-unicode")
    expect(card).to_contain_text("2 destinataires reçoivent ce SMS en Unicode")
    expect(card.get_by_test_id("card-unicode-list")).to_contain_text("ARTOLA FRANÇOISE ç")
    expect(card.get_by_test_id("card-unicode-list")).to_contain_text("BERGARA ADÉLAÏDE ï")
    expect(page.get_by_test_id("credits-needed")).to_have_text("5")
    expect(page.get_by_test_id("gsm-names")).to_contain_text("(5 crédits → 3 crédits)")

    page.get_by_role("button", name="Écrire les noms sans accents dans ce SMS").click()
    expect(page.get_by_test_id("gsm-names-on")).to_be_visible()
    expect(page.get_by_test_id("over-limit")).to_have_count(0)
    expect(page.get_by_test_id("card-unicode")).to_have_count(0)
    expect(page.get_by_test_id("credits-needed")).to_have_text("3")
    expect(text).to_have_value(
        "Bonjour <PRENOM>, nos soldes d'hiver commencent samedi dans votre bijouterie."
    )

    page.keyboard.press("F2")
    page.wait_for_url(f"{live_server}/campagnes/{campaign_id}")
    expect(page.get_by_text("Envoi en préparation")).to_be_visible()
    assert run_preparation(app, campaign_id) == "queued"  # what a worker does next
    with app.app_context():
        texts = {
            row.client_id: row.text
            for table in (Message, DraftRecipient)
            for row in db.session.query(table).filter(table.campaign_id == campaign_id)
        }
        assert texts[francoise].startswith("Bonjour Francoise, nos soldes")
        from shopsms.models import Client

        assert db.session.get(Client, francoise).first_name == "FRANÇOISE"
