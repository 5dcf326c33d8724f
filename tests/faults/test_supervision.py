"""« Supervision »: head office sees the workers and their heartbeats, the queue, and what
waits; the page stays up when Redis is down and says so."""

from datetime import timedelta

from shopsms.models import utcnow
from shopsms.services import campaigns, workers
from shopsms.services.campaigns import Recipient

from .processes import free_port


def test_head_office_sees_workers_queue_and_waiting_campaigns(
    app, client_as, redis_client, make_client, credits_available
):
    credits_available(5)
    with app.app_context():
        workers.beat("caisse-1:101")
        workers.beat("caisse-2:202", now=utcnow() - timedelta(minutes=5))  # died
        campaign = campaigns.draft(
            "single",
            body="Bonjour",
            name="Relance montres",
            recipients=[Recipient(client_id=make_client())],
        )
        campaigns.queue_now(campaign.id, now=utcnow() - timedelta(minutes=3))
    assert client_as("staff").get("/supervision/").status_code == 403
    head_office = client_as("admin")
    page = head_office.get("/supervision/")
    assert page.status_code == 200
    assert 'data-testid="workers-alive">1<' in page.text
    assert "caisse-1:101" in page.text and "ne répond plus" in page.text
    assert 'data-testid="queue">1<' in page.text  # the campaign's job
    assert "Relance montres" not in page.text  # due for less than a minute: not stuck
    assert 'href="/supervision/"' in head_office.get("/").text  # in head office's menu

    app.config["REDIS_URL"] = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
    app.extensions.pop("redis", None)
    page = head_office.get("/supervision/", headers={"HX-Request": "true"})
    assert page.status_code == 200 and "<html" not in page.text  # the polled panel
    assert "Indisponible" in page.text and "partiront à son retour" in page.text
