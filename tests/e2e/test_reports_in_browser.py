"""A manager reads and closes a sending's report; staff cannot close; head office tops up."""

import re
from datetime import datetime

import pytest
from sqlalchemy import select

from shopsms.extensions import db
from shopsms.models import Campaign, Message, User
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser


@pytest.fixture
def report(app, users, store, make_client):
    reached = make_client(last_name="JOINTE", tel1="06 11 22 33 44")
    unknown = make_client(last_name="INCONNUE", tel1="06 00 00 00 01")
    with app.app_context():
        author = db.session.scalar(select(User).where(User.username == "vendeur"))
        campaign = Campaign(
            kind="marketing",
            status="sent",
            name="Soldes d'hiver",
            store_id=store.id,
            created_by_id=author.id,
            sender_id="BIJOUX",
            recipients_count=2,
            finished_at=datetime(2026, 3, 2, 9, 30),
        )
        db.session.add(campaign)
        db.session.flush()
        db.session.add_all(
            [
                Message(
                    campaign_id=campaign.id,
                    client_id=reached,
                    phone="+33611223344",
                    state="delivered",
                    text="Soldes ! STOP 36608",
                    parts=1,
                ),
                Message(
                    campaign_id=campaign.id,
                    client_id=unknown,
                    phone="+33600000001",
                    state="failed",
                    error="Numéro inexistant (plage de test)",
                    text="Soldes ! STOP 36608",
                    parts=1,
                ),
            ]
        )
        db.session.commit()
        return campaign.id


def login(page, live_server, username):
    page.goto(live_server + "/connexion")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.keyboard.press("F2")
    page.wait_for_url(live_server + "/")


def test_a_manager_reads_filters_exports_and_closes_a_report(live_server, page, report):
    login(page, live_server, "gerant")
    page.locator("header nav").get_by_role("link", name="Rapports", exact=True).click()
    page.wait_for_url(live_server + "/rapports/")
    row = page.locator(f'tr[data-campaign="{report}"]')
    assert row.is_visible()
    row.get_by_role("link", name="Campagne").click()
    page.wait_for_url(f"{live_server}/rapports/{report}")
    assert page.locator("h1").inner_text() == f"Rapport d'envoi n° {report}"
    assert page.get_by_role("img", name=re.compile("États des SMS")).is_visible()

    page.evaluate("window.__same_document = true")
    page.get_by_role("button", name=re.compile("^Échecs")).click()
    page.locator('tr[data-state="delivered"]').wait_for(state="detached")
    assert page.evaluate("window.__same_document") is True  # htmx swapped the list
    assert page.url.endswith("?etat=failed")
    assert page.get_by_role("cell", name="Numéro inexistant (plage de test)").is_visible()

    with page.expect_download() as download_info:
        page.get_by_role("button", name="Export CSV").click()
    download = download_info.value
    assert download.suggested_filename == f"rapport-{report}-failed.csv"
    with open(download.path(), encoding="utf-8-sig") as exported:
        content = exported.read()
    assert "INCONNUE" in content and "JOINTE" not in content and ";" in content

    assert page.evaluate("document.documentElement.scrollWidth") <= 1024
    page.get_by_role("button", name=f"Clôturer le rapport {report}").click()
    page.wait_for_url(live_server + "/rapports/")
    assert page.get_by_text(f"Rapport n° {report} clôturé.").is_visible()
    assert page.locator(f'tr[data-campaign="{report}"]').count() == 0
    # The card with the unknown number became a « fiche à corriger ».
    page.get_by_role("button", name=re.compile("Fiches à corriger")).click()
    assert page.get_by_role("cell", name=re.compile("INCONNUE")).is_visible()


def test_staff_see_the_report_but_cannot_close_it(app, live_server, page, report):
    login(page, live_server, "vendeur")
    page.goto(f"{live_server}/rapports/{report}")
    assert page.get_by_role("cell", name="Numéro inexistant (plage de test)").is_visible()
    assert page.get_by_role("button", name=re.compile("Clôturer")).count() == 0
    page.goto(live_server + "/rapports/")
    assert page.get_by_role("button", name="Tout clôturer").count() == 0
    status = page.evaluate(
        """async (url) => {
            const token = JSON.parse(document.body.getAttribute("hx-headers"))["X-CSRFToken"];
            const body = new URLSearchParams({csrf_token: token});
            const response = await fetch(url, {method: "POST", body});
            return response.status;
        }""",
        f"/rapports/{report}/cloturer",
    )
    assert status == 403
    with app.app_context():
        assert db.session.get(Campaign, report).closed_at is None


def test_head_office_tops_up_and_sees_it_in_balance_and_ledger(live_server, page, users):
    login(page, live_server, "siege")
    page.goto(live_server + "/credits/")
    assert page.get_by_test_id("balance").inner_text() == "0"
    assert page.get_by_test_id("low-credit").is_visible()
    page.fill("#amount", "5000")
    page.fill("#reference", "Facture 2026-031")
    page.get_by_role("button", name="Recharger", exact=True).click()
    page.get_by_text("Recharge de 5000 crédits enregistrée.").wait_for()
    assert page.get_by_test_id("balance").inner_text() == "5 000"
    assert page.get_by_role("cell", name="Facture 2026-031").is_visible()
    assert page.get_by_role("cell", name="+5 000").is_visible()
    assert page.get_by_test_id("low-credit").count() == 0


def test_a_manager_sees_the_sender_id_rules_checked_while_typing(live_server, page, users):
    login(page, live_server, "gerant")
    page.goto(live_server + "/parametres/")
    assert page.get_by_text("Un numéro de téléphone n'est pas accepté").is_visible()
    page.fill("#sender_id", "")
    page.locator("#sender_id").press_sequentially("06 12 34 56 78", delay=20)
    page.get_by_test_id("sender-errors").wait_for()
    page.fill("#sender_id", "")
    page.locator("#sender_id").press_sequentially("BIJOUX_64", delay=20)
    page.get_by_test_id("sender-ok").wait_for()
    page.keyboard.press("F2")  # validates the form
    page.get_by_text("Paramètres enregistrés.").wait_for()
    assert page.get_by_test_id("sender-id").inner_text() == "BIJOUX_64"
