"""Issue 20: what the gateways say reaches people in their language. A message's reason
is kept as its French words (the exports, the API and the follow-ups' rule read them) and
the screens say it again in the reader's language: the reports, the test phone, the
follow-ups, the supervision's links, a campaign held for its link, the gateway test.
A reason written before, or in the operator's own words, is shown as it is."""

import html
import uuid
from datetime import datetime

import pytest
import smpplib.consts as consts
import smpplib.exceptions
from sqlalchemy import select

from shopsms.extensions import db
from shopsms.gateways import kannel, outbox, smpp
from shopsms.models import Campaign, Message
from shopsms.services import api_tokens, delivery, followups, link_status, sending, settings
from shopsms.sms.said import N_
from tests.conftest import csrf_token
from tests.web.test_reports import add_report

SETTINGS = smpp.LinkSettings("smsc.example.com", 2775, "shopsms", "secret")


@pytest.fixture
def token_for_api(app, store, redis_client):
    def make(name):
        with app.app_context():
            return api_tokens.create(name, store_id=None)[1]

    return make


def _refused_bind():
    error = smpplib.exceptions.PDUError("bind refused", consts.SMPP_ESME_RINVPASWD)
    return smpp.bind_refusal(error, SETTINGS)


def _in_english(client):
    client.post("/langue/en", data={"csrf_token": csrf_token(client.get("/"))})
    return client


def _page(client, url):
    return html.unescape(" ".join(client.get(url).text.split()))


# (as the gateways word it, kept on the message; French page; English page)
REASONS = [
    (
        smpp.refusal_reason(consts.SMPP_ESME_RINVDSTADR),
        "Refusé par l'opérateur : numéro de destination invalide (ESME_RINVDSTADR).",
        "Refused by the operator: invalid destination number (ESME_RINVDSTADR).",
    ),
    (
        N_(
            delivery.PART_FAILED,
            seq=2,
            total=3,
            error=smpp.Receipt("ab12", "UNDELIV", "001").report().error,
        ),
        "Partie 2/3 : Non délivré par l'opérateur (UNDELIV, err 001)",
        "Part 2/3: Not delivered by the operator (UNDELIV, err 001)",
    ),
    (
        outbox.outcome("+33600000055")[1],
        "Téléphone injoignable pendant la durée de validité (plage de test)",
        "Phone unreachable for the whole validity period (test range)",
    ),
    (
        kannel.dlr_error(16, "NACK/0x0000000b"),
        "Refusé par l'opérateur (SMSC) : NACK/0x0000000b",
        "Refused by the operator (SMSC): NACK/0x0000000b",
    ),
    (
        N_(delivery.NO_RECEIPT_ERROR, hours=48),
        "Aucun accusé de réception de l'opérateur en 48 h",
        "No delivery receipt from the operator within 48 h",
    ),
    # Words no sentence of ShopSMS fits (an older reason, the operator's own): as they are.
    ("Abonné absent du réseau", "Abonné absent du réseau", "Abonné absent du réseau"),
]


def test_a_messages_reason_is_kept_in_french_and_said_in_the_readers_language(
    app, client_as, store, make_client
):
    messages = [
        (
            "failed",
            {
                "client_id": make_client(last_name=f"N{n}", tel1="06 11 22 33 44"),
                "error": str(kept),
            },
        )
        for n, (kept, _, _) in enumerate(REASONS)
    ]
    campaign_id = add_report(app, store.id, "Rentrée", messages)
    with app.app_context():
        stored = db.session.scalars(select(Message.error).order_by(Message.id)).all()
    assert stored == [french for _, french, _ in REASONS]  # what exports and the API read
    french = _page(client_as("staff"), f"/rapports/{campaign_id}")
    english = _page(_in_english(client_as("staff")), f"/rapports/{campaign_id}")
    for _, in_french, in_english in REASONS:
        assert in_french in french
        assert in_english in english
    assert "opérateur" not in english


def test_a_follow_up_says_the_operators_reason_in_the_readers_language(
    app, client_as, store, make_client
):
    unknown = make_client(last_name="INCONNU", tel1="06 00 00 00 01")
    reason = str(smpp.refusal_reason(consts.SMPP_ESME_RINVDSTADR))
    campaign_id = add_report(
        app, store.id, "Soldes", [("failed", {"client_id": unknown, "error": reason})]
    )
    manager = client_as("manager")
    page = manager.get(f"/rapports/{campaign_id}")
    manager.post(
        f"/rapports/{campaign_id}/cloturer", data={"csrf_token": csrf_token(page), "fiches": "1"}
    )
    assert (
        "Échec : Refusé par l'opérateur : numéro de destination invalide (ESME_RINVDSTADR)."
        in _page(client_as("staff"), "/rapports/fiches-a-corriger")
    )
    assert "Failed: Refused by the operator: invalid destination number (ESME_RINVDSTADR)." in (
        _page(_in_english(client_as("staff")), "/rapports/fiches-a-corriger")
    )
    with app.app_context():
        assert followups.FAILED.startswith("Échec")


def test_the_supervision_says_the_links_state_in_the_readers_language(app, client_as, redis_client):
    run = uuid.uuid4().hex  # each process's reading is written once in 30 s
    with app.app_context():
        link_status.record("smpp:transmitter", False, _refused_bind(), process=f"web:{run}")
        receiver = N_(smpp._RECEIVER_UNBOUND, reason=_refused_bind())
        link_status.record("smpp:receiver", False, receiver, process=f"smpp:{run}")
        link_status.record("kannel", False, "Kannel ne répond plus", process=f"old:{run}")
    french = _page(client_as("admin"), "/supervision/")
    assert "Connexion SMPP refusée : mot de passe" in french
    assert "Récepteur non lié : Connexion SMPP refusée : mot de passe" in french
    english = _page(_in_english(client_as("admin")), "/supervision/")
    assert "SMPP connection refused: password" in english
    assert "Receiver not bound: SMPP connection refused: password" in english
    assert "Connexion SMPP" not in english
    assert "Kannel ne répond plus" in english  # a reading written before: as it is


def test_a_campaign_held_for_its_link_says_the_refusal_in_the_readers_language(
    app, client_as, store, make_client
):
    campaign_id = add_report(app, store.id, "Noël", [("pending", {})], finished=False)
    with app.app_context():
        campaign = db.session.get(Campaign, campaign_id)
        refused = smpp.SmppUnavailable(_refused_bind(), "transmitter vers smsc.example.com")
        sending._hold_for_link(campaign, smpp.SmppGateway(SETTINGS), refused, datetime.now())
    french = _page(client_as("manager"), "/campagnes/")
    assert (
        "Connexion SMPP refusée : mot de passe : l'envoi reprendra de lui-même dès que la "
        "connexion sera rétablie." in french
    )
    english = _page(_in_english(client_as("manager")), "/campagnes/")
    assert (
        "SMPP connection refused: password: sending will resume by itself once the "
        "connection is back." in english
    )


def test_the_gateway_test_answers_in_the_persons_language(
    app, client_as, credits_available, redis_client
):
    credits_available(10)
    with app.app_context():
        settings.put("gateway", "kannel")
        # Nothing listens on port 9: Kannel is down.
        settings.put("kannel_sendsms_url", "http://127.0.0.1:9/cgi-bin/sendsms")
    client = _in_english(client_as("admin"))
    token = csrf_token(client.get("/parametres/passerelle"))
    answer = client.post(
        "/parametres/passerelle/test", data={"csrf_token": token, "phone": "06 98 76 54 32"}
    )
    assert answer.status_code == 400
    assert (
        "The gateway did not take the SMS: Kannel out of reach "
        "(http://127.0.0.1:9/cgi-bin/sendsms): ConnectionError"
    ) in html.unescape(answer.text)
    with app.app_context():
        message = db.session.scalar(select(Message))
    assert message.error == (  # its record, in French as every message's reason
        "La passerelle n'a pas pris le SMS : Kannel injoignable "
        "(http://127.0.0.1:9/cgi-bin/sendsms) : ConnectionError"
    )
    report = _page(client, f"/rapports/{message.campaign_id}")
    assert "The gateway did not take the SMS: Kannel out of reach" in report


def test_a_consent_proof_written_by_shopsms_is_said_in_the_readers_language(
    app, client_as, make_client, client, token_for_api
):
    """The notes ShopSMS writes itself on a consent change (a STOP, a point of sale's API
    call) are kept as their French words; the card says them in the reader's language."""
    from shopsms.services import inbound

    stopped = make_client(last_name="STOP", tel1="06 12 34 56 78", sms_consent="accepted")
    with app.app_context():
        inbound.receive("outbox", "+33612345678", "STOP")
        db.session.commit()
    key = token_for_api("Caisse 2")
    answer = client.post(
        "/api/v1/clients",
        json={
            "items": [
                {
                    "external_id": "K9",
                    "last_name": "API",
                    "store": "001",
                    "tel1": "06 55 44 33 22",
                    "sms_consent": "accepted",
                }
            ]
        },
        headers={"Authorization": f"Bearer {key}"},
    )
    assert answer.status_code == 200 and answer.json["created"] == 1, answer.json
    with app.app_context():
        from shopsms.models import Client

        by_api = db.session.scalar(select(Client.id).where(Client.external_id == "K9"))
    french = client_as("staff")
    assert "STOP reçu du +33612345678" in _page(french, f"/clients/{stopped}")
    assert "API, jeton n° 1 « Caisse 2 »" in _page(french, f"/clients/{by_api}")
    english = _in_english(client_as("staff"))
    assert "STOP received from +33612345678" in _page(english, f"/clients/{stopped}")
    assert "API, token no. 1 “Caisse 2”" in _page(english, f"/clients/{by_api}")
