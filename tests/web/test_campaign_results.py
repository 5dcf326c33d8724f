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
