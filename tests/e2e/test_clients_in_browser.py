"""At the counter, on the tablet: find a client by part of their phone number, open the
card, F9, write with <PRENOM>, send, and watch it delivered on the card and on the
test phone; a client with only a landline cannot be sent an SMS, and is told why."""

import pytest
from playwright.sync_api import expect

from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser


def log_in(page, live_server, next_url):
    page.goto(f"{live_server}/connexion?next={next_url}")
    page.fill("#username", "vendeur")
    page.fill("#password", PASSWORD)
    page.keyboard.press("F2")
    page.wait_for_url(live_server + next_url)


def test_find_by_phone_press_f9_send_and_see_it_delivered(
    live_server, page, users, make_client, credits_available, worker
):
    credits_available(20)
    make_client(last_name="DUPONTEL", first_name="Marc", tel1="06 11 22 33 44")
    make_client(last_name="RFI", first_name="sabine", tel1="06.24.06.13.93", city="Biarritz")
    log_in(page, live_server, "/clients/")

    page.get_by_role("searchbox", name="Rechercher un client").press_sequentially(
        "0613 93", delay=30
    )
    results = page.locator("#client-results tbody tr")
    expect(results).to_have_count(1)
    expect(results).to_contain_text("RFI")
    results.get_by_role("link", name="RFI").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("RFI")
    expect(page.locator('[data-consent="sms"]')).to_have_class("consent-yes")

    page.wait_for_load_state()  # the shortcuts' script runs once the page has loaded
    page.keyboard.press("F9")
    expect(page.get_by_role("heading", name="Envoi d'un SMS")).to_be_visible()
    message = page.get_by_label("Message", exact=True)
    message.click()
    page.keyboard.type("Bonjour ", delay=10)
    page.get_by_role("button", name="<PRENOM>", exact=True).click()
    page.keyboard.type(", votre montre est prete. Bijouterie Biarritz", delay=10)
    expect(page.get_by_test_id("final-text")).to_contain_text("Bonjour Sabine, votre montre")
    page.keyboard.press("F2")

    expect(page.get_by_text("SMS envoyé à RFI Sabine.")).to_be_visible()
    history = page.locator("#client-actions")
    sent = "Bonjour Sabine, votre montre est prete. Bijouterie Biarritz"
    expect(history.locator("tbody tr").first).to_contain_text(sent)
    # The list polls until the delivery report is in, without a reload.
    expect(history.locator("tbody tr").first.locator(".state")).to_have_text(
        "Délivré", timeout=30_000
    )
    expect(history).not_to_have_attribute("hx-trigger", "every 2s")

    page.goto(f"{live_server}/telephone-de-test/")
    page.get_by_role("link", name="06 24 06 13 93").click()
    bubble = page.locator(".bubble.received").last
    expect(bubble).to_contain_text(sent)
    expect(bubble.locator(".state")).to_have_text("Délivré")


def test_a_landline_client_gets_the_disabled_button_and_why(live_server, page, users, make_client):
    client_id = make_client(last_name="FIXE", tel1="05 59 24 00 00")
    log_in(page, live_server, f"/clients/{client_id}")
    button = page.get_by_role("button", name="F9 – Envoi d'un SMS")
    expect(button).to_be_disabled()
    expect(page.locator("#sms-block")).to_have_text("Numéro fixe, pas un portable : 05 59 24 00 00")
    page.wait_for_load_state()
    asked = []
    page.on("request", lambda request: asked.append(request.url))
    page.keyboard.press("F9")  # nothing happens: no request for the send page, no navigation
    page.wait_for_timeout(700)
    assert not [url for url in asked if "/sms" in url]
    expect(page).to_have_url(f"{live_server}/clients/{client_id}")
    # the hotkey itself works on this page: Esc closes the card
    page.keyboard.press("Escape")
    expect(page).to_have_url(f"{live_server}/clients/")
