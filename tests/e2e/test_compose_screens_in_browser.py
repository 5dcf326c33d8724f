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
from tests.conftest import PASSWORD

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
