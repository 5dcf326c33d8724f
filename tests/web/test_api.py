"""The point of sale's API: a round trip through every endpoint, tokens (missing, bad,
revoked, another store's), malformed bodies, over-long fields, oversize batches, the
rate limit, and the OpenAPI document."""

import json

import pytest
from sqlalchemy import select

from shopsms.extensions import db
from shopsms.models import Client, Message, RepairTicket, Store
from shopsms.services import api_tokens
from tests.conftest import csrf_token


@pytest.fixture
def other_store(app, store):
    with app.app_context():
        other = Store(code="002", name="Bayonne", city="Bayonne")
        db.session.add(other)
        db.session.commit()
        return other.id


@pytest.fixture
def token(app, store, redis_client):
    """token(store_id=None) → a head-office (or that store's) token in clear."""

    def make(store_id=None, name="Caisse"):
        with app.app_context():
            return api_tokens.create(name, store_id=store_id)[1]

    return make


def bearer(value):
    return {"Authorization": f"Bearer {value}"}


def post(client, path, token_value, body):
    return client.post(f"/api/v1{path}", json=body, headers=bearer(token_value))


CLIENTS = [
    {
        "external_id": "K1",
        "last_name": "DUPONT",
        "first_name": "Amélie",
        "store": "001",
        "tel1": "06 12 34 56 78",
        "sms_consent": "accepted",
        "birthday": "1980-05-17",
    },
    {
        "external_id": "K2",
        "last_name": "MARTIN",
        "store": "001",
        "tel1": "0559240000",
        "tel2": "+33 7 81 22 33 44",
        "sms_consent": None,
        "email_consent": True,
    },
]


def test_round_trip_clients_purchases_tickets_ready_and_statuses(
    app, client, token, credits_available
):
    credits_available(20)
    key = token()
    first = post(client, "/clients", key, {"items": CLIENTS})
    assert first.status_code == 200, first.json
    assert first.json == {
        "received": 2,
        "created": 2,
        "updated": 0,
        "unchanged": 0,
        "rejected": [],
        "warnings": [],
    }
    again = post(client, "/clients", key, {"items": CLIENTS})
    assert (again.json["created"], again.json["updated"], again.json["unchanged"]) == (0, 0, 2)
    changed = [dict(CLIENTS[0], first_name="Amélie-Rose")]
    assert post(client, "/clients", key, {"items": changed}).json["updated"] == 1

    purchases = [
        {
            "external_id": "V1",
            "client": "K1",
            "store": "001",
            "date": "31/12/2024",
            "amount": "359,00",
            "brand": "Tissot",
        },
        {"external_id": "V2", "client": "K2", "store": "001", "date": "2025-01-02", "amount": 89.9},
    ]
    assert post(client, "/purchases", key, {"items": purchases}).json["created"] == 2
    tickets = [
        {
            "external_id": "S1",
            "number": "F-001",
            "client": "K1",
            "store": "001",
            "kind": "Rép.",
            "status": "Atelier",
            "item_description": "Montre acier",
            "client_price": 30,
        }
    ]
    assert post(client, "/repair-tickets", key, {"items": tickets}).json["created"] == 1

    ready = client.post("/api/v1/repair-tickets/S1/ready", headers=bearer(key))
    assert ready.status_code == 200, ready.json
    campaign_id = ready.json["campaign_id"]
    assert campaign_id  # the default SAV setting proposes the message: it goes out

    status = client.get(f"/api/v1/campaigns/{campaign_id}", headers=bearer(key))
    assert status.status_code == 200
    assert status.json["kind"] == "workshop_return" and status.json["recipients"] == 1
    with app.app_context():
        ticket = db.session.scalar(select(RepairTicket).where(RepairTicket.external_id == "S1"))
        assert ticket.status == "ready"
        message_id = db.session.scalar(select(Message.id).where(Message.campaign_id == campaign_id))
        k1 = db.session.scalar(select(Client).where(Client.external_id == "K1"))
        k2 = db.session.scalar(select(Client).where(Client.external_id == "K2"))
        assert (k1.first_name, k1.sms_number, k1.sms_consent) == (
            "Amélie-Rose",
            "+33612345678",
            "accepted",
        )
        assert (k2.sms_number, k2.sms_consent, k2.email_consent) == (
            "+33781223344",
            "unknown",
            True,
        )
    message = client.get(f"/api/v1/messages/{message_id}", headers=bearer(key))
    assert message.status_code == 200
    assert message.json["campaign_id"] == campaign_id
    assert message.json["state"] in ("pending", "submitted", "delivered")


@pytest.mark.parametrize(
    "headers, message",
    [
        ({}, "Jeton manquant"),
        ({"Authorization": "Basic abc"}, "Jeton manquant"),
        ({"Authorization": "Bearer shs_not-a-real-token"}, "Jeton inconnu"),
    ],
)
def test_requests_without_a_valid_token_get_401_json(client, store, redis_client, headers, message):
    response = client.post("/api/v1/clients", json={"items": []}, headers=headers)
    assert response.status_code == 401
    assert response.is_json
    assert message in response.json["message"] and response.json["field"] == "Authorization"


def test_a_revoked_token_is_refused(app, client, token):
    key = token()
    assert post(client, "/clients", key, {"items": []}).status_code == 200
    with app.app_context():
        row = api_tokens.authenticate(key)
        api_tokens.revoke(row.id)
    response = post(client, "/clients", key, {"items": []})
    assert response.status_code == 401
    assert "révoqué" in response.json["message"]


def test_malformed_bodies_get_json_errors_in_french(client, token):
    key = token()
    headers = bearer(key) | {"Content-Type": "application/json"}
    broken = client.post("/api/v1/clients", data='{"items": [', headers=headers)
    assert broken.status_code == 400 and "JSON invalide" in broken.json["message"]
    text = client.post("/api/v1/clients", data="items", headers=bearer(key))
    assert text.status_code == 415 and text.json["field"] == "Content-Type"
    not_a_list = post(client, "/clients", key, {"items": {"external_id": "X"}})
    assert not_a_list.status_code == 422 and not_a_list.json["field"] == "items"
    array = client.post("/api/v1/clients", data="[]", headers=headers)
    assert array.status_code == 422


def test_over_long_and_wrong_fields_are_rejected_item_by_item(client, token):
    key = token()
    items = [
        {"external_id": "L1", "last_name": "X" * 81, "store": "001"},
        {"external_id": "L2", "last_name": "OK", "store": "001", "colour": "blue"},
        {"external_id": "L3", "last_name": "OK", "store": "001", "birthday": "31/02/1990"},
        {"external_id": "L4", "last_name": "BON", "store": "001"},
        "not an object",
    ]
    response = post(client, "/clients", key, {"items": items})
    assert response.status_code == 200
    assert response.json["created"] == 1
    rejected = {item["index"]: item["errors"][0] for item in response.json["rejected"]}
    assert rejected[0] == {
        "field": "last_name",
        "message": "Trop long : 80 caractères au plus (ici 81).",
    }
    assert rejected[1]["field"] == "colour"
    assert rejected[2]["field"] == "birthday" and "31/02/1990" in rejected[2]["message"]
    assert 4 in rejected and 3 not in rejected


def test_oversize_batches_and_bodies_are_refused(app, client, token):
    key = token()
    items = [{"external_id": f"B{n}", "last_name": "N", "store": "001"} for n in range(1001)]
    batch = post(client, "/clients", key, {"items": items})
    assert batch.status_code == 413 and batch.json["field"] == "items"
    assert "1000 éléments au plus" in batch.json["message"]
    body = json.dumps({"items": [{"external_id": "Z", "comment": "x" * 1_100_000}]})
    big = client.post(
        "/api/v1/clients", data=body, headers=bearer(key), content_type="application/json"
    )
    assert big.status_code == 413 and big.is_json
    with app.app_context():
        assert db.session.scalar(select(Client.id)) is None


def test_a_store_token_writes_and_reads_only_its_store(app, client, token, store, other_store):
    key = token(store_id=store.id)
    items = [
        {"external_id": "M1", "last_name": "ICI"},  # store defaults to the token's
        {"external_id": "M2", "last_name": "LA", "store": "002"},
    ]
    response = post(client, "/clients", key, {"items": items})
    assert response.json["created"] == 1
    assert response.json["rejected"][0]["errors"][0]["field"] == "store"
    head_office = token()
    post(
        client,
        "/clients",
        head_office,
        {"items": [{"external_id": "M3", "last_name": "BAYONNE", "store": "002"}]},
    )
    # The store token cannot take over the other store's client either.
    takeover = post(client, "/clients", key, {"items": [{"external_id": "M3", "last_name": "X"}]})
    assert takeover.json["rejected"][0]["errors"][0]["message"] == (
        "Cette fiche appartient à un autre magasin."
    )
    with app.app_context():
        m3 = db.session.scalar(select(Client).where(Client.external_id == "M3"))
        assert (m3.last_name, m3.store_id) == ("BAYONNE", other_store)


def test_the_rate_limit_answers_429(app, client, token):
    app.config["API_RATE_PER_MINUTE"] = 3
    key = token()
    # Robust at a minute boundary: a window never holds more than 3, and 8 calls within
    # a few seconds cross at most one boundary, so a 429 comes anyway.
    codes = [post(client, "/clients", key, {"items": []}).status_code for _ in range(8)]
    assert codes[:3] == [200, 200, 200]
    assert 429 in codes and set(codes) == {200, 429}
    refused = codes.index(429)
    assert refused <= 6


def test_unknown_campaigns_messages_and_tickets_are_404_json(client, token):
    key = token()
    # A line break in the address is refused by the router itself (found by schemathesis).
    for path in (
        "/campaigns/999",
        "/messages/999",
        "/campaigns/99999999999999999999999",
        "/campaigns/%0A",
        "",
    ):
        response = client.get(f"/api/v1{path}", headers=bearer(key))
        assert response.status_code == 404 and response.is_json, path
    ready = client.post("/api/v1/repair-tickets/NOPE/ready", headers=bearer(key))
    assert ready.status_code == 404 and ready.json["field"] == "external_id"


def test_the_openapi_document_is_served_without_a_token(client, store):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    document = response.json
    assert document["openapi"].startswith("3.")
    assert {
        "/clients",
        "/purchases",
        "/repair-tickets",
        "/campaigns/{campaign_id}",
        "/messages/{message_id}",
        "/repair-tickets/{external_id}/ready",
    } <= set(document["paths"])
    assert document["components"]["schemas"]["Client"]["properties"]["last_name"]["maxLength"] == 80


def test_ready_twice_tells_the_client_once(app, client, token, credits_available):
    credits_available(20)
    key = token()
    post(client, "/clients", key, {"items": CLIENTS[:1]})
    tickets = [
        {
            "external_id": "S9",
            "number": "F-009",
            "client": "K1",
            "store": "001",
            "status": "Atelier",
        }
    ]
    post(client, "/repair-tickets", key, {"items": tickets})
    first = client.post("/api/v1/repair-tickets/S9/ready", headers=bearer(key))
    second = client.post("/api/v1/repair-tickets/S9/ready", headers=bearer(key))
    assert first.status_code == second.status_code == 200
    assert first.json["campaign_id"] and second.json["campaign_id"] == first.json["campaign_id"]
    with app.app_context():
        messages = db.session.scalars(select(Message.id)).all()
        assert len(messages) == 1


def test_another_stores_campaigns_messages_purchases_and_tickets_are_out_of_reach(
    app, client, token, store, other_store, credits_available
):
    credits_available(20)
    head_office, mine = token(), token(store_id=store.id)
    there = [dict(CLIENTS[0], external_id="O1", store="002")]
    post(client, "/clients", head_office, {"items": there})
    tickets = [
        {
            "external_id": "OS1",
            "number": "F-100",
            "client": "O1",
            "store": "002",
            "status": "Atelier",
        }
    ]
    post(client, "/repair-tickets", head_office, {"items": tickets})
    # A store token neither says the other store's ticket is ready nor learns it exists.
    refused = client.post("/api/v1/repair-tickets/OS1/ready", headers=bearer(mine))
    assert refused.status_code == 404
    with app.app_context():
        ticket = db.session.scalar(select(RepairTicket).where(RepairTicket.external_id == "OS1"))
        assert ticket.status == "at_workshop"
    ready = client.post("/api/v1/repair-tickets/OS1/ready", headers=bearer(head_office))
    campaign_id = ready.json["campaign_id"]
    with app.app_context():
        message_id = db.session.scalar(select(Message.id).where(Message.campaign_id == campaign_id))
    assert (
        client.get(f"/api/v1/campaigns/{campaign_id}", headers=bearer(head_office)).status_code
        == 200
    )
    assert client.get(f"/api/v1/campaigns/{campaign_id}", headers=bearer(mine)).status_code == 404
    assert client.get(f"/api/v1/messages/{message_id}", headers=bearer(mine)).status_code == 404
    assert (
        client.get(f"/api/v1/messages/{message_id}", headers=bearer(head_office)).status_code == 200
    )
    sale = [{"external_id": "OV1", "client": "O1", "date": "01/02/2025", "amount": "10,00"}]
    bought = post(client, "/purchases", mine, {"items": sale})
    assert bought.json["created"] == 0
    assert bought.json["rejected"][0]["errors"][0]["message"] == (
        "Ce client appartient à un autre magasin."
    )
    moved = post(client, "/repair-tickets", mine, {"items": [dict(tickets[0], store="001")]})
    assert moved.json["rejected"][0]["errors"][0]["message"] == (
        "Cette fiche appartient à un autre magasin."
    )


def test_wrong_methods_get_405_and_deep_json_400(client, token):
    key = token()
    wrong = client.get("/api/v1/clients", headers=bearer(key))
    assert wrong.status_code == 405 and wrong.is_json
    assert wrong.headers["Allow"] == "POST" and "POST seulement" in wrong.json["message"]
    assert client.delete("/api/v1/campaigns/1", headers=bearer(key)).status_code == 405
    assert client.get("/api/v1/nowhere", headers=bearer(key)).status_code == 404
    deep = "[" * 100_000 + "]" * 100_000
    nested = client.post(
        "/api/v1/clients", data=deep, headers=bearer(key), content_type="application/json"
    )
    assert nested.status_code == 400 and "JSON invalide" in nested.json["message"]


def test_consent_by_api_names_its_token_and_never_undoes_a_stop(app, client, token):
    key = token(name="Caisse Biarritz")
    post(client, "/clients", key, {"items": [dict(CLIENTS[0], sms_consent="refused")]})
    with app.app_context():
        from shopsms.models.consent import ConsentChange
        from shopsms.services.clients import change_consent

        proof = db.session.scalar(select(ConsentChange))
        assert proof.how == "api" and "Caisse Biarritz" in proof.note
        k1 = db.session.scalar(select(Client).where(Client.external_id == "K1"))
        change_consent(k1.id, marketing="refused", refuses_all=True, how="stop")
        db.session.commit()
    back = post(client, "/clients", key, {"items": [dict(CLIENTS[0], sms_refuses_all=False)]})
    assert back.status_code == 200 and back.json["rejected"] == []
    fields = {w["field"] for w in back.json["warnings"][0]["warnings"]}
    assert fields == {"sms_consent", "sms_refuses_all"}
    with app.app_context():
        k1 = db.session.scalar(select(Client).where(Client.external_id == "K1"))
        assert (k1.sms_consent, k1.sms_refuses_all) == ("refused", True)


def test_an_empty_number_or_creation_date_keeps_the_cards_own(app, client, token):
    key = token()
    created = post(client, "/clients", key, {"items": [CLIENTS[0]]})
    assert created.json["created"] == 1
    again = post(
        client, "/clients", key, {"items": [CLIENTS[0] | {"created_on": None, "number": ""}]}
    )
    assert again.status_code == 200, again.json
    with app.app_context():
        card = db.session.scalar(select(Client).where(Client.external_id == "K1"))
        assert card.created_on is not None and card.number == "K1"


def test_errors_come_from_the_catalogue_french_by_default_english_when_chosen(
    client, client_as, token
):
    """An API caller has no chosen language: French, from the catalogue (issue 20); a
    person who chose English (her session) reads the same errors in English."""
    key = token()
    assert client.get("/api/v1/messages/1").json["message"] == (
        "Jeton manquant : envoyez l'en-tête « Authorization: Bearer <jeton> »."
    )
    assert client.get("/api/v1/messages/7", headers=bearer(key)).json == {
        "message": "Aucun SMS n° 7.",
        "field": "message_id",
    }
    english = client_as("staff")
    english.post("/langue/en", data={"csrf_token": csrf_token(english.get("/"))})
    assert english.get("/api/v1/messages/1").json["message"] == (
        "Missing token: send the header “Authorization: Bearer <token>”."
    )
    answer = english.post(
        "/api/v1/clients", json={"items": [{"nom": "x"}]}, headers=bearer(key)
    ).json
    assert answer["rejected"][0]["errors"][0]["message"] == "Unknown field “nom”."
    assert english.get("/api/v1/nowhere", headers=bearer(key)).json["message"] == (
        "Unknown API address: /nowhere."
    )
