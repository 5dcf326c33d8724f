"""Issue 14, the selection and the campaign screen as a store's staff use them: typed
work kept, criteria checked as they are typed, the city found however it is written,
and a sending followed until its last delivery report."""

import re
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from shopsms.extensions import db
from shopsms.models import Purchase
from shopsms.services import settings
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser

SHOTS = "/work/wt/shots/ui-selection"
# The criteria whose text does not fit their box: a label wider than its box, a select's
# chosen option or an input's value or placeholder wider than the room inside it (a date
# needs "00/00/0000" and its calendar button).
CUT_TEXT = """() => {
  const canvas = document.createElement("canvas").getContext("2d");
  const width = (element, text) => {
    const style = getComputedStyle(element);
    canvas.font = `${style.fontWeight} ${style.fontSize} ${style.fontFamily}`;
    return canvas.measureText(text).width;
  };
  const room = (element) => {
    const style = getComputedStyle(element);
    return element.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
  };
  const cut = [];
  for (const label of document.querySelectorAll(".selection-grid label")) {
    if (label.scrollWidth > label.clientWidth + 1) cut.push(`label ${label.textContent.trim()}`);
  }
  for (const field of document.querySelectorAll(".selection-grid select, .selection-grid input")) {
    if (field.type === "radio" || field.type === "checkbox") continue;
    const chosen = field.selectedOptions?.[0]?.text;
    let text = field.tagName === "SELECT" ? chosen : field.value || field.placeholder;
    let extra = 0;
    if (field.type === "date") { text = "00/00/0000"; extra = 24; }
    if (text && width(field, text) + extra > room(field) + 1) cut.push(`${field.id}: ${text}`);
  }
  return cut;
}"""


def log_in(page, live_server, target):
    page.goto(live_server + "/connexion?next=" + target)
    page.fill("#username", "vendeur")
    page.fill("#password", PASSWORD)
    page.keyboard.press("F2")
    page.wait_for_url(live_server + target)


def sending_hours(app, *, always):
    with app.app_context():
        if always:
            settings.put("sending_days", [0, 1, 2, 3, 4, 5, 6])
            settings.put("sending_start", "00:00")
            settings.put("sending_end", "23:59")
        else:  # not today (in Paris): « Envoyer » is refused, the next time offered
            today = datetime.now(ZoneInfo("Europe/Paris")).weekday()
            settings.put("sending_days", [day for day in range(7) if day != today])
        db.session.commit()


@pytest.fixture
def mérignac(app, store, make_client):
    """Four clients of Mérignac written four ways, one of Neuilly, one of Pessac."""
    ids = {}
    for last, city, tel in (
        ("ARRIBE", "Mérignac", "06 21 00 00 01"),
        ("BARADAT", "MERIGNAC", "06 21 00 00 02"),
        ("CAZAUX", "merignac", "06 21 00 00 03"),
        ("DARRIGADE", "MÉRIGNAC ", "06 21 00 00 04"),
        ("ESTRADE", "Neuilly-sur-Seine", "06 21 00 00 05"),
        ("FOURCADE", "Pessac", "06 21 00 00 06"),
    ):
        ids[last] = make_client(
            last_name=last,
            first_name="Anne",
            city=city,
            tel1=tel,
            postal_code="33700",
            address1="1 rue",
        )
    with app.app_context():
        for client_id in ids.values():
            db.session.add(
                Purchase(
                    client_id=client_id,
                    store_id=store.id,
                    date=date.today() - timedelta(days=10),
                    amount=Decimal("80"),
                )
            )
        db.session.commit()
    return ids


def test_live_page_follows_the_reports_until_all_are_in(
    app, live_server, page, users, mérignac, credits_available, worker
):
    """« Envoyé » is not the end: the page keeps asking until every delivery report is
    in, says « tous reçus » without a reload, and « Arrêter l'envoi » goes once nothing
    is left to stop."""
    credits_available(50)
    sending_hours(app, always=True)
    log_in(page, live_server, "/campagnes/nouvelle")
    page.get_by_label("Ville").fill("Pessac")
    expect(page.get_by_test_id("found")).to_have_text("1 client trouvé")
    page.wait_for_load_state("load")
    page.keyboard.press("F2")
    page.wait_for_url(re.compile(r"/campagnes/\d+$"), timeout=30_000)
    page.get_by_label("Message", exact=True).fill("Soldes au magasin de Biarritz")
    page.get_by_role("button", name="Envoyer F2").click()
    expect(page.get_by_text("Envoi en préparation")).to_be_visible()
    done = page.get_by_test_id("campaign-done")
    expect(page.get_by_test_id("all-delivered")).to_have_text("tous reçus", timeout=30_000)
    expect(done).to_contain_text("1 SMS parti sur 1")
    expect(page.get_by_test_id("campaign-status")).to_have_text("Envoyé")
    expect(page.get_by_role("button", name="Arrêter l'envoi")).to_have_count(0)
    # Polling stopped with the last report: the section carries no trigger any more.
    expect(page.locator("#campaign-progress")).not_to_have_attribute("hx-trigger", re.compile("."))
    page.screenshot(path=f"{SHOTS}/live-page-all-delivered-1024.png", full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=f"{SHOTS}/live-page-all-delivered-390.png", full_page=True)


def test_draft_keeps_its_text_across_a_refused_send_and_a_criteria_change(
    app, live_server, page, users, mérignac, credits_available
):
    credits_available(50)
    sending_hours(app, always=False)
    log_in(page, live_server, "/campagnes/nouvelle")
    page.get_by_label("Ville").fill("Pessac")
    expect(page.get_by_test_id("found")).to_have_text("1 client trouvé")
    page.wait_for_load_state("load")
    page.keyboard.press("F2")
    page.wait_for_url(re.compile(r"/campagnes/\d+$"), timeout=30_000)
    text = "Soldes -20% ce samedi. Bijouterie de Biarritz"
    page.get_by_label("Message", exact=True).fill(text)
    page.get_by_label("Intitulé de l'expéditeur").fill("BIJOUBIA")
    page.get_by_role("button", name="Envoyer F2").click()
    expect(page.get_by_test_id("send-error")).to_contain_text("heures d'envoi")
    expect(page.get_by_label("Message", exact=True)).to_have_value(text)
    # Kept on the draft, not only in the page: a reload finds it.
    page.reload()
    expect(page.get_by_label("Message", exact=True)).to_have_value(text)
    expect(page.get_by_label("Intitulé de l'expéditeur")).to_have_value("BIJOUBIA")

    # A word more, then « Modifier les critères de sélection » at once: nothing lost.
    page.get_by_label("Message", exact=True).fill(text + " !")
    page.get_by_role("button", name="Modifier les critères de sélection").click()
    page.wait_for_url(re.compile(r"/campagnes/nouvelle\?depuis=\d+$"))
    expect(page.get_by_text("Le message déjà écrit est gardé")).to_be_visible()
    page.get_by_label("Ville").fill("")
    page.get_by_label("Code postal").fill("33")
    expect(page.get_by_test_id("found")).to_have_text("6 clients trouvés")
    page.wait_for_load_state("load")
    page.keyboard.press("F2")
    page.wait_for_url(re.compile(r"/campagnes/\d+$"), timeout=30_000)
    expect(page.get_by_test_id("recipients-count")).to_have_text("6 destinataires")
    expect(page.get_by_label("Message", exact=True)).to_have_value(text + " !")
    expect(page.get_by_label("Intitulé de l'expéditeur")).to_have_value("BIJOUBIA")
    page.screenshot(path=f"{SHOTS}/draft-kept-1024.png", full_page=True)

    # Typed, then the page left without a click: kept as it was typed.
    draft = page.url
    body = page.get_by_label("Message", exact=True)
    body.click()
    page.keyboard.press("Control+End")
    with page.expect_response(re.compile(r"/brouillon$")):
        page.keyboard.type(" Venez vite", delay=20)
    page.goto(live_server + "/campagnes/")
    page.goto(draft)
    expect(page.get_by_label("Message", exact=True)).to_have_value(text + " ! Venez vite")


def test_a_wrong_criterion_is_marked_on_its_field_as_it_is_typed(
    app, live_server, page, users, mérignac
):
    log_in(page, live_server, "/campagnes/nouvelle")
    found = page.get_by_test_id("found")
    expect(found).to_have_text("6 clients trouvés")
    amount = page.get_by_label("Montant TTC (€)")
    amount.fill("cent")
    message = page.locator("#revenue-error")
    expect(message).to_have_text("Chiffre d'affaires : tapez un montant, par exemple 150 ou 99,90.")
    expect(amount).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_test_id("criteria-errors")).to_contain_text("tapez un montant")
    page.get_by_label("Achats entre le").fill("2026-03-01")
    page.get_by_label("et le", exact=True).first.fill("2026-02-01")
    expect(page.locator("#period_end-error")).to_have_text("Période : la fin est avant le début.")
    page.screenshot(path=f"{SHOTS}/criteria-errors-1024.png", full_page=True)
    # Put right: the marks go, the count comes back.
    amount.fill("50")
    page.get_by_label("Achats entre le").fill("")
    page.get_by_label("et le", exact=True).first.fill("")
    expect(message).to_be_empty()
    expect(page.locator("#period_end-error")).to_be_empty()
    expect(amount).not_to_have_attribute("aria-invalid", "true")
    expect(found).to_have_text("6 clients trouvés")


def test_city_at_most_and_store_scope_on_the_selection_screen(
    app, live_server, page, users, mérignac, make_client, store
):
    """« merignac » finds Mérignac however it was written; « ≤ » says whether clients
    without a purchase count and lets the user choose; staff are told whose clients they
    select (created in their store, or who bought there)."""
    from shopsms.models import Store

    make_client(last_name="GRACIET", city="Mérignac", tel1="06 21 00 00 07")  # never bought
    with app.app_context():
        pau = Store(code="003", name="Pau", city="Pau")
        db.session.add(pau)
        db.session.commit()
        pau_id = pau.id
    # Created in Pau, bought in Biarritz: one of Biarritz's clients too.
    buyer = make_client(
        last_name="HARISPE", city="merignac", tel1="06 21 00 00 08", store_id=pau_id
    )
    make_client(last_name="IRIGOYEN", city="Mérignac", tel1="06 21 00 00 09", store_id=pau_id)
    with app.app_context():
        sale = Purchase(
            client_id=buyer,
            store_id=store.id,
            amount=Decimal("40"),
            date=date.today() - timedelta(days=3),
        )
        db.session.add(sale)
        db.session.commit()
    log_in(page, live_server, "/campagnes/nouvelle")
    expect(page.get_by_test_id("store-scope")).to_contain_text(
        "les fiches créées à Biarritz et les clients qui y ont acheté"
    )
    found = page.get_by_test_id("found")
    page.get_by_label("Ville").fill("merignac")
    expect(found).to_have_text("6 clients trouvés")  # 4 + GRACIET + HARISPE, not IRIGOYEN
    page.get_by_label("Ville").fill("Neuilly sur Seine")
    expect(found).to_have_text("1 client trouvé")
    page.get_by_label("Ville").fill("MERIGNAC")
    expect(found).to_have_text("6 clients trouvés")

    page.locator("#revenue_op").select_option("lte")
    page.get_by_label("Montant TTC (€)").fill("100")
    rule = page.get_by_test_id("no-purchase-rule")
    expect(rule).to_contain_text("seuls les clients avec au moins un achat")
    expect(found).to_have_text("5 clients trouvés")  # GRACIET never bought
    page.get_by_label("inclure aussi les clients sans achat").check()
    expect(rule).to_contain_text("les clients sans achat sur la période sont inclus")
    expect(found).to_have_text("6 clients trouvés")
    # At 1024 px nothing of the criteria is cut: labels, the chosen option, placeholders
    # and dates show whole.
    cut = page.evaluate(CUT_TEXT)
    assert cut == [], cut
    page.screenshot(path=f"{SHOTS}/selection-1024.png", full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=f"{SHOTS}/selection-390.png", full_page=True)


def test_reports_and_back_to_the_filter_then_the_list_beside_the_text(
    app, live_server, page, users, mérignac, make_client, credits_available
):
    """StarMag's buttons: « Consulter les rapports » from the selection, « Retour filtre »
    back to it with its criteria; the « Liste des clients » screen with the list beside
    the text zone and its credits, which stay in view while the list scrolls."""
    sending_hours(app, always=True)
    credits_available(100)
    for n in range(20):
        make_client(last_name=f"ZUBIRI{n:02d}", city="Mérignac", tel1=f"06 22 00 00 {n:02d}")
    log_in(page, live_server, "/campagnes/nouvelle")
    page.get_by_label("Ville").fill("merignac")
    expect(page.get_by_test_id("found")).to_have_text("24 clients trouvés")
    page.get_by_role("button", name="Consulter les rapports").click()
    page.wait_for_url(live_server + "/rapports/")
    page.screenshot(path=f"{SHOTS}/reports-retour-filtre-1024.png")
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=f"{SHOTS}/reports-retour-filtre-390.png")
    page.set_viewport_size({"width": 1024, "height": 768})
    page.get_by_role("button", name="Retour filtre").click()
    page.wait_for_url(re.compile(r"/campagnes/nouvelle\?city=merignac"))
    expect(page.get_by_label("Ville")).to_have_value("merignac")
    expect(page.get_by_test_id("found")).to_have_text("24 clients trouvés")

    page.wait_for_load_state("load")
    page.keyboard.press("F2")
    page.wait_for_url(re.compile(r"/campagnes/\d+$"), timeout=30_000)
    paris_now = datetime.now(ZoneInfo("Europe/Paris"))
    expect(page.get_by_test_id("send-moment")).to_contain_text(f"{paris_now:%d/%m/%Y}")
    expect(page.get_by_test_id("send-moment")).to_contain_text("(maintenant)")
    page.get_by_label("Message", exact=True).fill("Nouvelle collection au magasin de Biarritz")
    expect(page.get_by_test_id("credits-needed")).to_have_text("24")

    # 1024 px: side by side, and the text zone and buttons in view at the list's end.
    for target in (
        page.get_by_label("Message", exact=True),
        page.get_by_test_id("credits-left"),
        page.get_by_role("button", name="Envoyer F2"),
    ):
        expect(target).to_be_in_viewport(ratio=1)
    listing = page.locator("#recipients")
    form = page.locator("#campaign-form")
    list_box, form_box = listing.bounding_box(), form.bounding_box()
    assert list_box["x"] + list_box["width"] <= form_box["x"] + 1, (list_box, form_box)
    page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
    page.screenshot(path=f"{SHOTS}/recipient-list-1024-scrolled.png")
    expect(page.get_by_label("Message", exact=True)).to_be_in_viewport(ratio=1)
    expect(page.get_by_role("button", name="Envoyer F2")).to_be_in_viewport(ratio=1)
    expect(page.get_by_test_id("credits-left")).to_be_in_viewport(ratio=1)
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=f"{SHOTS}/recipient-list-1024.png")

    # A deferred time chosen: it is the date of sending shown.
    page.get_by_role("button", name="Envoi différé").click()
    dialog = page.get_by_role("dialog", name="Envoi des SMS en différé")
    later = date.today() + timedelta(days=2)
    dialog.get_by_label("Date d'envoi").fill(later.isoformat())
    dialog.get_by_label("Heure d'envoi").fill("10:30")
    dialog.get_by_role("button", name="Quitter").click()
    expect(page.get_by_test_id("send-moment")).to_contain_text(f"{later:%d/%m/%Y} 10:30")
    expect(page.get_by_test_id("send-moment")).to_contain_text("(envoi différé)")

    # 390 px: stacked, the text under the list.
    page.set_viewport_size({"width": 390, "height": 844})
    list_box, form_box = listing.bounding_box(), form.bounding_box()
    assert form_box["y"] >= list_box["y"] + list_box["height"] - 1, (list_box, form_box)
    page.screenshot(path=f"{SHOTS}/recipient-list-390.png", full_page=True)
