"""SMPP 3.4 against a real peer (tests/peers/smsc.py, the smpp34 server side): campaigns
go out through the real sending pipeline, receipts and inbound SMS come back through
the real receiver (in a thread, and once as the `flask smpp receive` process)."""

import os
import signal
import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import smpp34
from sqlalchemy import select

from shopsms.extensions import db
from shopsms.gateways import OutgoingSms, get_gateway
from shopsms.gateways.smpp import Receiver, close_transmitters
from shopsms.models import Campaign, Client, EarlyReceipt, InboundMessage, Message, OptOut
from shopsms.services import campaigns, credits, sending
from shopsms.services.campaigns import Recipient
from tests.peers.smsc import SmscPeer, free_port

pytestmark = pytest.mark.usefixtures("ctx", "redis_client")

OPEN = datetime(2026, 11, 24, 10, 0)  # a Tuesday, 11:00 in Paris: inside sending hours
PROJECT = Path(__file__).resolve().parents[2]
BODY = (
    "Bonjour <NOM>, les soldes d'hiver commencent samedi : -20 € sur toute la bijouterie "
    "et les montres, retouches offertes en magasin. A samedi !"
)


@pytest.fixture
def smsc(app):
    peer = SmscPeer().start()
    app.config.update(
        SMS_GATEWAY="smpp",
        SMPP_HOST="127.0.0.1",
        SMPP_PORT=peer.port,
        SMPP_SYSTEM_ID="shopsms",
        SMPP_PASSWORD="s3cret-pw",
    )
    yield peer
    close_transmitters()
    peer.stop()


@pytest.fixture
def receiver(app, smsc):
    """The receiver loop in a thread, stopped (and unbound) after the test."""
    loop = Receiver.from_app(app, tick=0.05)
    thread = threading.Thread(target=loop.run, daemon=True)
    thread.start()
    assert loop.bound.wait(5)
    smsc.wait_for_receiver()
    yield loop
    loop.stop()
    thread.join(timeout=5)
    assert not thread.is_alive()


def send_campaign(client_ids, body=BODY):
    campaign = campaigns.draft(
        "marketing", body=body, recipients=[Recipient(client_id=c) for c in client_ids]
    )
    campaigns.queue_now(campaign.id, now=OPEN)
    while not sending.send_next_batch(campaign.id, now=OPEN).done:
        pass
    db.session.expire_all()
    return campaign.id


def message_of(client_id):
    return db.session.scalar(select(Message).where(Message.client_id == client_id))


def make_three(make_client):
    return (
        make_client(civility="", first_name="Paul", last_name="Martin", tel1="06 12 00 00 01"),
        make_client(
            civility="", first_name="Hélène", last_name="Lefêvre-Garçon", tel1="06 12 00 00 02"
        ),
        make_client(
            civility="",
            first_name="Jean-Christophe",
            last_name="Martin-Duval",
            tel1="06 12 00 00 03",
        ),
    )


def test_a_campaign_reaches_the_smsc_with_its_encodings_and_parts(
    smsc, make_client, credits_available
):
    credits_available(100)
    gsm, ucs2, long_gsm = make_three(make_client)
    campaign_id = send_campaign([gsm, ucs2, long_gsm])

    received = {sms.destination_addr: sms for sms in smsc.messages()}
    assert sorted(received) == ["33612000001", "33612000002", "33612000003"]
    expected = {  # number, data_coding, parts
        gsm: ("33612000001", 0, 1),
        ucs2: ("33612000002", 8, 3),
        long_gsm: ("33612000003", 0, 2),
    }
    for client_id, (number, data_coding, parts) in expected.items():
        message, sms = message_of(client_id), received[number]
        assert sms.text == message.text  # decoded by the peer, accents and € included
        assert (sms.data_coding, len(sms.parts), message.parts) == (data_coding, parts, parts)
        assert message.state == "submitted"
        assert message.gateway == "smpp"
        assert message.gateway_ref == sms.last_id  # the receipts name the last part
    assert "€" in received["33612000001"].text and "ç" in received["33612000002"].text
    # Concatenated parts: one reference, numbered, with the UDH flag.
    for sms in received.values():
        if len(sms.parts) > 1:
            assert {p.udh[0] for p in sms.parts} == {sms.parts[0].udh[0]}
            assert [p.udh[1:] for p in sms.parts] == [
                (len(sms.parts), n) for n in range(1, len(sms.parts) + 1)
            ]
            assert all(p.esm_class == 0x40 for p in sms.parts)
    for part in smsc.submits:
        assert (part.source_addr, part.source_addr_ton, part.source_addr_npi) == ("SHOPSMS", 5, 0)
        assert (part.dest_addr_ton, part.dest_addr_npi, part.registered_delivery) == (1, 1, 1)
    assert db.session.get(Campaign, campaign_id).status == "sent"
    assert credits.balance() == 100 - 6  # charged the parts that went out


def test_delivery_receipts_end_delivered_failed_and_expired(
    smsc, receiver, make_client, credits_available
):
    credits_available(100)
    gsm, ucs2, long_gsm = make_three(make_client)
    send_campaign([gsm, ucs2, long_gsm])
    received = {sms.destination_addr: sms for sms in smsc.messages()}

    assert smsc.push_receipt(received["33612000001"].parts[-1], "DELIVRD") == 0
    # One part delivered of three: the message waits for the others...
    assert smsc.push_receipt(received["33612000002"].parts[0], "DELIVRD") == 0
    db.session.expire_all()
    assert message_of(ucs2).state == "submitted"
    # ...and one part undelivered fails it, naming the part; this SMSC writes it in the
    # text only (no TLV).
    last = received["33612000002"].parts[-1]
    assert smsc.push_receipt(last, "UNDELIV", "001", tlvs=False) == 0

    db.session.expire_all()
    assert message_of(gsm).state == "delivered"
    failed = message_of(ucs2)
    assert failed.state == "failed"
    assert failed.error == "Partie 3/3 : Non délivré par l'opérateur (UNDELIV, err 001)"
    assert message_of(long_gsm).state == "submitted"
    assert smsc.push_receipt(received["33612000003"].parts[-1], "EXPIRED") == 0
    db.session.expire_all()
    expired = message_of(long_gsm)
    assert (expired.state, expired.error) == (
        "expired",
        "Partie 2/2 : Téléphone injoignable pendant la durée de validité (EXPIRED, err 000)",
    )


def test_a_receipt_faster_than_our_commit_is_applied_once_the_row_is_known(
    smsc, receiver, make_client, credits_available
):
    credits_available(10)
    client_id = make_client(civility="", first_name="Paul", last_name="Martin")
    campaign = campaigns.draft(
        "single", body="Votre montre est prête.", recipients=[Recipient(client_id=client_id)]
    )
    campaigns.queue_now(campaign.id, now=OPEN)
    message = message_of(client_id)
    message.state, message.gateway = "submitting", "smpp"
    db.session.commit()
    outgoing = [OutgoingSms(message.id, message.phone, message.text, "SHOPSMS", 1)]
    (answer,) = get_gateway().submit(outgoing)
    # The SMSC reports before the worker has recorded the submission: the receipt is
    # kept in the database (not in the receiver's memory) and applied with the record.
    assert smsc.push_receipt(smsc.submits[-1], "DELIVRD") == 0
    early = db.session.scalars(select(EarlyReceipt)).all()
    assert [(e.gateway_ref, e.state) for e in early] == [(answer.ref, "delivered")]
    sending._record([answer], OPEN, "smpp")
    db.session.commit()
    db.session.expire_all()
    assert message.state == "delivered"
    assert db.session.scalars(select(EarlyReceipt)).all() == []


def test_a_refused_submit_fails_with_a_french_reason_and_costs_nothing(
    smsc, make_client, credits_available
):
    credits_available(100)
    good = make_client(tel1="06 12 00 00 10")
    bad = make_client(tel1="06 12 00 00 99")
    smsc.refuse["33612000099"] = smpp34.ESME_RINVDSTADR
    send_campaign([good, bad], body="Bonjour <PRENOM>, -20 % samedi.")

    refused = message_of(bad)
    assert refused.state == "failed"
    assert refused.error == (
        "Refusé par l'opérateur : numéro de destination invalide (ESME_RINVDSTADR)."
    )
    assert refused.submitted_at is None
    assert message_of(good).state == "submitted"
    assert credits.balance() == 99  # the refused message was refunded


def test_an_smsc_out_of_reach_fails_nothing_and_sending_resumes_when_it_is_up(
    app, make_client, credits_available
):
    credits_available(10)
    port = free_port()  # nothing listens there yet
    app.config.update(
        SMS_GATEWAY="smpp",
        SMPP_HOST="127.0.0.1",
        SMPP_PORT=port,
        SMPP_SYSTEM_ID="shopsms",
        SMPP_PASSWORD="s3cret-pw",
    )
    client_id = make_client(tel1="06 12 00 00 50")
    campaign = campaigns.draft(
        "single", body="Votre montre est prête.", recipients=[Recipient(client_id=client_id)]
    )
    campaigns.queue_now(campaign.id, now=OPEN)
    held = sending.send_next_batch(campaign.id, now=OPEN)
    assert held.held_until == OPEN + timedelta(seconds=sending.LINK_RETRY_SECONDS)
    assert held.reason == f"Connexion SMPP refusée : serveur 127.0.0.1:{port} injoignable"
    db.session.expire_all()
    assert "s3cret-pw" not in db.session.get(Campaign, campaign.id).status_note
    message = message_of(client_id)
    assert (message.state, message.claimed_by) == ("pending", None)  # neither failed nor lost

    peer = SmscPeer(port=port).start()
    try:
        assert sending.send_next_batch(campaign.id, now=held.held_until).submitted == 1
    finally:
        close_transmitters()
        peer.stop()
    db.session.expire_all()
    assert message_of(client_id).state == "submitted"
    assert db.session.get(Campaign, campaign.id).status_note == ""
    assert [sms.text for sms in peer.messages()] == ["Votre montre est prête."]


def test_an_inbound_stop_and_a_ucs2_reply_through_the_receiver(smsc, receiver, make_client):
    client_id = make_client(tel1="06 12 00 00 20")
    assert smsc.push_inbound("33612000020", "  Stop ") == 0
    assert smsc.push_inbound("33612000020", "Très bien, ça marche ! À samedi", data_coding=8) == 0

    db.session.expire_all()
    stop, reply = db.session.scalars(select(InboundMessage).order_by(InboundMessage.id)).all()
    assert (stop.phone, stop.text, stop.to, stop.gateway) == (
        "+33612000020",
        "  Stop ",
        "36608",
        "smpp",
    )
    assert stop.is_stop and stop.client_id == client_id
    assert (reply.text, reply.is_stop) == ("Très bien, ça marche ! À samedi", False)
    optout = db.session.scalar(select(OptOut).where(OptOut.phone == "+33612000020"))
    assert optout is not None and optout.gateway == "smpp"
    assert db.session.get(Client, client_id).sms_consent == "refused"


def test_the_receiver_binds_again_when_the_smsc_ends_the_session(smsc, receiver, make_client):
    make_client(tel1="06 12 00 00 30")
    first = smsc.wait_for_receiver()
    smsc.unbind_receivers()
    smsc.wait_for_receiver(other_than=first)
    assert smsc.push_inbound("33612000030", "STOP") == 0
    db.session.expire_all()
    assert db.session.scalar(select(OptOut.phone)) == "+33612000030"


def test_the_receiver_waits_for_an_smsc_that_is_not_up_yet(app):
    port = free_port()
    app.config.update(
        SMPP_HOST="127.0.0.1", SMPP_PORT=port, SMPP_SYSTEM_ID="shopsms", SMPP_PASSWORD="s3cret-pw"
    )
    loop = Receiver.from_app(app, tick=0.05)
    thread = threading.Thread(target=loop.run, daemon=True)
    thread.start()
    time.sleep(0.2)  # refused at least once: it is backing off now
    peer = SmscPeer(port=port).start()
    try:
        peer.wait_for_receiver(timeout=20)  # its backoff, on a loaded machine
        assert loop.bound.wait(5)
    finally:
        loop.stop()
        thread.join(timeout=5)
        peer.stop()
    assert not thread.is_alive()


def test_flask_smpp_receive_runs_until_sigterm(app, smsc, make_client):
    client_id = make_client(tel1="06 12 00 00 40")
    env = os.environ | {
        "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "REDIS_URL": app.config["REDIS_URL"],
        "SMPP_HOST": "127.0.0.1",
        "SMPP_PORT": str(smsc.port),
        "SMPP_SYSTEM_ID": "shopsms",
        "SMPP_PASSWORD": "s3cret-pw",
    }
    command = [sys.executable, "-m", "flask", "--app", "app", "smpp", "receive"]
    process = subprocess.Popen(
        command, cwd=PROJECT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        smsc.wait_for_receiver(timeout=90)  # a cold `flask` start on a loaded machine
        assert smsc.push_inbound("33612000040", "STOP SMS") == 0
    finally:
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=10)
    assert process.returncode == 0, output
    assert "s3cret-pw" not in output
    db.session.expire_all()
    assert db.session.get(Client, client_id).sms_consent == "refused"
