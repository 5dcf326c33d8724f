"""services.client_fields, clients and consent: derived columns, consent with its
proof, the single SMS."""

from types import SimpleNamespace

import pytest
from sqlalchemy import select

from shopsms.extensions import db
from shopsms.models import Campaign, Client, Message, OptOut
from shopsms.models.consent import ConsentChange
from shopsms.services import campaigns, client_fields, client_search, clients, consent, inbound

pytestmark = pytest.mark.usefixtures("ctx")


@pytest.mark.parametrize(
    ("tel1", "tel2", "sms_number", "digits"),
    [
        ("06 12 34 56 78", "", "+33612345678", "33612345678 0612345678"),
        ("05 59 00 00 00", "0033698765432", "+33698765432",
         "33559000000 0559000000 33698765432 0698765432 0033698765432"),
        ("0690 12 34 56", "", "+590690123456", "590690123456 0690123456"),
        ("n/a", "", None, ""),
        ("06 12 34", "", None, "061234"),
        ("", "", None, ""),
    ],
)  # fmt: skip
def test_phone_fields_follow_the_tel1_then_tel2_rule(tel1, tel2, sms_number, digits):
    expected = {"sms_number": sms_number, "phone_digits": digits}
    assert client_fields.phone_fields(tel1, tel2) == expected


def test_a_letter_o_for_a_zero_is_no_sms_number(app):
    assert client_fields.phone_fields("O6 12 34 56 78", "") == {
        "sms_number": None,
        "phone_digits": "612345678",
    }
    summary = clients.phone_summary("O6 12 34 56 78", "05 59 24 00 00")
    assert [note.kind for note in summary.notes] == ["invalid", "landline"]
    assert summary.sms_number is None
    with app.test_request_context():  # the warnings are said in the person's language
        assert [str(note.warning) for note in summary.notes] == [
            "Numéro invalide : vérifiez les chiffres.",
            "Numéro fixe : pas d'envoi de SMS possible.",
        ]


def test_a_client_written_through_the_orm_keeps_its_derived_columns(make_client):
    client_id = make_client(
        tel1="", tel2="+33 7 88 11 22 33", last_name="Le Gall", first_name="Jean-Pierre"
    )
    client = db.session.get(Client, client_id)
    assert client.phone_digits == "33788112233 0788112233"
    assert client.search_name == "LEGALL LE GALL JEANPIERRE JEAN PIERRE"
    client.tel1 = "06 12 34 56 78"  # a mobile on tel1 now: the SMS go there
    client.last_name = "LÉVÊQUE"
    db.session.commit()
    client = db.session.get(Client, client_id)
    assert "0612345678" in client.phone_digits and client.sms_number == "+33612345678"
    assert client.search_name == "LEVEQUE JEANPIERRE JEAN PIERRE"


@pytest.mark.parametrize(
    ("last", "first", "expected"),
    [
        ("O'Neil", "Œdipe", "ONEIL O NEIL OEDIPE"),
        ("DE LA FONTAINE-BEAUMARCHAIS", "", "DELAFONTAINEBEAUMARCHAIS DE LA FONTAINE BEAUMARCHAIS"),
        ("", "", ""),
    ],
)
def test_search_name_is_the_names_words_without_accents(last, first, expected):
    assert client_fields.search_name(last, first) == expected
    assert client_fields.derived_fields("", "", last, first)["search_name"] == expected


def test_change_consent_records_proof_only_when_something_changes(make_client, users, store):
    client_id = make_client(sms_consent="unknown")
    assert clients.change_consent(
        client_id,
        marketing="accepted",
        how="counter",
        user_id=users["staff"].id,
        store_id=store.id,
    )
    assert not clients.change_consent(client_id, marketing="accepted", how="counter")
    assert clients.change_consent(client_id, refuses_all=True, how="import", note="fichier X")
    db.session.commit()
    proofs = clients.consent_history(client_id)
    assert [(p.how, p.marketing_after, p.refuses_all_after) for p in proofs] == [
        ("import", "accepted", True),
        ("counter", "accepted", False),
    ]
    assert proofs[1].user_id == users["staff"].id and proofs[1].store_id == store.id
    client = db.session.get(Client, client_id)
    assert (client.sms_consent, client.sms_refuses_all) == ("accepted", True)
    with pytest.raises(ValueError):
        clients.change_consent(client_id, marketing="accepted", how="telepathy")


def test_a_stop_records_consent_proof_by_stop(make_client):
    client_id = make_client(tel1="06 98 76 54 32", sms_consent="accepted")
    inbound.receive("outbox", "+33698765432", "STOP")
    proof = db.session.scalar(select(ConsentChange).where(ConsentChange.client_id == client_id))
    assert (proof.how, proof.marketing_before, proof.marketing_after) == (
        "stop",
        "accepted",
        "refused",
    )
    assert "+33698765432" in proof.note
    # Still reachable by service messages: a STOP is about marketing.
    assert db.session.get(Client, client_id).sms_refuses_all is False


def test_accepting_after_a_stop_lifts_it_with_one_proof(make_client, users, store):
    client_id = make_client(tel1="06 98 76 54 32", sms_consent="accepted")
    inbound.receive("outbox", "+33698765432", "STOP")
    staff = _staff(users["staff"].id, store.id)
    client = db.session.get(Client, client_id)
    with pytest.raises(consent.ConsentInvalid, match="STOP"):
        consent.set_consent(staff, client, "accept", note="")
    assert consent.set_consent(staff, client, "accept", note="signé", confirm_stop=True)
    assert db.session.query(OptOut).count() == 0
    proofs = consent.consent_history(client_id, limit=1)
    assert [(p.how, p.marketing_after, p.note) for p in proofs] == [
        ("counter", "accepted", "signé"),
    ]


def _staff(user_id, store_id):
    return SimpleNamespace(id=user_id, store_id=store_id, has_role=lambda role: role == "staff")


def test_single_sms_goes_through_the_pipeline_as_a_service_message(
    make_client, users, store, credits_available, redis_client
):
    credits_available(5)
    client_id = make_client(first_name="sabine", sms_consent="refused")  # consent: marketing
    campaign = clients.send_single(
        _staff(users["staff"].id, store.id), client_id, "Bonjour <PRENOM>"
    )
    assert (campaign.kind, campaign.status) == ("single", "queued")
    message = db.session.scalar(select(Message))
    assert (message.state, message.text) == ("pending", "Bonjour Sabine")


def test_single_sms_is_refused_to_a_client_who_refuses_every_sms(make_client, users, store):
    client_id = make_client(sms_refuses_all=True)
    with pytest.raises(campaigns.CampaignError, match="refuse tout SMS"):
        clients.send_single(_staff(users["staff"].id, store.id), client_id, "Bonjour")
    assert db.session.query(Campaign).count() == 0


def test_a_forms_key_sends_one_sms(make_client, users, store, credits_available, redis_client):
    credits_available(5)
    client_id = make_client()
    staff = _staff(users["staff"].id, store.id)
    clients.send_single(staff, client_id, "Bonjour", once="key-1")
    with pytest.raises(clients.AlreadySent):
        clients.send_single(staff, client_id, "Bonjour", once="key-1")
    with pytest.raises(clients.AlreadySent):
        clients.send_single(staff, client_id, "Bonjour", once="")
    assert db.session.query(Message).count() == 1


def test_single_sms_without_credits_leaves_no_draft_behind(make_client, users, store):
    client_id = make_client()
    from shopsms.services.credits import NotEnoughCredits

    with pytest.raises(NotEnoughCredits):
        clients.send_single(_staff(users["staff"].id, store.id), client_id, "Bonjour")
    assert [c.status for c in db.session.scalars(select(Campaign))] == ["cancelled"]


def test_a_one_letter_search_counts_up_to_a_cap(make_client, store, monkeypatch):
    monkeypatch.setattr(client_search, "COUNT_CAP", 120)
    for n in range(130):
        make_client(last_name=f"DURAND{n:03d}", number=f"D{n:05d}")
    head_office = SimpleNamespace(store_id=None, has_role=lambda role: True)
    first = client_search.search(head_office, "d")
    assert first.more and first.total == 120 and first.has_next and len(first.rows) == 50
    third = client_search.search(head_office, "d", page=3)
    assert not third.more and third.total == 130 and len(third.rows) == 30
    assert not third.has_next
