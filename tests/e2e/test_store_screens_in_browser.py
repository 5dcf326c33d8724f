"""What every store sees at the tablet and on a phone: the header, the test phone, the
banners that say a store cannot send, and targets big enough for a finger."""

import pytest
from playwright.sync_api import expect

from shopsms.extensions import db
from shopsms.models import RepairTicket
from shopsms.services import campaigns
from shopsms.services.campaigns import Recipient
from shopsms.services.sending import send_next_batch
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser


def log_in(page, live_server, username="vendeur", target="/"):
    page.goto(live_server + "/connexion?next=" + target)
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.keyboard.press("F2")
    page.wait_for_url(live_server + target)


def test_the_test_phone_counts_every_sms_of_a_number(
    app, live_server, page, users, make_client, credits_available, redis_client
):
    credits_available(10)
    client_id = make_client(tel1="06 12 34 56 78")
    with app.app_context():
        for n in range(4):
            campaign = campaigns.draft(
                "single", body=f"Message {n + 1}", recipients=[Recipient(client_id=client_id)]
            )
            campaigns.queue_now(campaign.id)
            send_next_batch(campaign.id)
    log_in(page, live_server, target="/telephone-de-test/")
    line = page.locator(".phone-list li").filter(has_text="06 12 34 56 78")
    expect(line).to_contain_text("4 SMS")
    expect(line).to_contain_text("Message 4")
    line.click()
    expect(page.locator(".bubble.received")).to_have_count(4)


def test_the_platform_switch_hint_says_what_its_position_does(live_server, page, users):
    log_in(page, live_server, "siege", "/parametres/magasins")
    switch = page.get_by_role("switch", name="Activer la « Liaison plate-forme de services »")
    on, off = page.get_by_test_id("platform-hint-on"), page.get_by_test_id("platform-hint-off")
    expect(switch).to_be_checked()
    expect(on).to_be_visible()
    expect(off).to_be_hidden()
    switch.uncheck()  # said at once, before saving
    expect(on).to_be_hidden()
    expect(off).to_contain_text("Liaison coupée : aucun SMS ne part, quel que soit le magasin")
    page.keyboard.press("F2")
    expect(page.get_by_text("Paramètres enregistrés.")).to_be_visible()
    expect(off).to_be_visible()
    banner = page.get_by_test_id("sending-off")
    page.goto(live_server + "/")
    expect(banner).to_contain_text("La liaison plate-forme de services est coupée")


HEADER_BOTTOM = "document.querySelector('header.topbar').getBoundingClientRect().bottom"


@pytest.mark.parametrize("username", ["vendeur", "gerant", "siege"])
def test_the_header_stays_one_row_on_a_tablet_and_a_phone(
    browser, live_server, users, credits_available, username
):
    # The real areas: « Résultats » took the room kept for one more area, and
    # « Supervision » lives in head office's own menu.
    credits_available(10_000)  # no low-credit alert: the header alone is measured
    for width, height, most in ((1024, 768, 100), (390, 844, 120)):
        context = browser.new_context(viewport={"width": width, "height": height}, locale="fr-FR")
        page = context.new_page()
        log_in(page, live_server, username)
        expect(page.locator(".simulation-banner")).to_be_visible()  # counted in the height
        bottom = page.evaluate(HEADER_BOTTOM)
        assert bottom <= most, f"{username} at {width} px: header ends at {bottom} px"
        areas = page.locator("header .areas a")
        if width == 1024:
            # Every area in sight, none scrolled out of the row.
            assert page.evaluate(
                "(() => { const a = document.querySelector('header .areas');"
                " return a.scrollWidth <= a.clientWidth; })()"
            )
            logout = page.get_by_role("button", name="Déconnexion")
            page.locator("header .user-menu > summary").click()  # the person's menu
            expect(logout).to_be_visible()
            page.keyboard.press("Escape")
            expect(logout).to_be_hidden()
            page.locator("header").get_by_role("link", name="SAV", exact=True).click()
            expect(page).to_have_url(live_server + "/sav/")
        else:
            expect(areas.first).to_be_hidden()
            page.get_by_role("button", name="Menu").click()
            expect(
                page.locator("header").get_by_role("link", name="SAV", exact=True)
            ).to_be_visible()
            expect(page.get_by_role("button", name="Déconnexion")).to_be_visible()
            page.keyboard.press("Escape")
            expect(areas.first).to_be_hidden()
            page.get_by_role("button", name="Menu").click()
            page.locator("header").get_by_role("link", name="SAV", exact=True).click()
            expect(page).to_have_url(live_server + "/sav/")
        page.wait_for_load_state()  # its style sheets in: measured as the user sees it
        assert page.evaluate(HEADER_BOTTOM) <= most  # the area's own page too
        assert "Supervision" not in areas.all_inner_texts()
        in_menu = page.locator("header .user-menu a[href='/supervision/']")
        assert in_menu.count() == (username == "siege")
        context.close()


def test_the_report_and_the_client_history_fit_without_sideways_scrolling(
    app, browser, live_server, users, store, make_client, credits_available, redis_client
):
    credits_available(10_000)
    long_text = (
        "Bonjour <PRENOM>, votre commande de bracelet en cuir est arrivée au magasin : "
        "passez quand vous voulez avec votre ticket. Bijouterie Biarritz"
    )
    ids = [
        make_client(first_name="Marie-Christine", last_name="ETCHEVERRY-DUHALDE"),
        make_client(first_name="Jean", last_name="DUPONT", tel1="06 00 00 00 01"),  # fails
        make_client(first_name="Paul", last_name="FIXE", tel1="05 59 01 02 03"),  # skipped
    ]
    with app.app_context():
        for _ in range(3):
            campaign = campaigns.draft(
                "repair",
                body=long_text,
                store_id=store.id,
                recipients=[Recipient(client_id=i) for i in ids],
            )
            campaigns.queue_now(campaign.id)
            send_next_batch(campaign.id)
            campaign_id = campaign.id
    fits = (
        "[...document.querySelectorAll('.table-scroll')].every("
        "s => s.scrollWidth <= s.clientWidth) && "
        "document.documentElement.scrollWidth <= window.innerWidth"
    )
    for width, height in ((1024, 768), (390, 844)):
        context = browser.new_context(viewport={"width": width, "height": height}, locale="fr-FR")
        page = context.new_page()
        log_in(page, live_server, "gerant")
        page.goto(f"{live_server}/rapports/{campaign_id}")
        rows = page.locator("#report-messages tbody tr")
        expect(rows).to_have_count(3)
        expect(rows.filter(has_text="FIXE")).to_contain_text("Pas de numéro de portable")
        assert page.evaluate(fits), f"the report scrolls sideways at {width} px"
        page.goto(f"{live_server}/clients/{ids[0]}")
        expect(page.locator("#client-actions tbody tr")).to_have_count(3)
        assert page.evaluate(fits), f"the client's history scrolls sideways at {width} px"
        context.close()


# Everything a finger can touch; a box or a radio is touched through its label.
SMALL_TARGETS = """() => {
  const touchable = 'a[href], button, input:not([type=hidden]), select, textarea, summary, '
    + '[role=button]';
  const hidden = 'dialog:not([open]), details:not([open]) > :not(summary)';
  const labelOf = (box) => box.closest('label')
    || (box.id && document.querySelector(`label[for="${box.id}"]`));
  const small = [];
  for (const element of document.querySelectorAll(touchable)) {
    let box = element.getBoundingClientRect();
    if (!box.width || !box.height || element.closest(hidden)) continue;
    if (element.matches('input[type=checkbox], input[type=radio]') && labelOf(element)) {
      box = labelOf(element).getBoundingClientRect();
    }
    if (box.width < 44 || box.height < 44) {
      const name = element.innerText || element.value || element.getAttribute('aria-label');
      const size = `${Math.round(box.width)}×${Math.round(box.height)}`;
      small.push(`${element.tagName.toLowerCase()} « ${(name || '').trim()} » ${size}`);
    }
  }
  return small;
}"""


def test_every_target_on_the_store_screens_is_a_finger_wide(
    app, browser, live_server, users, store, make_client, credits_available, redis_client
):
    credits_available(10_000)
    client_id = make_client(number="0000888", last_name="VOISIN", first_name="Roland")
    with app.app_context():
        ticket = RepairTicket(
            number="500347",
            client_id=client_id,
            store_id=store.id,
            status="ready",
            item_description="Montre",
        )
        db.session.add(ticket)
        campaign = campaigns.draft(
            "single",
            body="Bonjour <PRENOM>",
            store_id=store.id,
            recipients=[Recipient(client_id=client_id)],
        )
        campaigns.queue_now(campaign.id)
        send_next_batch(campaign.id)
        db.session.commit()
        ticket_id, campaign_id = ticket.id, campaign.id
    pages = [
        "/",
        "/clients/",
        f"/clients/{client_id}",
        f"/clients/{client_id}/sms",
        "/sav/",
        "/sav/retour-atelier",
        f"/sav/fiches/{ticket_id}",
        f"/sav/sms?ticket_id={ticket_id}",
        "/rapports/",
        f"/rapports/{campaign_id}",
        "/credits/",
        "/telephone-de-test/",
        "/telephone-de-test/+33612000001",
    ]
    context = browser.new_context(viewport={"width": 1024, "height": 768}, locale="fr-FR")
    page = context.new_page()
    found = {}
    for username in ("vendeur", "gerant", "siege"):
        log_in(page, live_server, username)
        for path in pages:
            assert page.goto(live_server + path).status == 200, path
            small = page.evaluate(SMALL_TARGETS)
            if small:
                found[f"{username} {path}"] = small
        page.context.clear_cookies()
    context.close()
    assert found == {}
