"""The client card: fields, consent in green and red with its proof, create and edit
with French validation, « Envoi d'un SMS » (F9), history and the GDPR export."""

import json
import re
from html import unescape

import pytest
from sqlalchemy import select

from shopsms.extensions import db
from shopsms.models import Campaign, Client, Message, Store
from shopsms.models.consent import ConsentChange
from tests.conftest import csrf_token


@pytest.fixture
def other_store(app):
    with app.app_context():
        store = Store(code="002", name="Bayonne", city="Bayonne")
        db.session.add(store)
        db.session.commit()
        return store.id


def test_card_shows_the_seed_fields_grouped_and_the_consent_colours(client_as, make_client):
    client_id = make_client(
        last_name="RFI",
        first_name="Sabine",
        tel1="0624061393",
        address1="Rue des lilas",
        email_consent=False,
        post_consent=False,
        sms_consent="accepted",
        fmr="A12",
        works_council="CE Dassault",
    )
    page = client_as("staff").get(f"/clients/{client_id}")
    assert page.status_code == 200
    html = page.text
    headings = (
        "Coordonnées personnelles",
        "Coordonnées professionnelles",
        "Historique",
        "Infos générales",
        "Infos complémentaires",
        "Commentaires",
        "Hobby - Marques",
        "Envois publicitaires",
        "Actions marketing",
        "Client inscrit Web",
        "Client Bloqué",
        "Nombre de ventes",
        "CA TTC",
        "Magasin de création",
        "Chef de famille",
        "Tranche Age",
        "Libre 2",
    )
    for heading in headings:
        assert heading in html, heading
    assert "06 24 06 13 93" in html and "Rue des lilas" in html and "CE Dassault" in html
    assert re.search(
        r'class="consent-yes" data-consent="sms">Le client souhaite recevoir des SMS', html
    )
    assert 'class="consent-no" data-consent="email">Le client refuse de recevoir des Emails' in html
    assert (
        'class="consent-no" data-consent="post">Le client refuse de recevoir des courriers' in html
    )
    assert re.search(r'<a href="/clients/\d+/sms" role="button" data-hotkey="F9"', html)


def test_a_landline_only_client_gets_the_disabled_button_with_its_reason(client_as, make_client):
    client_id = make_client(tel1="05 59 24 00 00", tel2="")
    html = unescape(client_as("staff").get(f"/clients/{client_id}").text)
    button = re.search(r"<button type=\"button\" disabled data-hotkey=\"F9\"[^>]*>([^<]+)<", html)
    assert button and "Envoi d'un SMS" in button.group(1)
    assert "Numéro fixe, pas un portable : 05 59 24 00 00" in html
    assert "Numéro fixe : pas d'envoi de SMS possible." in html
    # and the send page refuses too, saying why
    page = client_as("staff").get(f"/clients/{client_id}/sms")
    assert "Numéro fixe, pas un portable" in unescape(page.text) and 'id="send"' not in page.text


def test_staff_see_only_their_store_and_head_office_all(client_as, make_client, other_store):
    elsewhere = make_client(store_id=other_store)
    assert client_as("staff").get(f"/clients/{elsewhere}").status_code == 404
    assert client_as("manager").get(f"/clients/{elsewhere}/modifier").status_code == 404
    assert client_as("admin").get(f"/clients/{elsewhere}").status_code == 200
    assert client_as("staff").get("/clients/999999").status_code == 404


def test_a_store_opens_the_card_of_a_client_who_bought_there(
    app, client_as, make_client, store, other_store
):
    # The selection of a store reaches the clients who bought there (#14): their card
    # opens too, or its recipient list would link to « introuvable ».
    from datetime import date
    from decimal import Decimal

    from shopsms.models import Purchase

    bought_here = make_client(store_id=other_store, last_name="ACHETEUR")
    never_here = make_client(store_id=other_store, last_name="AILLEURS")
    with app.app_context():
        db.session.add(
            Purchase(
                client_id=bought_here,
                store_id=store.id,
                date=date(2026, 3, 1),
                amount=Decimal("12.50"),
            )
        )
        db.session.commit()
    staff = client_as("staff")
    assert "ACHETEUR" in staff.get(f"/clients/{bought_here}").text
    assert staff.get(f"/clients/{never_here}").status_code == 404


def _form(page, **fields):
    data = {"csrf_token": csrf_token(page), "country": "FR", "sms_marketing": "unknown"}
    return data | fields


def test_create_flags_bad_input_in_french_and_keeps_what_was_typed(app, client_as):
    browser = client_as("staff")
    page = browser.get("/clients/nouveau")
    answer = browser.post(
        "/clients/nouveau",
        data=_form(
            page,
            last_name="",
            first_name="Paul",
            tel1="06 12 34",
            postal_code="642",
            email="paul@",
            city="Anglet",
        ),
    )
    assert answer.status_code == 422
    html = unescape(answer.text)
    assert "Le champ « Nom » est obligatoire." in html
    assert "« 06 12 34 » n'est pas un numéro de téléphone valide" in html
    assert "Un code postal français a 5 chiffres." in html
    assert "Adresse e-mail invalide" in html
    assert 'value="Paul"' in html and 'value="Anglet"' in html and 'value="06 12 34"' in html
    with app.app_context():
        assert db.session.query(Client).count() == 0


def test_create_stores_the_sms_number_and_phone_digits_and_records_consent(app, client_as, users):
    browser = client_as("staff")
    page = browser.get("/clients/nouveau")
    answer = browser.post(
        "/clients/nouveau",
        data=_form(
            page,
            last_name="DURAND",
            first_name="Paul",
            tel1="05 59 00 00 00",
            tel2="+33 7 88 11 22 33",
            postal_code="64600",
            sms_marketing="accepted",
            deposit="12,50",
        ),
    )
    assert answer.status_code == 303
    with app.app_context():
        client = db.session.scalar(select(Client))
        assert client.sms_number == "+33788112233"  # tel1 is a landline: tel2 gets the SMS
        assert "0788112233" in client.phone_digits.split()
        assert client.number == "0000001" and str(client.deposit) == "12.50"
        proof = db.session.scalar(select(ConsentChange))
        assert (proof.how, proof.user_id, proof.marketing_after) == (
            "counter",
            users["staff"].id,
            "accepted",
        )
    card = unescape(browser.get(answer.headers["Location"]).text)
    assert "07 88 11 22 33" in card and "Numéro fixe : pas d'envoi de SMS possible." in card


def test_the_form_tells_where_the_sms_goes_while_typing(client_as):
    browser = client_as("staff")
    page = browser.get("/clients/nouveau")
    answer = browser.post(
        "/clients/telephones",
        data={"tel1": "0559000000", "tel2": "0612345678"},
        headers={"HX-Request": "true", "X-CSRFToken": csrf_token(page)},
    )
    assert "Numéro fixe" in answer.text and "Les SMS partiront au 06 12 34 56 78." in answer.text
    # "O6…" (a letter O) is invalid, and no SMS is said to go to it
    answer = browser.post(
        "/clients/telephones",
        data={"tel1": "O6 12 34 56 78", "tel2": ""},
        headers={"HX-Request": "true", "X-CSRFToken": csrf_token(page)},
    )
    assert "Numéro invalide : vérifiez les chiffres." in answer.text
    assert "Aucun portable : ce client ne pourra pas recevoir de SMS." in unescape(answer.text)


def test_consent_buttons_record_proof_and_refuses_all_blocks_every_sms(
    app, client_as, users, make_client, store
):
    client_id = make_client(sms_consent="accepted")
    browser = client_as("staff")
    card = browser.get(f"/clients/{client_id}")
    answer = browser.post(
        f"/clients/{client_id}/consentement",
        data={"csrf_token": csrf_token(card), "choice": "refuse_all"},
    )
    assert answer.status_code == 303
    html = unescape(browser.get(f"/clients/{client_id}").text)
    assert 'class="consent-no" data-consent="sms">Le client refuse tout SMS' in html
    assert "Le client refuse tout SMS : aucun message ne peut lui être envoyé." in html
    assert re.search(r'<button type="button" disabled data-hotkey="F9"', html)
    assert "au comptoir" in html and "Sabine Vendeuse" in html
    with app.app_context():
        proof = db.session.scalar(select(ConsentChange))
        assert (proof.how, proof.user_id, proof.store_id, proof.refuses_all_after) == (
            "counter",
            users["staff"].id,
            store.id,
            True,
        )
    sms_page = browser.get(f"/clients/{client_id}/sms")
    sent = browser.post(
        f"/clients/{client_id}/sms", data={"csrf_token": csrf_token(sms_page), "body": "Bonjour"}
    )
    assert "refuse tout SMS" in unescape(sent.text)
    with app.app_context():
        assert db.session.query(Message).count() == 0


def test_send_puts_the_sms_in_the_history_newest_first(
    app, client_as, make_client, credits_available, redis_client
):
    credits_available(10)
    client_id = make_client(first_name="sabine", tel1="06 24 06 13 93")
    browser = client_as("staff")
    for text in ("Bonjour <PRENOM>, votre montre est prête.", "Second message"):
        form = browser.get(f"/clients/{client_id}/sms")
        assert 'name="kind" value="single"' in form.text
        answer = browser.post(f"/clients/{client_id}/sms", data=_sms_form(form, body=text))
        assert answer.status_code == 303
    card = unescape(browser.get(f"/clients/{client_id}").text)
    first = card.index("Second message")
    assert first < card.index("Bonjour Sabine, votre montre est prête.")
    assert 'hx-trigger="every 2s"' in card  # waiting for the delivery reports
    with app.app_context():
        campaign = db.session.scalars(select(Campaign)).first()
        assert (campaign.kind, campaign.status, campaign.add_stop) == ("single", "queued", False)


def _sms_form(page, **fields):
    once = re.search(r'name="once" value="([^"]+)"', page.text).group(1)
    return {"csrf_token": csrf_token(page), "once": once} | fields


def test_a_double_submit_sends_one_sms(
    app, client_as, make_client, credits_available, redis_client
):
    credits_available(10)
    client_id = make_client(tel1="06 24 06 13 93")
    browser = client_as("staff")
    form = browser.get(f"/clients/{client_id}/sms")
    assert "data-once" in form.text  # app.js disables the button as the form goes
    data = _sms_form(form, body="Votre montre est prête.")
    assert browser.post(f"/clients/{client_id}/sms", data=data).status_code == 303
    again = browser.post(f"/clients/{client_id}/sms", data=data, follow_redirects=True)
    assert "Ce SMS a déjà été envoyé" in unescape(again.text)
    # a post without the form's key (a forged or very old page) sends nothing either
    bare = {"csrf_token": csrf_token(form), "body": "Encore"}
    assert browser.post(f"/clients/{client_id}/sms", data=bare).status_code == 303
    with app.app_context():
        assert db.session.query(Message).count() == 1
        assert db.session.query(Campaign).count() == 1
    # a new page gets a new key: the next SMS goes
    data = _sms_form(browser.get(f"/clients/{client_id}/sms"), body="Autre chose")
    assert browser.post(f"/clients/{client_id}/sms", data=data).status_code == 303
    with app.app_context():
        assert db.session.query(Message).count() == 2


def test_polling_stops_when_a_report_never_comes(
    app, client_as, make_client, credits_available, redis_client
):
    from datetime import timedelta

    from shopsms.models import utcnow

    credits_available(10)
    client_id = make_client(tel1="06 24 06 13 93")
    browser = client_as("staff")
    form = browser.get(f"/clients/{client_id}/sms")
    browser.post(f"/clients/{client_id}/sms", data=_sms_form(form, body="Bonjour"))
    partial = browser.get(f"/clients/{client_id}/actions", headers={"HX-Request": "true"})
    # the poll gets the history block alone, still polling
    assert partial.text.lstrip().startswith("<section") and "Coordonnées" not in partial.text
    assert 'hx-trigger="every 2s"' in partial.text
    with app.app_context():
        message = db.session.scalar(select(Message))
        assert message.state in ("pending", "submitting", "submitted")
        message.created_at = utcnow() - timedelta(minutes=16)
        db.session.commit()
    partial = browser.get(f"/clients/{client_id}/actions", headers={"HX-Request": "true"})
    assert "Bonjour" in partial.text and "hx-trigger" not in partial.text


def test_an_empty_message_is_refused_in_french(client_as, make_client, credits_available):
    credits_available(10)
    client_id = make_client()
    browser = client_as("staff")
    form = browser.get(f"/clients/{client_id}/sms")
    answer = browser.post(f"/clients/{client_id}/sms", data={"csrf_token": csrf_token(form)})
    assert answer.status_code == 422 and "Le message est vide" in answer.text


def test_gdpr_export_for_managers_only(app, client_as, make_client):
    client_id = make_client(last_name="RFI", tel1="06 24 06 13 93")
    assert client_as("staff").get(f"/clients/{client_id}/rgpd").status_code == 403
    manager = client_as("manager")
    card = manager.get(f"/clients/{client_id}")
    manager.post(
        f"/clients/{client_id}/consentement",
        data={"csrf_token": csrf_token(card), "choice": "refuse"},
    )
    page = manager.get(f"/clients/{client_id}/rgpd")
    assert page.status_code == 200 and "Preuves de consentement" in page.text
    download = manager.get(f"/clients/{client_id}/rgpd?format=json")
    assert "attachment" in download.headers["Content-Disposition"]
    export = json.loads(download.data)
    assert export["client"]["last_name"] == "RFI"
    assert export["client"]["sms_number"] == "+33624061393"
    assert export["consent_proofs"][0]["how"] == "counter"
    assert export["consent_proofs"][0]["by"] == "Marc Gérant"
    assert export["consent"]["sms_marketing"] == "refused"


def test_the_list_links_each_client_to_its_card(client_as, make_client):
    client_id = make_client(last_name="DUPONT")
    html = client_as("staff").get("/clients/?q=dup").text
    assert f'href="/clients/{client_id}"' in html


def test_a_stop_shows_on_the_card_with_its_proof(app, client_as, make_client):
    from shopsms.services import inbound

    client_id = make_client(tel1="06 98 76 54 32", sms_consent="accepted")
    with app.app_context():
        inbound.receive("outbox", "+33698765432", "STOP")
    html = unescape(client_as("staff").get(f"/clients/{client_id}").text)
    assert "le numéro 06 98 76 54 32 a demandé l'arrêt des SMS publicitaires" in html
    assert 'class="consent-no" data-consent="sms">Le client refuse de recevoir des SMS' in html
    assert "par STOP SMS" in html
    # A STOP is about marketing: a service SMS from the card is still possible.
    assert re.search(r'<a href="/clients/\d+/sms" role="button" data-hotkey="F9"', html)


def test_head_office_chooses_the_store_of_a_new_client(app, client_as, store, other_store):
    browser = client_as("admin")
    page = browser.get("/clients/nouveau")
    assert "Magasin de création" in unescape(page.text)
    answer = browser.post(
        "/clients/nouveau", data=_form(page, last_name="SIEGE", store_id=str(other_store))
    )
    assert answer.status_code == 303
    with app.app_context():
        assert db.session.scalar(select(Client.store_id)) == other_store


def test_a_letter_o_typed_for_a_zero_is_flagged(client_as):
    browser = client_as("staff")
    page = browser.get("/clients/nouveau")
    answer = browser.post(
        "/clients/nouveau", data=_form(page, last_name="ROND", tel1="O6 12 34 56 78")
    )
    assert answer.status_code == 422
    assert "« O6 12 34 56 78 » n'est pas un numéro de téléphone valide" in unescape(answer.text)


def test_a_search_with_too_many_matches_says_more_than(client_as, make_client, monkeypatch):
    from shopsms.services import client_search

    monkeypatch.setattr(client_search, "COUNT_CAP", 100)
    for n in range(120):
        make_client(last_name=f"DURAND{n:03d}", number=f"D{n:05d}")
    html = unescape(client_as("staff").get("/clients/?q=d").text)
    assert "Plus de 100 clients pour « d » — précisez la recherche" in html
    assert "Page 1</span>" in html and 'rel="next"' in html


def _stop(app, phone):
    from shopsms.services import inbound

    with app.app_context():
        inbound.receive("outbox", phone, "STOP")


def test_a_stop_received_while_the_edit_form_is_open_is_kept(app, client_as, make_client):
    from shopsms.models import OptOut

    client_id = make_client(tel1="06 98 76 54 32", sms_consent="accepted", first_name="Anne")
    browser = client_as("staff")
    page = browser.get(f"/clients/{client_id}/modifier")
    assert 'name="shown_sms_marketing" value="accepted"' in page.text
    _stop(app, "+33698765432")
    # the page still shows "accepted": saved as it is, with only the first name changed
    fields = {
        "last_name": "RFI",
        "first_name": "Anna",
        "tel1": "06 98 76 54 32",
        "sms_marketing": "accepted",
        "shown_sms_marketing": "accepted",
        "shown_sms_refuses_all": "0",
    }
    assert (
        browser.post(f"/clients/{client_id}/modifier", data=_form(page, **fields)).status_code
        == 303
    )
    with app.app_context():
        client = db.session.get(Client, client_id)
        assert (client.first_name, client.sms_consent) == ("Anna", "refused")
        assert db.session.query(OptOut).count() == 1
        assert [p.how for p in db.session.scalars(select(ConsentChange))] == ["stop"]
    # choosing "accepted" on the form does not lift a STOP: the card's button does
    fields |= {"sms_marketing": "accepted", "shown_sms_marketing": "refused"}
    page = browser.get(f"/clients/{client_id}/modifier")
    answer = browser.post(f"/clients/{client_id}/modifier", data=_form(page, **fields))
    assert answer.status_code == 422 and "Ce numéro a envoyé STOP" in unescape(answer.text)
    with app.app_context():
        assert db.session.get(Client, client_id).sms_consent == "refused"


def test_accepting_sms_after_a_stop_needs_the_clients_request_and_lifts_it(
    app, client_as, make_client, users
):
    from shopsms.models import OptOut

    client_id = make_client(tel1="06 98 76 54 32", sms_consent="accepted")
    _stop(app, "+33698765432")
    browser = client_as("staff")
    card = browser.get(f"/clients/{client_id}")
    html = unescape(card.text)
    assert "Accepte les SMS (lever le STOP)" in html and 'name="confirm_stop"' in html
    assert 'value="accept" class="outline"' not in html  # no one-click accept
    answer = browser.post(
        f"/clients/{client_id}/consentement",
        data={"csrf_token": csrf_token(card), "choice": "accept", "note": "au comptoir"},
    )
    assert answer.status_code == 422 and "Ce numéro a envoyé STOP" in unescape(answer.text)
    with app.app_context():
        assert db.session.query(OptOut).count() == 1
    answer = browser.post(
        f"/clients/{client_id}/consentement",
        data={
            "csrf_token": csrf_token(card),
            "choice": "accept",
            "confirm_stop": "1",
            "note": "Demandé au comptoir, signé",
        },
    )
    assert answer.status_code == 303
    with app.app_context():
        assert db.session.query(OptOut).count() == 0
        assert db.session.get(Client, client_id).sms_consent == "accepted"
        proof = db.session.scalars(select(ConsentChange).order_by(ConsentChange.id.desc())).first()
        assert (proof.how, proof.user_id, proof.marketing_after, proof.note) == (
            "counter",
            users["staff"].id,
            "accepted",
            "Demandé au comptoir, signé",
        )
    html = unescape(browser.get(f"/clients/{client_id}").text)
    assert "a demandé l'arrêt des SMS" not in html
    assert 'class="consent-yes" data-consent="sms">Le client souhaite recevoir des SMS' in html


def test_refusing_marketing_from_refuses_all_gives_service_sms_back(app, client_as, make_client):
    client_id = make_client(sms_consent="refused", sms_refuses_all=True)
    browser = client_as("staff")
    card = browser.get(f"/clients/{client_id}")
    answer = browser.post(
        f"/clients/{client_id}/consentement",
        data={"csrf_token": csrf_token(card), "choice": "refuse"},
    )
    assert answer.status_code == 303
    with app.app_context():
        client = db.session.get(Client, client_id)
        assert (client.sms_consent, client.sms_refuses_all) == ("refused", False)
        assert db.session.query(ConsentChange).count() == 1
    html = unescape(browser.get(f"/clients/{client_id}").text)
    assert "Le client refuse de recevoir des SMS publicitaires" in html
    assert re.search(r'<a href="/clients/\d+/sms" role="button" data-hotkey="F9"', html)


def test_another_stores_client_cannot_be_reached_by_a_forged_id(
    app, client_as, make_client, other_store, credits_available, redis_client
):
    credits_available(10)
    mine = make_client()
    theirs = make_client(store_id=other_store, sms_consent="unknown", last_name="AUTRE")
    manager = client_as("manager")
    page = manager.get(f"/clients/{mine}/sms")
    token = csrf_token(page)
    posts = {
        f"/clients/{theirs}/consentement": {"choice": "accept"},
        f"/clients/{theirs}/sms": {"body": "Bonjour", "once": "forged-key-1"},
        f"/clients/{theirs}/modifier": {"last_name": "PIRATE", "country": "FR"},
    }
    for url, data in posts.items():
        assert manager.post(url, data={"csrf_token": token} | data).status_code == 404, url
    for url in (
        f"/clients/{theirs}/actions",
        f"/clients/{theirs}/rgpd",
        f"/clients/{theirs}/rgpd?format=json",
        f"/clients/{theirs}/sms",
    ):
        assert manager.get(url, headers={"HX-Request": "true"}).status_code == 404, url
    with app.app_context():
        client = db.session.get(Client, theirs)
        assert (client.last_name, client.sms_consent) == ("AUTRE", "unknown")
        assert db.session.query(Message).count() == 0
        assert db.session.query(ConsentChange).count() == 0


def test_gdpr_export_has_the_received_sms_and_the_stop_of_every_number(app, client_as, make_client):
    from shopsms.models import OptOut
    from shopsms.services import inbound

    client_id = make_client(tel1="06 24 06 13 93", tel2="07 88 11 22 33")
    with app.app_context():
        inbound.receive("outbox", "+33624061393", "Merci, je passe demain")
        # a STOP from tel2, which is not where SMS go
        db.session.add(OptOut(phone="+33788112233"))
        db.session.commit()
    manager = client_as("manager")
    export = json.loads(manager.get(f"/clients/{client_id}/rgpd?format=json").data)
    assert [m["text"] for m in export["received"]] == ["Merci, je passe demain"]
    assert [o["phone"] for o in export["opt_outs"]] == ["+33788112233"]
    page = unescape(manager.get(f"/clients/{client_id}/rgpd").text)
    assert "SMS reçus du client" in page and "Merci, je passe demain" in page
    assert "07 88 11 22 33" in page


@pytest.mark.parametrize(
    ("typed", "found"),
    [
        ("+33 6 12", {"dupont"}),
        ("0033 6 12 34", {"dupont"}),
        ("06 12 34", {"dupont"}),
        ("le gall", {"legall"}),
        ("LE GALL", {"legall"}),
        ("gall", {"legall"}),
        ("legall", {"legall"}),
        ("leveque", {"leveque"}),
        ("LÉVÊQUE", {"leveque"}),
        ("jean-pierre", {"leveque"}),
        ("jean pierre lev", {"leveque"}),
        ("64200", {"legall"}),
        ("64 200", {"legall", "phone"}),
    ],
)
def test_the_search_finds_names_as_typed_and_phones_any_way(client_as, make_client, typed, found):
    file = {
        "dupont": make_client(
            last_name="DUPONT", tel1="06 12 34 56 78", postal_code="64600", number="0001"
        ),
        "legall": make_client(
            last_name="Le Gall",
            first_name="Anne",
            tel1="07 64 20 01 11",
            postal_code="64200",
            number="0002",
        ),
        "leveque": make_client(
            last_name="LÉVÊQUE",
            first_name="Jean-Pierre",
            tel1="06 99 88 77 66",
            postal_code="64100",
            number="0003",
        ),
        "phone": make_client(
            last_name="MARTIN", tel1="06 64 20 05 78", postal_code="33000", number="0004"
        ),
    }
    html = client_as("staff").get("/clients/", query_string={"q": typed}).text
    shown = {name for name, client_id in file.items() if f'href="/clients/{client_id}"' in html}
    assert shown == found
