"""A marketing campaign at the tablet, as StarMag does it and more: three criteria with
the live count, the list of recipients corrected by hand, the text with <NOM>, a
deferred send cancelled (credits back), then sent now, followed to its report."""

import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from shopsms.extensions import db
from shopsms.models import Brand, Message, Purchase
from shopsms.queue import get_queue
from shopsms.services import credits, settings
from shopsms.worker import Worker
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser


@pytest.fixture
def chain(app, store, make_client):
    """Clients of Biarritz: five in the Pays basque (64…) who consented, bought Festina
    this year, one of whom has a landline only; two elsewhere; one without consent."""
    today = date.today()
    people = [
        ("Madame", "Sabine", "ARTOLA", "06 11 00 00 01", "64200", "accepted", 250),
        ("Monsieur", "Jean", "BERGARA", "06 11 00 00 02", "64600", "accepted", 400),
        ("Madame", "Maite", "CHABAGNO", "06 11 00 00 03", "64100", "accepted", 150),
        ("Monsieur", "Peio", "DUHALDE", "05 59 00 00 04", "64500", "accepted", 300),
        ("Madame", "Lucie", "ETCHEVERRY", "06 11 00 00 05", "64210", "accepted", 120),
        ("Monsieur", "Marc", "FABRE", "06 11 00 00 06", "33000", "accepted", 500),
        ("Madame", "Anne", "GARAT", "06 11 00 00 07", "64200", "refused", 600),
        ("Monsieur", "Luc", "HIRIART", "06 11 00 00 08", "64200", "accepted", 20),
    ]
    ids = {}
    for civility, first, last, tel, postal, consent, _amount in people:
        ids[last] = make_client(
            civility=civility,
            first_name=first,
            last_name=last,
            tel1=tel,
            postal_code=postal,
            city="Biarritz",
            address1="1 rue du Port",
            sms_consent=consent,
        )
    with app.app_context():
        brand = Brand(name="Festina")
        db.session.add(brand)
        db.session.flush()
        for *_, last, _tel, _postal, _consent, amount in people:
            db.session.add(
                Purchase(
                    client_id=ids[last],
                    store_id=store.id,
                    brand_id=brand.id,
                    date=today - timedelta(days=30),
                    amount=Decimal(amount),
                )
            )
        # Marketing may go out whenever the test runs.
        settings.put("sending_days", [0, 1, 2, 3, 4, 5, 6])
        settings.put("sending_start", "00:00")
        settings.put("sending_end", "23:59")
        db.session.commit()
    return ids


def log_in(page, live_server, target):
    page.goto(live_server + "/connexion?next=" + target)
    page.fill("#username", "vendeur")
    page.fill("#password", PASSWORD)
    page.keyboard.press("F2")
    page.wait_for_url(live_server + target)


def balance(app):
    with app.app_context():
        return credits.balance()


def test_build_correct_schedule_cancel_and_send_a_campaign(
    app, live_server, page, users, chain, credits_available, redis_client
):
    credits_available(100)
    log_in(page, live_server, "/campagnes/nouvelle")
    found = page.get_by_test_id("found")
    reachable = page.get_by_test_id("reachable")
    expect(found).to_have_text("8 clients trouvés")

    page.get_by_label("Code postal").fill("64")
    expect(found).to_have_text("7 clients trouvés")
    page.get_by_role("radiogroup", name="SMS").get_by_label("Avec").check()
    expect(found).to_have_text("6 clients trouvés")
    page.get_by_label("Montant TTC (€)").fill("100")
    expect(found).to_have_text("5 clients trouvés")
    expect(reachable).to_have_text("4 joignables par SMS")
    expect(page.get_by_test_id("excluded")).to_contain_text("pas de portable : 1")

    page.keyboard.press("F2")  # « Liste des clients »
    page.wait_for_url(re.compile(r"/campagnes/\d+$"))
    campaign_id = int(page.url.rsplit("/", 1)[1])
    recipients = page.get_by_test_id("recipients-count")
    expect(recipients).to_have_text("4 destinataires")
    table = page.locator("#recipients table")
    expect(table).to_contain_text("ARTOLA")
    expect(table).to_contain_text("001")

    # Remove one recipient: the list and the cost follow.
    page.get_by_role("button", name="Retirer CHABAGNO Maite").click()
    expect(recipients).to_have_text("3 destinataires")
    expect(page.get_by_test_id("recipients")).to_have_text("3")

    # DUHALDE has a landline only: correct the number in the excluded list.
    page.get_by_test_id("excluded-count").click()
    phone = page.get_by_label("Téléphone de DUHALDE Peio", exact=True)
    fix = page.get_by_role("button", name="Corriger le téléphone de DUHALDE Peio")
    phone.fill("05 59 00 00 05")  # still a landline: said in place, the typing kept
    fix.click()
    expect(page.get_by_role("alert").filter(has_text="tapez un numéro de portable")).to_be_visible()
    expect(phone).to_have_value("05 59 00 00 05")
    phone.fill("07 81 23 45 67")
    fix.click()
    expect(page.get_by_test_id("recipients-count")).to_have_text("4 destinataires")
    expect(page.get_by_test_id("recipients")).to_have_text("4")

    text = page.get_by_label("Message", exact=True)
    text.fill("Bonjour <NOM>, -20% sur Festina ce week-end au magasin de Biarritz !")
    expect(page.get_by_test_id("final-text")).to_contain_text("Bonjour Mme Lucie ETCHEVERRY, -20%")
    expect(page.get_by_test_id("credits-needed")).to_have_text("4")
    expect(page.get_by_test_id("credits-left")).to_have_text("96")

    # « Envoi différé » tomorrow at 10:00, then cancelled: the credits come back.
    page.get_by_role("button", name="Envoi différé").click()
    dialog = page.get_by_role("dialog", name="Envoi des SMS en différé")
    tomorrow = date.today() + timedelta(days=1)
    dialog.get_by_label("Date d'envoi").fill(tomorrow.isoformat())
    dialog.get_by_label("Heure d'envoi").fill("10:00")
    dialog.get_by_role("button", name="Valider").click()
    expect(page.get_by_text(f"il sera programmé le {tomorrow:%d/%m/%Y} 10:00")).to_be_visible()
    expect(page.get_by_test_id("campaign-status")).to_have_text("En préparation")
    _run_worker(app)  # the preparation: texts, cost, reservation; the page reloads after it
    expect(page.get_by_test_id("campaign-status")).to_have_text("Programmé")
    assert balance(app) == 96
    # Two ways out: back to a draft, or cancelled for good.
    expect(page.get_by_role("button", name="Annuler l'envoi")).to_be_visible()
    page.get_by_role("button", name="Annuler la programmation").click()
    expect(page.get_by_text("Programmation annulée")).to_be_visible()
    assert balance(app) == 100

    # Back to the draft, the text kept: send now, and follow the progress bar.
    expect(text).to_have_value(
        "Bonjour <NOM>, -20% sur Festina ce week-end au magasin de Biarritz !"
    )
    expect(page.get_by_test_id("recipients-count")).to_have_text("4 destinataires")
    page.wait_for_load_state("load")  # F2 is heard once app.js (deferred) runs
    expect(page.get_by_role("button", name="Envoyer F2")).to_be_enabled()
    page.keyboard.press("F2")
    expect(page.get_by_text("Envoi en préparation")).to_be_visible()
    expect(page.get_by_test_id("preparation-bar")).to_be_visible()
    _run_worker(app)  # RQ wants the main thread; the page keeps polling meanwhile
    bar = page.get_by_test_id("campaign-bar")
    expect(bar).to_have_attribute("max", "4")
    expect(page.get_by_test_id("campaign-done")).to_contain_text("4 SMS partis sur 4")
    expect(bar).to_have_attribute("value", "4")
    expect(page.get_by_test_id("campaign-status")).to_have_text("Envoyé")
    with app.app_context():
        texts = set(
            db.session.scalars(
                Message.__table__.select()
                .with_only_columns(Message.text)
                .where(Message.campaign_id == campaign_id, Message.state != "skipped")
            )
        )
    assert (
        "Bonjour M. Peio DUHALDE, -20% sur Festina ce week-end au magasin de Biarritz !\nSTOP 36608"
        in texts
    )
    assert balance(app) == 96

    page.get_by_test_id("open-report").click()
    page.wait_for_url(f"{live_server}/rapports/{campaign_id}")


def _run_worker(app):
    with app.app_context():
        queue = get_queue()
        Worker([queue], connection=queue.connection).work(burst=True)
