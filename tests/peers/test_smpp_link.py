"""The SMPP link against an SMSC we did not write (npm `smpp`, tests/peers/nodesmsc.py)
that behaves as aggregators do: it probes idle sessions and unbinds the silent ones,
throttles, refuses a wrong password. Campaigns go through the real sending pipeline;
receipts come back through the real receiver."""

import threading
import time
from datetime import datetime

import pytest
from sqlalchemy import select

from shopsms import formats
from shopsms.extensions import db
from shopsms.gateways.smpp import Receiver
from shopsms.models import Message
from shopsms.services import campaigns, sending
from shopsms.services.campaigns import Recipient

pytestmark = pytest.mark.usefixtures("ctx", "redis_client")

OPEN = datetime(2026, 11, 24, 10, 0)  # a Tuesday, 11:00 in Paris: inside sending hours


@pytest.fixture
def receiver(app):
    """The receiver loop in a thread (start it once the SMSC is up)."""
    loops = []

    def start():
        loop = Receiver.from_app(app, tick=0.05)
        thread = threading.Thread(target=loop.run, daemon=True)
        thread.start()
        loops.append((loop, thread))
        assert loop.bound.wait(5)
        return loop

    yield start
    for loop, thread in loops:
        loop.stop()
        thread.join(timeout=5)
        assert not thread.is_alive()


def queue(client_ids, body="Votre montre est prête.", kind="single"):
    campaign = campaigns.draft(
        kind, body=body, recipients=[Recipient(client_id=c) for c in client_ids]
    )
    campaigns.queue_now(campaign.id, now=OPEN)
    return campaign.id


def send(campaign_id):
    while not sending.send_next_batch(campaign_id, now=OPEN).done:
        pass
    db.session.expire_all()


def messages(campaign_id):
    db.session.expire_all()
    return db.session.scalars(
        select(Message).where(Message.campaign_id == campaign_id).order_by(Message.id)
    ).all()


def wait_for_state(message, state, timeout=5):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        db.session.expire_all()
        if message.state == state:
            return
        time.sleep(0.02)
    raise AssertionError(f"message {message.id} is {message.state}, not {state}")


# --- 1. the link stays bound ---------------------------------------------------------------


def test_an_idle_link_stays_bound_and_the_next_sms_is_delivered_at_once(
    node_smsc, receiver, make_client, credits_available
):
    # As Jasmin does (an enquire_link every 60 s, unbind when unanswered), 30 times faster:
    # a probe after 2 s of silence, unbind when it is not answered within 1 s.
    smsc = node_smsc(enquire_every=2000, enquire_timeout=1000)
    receiver()
    credits_available(10)
    first, second = make_client(tel1="06 12 00 00 01"), make_client(tel1="06 12 00 00 02")
    send(queue([first]))
    (session,) = smsc.bound("transmitter")

    # Idle for three probe periods (the 90 s at Jasmin's pace).
    seen = len(smsc.events)
    for _ in range(3):
        probe = smsc.wait_for(
            lambda e: e["event"] == "probe" and e["session"] == session, timeout=10, after=seen
        )
        seen = smsc.events.index(probe) + 1
    assert smsc.of("unbind", by="smsc") == []

    began = time.monotonic()
    campaign_id = queue([second])
    send(campaign_id)
    submit = smsc.submits[-1]
    assert (submit.session, submit.status, submit.destination_addr) == (session, 0, "33612000002")
    assert smsc.answered(smsc.receipt(submit)) == 0
    (message,) = messages(campaign_id)
    wait_for_state(message, "delivered")
    latency = time.monotonic() - began
    print(f"idle then send: delivered in {latency:.2f} s")
    assert latency < 5  # the bound; it took 2 min 16 s before
    assert smsc.bound("transmitter") == [session]  # never unbound, one bind in all


def test_the_link_binds_again_at_once_when_the_smsc_unbinds_it(
    node_smsc, receiver, make_client, credits_available
):
    smsc = node_smsc()
    receiver()
    credits_available(10)
    first, second = make_client(tel1="06 12 00 00 03"), make_client(tel1="06 12 00 00 04")
    send(queue([first]))
    (old,) = smsc.bound("transmitter")
    seen = len(smsc.events)
    smsc.unbind("transmitter")
    # Bound again by itself, before any message needs it.
    rebound = smsc.wait_for_bind("transmitter", after=seen, timeout=3)
    assert rebound["session"] != old
    assert smsc.of("unbind", session=old, by="smsc")

    campaign_id = queue([second])
    send(campaign_id)
    (message,) = messages(campaign_id)
    assert message.state == "submitted"
    assert smsc.submits[-1].session == rebound["session"]
    assert [s.status for s in smsc.submits] == [0, 0]  # nothing sent into a dead session


def test_an_idle_link_sends_its_own_enquire_link(node_smsc, app, make_client, credits_available):
    smsc = node_smsc()  # this SMSC never probes: our own enquire_link keeps the link
    app.config["SMPP_ENQUIRE_SECONDS"] = 0.5
    credits_available(10)
    send(queue([make_client(tel1="06 12 00 00 05")]))
    (session,) = smsc.bound("transmitter")
    smsc.wait_for(lambda e: e["event"] == "enquire_link" and e["session"] == session)
    assert smsc.bound("transmitter") == [session]


# --- 2. throttling slows the sending, never fails it -----------------------------------------


def test_a_server_limited_to_2_per_second_gets_50_messages_once_each(
    node_smsc, make_client, credits_available
):
    smsc = node_smsc(throttle=2)
    credits_available(100)
    clients = [make_client(tel1=f"06 12 00 01 {n:02d}") for n in range(50)]
    campaign_id = queue(clients)
    began = time.monotonic()
    send(campaign_id)
    took = time.monotonic() - began

    accepted = [s for s in smsc.submits if s.status == 0]
    throttled = [s for s in smsc.submits if s.status == 0x58]
    assert sorted(s.destination_addr for s in accepted) == [
        f"336120001{n:02d}" for n in range(50)
    ]  # every number once, none twice
    assert {m.state for m in messages(campaign_id)} == {"submitted"}
    # No stall longer than the backoff: the SMSC is never left waiting for the sweep.
    times = [s.t for s in accepted]
    longest_gap = max(b - a for a, b in zip(times, times[1:], strict=False))
    print(
        f"50 SMS at 2/s: {took:.1f} s, {len(throttled)} ESME_RTHROTTLED, "
        f"longest gap {longest_gap:.2f} s"
    )
    assert longest_gap < 4.5


def test_a_long_sms_throttled_on_part_2_reaches_the_phone_whole(
    node_smsc, make_client, credits_available
):
    smsc = node_smsc()
    credits_available(10)
    client_id = make_client(tel1="06 12 00 02 01")
    smsc.throttle_part(seq=2, times=3)
    body = "Bonjour, votre montre est prete en magasin. " * 8  # 352 GSM characters: 3 parts
    campaign_id = queue([client_id], body=body)
    send(campaign_id)

    (sms,) = smsc.messages()
    (message,) = messages(campaign_id)
    assert message.state == "submitted" and message.error in ("", None)
    assert sms.text == message.text  # the phone puts the whole text back together
    assert [p.udh[1:] for p in sms.parts] == [(3, 1), (3, 2), (3, 3)]  # one reference
    refused = [s for s in smsc.submits if s.status]
    assert len(refused) == 3 and {s.udh for s in refused} == {sms.parts[1].udh}
    assert message.gateway_ref == sms.parts[-1].message_id


# --- 3. a refused bind reaches the people, and sending resumes once it is fixed ------------


def link_reading(name="smpp:transmitter", *, ok=None, timeout=5):
    """The newest reading of `name`; with `ok`, once there is one that says so."""
    from shopsms.services import link_status

    deadline = time.monotonic() + timeout
    while True:
        found = [e for e in link_status.current() if e["link"] == name]
        if found and (ok is None or found[0]["ok"] is ok):
            return found[0]
        if time.monotonic() > deadline:
            raise AssertionError(f"no reading of {name} with ok={ok}: {found}")
        time.sleep(0.05)


def test_a_wrong_password_is_said_on_the_campaign_and_fixing_it_sends(
    node_smsc, make_client, credits_available
):
    from shopsms.models import Campaign
    from shopsms.services import settings

    smsc = node_smsc()
    credits_available(10)
    settings.put("smpp_password", "mauvais")  # Paramètres › Passerelle
    campaign_id = queue([make_client(tel1="06 12 00 03 01")])

    held = sending.send_next_batch(campaign_id, now=OPEN)
    assert held.reason == "Connexion SMPP refusée : mot de passe"
    assert smsc.of("bind", status=0x0E)  # ESME_RINVPASWD from the SMSC
    db.session.expire_all()
    campaign = db.session.get(Campaign, campaign_id)
    assert formats.said(campaign.status_note) == (
        "Connexion SMPP refusée : mot de passe : l'envoi reprendra de lui-même dès que la "
        "connexion sera rétablie."
    )
    assert "mauvais" not in campaign.status_note and "s3cretpw" not in campaign.status_note
    (message,) = messages(campaign_id)
    assert (message.state, message.claimed_by) == ("pending", None)
    reading = link_reading()
    assert (reading["ok"], reading["detail"]) == (False, "Connexion SMPP refusée : mot de passe")

    settings.put("smpp_password", "s3cretpw")  # head office fixes it
    send_at = held.held_until
    while not (result := sending.send_next_batch(campaign_id, now=send_at)).done:
        assert result.held_until is None
    db.session.expire_all()
    (message,) = messages(campaign_id)
    assert message.state == "submitted"
    assert db.session.get(Campaign, campaign_id).status_note == ""
    assert link_reading()["ok"] is True
    assert [s.destination_addr for s in smsc.submits] == ["33612000301"]


@pytest.mark.parametrize(
    ("config", "reason"),
    [
        ({"bind_status": 0x0D}, "Connexion SMPP refusée : liaison refusée par l'opérateur"),
        ({"system_id": "autre"}, "Connexion SMPP refusée : identifiant (system_id) inconnu"),
    ],
)
def test_other_bind_refusals_are_worded(
    node_smsc, app, make_client, credits_available, config, reason
):
    smsc = node_smsc()
    smsc.set(**config)
    credits_available(10)
    campaign_id = queue([make_client(tel1="06 12 00 03 02")])
    assert sending.send_next_batch(campaign_id, now=OPEN).reason == reason
    assert smsc.submits == []


# --- 4. the receiver uses the workers' settings and follows them ---------------------------


def configure_in_parametres(smsc):
    from shopsms.services import settings

    for key, value in (
        ("gateway", "smpp"),
        ("smpp_host", "127.0.0.1"),
        ("smpp_port", smsc.port),
        ("smpp_system_id", smsc.config["system_id"]),
        ("smpp_password", smsc.config["password"]),
    ):
        settings.put(key, value)


def test_flask_smpp_receive_configured_only_in_parametres_hears_receipts_and_stop(
    app, node_smsc, make_client, credits_available
):
    import os
    import subprocess
    import sys
    from pathlib import Path

    from shopsms.models import Client, OptOut

    smsc = node_smsc(configure=False)
    configure_in_parametres(smsc)
    credits_available(10)
    client_id = make_client(tel1="06 12 00 04 01")
    # Nothing about SMPP in the environment: the SMSC is known from Paramètres only.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SMPP_", "SMS_GATEWAY"))}
    env |= {
        "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "REDIS_URL": app.config["REDIS_URL"],
    }
    command = [sys.executable, "-m", "flask", "--app", "app", "smpp", "receive"]
    project = Path(__file__).resolve().parents[2]
    process = subprocess.Popen(
        command, cwd=project, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        # A cold `flask` start on a loaded machine takes a while: no timing is asserted.
        smsc.wait_for_bind("transceiver", timeout=90)
        assert "Récepteur lié" in link_reading("smpp:receiver", ok=True)["detail"]

        campaign_id = queue([client_id])
        send(campaign_id)  # the worker's path reads Paramètres too
        (message,) = messages(campaign_id)
        assert smsc.answered(smsc.receipt(smsc.submits[-1])) == 0
        wait_for_state(message, "delivered")
        assert smsc.answered(smsc.inbound("33612000401", "STOP")) == 0
        db.session.expire_all()
        assert db.session.scalar(select(OptOut.phone)) == "+33612000401"
        assert db.session.get(Client, client_id).sms_consent == "refused"

        # Head office moves to another SMSC in Paramètres: followed without a restart.
        other = node_smsc(configure=False)
        configure_in_parametres(other)
        other.wait_for_bind("transceiver", timeout=60)
        smsc.wait_for(lambda e: e["event"] == "unbind" and e["by"] == "esme")
        second = make_client(tel1="06 12 00 04 02")
        assert other.answered(other.inbound("33612000402", "Stop merci")) == 0
        db.session.expire_all()
        assert db.session.get(Client, second).sms_consent == "refused"
    finally:
        process.terminate()
        output, _ = process.communicate(timeout=10)
    assert process.returncode == 0, output
    assert smsc.config["password"] not in output
    assert link_reading("smpp:receiver", ok=False)["detail"] == "Récepteur arrêté"


# --- 5. a concatenated SMS is as good as its worst part -----------------------------------


def test_a_long_sms_whose_part_1_is_undelivered_is_not_delivered(
    node_smsc, receiver, make_client, credits_available
):
    from shopsms.services import reports

    smsc = node_smsc()
    receiver()
    credits_available(20)
    body = "Bonjour, votre montre est prete en magasin. " * 8  # 3 parts
    bad, good = make_client(tel1="06 12 00 05 01"), make_client(tel1="06 12 00 05 02")
    campaign_id = queue([bad, good], body=body)
    send(campaign_id)
    whole = {sms.destination_addr: sms for sms in smsc.messages()}
    failed, delivered = messages(campaign_id)

    first, *rest = whole["33612000501"].parts
    assert smsc.answered(smsc.receipt(first, "UNDELIV", "001")) == 0
    for part in rest:  # the last parts arrive: the message stays failed
        assert smsc.answered(smsc.receipt(part, "DELIVRD")) == 0
    for part in whole["33612000502"].parts[:2]:
        assert smsc.answered(smsc.receipt(part, "DELIVRD")) == 0
    db.session.expire_all()
    assert delivered.state == "submitted"  # two parts of three: not yet
    assert smsc.answered(smsc.receipt(whole["33612000502"].parts[2], "DELIVRD")) == 0

    db.session.expire_all()
    assert (failed.state, failed.error) == (
        "failed",
        "Partie 1/3 : Non délivré par l'opérateur (UNDELIV, err 001)",
    )
    assert reports.STATE_TEXT[failed.state] != "Délivré"
    assert delivered.state == "delivered"


# --- 6. no receipt within the validity period: « Sans accusé de réception » -----------------


def test_a_submitted_sms_without_receipt_after_48_hours_is_said_so(
    app, node_smsc, receiver, make_client, credits_available, users
):
    from datetime import timedelta

    from shopsms.models import User
    from shopsms.services import delivery, listings, reports

    smsc = node_smsc()
    receiver()
    credits_available(10)
    lost, late = make_client(tel1="06 12 00 06 01"), make_client(tel1="06 12 00 06 02")
    campaign_id = queue([lost, late])
    send(campaign_id)  # the SMSC never reports on them
    submitted = max(m.submitted_at for m in messages(campaign_id))
    assert delivery.age_out(now=submitted + timedelta(hours=47)) == 0  # still within 48 h
    assert delivery.age_out(now=submitted + timedelta(hours=48, minutes=1)) == 2

    first, second = messages(campaign_id)
    assert (first.state, first.error) == (
        "no_receipt",
        "Aucun accusé de réception de l'opérateur en 48 h",
    )
    assert reports.STATE_TEXT[first.state] == "Sans accusé de réception"
    head_office = db.session.get(User, users["admin"].id)
    row = reports.visible(head_office, campaign_id)  # the report's row, as its page reads it
    assert reports.counts(row)["no_receipt"] == 2 and reports.counts(row)["pending"] == 0
    assert listings.done_share(row) == (2, 2)

    # A receipt that comes after all still says what became of the message.
    submit = next(s for s in smsc.submits if s.destination_addr == "33612000602")
    assert smsc.answered(smsc.receipt(submit, "DELIVRD")) == 0
    db.session.expire_all()
    assert second.state == "delivered" and first.state == "no_receipt"
