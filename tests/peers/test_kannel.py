"""ShopSMS against a real Kannel (bearerbox + smsbox + its fake SMSC): texts and accents
arrive as written, both delivery reports come back, STOP opts out, forged reports are
refused, and a worker killed mid-campaign sends nobody a message twice."""

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import datetime

import pytest
from rq.scheduler import RQScheduler
from sqlalchemy import func, insert, select, update

from shopsms.config import PROJECT_ROOT
from shopsms.extensions import db
from shopsms.gateways import get_gateway
from shopsms.gateways.kannel import KannelUnavailable, sign
from shopsms.models import (
    Campaign,
    Client,
    CreditEntry,
    InboundMessage,
    Message,
    OptOut,
    utcnow,
)
from shopsms.queue import QUEUE_NAME
from shopsms.services import campaigns, credits, sending, settings
from shopsms.services.campaigns import Recipient
from shopsms.sms import encoding
from shopsms.web.hooks import STOP_REPLY
from tests.peers import kannel as kannel_peer

pytestmark = pytest.mark.usefixtures("ctx", "redis_client")

OPEN = datetime(2026, 11, 24, 10, 0)  # a Tuesday, 11:00 in Paris: inside sending hours


def fresh(statement):
    db.session.rollback()  # see what the hooks and the worker committed since
    return db.session.scalar(statement)


def wait_until(check, seconds=20, what="condition"):
    deadline = time.monotonic() + seconds
    while True:
        db.session.rollback()
        value = check()
        if value:
            return value
        assert time.monotonic() < deadline, f"{what}: not true after {seconds} s"
        time.sleep(0.05)


def states(campaign_id):
    return dict(
        db.session.execute(
            select(Message.phone, Message.state).where(Message.campaign_id == campaign_id)
        ).all()
    )


def draft_and_queue(kind, client_ids, body, now=OPEN):
    campaign = campaigns.draft(kind, body=body, recipients=[Recipient(c) for c in client_ids])
    campaigns.queue_now(campaign.id, now=now)
    return campaign.id


def send_all(campaign_id, now=OPEN):
    gateway = get_gateway()
    while not sending.send_next_batch(campaign_id, gateway=gateway, now=now).done:
        pass


def test_a_campaign_arrives_with_its_accents_and_parts_and_both_reports_come_back(
    kannel, make_client, credits_available
):
    credits_available(100)
    body = (
        "Bonjour <PRENOM> <NOMPROPRE>, l'équipe vous offre 20 € sur les montres jusqu'à "
        "samedi, très élégant ! Venez vite en boutique."
    )
    clients = [
        make_client(first_name="JEAN", last_name="DUPONT", tel1="06 10 00 00 01"),
        make_client(first_name="FRANÇOISE", last_name="LEFÊVRE", tel1="06 10 00 00 02"),
        make_client(
            first_name="MARIE",
            tel1="06 10 00 00 03",
            last_name="DE LA ROCHEFOUCAULD-MONTMORENCY-SAINT-GERMAIN-DES-PRES",
        ),
    ]
    campaign_id = draft_and_queue("marketing", clients, body)
    expected = dict(
        db.session.execute(
            select(Message.phone, Message.text).where(Message.campaign_id == campaign_id)
        ).all()
    )
    shapes = {phone: encoding.measure(text)[::2] for phone, text in expected.items()}
    assert shapes == {
        "+33610000001": ("GSM-7", 1),
        "+33610000002": ("UCS-2", 2),  # ç and ê: UCS-2, longer than 70 units
        "+33610000003": ("GSM-7", 2),
    }
    assert "é" in expected["+33610000002"] and "ç" in expected["+33610000002"]

    send_all(campaign_id)

    received = kannel.wait_for(lambda: len(kannel.received()) == 3 and kannel.received())
    assert {sms.to: sms.text for sms in received} == expected
    assert {sms.to: sms.parts for sms in received} == {
        "+33610000001": 1,
        "+33610000002": 2,
        "+33610000003": 2,
    }
    assert {sms.sender for sms in received} == {"SHOPSMS"}
    # Kannel reports 8 (reached the SMSC) then 1 (delivered): the row ends delivered.
    wait_until(lambda: set(states(campaign_id).values()) == {"delivered"}, what="delivery reports")
    assert fresh(select(func.count()).where(Message.submitted_at.is_(None))) == 0
    assert fresh(select(Campaign.status).where(Campaign.id == campaign_id)) == "sent"
    assert credits.balance() == 100 - 5


def test_an_inbound_stop_opts_the_client_out_and_kannel_sends_the_reply(kannel, make_client):
    client_id = make_client(tel1="06 98 76 54 32", sms_consent="accepted")
    kannel.send_mo("+33698765432", "36608", "Merci beaucoup")
    kannel.send_mo("+33698765432", "36608", "Stop svp")

    stop = wait_until(
        lambda: db.session.scalar(select(InboundMessage).where(InboundMessage.is_stop)),
        what="the STOP reaching ShopSMS",
    )
    assert (stop.phone, stop.to, stop.text, stop.gateway, stop.client_id) == (
        "+33698765432",
        "36608",
        "Stop svp",
        "kannel",
        client_id,
    )
    optout = db.session.scalar(select(OptOut).where(OptOut.phone == "+33698765432"))
    assert optout.gateway == "kannel" and optout.inbound_message_id == stop.id
    assert db.session.get(Client, client_id).sms_consent == "refused"
    # Only the STOP gets an answer; "Merci beaucoup" is kept for staff, silently.
    replies = kannel.wait_for(kannel.received, what="the reply to the STOP")
    time.sleep(0.3)
    assert [(sms.sender, sms.to, sms.text) for sms in kannel.received()] == [
        ("36608", "+33698765432", STOP_REPLY)
    ]
    assert len(replies) == 1 and encoding.is_gsm(STOP_REPLY)
    # smsbox calls us for each SMS concurrently: their order of arrival is not kept.
    texts = db.session.scalars(select(InboundMessage.text)).all()
    assert sorted(texts) == ["Merci beaucoup", "Stop svp"]


def _sent_rows(make_client, gateways):
    """Messages in flight on the given gateways, as a worker would have left them."""
    ids = [make_client() for _ in gateways]
    campaign = campaigns.draft(
        "repair", body="Votre montre est prête.", recipients=[Recipient(c) for c in ids]
    )
    message_ids = db.session.scalars(
        select(Message.id).where(Message.campaign_id == campaign.id).order_by(Message.id)
    ).all()
    for message_id, gateway in zip(message_ids, gateways, strict=True):
        db.session.execute(
            update(Message)
            .where(Message.id == message_id)
            .values(state="submitted", gateway=gateway, submitted_at=utcnow())
        )
    db.session.commit()
    return message_ids


def test_forged_or_misdirected_reports_change_nothing(app, make_client):
    ours, other_gateway = _sent_rows(make_client, ["kannel", "outbox"])
    secret = app.config["HOOKS_SECRET"]
    hook = app.test_client()

    def report(message_id, sig, status="2"):
        query = {"id": message_id, "sig": sig, "status": status, "answer": "NACK/0x0000000b"}
        return hook.get("/hooks/kannel/dlr", query_string=query)

    assert report(ours, "0" * 32).status_code == 403
    assert report(ours, sign(secret, other_gateway)).status_code == 403  # another id's sig
    assert report(ours, sign("not-our-secret", ours)).status_code == 403
    assert report(ours, "").status_code == 403
    # A report signed for a message another gateway sent is ignored by the service.
    assert report(other_gateway, sign(secret, other_gateway)).status_code == 200
    assert fresh(select(Message.state).where(Message.id == ours)) == "submitted"
    assert fresh(select(Message.state).where(Message.id == other_gateway)) == "submitted"

    # Bad input is a short 400, never a server error.
    for query in (
        {"id": "abc", "sig": "x", "status": "1"},
        {},
        {"id": ours, "sig": sign(secret, ours), "status": "x"},
        {"id": ours, "sig": sign(secret, ours), "status": "3"},
        {"id": "9" * 40, "sig": "x", "status": "1"},
    ):
        assert hook.get("/hooks/kannel/dlr", query_string=query).status_code == 400
    unsigned_stop = {"from": "+33698765432", "text": "STOP"}
    assert hook.get("/hooks/kannel/mo", query_string=unsigned_stop).status_code == 403
    assert hook.get("/hooks/kannel/mo", query_string={"secret": secret}).status_code == 400
    assert fresh(select(func.count(OptOut.id))) == 0

    # The genuine report, for the control: 2 is "not delivered", with the SMSC's answer.
    assert report(ours, sign(secret, ours)).status_code == 200
    failed = db.session.get(Message, ours)
    assert (failed.state, failed.error) == (
        "failed",
        "Non délivré par l'opérateur : NACK/0x0000000b",
    )


def test_a_wrong_kannel_password_fails_the_message_with_a_french_reason_once(
    app, kannel, make_client, credits_available
):
    credits_available(10)
    app.config["KANNEL_PASSWORD"] = "not-the-password"
    campaign_id = draft_and_queue("repair", [make_client()], "Votre montre est prête.")
    result = sending.send_next_batch(campaign_id, gateway=get_gateway(), now=OPEN)
    assert (result.submitted, result.refused) == (0, 1)
    message = db.session.scalar(select(Message).where(Message.campaign_id == campaign_id))
    assert message.state == "failed"
    assert message.error.startswith("Kannel refuse l'accès (identifiant ou mot de passe")
    assert "not-the-password" not in message.error
    # Not retried: the campaign ends, its credit comes back, the SMSC got nothing.
    assert sending.send_next_batch(campaign_id, gateway=get_gateway(), now=OPEN).done
    assert db.session.get(Campaign, campaign_id).status == "sent"
    assert credits.balance() == 10
    time.sleep(0.2)
    assert kannel.lines() == []


def test_kannel_out_of_reach_leaves_the_batch_claimed_for_the_sweep(
    app, make_client, credits_available
):
    credits_available(10)
    app.config.update(
        SMS_GATEWAY="kannel",
        KANNEL_SENDSMS_URL=f"http://127.0.0.1:{kannel_peer.free_port()}/cgi-bin/sendsms",
        KANNEL_PASSWORD="very secret/pass&word",
    )
    campaign_id = draft_and_queue("repair", [make_client()], "Votre montre est prête.")
    with pytest.raises(KannelUnavailable, match="Kannel injoignable") as raised:
        sending.send_next_batch(campaign_id, gateway=get_gateway(), now=OPEN)
    assert str(raised.value).endswith(": ConnectionError")
    assert "secret" not in str(raised.value) and "montre" not in str(raised.value)
    db.session.rollback()
    assert set(states(campaign_id).values()) == {"submitting"}  # not failed: maybe sent
    later = OPEN + sending.stale_after() * 2  # the claim is dated OPEN
    assert sending.recover_stale(now=later) == (0, 1)
    assert set(states(campaign_id).values()) == {"pending"}


# --- a worker killed in the middle of a 2,000-message campaign ----------------------


RECIPIENTS = 2000


def _many_clients(store_id, count):
    rows = [
        {
            "number": f"K{n:05d}",
            "last_name": f"KILL{n}",
            "first_name": "Jean",
            "tel1": f"06 20 {n // 10000:02d} {n // 100 % 100:02d} {n % 100:02d}",
            "sms_number": f"+33620{n:06d}",
            "sms_consent": "accepted",
            "store_id": store_id,
        }
        for n in range(count)
    ]
    db.session.execute(insert(Client), rows)
    db.session.commit()
    return db.session.scalars(select(Client.id).order_by(Client.id)).all()


@pytest.fixture
def start_worker(app, kannel, tmp_path):
    """Real `flask --app app worker` processes on the test's database, Redis and Kannel;
    each in its own process group (the worker forks RQ's scheduler), all gone at the end."""
    env = dict(
        os.environ,
        DATABASE_URL=app.config["SQLALCHEMY_DATABASE_URI"],
        REDIS_URL=app.config["REDIS_URL"],
        SHOPSMS_INSTANCE_PATH=str(tmp_path / "instance"),
        SMS_GATEWAY="kannel",
        PUBLIC_URL=app.config["PUBLIC_URL"],
        HOOKS_SECRET=app.config["HOOKS_SECRET"],
        KANNEL_SENDSMS_URL=app.config["KANNEL_SENDSMS_URL"],
        KANNEL_USERNAME=app.config["KANNEL_USERNAME"],
        KANNEL_PASSWORD=app.config["KANNEL_PASSWORD"],
        KANNEL_SMSC=app.config["KANNEL_SMSC"],
        CLAIM_STALE_SECONDS="5",
        SWEEP_SECONDS="2",
    )
    started = []

    def start(name):
        log = open(tmp_path / f"{name}.log", "wb")  # noqa: SIM115
        with log:
            process = subprocess.Popen(
                [sys.executable, "-m", "flask", "--app", "app", "worker"],
                cwd=PROJECT_ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        started.append(process)
        return process

    yield start
    for process in started:
        kill_group(process, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            kill_group(process, signal.SIGKILL)
            process.wait()
        kill_group(process, signal.SIGKILL)  # RQ's scheduler child, if it outlived it


def kill_group(process, sig):
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, sig)


def test_a_worker_killed_mid_campaign_then_restarted_sends_each_recipient_exactly_once(
    app, kannel, start_worker, store, credits_available, redis_client
):
    started = time.monotonic()
    credits_available(RECIPIENTS + 100)
    client_ids = _many_clients(store.id, RECIPIENTS)
    # Kannel's defaults, set here so the test does not move with them: batches of 100 in
    # chunks of 50 a second. Rows a dead worker left claimed are only told apart (sent or
    # not) by their delivery reports, which must come back before the claim goes stale.
    # Faster sending outruns the reports on these 2-CPU machines (the hooks answer about
    # 100-160 reports a second, two per message) and then rows are sent twice.
    settings.put("batch_size", {"outbox": 1000, "kannel": 100, "smpp": 100})
    settings.put("messages_per_second", {"outbox": 0, "kannel": 50, "smpp": 50})
    # A service message: not held by sending hours, whatever day the suite runs.
    campaign_id = draft_and_queue(
        "repair", client_ids, "Votre commande est arrivée en magasin.", now=utcnow()
    )
    first = start_worker("worker-1")
    # Mid-chunk: requests in flight, answers not yet recorded.
    kannel.wait_for(
        lambda: len(kannel.lines()) >= RECIPIENTS // 2 + 25,
        timeout=60,
        what="half the campaign at the fake SMSC",
    )
    kill_group(first, signal.SIGKILL)  # the worker and RQ's scheduler child, at once
    first.wait()
    at_kill = len(kannel.lines())
    # Rows the dead worker held: claimed and not yet handed over, or in flight.
    left_claimed = fresh(
        select(func.count()).where(
            (Message.state == "submitting")
            | ((Message.state == "pending") & Message.claimed_by.is_not(None))
        )
    )
    assert at_kill < RECIPIENTS and left_claimed, "the kill did not land inside a batch"
    # A dead scheduler's lock lasts 61 s in RQ; stand for that wait by removing it.
    redis_client.delete(RQScheduler.get_locking_key(QUEUE_NAME))
    start_worker("worker-2")

    wait_until(
        lambda: (
            fresh(select(Campaign.status).where(Campaign.id == campaign_id)) == "sent"
            and campaigns.progress(campaign_id)["delivered"] == RECIPIENTS
        ),
        seconds=90,
        what="the campaign sent and every delivery report in",
    )
    kannel.wait_for(kannel.all_at_smsc, what="fakesmsc printing what it got")
    per_number = Counter(sms.to for sms in kannel.received())
    assert len(per_number) == RECIPIENTS
    twice = {number: n for number, n in per_number.items() if n != 1}
    assert twice == {}, f"{len(twice)} recipients got more than one message"
    charge = fresh(
        select(CreditEntry).where(
            CreditEntry.campaign_id == campaign_id, CreditEntry.kind == "charge"
        )
    )
    assert charge.parts == sum(sms.parts for sms in kannel.received()) == RECIPIENTS
    assert credits.balance() == 100
    print(
        f"\nkilled with {at_kill}/{RECIPIENTS} at the SMSC and {left_claimed} rows claimed; "
        f"whole test {time.monotonic() - started:.1f} s"
    )


def _senders(campaign_id):
    """The worker processes (host:pid) that claimed the campaign's sent rows."""
    tokens = db.session.scalars(
        select(Message.claimed_by)
        .distinct()
        .where(Message.campaign_id == campaign_id, Message.claimed_by.is_not(None))
    )
    return {token.rsplit(":", 1)[0] for token in tokens}


def test_two_workers_send_one_campaign_side_by_side_and_one_killed_sends_nobody_twice(
    app, kannel, start_worker, store, credits_available, redis_client
):
    from rq import Worker

    from shopsms.queue import get_queue

    credits_available(RECIPIENTS + 100)
    client_ids = _many_clients(store.id, RECIPIENTS)
    settings.put("batch_size", {"outbox": 1000, "kannel": 100, "smpp": 100})
    # The link's 50 a second, shared: each of the two workers keeps to 25.
    settings.put("messages_per_second", {"outbox": 0, "kannel": 50, "smpp": 50})
    first, _ = start_worker("worker-1"), start_worker("worker-2")
    wait_until(lambda: Worker.count(queue=get_queue()) == 2, seconds=30, what="two workers up")
    campaign_id = draft_and_queue(
        "repair", client_ids, "Votre commande est arrivée en magasin.", now=utcnow()
    )
    postgresql = db.engine.dialect.name == "postgresql"
    kannel.wait_for(
        lambda: len(kannel.lines()) >= RECIPIENTS // 2 + 25,
        timeout=90,
        what="half the campaign at the fake SMSC",
    )
    if postgresql:  # side by side; SQLite has one writer, so one job sends it
        assert len(_senders(campaign_id)) == 2
    kill_group(first, signal.SIGKILL)
    first.wait()
    at_kill = len(kannel.lines())
    assert at_kill < RECIPIENTS, "the kill came after the campaign"
    # The dead worker may hold RQ's scheduler lock (61 s): a restarted worker takes over.
    redis_client.delete(RQScheduler.get_locking_key(QUEUE_NAME))
    start_worker("worker-3")
    wait_until(
        lambda: (
            fresh(select(Campaign.status).where(Campaign.id == campaign_id)) == "sent"
            and campaigns.progress(campaign_id)["delivered"] == RECIPIENTS
        ),
        seconds=120,
        what="the campaign sent and every delivery report in",
    )
    kannel.wait_for(kannel.all_at_smsc, what="fakesmsc printing what it got")
    per_number = Counter(sms.to for sms in kannel.received())
    assert len(per_number) == RECIPIENTS
    twice = {number: n for number, n in per_number.items() if n != 1}
    assert twice == {}, f"{len(twice)} recipients got more than one message"
    charge = fresh(
        select(CreditEntry).where(
            CreditEntry.campaign_id == campaign_id, CreditEntry.kind == "charge"
        )
    )
    assert charge.parts == RECIPIENTS
    assert credits.balance() == 100


def test_long_ucs2_texts_go_in_the_parts_we_cut_and_an_emoji_is_never_split(
    kannel, make_client, credits_available
):
    """66 « ê », an emoji (a surrogate pair), 66 « ê »: 3 parts by our count and by 3GPP
    TS 23.040 (« a UCS2 character must not be split in the middle »). Kannel cutting
    every 134 octets sent 2, the emoji broken across them; we send our 3 with their
    own concatenation header, each a valid UTF-16 string."""
    credits_available(10)
    client_id = make_client(tel1="06 10 00 00 09")
    body = "ê" * 66 + "😀" + "ê" * 66
    assert encoding.measure(body) == ("UCS-2", 134, 3)
    campaign_id = draft_and_queue("single", [client_id], body)

    send_all(campaign_id)

    received = kannel.wait_for(lambda: kannel.received(), what="the three parts")
    assert [(sms.text, sms.parts) for sms in received] == [(body, 3)]
    parts = [kannel_peer.parse_message(line) for line in kannel.lines()]  # strict UTF-16
    assert [udh[1:] for *_, udh in parts] == [(3, 1), (3, 2), (3, 3)]
    assert ["😀" in text for *_, text, _udh in parts] == [False, True, False]
    wait_until(lambda: set(states(campaign_id).values()) == {"delivered"}, what="reports")
    assert credits.balance() == 10 - 3
