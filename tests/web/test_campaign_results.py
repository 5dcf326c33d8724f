"""The « groupe témoin » and the « Résultats » through the test client."""

import re

import pytest
from sqlalchemy import select

from shopsms.extensions import db
from shopsms.models import Campaign
from tests.conftest import csrf_token

HTMX = {"HX-Request": "true"}


def said(html):
    """The text a person reads: tags dropped, spaces folded."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", html))


@pytest.fixture
def many_clients(app, make_client):
    return [make_client(last_name=f"NOM{i:03d}") for i in range(250)]


def test_the_live_count_says_who_is_held_out(client_as, many_clients):
    web = client_as("staff")
    partial = web.get("/campagnes/nouvelle/compte?sms=with", headers=HTMX)
    text = said(partial.text)
    assert "225 destinataires · 25 en groupe témoin" in text


def test_the_draft_says_who_is_held_out_and_the_share_can_change(app, client_as, many_clients):
    web = client_as("staff")
    page = web.get("/campagnes/nouvelle")
    response = web.post("/campagnes/nouvelle", data={"csrf_token": csrf_token(page)})
    campaign_id = int(response.headers["Location"].rsplit("/", 1)[1])
    draft = web.get(f"/campagnes/{campaign_id}")
    text = said(draft.text)
    assert "225 destinataires · 25 en groupe témoin" in text
    changed = web.post(
        f"/campagnes/{campaign_id}/groupe-temoin",
        data={"csrf_token": csrf_token(draft), "control_share": "20"},
        headers=HTMX,
    )
    assert "200 destinataires · 50 en groupe témoin" in said(changed.text)
    assert changed.headers["HX-Trigger"] == "recipients-changed"
    refused = web.post(
        f"/campagnes/{campaign_id}/groupe-temoin",
        data={"csrf_token": csrf_token(draft), "control_share": "80"},
        headers=HTMX,
    )
    assert "Groupe témoin (%) : saisissez un nombre de 0 à 50." in refused.text
    assert 'value="80"' in refused.text
    with app.app_context():
        assert (
            db.session.scalar(select(Campaign.control_share).where(Campaign.id == campaign_id))
            == 20
        )


def test_the_results_page_reads_the_verdict_the_groups_and_the_chart(app, client_as):
    from tests.services.test_results import sent_campaign

    with app.app_context():
        campaign_id = sent_campaign(1800, 200, texted_buyers=360, control_buyers=40).id
    web = client_as("admin")
    report = web.get(f"/rapports/{campaign_id}")
    assert f'href="/resultats/{campaign_id}"' in report.text
    page = web.get(f"/resultats/{campaign_id}")
    assert page.status_code == 200
    text = said(page.text)
    assert "Pas d'effet mesurable" in text or "Pas d&#39;effet mesurable" in text
    assert "Clients textés" in text and "Groupe témoin" in text
    assert "1 800" in text.replace("\u202f", " ").replace("\xa0", " ")
    assert "<svg" in page.text and 'data-series="control"' in page.text
    assert "J+13" in text


def test_another_store_cannot_read_the_results(app, client_as):
    from tests.services.test_results import sent_campaign

    with app.app_context():
        campaign_id = sent_campaign(300, 30, texted_buyers=10, control_buyers=1).id
    assert client_as("manager").get(f"/resultats/{campaign_id}").status_code == 404
    assert client_as("admin").get("/resultats/999999").status_code == 404


def test_head_office_lists_sorts_filters_and_exports_the_results(app, client_as):
    from io import BytesIO

    from openpyxl import load_workbook

    from shopsms.models import Store
    from tests.services.test_results import sent_campaign

    with app.app_context():
        flat = sent_campaign(1800, 200, texted_buyers=360, control_buyers=40)
        flat.name = '=HYPERLINK("x")'  # typed by a person: a text, never a formula
        second = Campaign(
            kind="marketing",
            status="sent",
            store_id=flat.store_id,
            name="Soldes",
            control_share=10,
            started_at=flat.started_at,
            body="x",
        )
        db.session.add(second)
        db.session.commit()
        flat_id, store_id = flat.id, flat.store_id
        other_store = db.session.scalar(select(Store.id).where(Store.id != store_id).limit(1))
    web = client_as("admin")
    page = web.get("/resultats/?tri=uplift")
    assert page.status_code == 200
    text = said(page.text).replace("&#39;", "'")
    assert "pas d'effet mesurable" in text and "échantillon trop petit" in text
    assert f'href="/resultats/{flat_id}"' in page.text
    assert "0,0 pt[-5,8 pt ; +5,8 pt]" in text.replace("\u202f", " ").replace("\xa0", " ")
    assert "Soldes" in text
    empty = web.get(f"/resultats/?magasin={other_store}", headers=HTMX)
    assert "<html" not in empty.text and "Aucune campagne avec groupe témoin" in empty.text
    csv = web.get("/resultats/export.csv?tri=date")
    assert csv.mimetype == "text/csv" and csv.data.startswith("\ufeff".encode())
    lines = csv.data.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("N°;Campagne;Magasin;Envoyée le")
    assert any(
        line.startswith(f"{flat_id};\"'=HYPERLINK") and "pas d'effet mesurable" in line
        for line in lines
    )
    xlsx = web.get("/resultats/export.xlsx")
    sheet = load_workbook(BytesIO(xlsx.data)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:2] == ("N°", "Campagne") and len(rows) == 3
    assert client_as("staff").get("/resultats/").status_code in (302, 403)


def test_a_large_campaigns_results_are_measured_by_a_job_the_page_polls(
    app, client_as, monkeypatch
):
    from shopsms import jobs
    from shopsms.services import results
    from tests.services.test_results import sent_campaign

    monkeypatch.setattr(results, "MEASURE_IN_JOB_ABOVE", 1000)
    with app.app_context():
        campaign = sent_campaign(1800, 200, texted_buyers=540, control_buyers=40)
        campaign.recipients_count = 2000
        db.session.commit()
        campaign_id = campaign.id
    web = client_as("admin")
    waiting = web.get(f"/resultats/{campaign_id}")
    assert "Calcul des résultats en cours" in waiting.text
    assert 'hx-trigger="every 2s"' in waiting.text
    listed = web.get("/resultats/")
    assert "Pas encore mesurée" in listed.text
    with app.app_context():
        from rq.job import Job

        from shopsms.queue import get_queue

        job = Job.fetch(f"shopsms-results-{campaign_id}", connection=get_queue().connection)
        assert job.func_name == "shopsms.jobs.measure_results"
        assert jobs.measure_results(campaign_id) == "positive"
    done = web.get(f"/resultats/{campaign_id}", headers=HTMX)
    assert "<html" not in done.text and 'data-testid="verdict"' in done.text
    assert "every 2s" not in done.text
