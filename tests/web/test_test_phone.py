import re

from sqlalchemy import select

from shopsms.extensions import db
from shopsms.models import Client, Message, OptOut
from shopsms.services import campaigns, delivery
from shopsms.services.campaigns import Recipient
from shopsms.services.sending import send_next_batch
from tests.conftest import csrf_token


def send_one(app, client_id, body):
    with app.app_context():
        campaign = campaigns.draft("single", body=body, recipients=[Recipient(client_id=client_id)])
        campaigns.queue_now(campaign.id)
        send_next_batch(campaign.id)
        return campaign.id


def test_simulation_mode_is_said_on_every_page(client, client_as):
    assert "Mode simulation" in client.get("/connexion").text
    assert "Mode simulation" in client_as("staff").get("/").text


def test_the_test_phone_shows_what_the_client_received_and_its_report(
    app, client_as, make_client, credits_available, redis_client
):
    credits_available(5)
    client_id = make_client(tel1="06 12 34 56 78", first_name="Jean")
    send_one(app, client_id, "Bonjour <PRENOM>, votre montre est prête.")
    staff = client_as("staff")
    listing = staff.get("/telephone-de-test/").text
    assert "06 12 34 56 78" in listing and "Bonjour Jean, votre montre est prête." in listing
    page = staff.get("/telephone-de-test/+33612345678").text
    assert "Envoyé" in page and 'hx-trigger="every 1s"' in page  # waiting for the report
    with app.app_context():
        message_ids = list(db.session.scalars(select(Message.id)))
        delivery.record("outbox", delivery.outbox_reports(message_ids))
    page = staff.get("/telephone-de-test/+33612345678", headers={"HX-Request": "true"}).text
    assert "Délivré" in page and "hx-trigger" not in page  # polling stops


def test_replying_stop_from_the_test_phone_opts_the_client_out(
    app, client_as, make_client, credits_available, redis_client
):
    credits_available(5)
    client_id = make_client(tel1="06 12 34 56 78")
    send_one(app, client_id, "Soldes !")
    staff = client_as("staff")
    page = staff.get("/telephone-de-test/+33612345678")
    response = staff.post(
        "/telephone-de-test/+33612345678/repondre",
        data={"text": "Stop svp", "csrf_token": csrf_token(page)},
        follow_redirects=True,
    )
    assert "STOP reçu" in response.text and "STOP enregistré" in response.text
    with app.app_context():
        assert db.session.scalar(select(OptOut.phone)) == "+33612345678"
        assert db.session.get(Client, client_id).sms_consent == "refused"


def test_the_test_phone_does_not_exist_with_a_real_gateway(app, client_as):
    app.config["SMS_GATEWAY"] = "kannel"
    assert client_as("staff").get("/telephone-de-test/").status_code == 404
    assert "Mode simulation" not in client_as("staff").get("/").text


def test_the_number_list_counts_every_sms_a_phone_holds(
    app, client_as, make_client, credits_available, redis_client
):
    credits_available(10)
    four = make_client(tel1="06 12 34 56 78")
    one = make_client(tel1="06 98 76 54 32")
    for n in range(4):
        send_one(app, four, f"Message {n + 1}")
    send_one(app, one, "Seul message")
    listing = client_as("staff").get("/telephone-de-test/").text
    lines = re.findall(r'class="phone-line">(.*?)</a>', listing, re.S)
    counts = {
        re.search(r"<strong>(.*?)</strong>", line).group(1): re.search(r"(\d+) SMS", line).group(1)
        for line in lines
    }
    assert counts == {"06 12 34 56 78": "4", "06 98 76 54 32": "1"}


def test_the_simulated_operators_reason_is_said_in_the_readers_language(
    app, client_as, make_client, credits_available, redis_client
):
    credits_available(5)
    client_id = make_client(tel1="06 00 00 00 01")  # the test range: no such number
    send_one(app, client_id, "Bonjour")
    with app.app_context():
        message_ids = list(db.session.scalars(select(Message.id)))
        delivery.record("outbox", delivery.outbox_reports(message_ids))
        assert db.session.scalar(select(Message.error)) == "Numéro inexistant (plage de test)"
    french = client_as("staff").get("/telephone-de-test/+33600000001").text
    assert "Numéro inexistant (plage de test)" in french
    english = client_as("staff")
    english.post("/langue/en", data={"csrf_token": csrf_token(english.get("/"))})
    page = english.get("/telephone-de-test/+33600000001").text
    assert "Number does not exist (test range)" in page and "plage de test" not in page
