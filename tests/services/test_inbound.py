import pytest
from sqlalchemy import select

from shopsms.extensions import db
from shopsms.models import AuditEntry, Client, InboundMessage, OptOut
from shopsms.services import inbound

pytestmark = pytest.mark.usefixtures("ctx")


@pytest.mark.parametrize(
    "text", ["STOP", "stop", " Stop ", "STOP.", "STOP SMS", "stop svp", "Stop!", "STOP 36608"]
)
def test_stop_in_its_usual_spellings(text):
    assert inbound.is_stop(text)


@pytest.mark.parametrize("text", ["Merci !", "Stopper ma commande ?", "Ne pas stop", "", None])
def test_other_messages_are_not_stop(text):
    assert not inbound.is_stop(text)


def test_stop_opts_the_number_out_and_records_the_proof(make_client):
    first = make_client(tel1="06 98 76 54 32")
    same_phone = make_client(tel2="06.98.76.54.32", tel1="")
    other = make_client(tel1="06 11 11 11 11")
    message = inbound.receive("kannel", "+33698765432", "Stop svp", to="36608")
    assert message.is_stop and message.client_id == first
    optout = db.session.scalar(select(OptOut))
    assert (optout.phone, optout.gateway, optout.inbound_message_id) == (
        "+33698765432",
        "kannel",
        message.id,
    )
    consents = dict(db.session.execute(select(Client.id, Client.sms_consent)).all())
    assert consents == {first: "refused", same_phone: "refused", other: "accepted"}
    proofs = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "consent.stop"))
    assert {(p.object_id, p.details["how"], p.details["gateway"]) for p in proofs} == {
        (str(first), "STOP par SMS", "kannel"),
        (str(same_phone), "STOP par SMS", "kannel"),
    }


def test_stop_twice_keeps_one_opt_out_and_other_replies_are_kept_for_staff(make_client):
    make_client(tel1="06 98 76 54 32")
    inbound.receive("outbox", "0698765432", "STOP")
    inbound.receive("outbox", "+33 6 98 76 54 32", "STOP SMS")
    reply = inbound.receive("outbox", "+33698765432", "Merci, je passe demain")
    assert db.session.query(OptOut).count() == 1
    assert not reply.is_stop
    assert db.session.query(InboundMessage).count() == 3
    assert {m.phone for m in db.session.scalars(select(InboundMessage))} == {"+33698765432"}
