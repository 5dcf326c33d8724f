"""« Envois automatiques » in a real browser, with a real worker: a manager turns
« Anniversaire » on, sees tomorrow's list and its cost, and once the clock reaches
tomorrow's run (the scheduler function called for that moment: no waiting a day),
reads the run's report with the SMS delivered."""

import re
from datetime import UTC, datetime, time, timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from shopsms.extensions import db
from shopsms.models import Message
from shopsms.services import automatic, settings
from shopsms.sms import hours
from tests.conftest import PASSWORD
from tests.jobs.test_worker import wait_for

pytestmark = pytest.mark.browser


def test_a_manager_turns_birthdays_on_sees_tomorrows_list_and_reads_the_report(
    app, live_server, page, users, make_client, credits_available, worker
):
    credits_available(1000)  # the low-credit threshold (500) stays below what is left
    tomorrow = automatic.today() + timedelta(days=1)
    born = tomorrow.replace(year=1990) if (tomorrow.month, tomorrow.day) != (2, 29) else None
    born = born or tomorrow.replace(year=1992)
    md = born.month * 100 + born.day
    make_client(first_name="Anne", last_name="MARTIN", birthday=born, birthday_md=md)
    make_client(
        first_name="Paul", last_name="DURAND", birthday=born, birthday_md=md, sms_consent="refused"
    )
    with app.app_context():
        # Marketing may go out whenever the test runs.
        settings.put("sending_days", [0, 1, 2, 3, 4, 5, 6])
        settings.put("sending_start", "00:00")
        settings.put("sending_end", "23:59")
        db.session.commit()

    page.goto(live_server + "/connexion?next=/campagnes/")
    page.fill("#username", "gerant")
    page.fill("#password", PASSWORD)
    page.keyboard.press("F2")
    page.wait_for_url(live_server + "/campagnes/")
    page.get_by_test_id("automatic-link").click()
    card = page.get_by_test_id("card-birthday")
    expect(card.get_by_test_id("state-birthday")).to_have_text("Désactivé")
    card.get_by_test_id("edit-birthday").click()
    page.get_by_test_id("enabled").check()
    page.locator("#automatic-body").fill("Joyeux anniversaire <PRENOM> ! <MAGASIN>")
    expect(page.locator("#automatic-preview")).to_contain_text("STOP")  # the law, counted
    page.locator("#send_time").fill("00:00")
    page.keyboard.press("F2")
    card = page.get_by_test_id("card-birthday")
    expect(card.get_by_test_id("state-birthday")).to_have_text("Activé")
    next_run = card.get_by_test_id("next-birthday")
    expect(next_run).to_contain_text("Prochain envoi : Demain à 00:00")
    expect(next_run).to_contain_text("1 destinataire · 1 crédit · 1 exclu")
    next_run.get_by_test_id("list-birthday").click()
    listing = page.get_by_test_id("next-list")
    expect(listing).to_contain_text("MARTIN Anne")
    expect(listing).to_contain_text("DURAND Paul")
    expect(listing).to_contain_text("sans accord SMS")
    assert page.evaluate("document.documentElement.scrollWidth") <= 1024

    # Tomorrow at 10:00 in Paris: what the sweep does at that moment.
    at = datetime.combine(tomorrow, time(10, 0), tzinfo=hours.PARIS)
    with app.app_context():
        done = automatic.run_due(at.astimezone(UTC).replace(tzinfo=None), worker="test")
    assert list(done.values()) == ["sent"]

    page.goto(live_server + "/campagnes/automatiques/")
    runs = page.get_by_test_id("runs-birthday")
    expect(runs).to_contain_text(f"{tomorrow:%d/%m/%Y} · Envoyé · 1 SMS")
    runs.get_by_test_id("report-birthday").click()
    expect(page.locator("hgroup p")).to_contain_text(f"Anniversaire — {tomorrow:%d/%m}")
    expect(page.get_by_text("MARTIN").first).to_be_visible()
    # The real worker sends it; the simulated operator reports it delivered.
    with app.app_context():
        assert wait_for(
            lambda: (
                db.session.scalar(select(Message.state).where(Message.state != "skipped"))
                == "delivered"
            )
        )
    page.reload()
    expect(page.locator("[data-rate]")).to_have_text("100 %")  # « Taux de délivrance »


def test_head_office_picks_the_store_whose_automatic_sends_it_sees(app, live_server, page, users):
    with app.app_context():
        from shopsms.models import Store

        db.session.add(Store(code="002", name="Bayonne", city="Bayonne"))
        db.session.commit()
    page.goto(live_server + "/connexion?next=/campagnes/automatiques/")
    page.fill("#username", "siege")
    page.fill("#password", PASSWORD)
    page.keyboard.press("F2")
    page.wait_for_url(live_server + "/campagnes/automatiques/**")
    page.wait_for_load_state()
    page.get_by_label("Magasin").select_option(label="Bayonne")  # no button: the choice goes
    expect(page).to_have_url(re.compile(r"magasin=\d+"))
    expect(page.get_by_label("Magasin")).to_have_value(
        page.get_by_label("Magasin").locator("option", has_text="Bayonne").get_attribute("value")
    )
