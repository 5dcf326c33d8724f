"""The compose screens at the counter: a single SMS over « Parties par message au plus »
is refused as the campaign and SAV screens refuse it; Esc with typed text asks before
leaving."""

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from shopsms.extensions import db
from shopsms.models import Campaign
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser


def log_in(page, live_server, next_url, username="vendeur"):
    page.goto(f"{live_server}/connexion?next={next_url}")
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
